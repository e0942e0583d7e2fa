"""Consultation pages and the moderators' consultation form, through real HTTP requests."""

from __future__ import annotations

import re
from datetime import date

import pytest

from participation.extensions import db
from participation.models import AuditEvent, Category, Consultation, Phase, VotingMethod
from tests.conftest import csrf_token_from, login_with_csrf

ENGLISH = {"Accept-Language": "en"}


def form_data(**overrides) -> dict:
    data = {
        "title": "Ideas for the old town",
        "summary": "What should change in the old town?",
        "description": "Tell us **what** you would change.",
        "categories": "Mobility\nGreen spaces",
        "voting_method": "support",
        "budget": "",
        "collecting_starts_on": "",
        "voting_starts_on": "",
        "voting_ends_on": "",
        "results_on": "",
    }
    return data | overrides


def stored_consultations(app) -> list[Consultation]:
    with app.app_context():
        return list(db.session.scalars(db.select(Consultation).order_by(Consultation.id)))


def test_moderator_creates_a_consultation_through_the_form(app, client, auth, factory):
    auth.login(factory.moderator().email)
    response = client.post(
        "/consultations/new",
        data=form_data(
            voting_method="budget",
            budget="50000",
            collecting_starts_on="2027-03-01",
            voting_starts_on="2027-04-01",
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/consultations/ideas-for-the-old-town"
    with app.app_context():
        stored = db.session.scalar(db.select(Consultation))
        assert (stored.phase, stored.voting_method, stored.budget) == (
            Phase.DRAFT,
            VotingMethod.BUDGET,
            50_000,
        )
        assert (stored.collecting_starts_on, stored.voting_starts_on) == (
            date(2027, 3, 1),
            date(2027, 4, 1),
        )
        assert [category.name for category in stored.categories] == ["Mobility", "Green spaces"]


def test_creating_through_the_form_writes_an_audit_event(app, client, auth, factory):
    moderator = factory.moderator()
    auth.login(moderator.email)
    client.post("/consultations/new", data=form_data())
    with app.app_context():
        events = db.session.scalars(db.select(AuditEvent)).all()
        assert [(e.action, e.actor_id) for e in events] == [("consultation.created", moderator.id)]


def test_citizen_gets_403_on_the_new_consultation_form(client, auth, factory):
    auth.login(factory.user().email)
    assert client.get("/consultations/new").status_code == 403


def test_citizen_posting_a_consultation_gets_403_and_nothing_is_stored(app, client, auth, factory):
    auth.login(factory.user().email)
    assert client.post("/consultations/new", data=form_data()).status_code == 403
    assert stored_consultations(app) == []


def test_visitor_is_sent_to_login_from_the_new_consultation_form(client):
    response = client.get("/consultations/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        pytest.param(
            {"voting_method": "budget"},
            "budget",
            "needs a budget",
            id="budget-voting-without-budget",
        ),
        pytest.param(
            {"collecting_starts_on": "2027-05-01", "voting_starts_on": "2027-04-01"},
            "voting_starts_on",
            "follow the order of the phases",
            id="planned-dates-out-of-order",
        ),
        pytest.param({"title": ""}, "title", "Please enter a title.", id="empty-title"),
    ],
)
def test_invalid_form_is_refused_with_422_next_to_the_field(
    app, client, auth, factory, fields, field, message
):
    auth.login(factory.moderator().email)
    response = client.post("/consultations/new", data=form_data(**fields), headers=ENGLISH)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="{field}-error"' in html
    assert message in html
    assert stored_consultations(app) == []


def test_edit_form_is_filled_with_the_current_settings(client, auth, factory):
    consultation = factory.consultation(
        phase=Phase.DRAFT, categories=("Mobility", "Culture"), voting_method=VotingMethod.BUDGET
    )
    auth.login(factory.moderator().email)
    html = client.get(f"/consultations/{consultation.slug}/edit").get_data(as_text=True)
    assert "Mobility\nCulture</textarea>" in html
    assert re.search(r'<input checked [^>]*name="voting_method"[^>]*value="budget"', html)


def test_moderator_edits_a_consultation(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING, categories=("Mobility",))
    auth.login(factory.moderator().email)
    response = client.post(
        f"/consultations/{consultation.slug}/edit",
        data=form_data(title="A better title", categories="Mobility\nCulture"),
    )
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Consultation, consultation.id)
        assert stored.title == "A better title"
        assert [category.name for category in stored.categories] == ["Mobility", "Culture"]


def test_editing_keeps_the_category_ids_of_unchanged_names(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING, categories=("Mobility", "Culture"))
    ids_before = {category.name: category.id for category in consultation.categories}
    auth.login(factory.moderator().email)
    client.post(
        f"/consultations/{consultation.slug}/edit",
        data=form_data(categories="Culture\nSport\nMobility"),
    )
    with app.app_context():
        ids_after = {
            name: category_id
            for name, category_id in db.session.execute(
                db.select(Category.name, Category.id).where(
                    Category.consultation_id == consultation.id
                )
            )
        }
    assert ids_after["Mobility"] == ids_before["Mobility"]
    assert ids_after["Culture"] == ids_before["Culture"]


def test_voting_method_change_after_draft_is_refused_in_the_form(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING, voting_method=VotingMethod.SUPPORT)
    auth.login(factory.moderator().email)
    response = client.post(
        f"/consultations/{consultation.slug}/edit",
        data=form_data(title="Changed", voting_method="budget", budget="1000"),
    )
    assert response.status_code == 422
    assert 'id="voting_method-error"' in response.get_data(as_text=True)
    with app.app_context():
        stored = db.session.get(Consultation, consultation.id)
        assert (stored.voting_method, stored.title) == (VotingMethod.SUPPORT, consultation.title)


def test_citizen_gets_403_when_editing_a_consultation(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    auth.login(factory.user().email)
    response = client.post(
        f"/consultations/{consultation.slug}/edit", data=form_data(title="Hijacked")
    )
    assert response.status_code == 403
    with app.app_context():
        assert db.session.get(Consultation, consultation.id).title == consultation.title


def test_draft_page_is_404_for_visitors(client, factory):
    draft = factory.consultation(phase=Phase.DRAFT)
    assert client.get(f"/consultations/{draft.slug}").status_code == 404


def test_draft_page_is_404_for_citizens(client, auth, factory):
    draft = factory.consultation(phase=Phase.DRAFT)
    auth.login(factory.user().email)
    assert client.get(f"/consultations/{draft.slug}").status_code == 404


def test_draft_page_is_shown_to_moderators(client, auth, factory):
    draft = factory.consultation(phase=Phase.DRAFT, title="Secret plans")
    auth.login(factory.moderator().email)
    response = client.get(f"/consultations/{draft.slug}")
    assert response.status_code == 200
    assert "Secret plans" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/consultations/"])
@pytest.mark.parametrize("viewer", ["visitor", "citizen"])
def test_drafts_are_absent_from_the_lists_for_visitors_and_citizens(
    client, auth, factory, path, viewer
):
    factory.consultation(phase=Phase.DRAFT, title="Secret plans", slug="secret-plans")
    factory.consultation(phase=Phase.COLLECTING, title="Open for ideas")
    if viewer == "citizen":
        auth.login(factory.user().email)
    html = client.get(path).get_data(as_text=True)
    assert "Open for ideas" in html
    assert "secret-plans" not in html


def test_drafts_are_listed_for_moderators(client, auth, factory):
    factory.consultation(phase=Phase.DRAFT, title="Secret plans", slug="secret-plans")
    auth.login(factory.moderator().email)
    html = client.get("/consultations/").get_data(as_text=True)
    assert 'href="/consultations/secret-plans"' in html


def test_unknown_consultation_is_404(client):
    assert client.get("/consultations/no-such-thing").status_code == 404


def test_consultation_page_shows_the_phase(client, factory):
    consultation = factory.consultation(phase=Phase.VOTING)
    html = client.get(f"/consultations/{consultation.slug}", headers=ENGLISH).get_data(as_text=True)
    assert 'class="badge phase-badge phase-voting"' in html
    assert 'aria-current="step"' in html


def test_consultation_page_shows_the_planned_dates(client, factory):
    consultation = factory.consultation(
        phase=Phase.COLLECTING,
        collecting_starts_on=date(2027, 3, 1),
        voting_starts_on=date(2027, 4, 15),
        results_on=date(2027, 6, 30),
    )
    html = client.get(f"/consultations/{consultation.slug}", headers=ENGLISH).get_data(as_text=True)
    for shown in ("March 1, 2027", "April 15, 2027", "June 30, 2027"):
        assert shown in html


def test_consultation_page_renders_the_description_as_safe_markdown(client, factory):
    consultation = factory.consultation(
        description="We need **your** ideas.\n\n<script>alert(1)</script>"
    )
    html = client.get(f"/consultations/{consultation.slug}").get_data(as_text=True)
    assert "We need <strong>your</strong> ideas." in html
    assert "<script>alert(1)</script>" not in html


def test_consultation_page_lists_its_proposals(client, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    proposal = factory.proposal(consultation, factory.user(), title="Benches in the park")
    html = client.get(f"/consultations/{consultation.slug}").get_data(as_text=True)
    assert "Benches in the park" in html
    assert f'href="/proposals/{proposal.id}"' in html


def test_consultation_form_without_csrf_token_is_refused(app, csrf_client, factory):
    login_with_csrf(csrf_client, factory.moderator().email)
    response = csrf_client.post("/consultations/new", data=form_data())
    assert response.status_code == 400
    assert stored_consultations(app) == []


def test_consultation_form_with_the_token_from_the_page_is_accepted(app, csrf_client, factory):
    login_with_csrf(csrf_client, factory.moderator().email)
    token = csrf_token_from(csrf_client.get("/consultations/new").get_data(as_text=True))
    response = csrf_client.post("/consultations/new", data=form_data(csrf_token=token))
    assert response.status_code == 302
    assert [c.title for c in stored_consultations(app)] == ["Ideas for the old town"]


def test_edit_form_without_csrf_token_changes_nothing(app, csrf_client, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    login_with_csrf(csrf_client, factory.moderator().email)
    response = csrf_client.post(
        f"/consultations/{consultation.slug}/edit", data=form_data(title="Changed")
    )
    assert response.status_code == 400
    assert [c.title for c in stored_consultations(app)] == [consultation.title]


def test_an_edit_that_leaves_out_the_categories_field_keeps_the_categories(
    app, client, auth, factory
):
    consultation = factory.consultation(phase=Phase.COLLECTING, categories=("Mobility", "Culture"))
    auth.login(factory.moderator().email)
    data = form_data(title="Renamed")
    del data["categories"]
    response = client.post(f"/consultations/{consultation.slug}/edit", data=data)
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Consultation, consultation.id)
        assert [category.name for category in stored.categories] == ["Mobility", "Culture"]
