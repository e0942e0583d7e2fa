"""The page where a resident confirms they are on the voter register, and what the ballot page,
the support buttons and the guidance box show an account that has not done so yet."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from participation.extensions import db, limiter
from participation.models import Electorate, Phase, RegisterEntry, VotingMethod
from participation.services.budgeting import electorate
from tests.conftest import csrf_token_from, login_with_csrf, make_app

RESIDENT = ("AB-1001", date(1990, 5, 17))
ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def register_vote(app, factory):
    """A budget consultation in voting whose electorate is the voter register, one project, and
    a citizen on the register."""
    consultation = factory.consultation(
        phase=Phase.VOTING,
        voting_method=VotingMethod.BUDGET,
        budget=1000,
        electorate=Electorate.REGISTER,
        min_voting_age=16,
        voting_starts_on=date(2026, 6, 1),
    )
    project = factory.proposal(consultation, factory.user(), estimated_cost=300, title="Benches")
    with app.app_context():
        electorate.import_register(
            db.session.get(type(consultation), consultation.id),
            [
                ["identifier", "date_of_birth"],
                [RESIDENT[0], RESIDENT[1].isoformat()],
                ["YOUNG1", "2010-06-02"],
            ],
        )
    return consultation, project, factory.user()


def page(consultation) -> str:
    return f"/consultations/{consultation.slug}/register"


def claimed_by(app, consultation) -> list[int | None]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(RegisterEntry.claimed_by_id)
                .where(RegisterEntry.consultation_id == consultation.id)
                .order_by(RegisterEntry.id)
            )
        )


def test_the_page_needs_a_login(client, register_vote):
    consultation, _project, _citizen = register_vote
    response = client.get(page(consultation))
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]
    response = client.post(
        page(consultation), data={"identifier": "AB1001", "date_of_birth": "17.05.1990"}
    )
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


def test_a_consultation_without_a_register_has_no_such_page(client, auth, factory):
    consultation = factory.consultation(phase=Phase.VOTING)
    auth.login(factory.user().email)
    assert client.get(page(consultation)).status_code == 404


def test_the_ballot_page_shows_the_register_link_until_the_entry_is_claimed(
    app, client, auth, register_vote
):
    consultation, project, citizen = register_vote
    auth.login(citizen.email)
    ballot_page = f"/consultations/{consultation.slug}/ballot"
    html = client.get(ballot_page).get_data(as_text=True)
    assert page(consultation) in html
    assert 'name="projects"' not in html
    # Submitting anyway is refused, and stores nothing.
    response = client.post(ballot_page, data={"projects": [str(project.id)]})
    assert response.status_code == 403
    guidance = client.get(f"/consultations/{consultation.slug}").get_data(as_text=True)
    assert page(consultation) in guidance

    form = client.get(page(consultation)).get_data(as_text=True)
    assert 'for="identifier"' in form and 'for="date_of_birth"' in form
    response = client.post(
        page(consultation), data={"identifier": "ab 1001", "date_of_birth": "17.05.1990"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(ballot_page)
    assert claimed_by(app, consultation)[0] == citizen.id
    html = client.get(ballot_page).get_data(as_text=True)
    assert 'name="projects"' in html
    assert client.post(ballot_page, data={"projects": [str(project.id)]}).status_code == 302
    # The page says the account is confirmed, and a second try changes nothing.
    html = client.get(page(consultation)).get_data(as_text=True)
    assert 'name="identifier"' not in html


@pytest.mark.parametrize(
    ("details", "field", "message"),
    [
        (
            {"identifier": "AB1001", "date_of_birth": "18.05.1990"},
            "identifier",
            "We could not find these details on the voter register.",
        ),
        (
            {"identifier": "YOUNG1", "date_of_birth": "2010-06-02"},
            "date_of_birth",
            "You are not yet 16 years old on the day voting opens (June 1, 2026).",
        ),
        ({"identifier": "", "date_of_birth": "17.05.1990"}, "identifier", "identifier"),
        (
            {"identifier": "AB1001", "date_of_birth": "gestern"},
            "date_of_birth",
            "such as 17.05.1990",
        ),
    ],
    ids=["not on the register", "too young", "no identifier", "not a date"],
)
def test_a_refusal_is_a_422_with_the_message_next_to_the_field(
    app, client, auth, register_vote, details, field, message
):
    consultation, _project, citizen = register_vote
    auth.login(citizen.email)
    response = client.post(page(consultation), data=details, headers=ENGLISH)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = html.split(f'id="{field}-error"', 1)[1].split("</div>", 1)[0]
    assert message in error
    assert 'aria-invalid="true"' in html
    assert claimed_by(app, consultation) == [None, None]


def test_details_used_by_another_account_are_refused(app, client, auth, factory, register_vote):
    consultation, _project, citizen = register_vote
    with app.app_context():
        electorate.claim_entry(
            db.session.get(type(consultation), consultation.id),
            db.session.get(type(citizen), factory.user().id),
            *RESIDENT,
        )
    auth.login(citizen.email)
    response = client.post(
        page(consultation),
        data={"identifier": "AB1001", "date_of_birth": "1990-05-17"},
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert "already been used by another account" in response.get_data(as_text=True)


def test_the_refusal_is_in_german_by_default(client, auth, register_vote):
    consultation, _project, citizen = register_vote
    auth.login(citizen.email)
    response = client.post(
        page(consultation), data={"identifier": "AB1001", "date_of_birth": "18.05.1990"}
    )
    assert response.status_code == 422
    assert "Wählerverzeichnis" in response.get_data(as_text=True)


def test_the_support_button_waits_for_the_register(app, client, auth, factory):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.SUPPORT, electorate=Electorate.REGISTER
    )
    proposal = factory.proposal(consultation, factory.user())
    citizen = factory.user()
    auth.login(citizen.email)
    html = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert page(consultation) in html
    assert f"/proposals/{proposal.id}/support" not in html
    assert client.post(f"/proposals/{proposal.id}/support").status_code == 403


@pytest.fixture
def limited_app(app: Flask):
    """Three wrong tries per window, with CSRF on; the limiter is shared, so it is put back."""
    was_enabled = limiter.enabled
    limited = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_ENABLED=True,
        VOTER_REGISTER_RATE_LIMIT="3 per 15 minutes",
        WTF_CSRF_ENABLED=True,
    )
    yield limited
    limiter.reset()
    limiter.enabled = was_enabled


def test_wrong_tries_are_rate_limited_but_a_good_claim_is_not_counted(
    limited_app, factory, register_vote
):
    consultation, _project, citizen = register_vote

    def attempt(client, born: str) -> int:
        token = csrf_token_from(client.get(page(consultation)).get_data(as_text=True))
        return client.post(
            page(consultation),
            data={"identifier": "AB1001", "date_of_birth": born, "csrf_token": token},
        ).status_code

    first = limited_app.test_client()
    login_with_csrf(first, citizen.email)
    assert [attempt(first, "18.05.1990") for _ in range(2)] == [422, 422]
    assert attempt(first, "17.05.1990") == 302
    assert claimed_by(limited_app, consultation)[0] == citizen.id
    # Another account from the same address: one wrong try is left, the good claim did not
    # count, and then the address has to wait.
    second = limited_app.test_client()
    login_with_csrf(second, factory.user().email)
    assert [attempt(second, "01.01.2000") for _ in range(2)] == [422, 429]


# Moderators upload the town's file


def upload(client, consultation, content: bytes, name: str = "register.csv"):
    import io

    return client.post(
        f"/consultations/{consultation.slug}/register/import",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        headers=ENGLISH,
    )


def test_a_moderator_uploads_the_register_and_a_bad_file_stores_nothing(
    app, client, auth, factory, register_vote
):
    consultation, _project, _citizen = register_vote
    auth.login(factory.moderator().email)
    show = client.get(f"/consultations/{consultation.slug}").get_data(as_text=True)
    assert f"/consultations/{consultation.slug}/register/import" in show
    html = client.get(
        f"/consultations/{consultation.slug}/register/import", headers=ENGLISH
    ).get_data(as_text=True)
    assert "The register holds 2 residents; 0 of them confirmed their entry." in html

    response = upload(
        client, consultation, b"identifier;date_of_birth\nNEW1;01.02.1980\nAB1001;1990-05-17\n"
    )
    assert response.status_code == 200
    assert "1 new entries, 1 already on the register" in response.get_data(as_text=True)
    assert len(claimed_by(app, consultation)) == 3

    response = upload(
        client, consultation, b"identifier,date_of_birth\nNEW2,1980-01-01\nNEW3,soon\n"
    )
    assert response.status_code == 422
    assert "Line 3:" in response.get_data(as_text=True)
    assert upload(client, consultation, b"\xff\xfe\x00bad").status_code == 422
    assert len(claimed_by(app, consultation)) == 3
    with app.app_context():
        from participation.models import AuditEvent

        assert db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.action == "register.imported")
        ).all() == ["register.imported", "register.imported"]  # the fixture's and this one


def test_only_moderators_upload_a_register(client, auth, register_vote):
    consultation, _project, citizen = register_vote
    auth.login(citizen.email)
    assert (
        upload(client, consultation, b"identifier,date_of_birth\nX,1990-01-01\n").status_code == 403
    )
