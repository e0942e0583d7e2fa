"""The moderators' pages of voting codes (blueprints.electorate), the electorate in the
consultation's settings and on its page, and `flask voters codes`."""

from __future__ import annotations

import csv
import io
import re

import pytest

from participation.extensions import db
from participation.models import Consultation, Electorate, Phase, VotingCode, VotingMethod
from participation.services.budgeting import electorate
from tests.factories import Factory

CODE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}(?:-[0-9A-HJKMNP-TV-Z]{4}){3}")


@pytest.fixture
def budget(factory: Factory) -> Consultation:
    return factory.consultation(
        Phase.VOTING,
        voting_method=VotingMethod.BUDGET,
        budget=50_000,
        electorate=Electorate.VOTING_CODES,
    )


@pytest.fixture
def moderator_client(client, auth, factory):
    auth.login(factory.moderator().email)
    return client


def _hashes(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(VotingCode.code_hash)))


def _issue(app, consultation, count=1, district=None) -> list[str]:
    with app.app_context():
        attached = db.session.get(Consultation, consultation.id)
        return electorate.issue_codes(attached, None, count, district=district)


def test_only_moderators_reach_the_voting_codes(app, client, auth, factory, budget):
    url = f"/consultations/{budget.slug}/voting-codes"
    assert client.get(url).status_code == 302  # to the login page
    assert client.post(url, data={"count": "3"}).status_code == 302
    auth.login(factory.user().email)
    assert client.get(url).status_code == 403
    assert client.post(url, data={"count": "3"}).status_code == 403
    assert client.post(f"{url}/revoke", data={"revoke-code": "x"}).status_code == 403
    assert _hashes(app) == []


def test_the_page_counts_the_codes_and_is_linked_from_the_moderator_panel(
    app, moderator_client, budget
):
    printed = _issue(app, budget, 3, district="Altstadt")
    page = moderator_client.get(f"/consultations/{budget.slug}")
    assert f"/consultations/{budget.slug}/voting-codes" in page.get_data(as_text=True)
    response = moderator_client.get(f"/consultations/{budget.slug}/voting-codes")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "Altstadt" in html and not any(code in html for code in printed)


def test_a_consultation_without_voting_codes_has_no_such_page(moderator_client, factory):
    consultation = factory.consultation(Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=1)
    url = f"/consultations/{consultation.slug}/voting-codes"
    assert moderator_client.get(url).status_code == 404


def test_issuing_codes_downloads_the_letters_once(app, moderator_client, budget):
    response = moderator_client.post(
        f"/consultations/{budget.slug}/voting-codes", data={"count": "4", "district": "Nord"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert len(rows) == 4 and list(rows[0]) == list(electorate.LETTER_COLUMNS)
    for row in rows:
        assert CODE.fullmatch(row["code"]) and row["district"] == "Nord"
        assert row["voting_address"] == (
            f"http://localhost/consultations/{budget.slug}/vote?code={row['code']}"
        )
        assert row["qr_code"].startswith("data:image/svg+xml")
    assert len(_hashes(app)) == 4
    page = moderator_client.get(f"/consultations/{budget.slug}/voting-codes")
    assert not any(row["code"] in page.get_data(as_text=True) for row in rows)


@pytest.mark.parametrize("count", ["", "0", "100001", "many"])
def test_a_wrong_number_of_letters_is_shown_next_to_the_field(app, moderator_client, budget, count):
    response = moderator_client.post(
        f"/consultations/{budget.slug}/voting-codes", data={"count": count}
    )
    assert response.status_code == 422
    assert 'id="count-error"' in response.get_data(as_text=True)
    assert _hashes(app) == []


def test_no_codes_once_voting_ended(app, moderator_client, factory):
    ended = factory.consultation(
        Phase.EVALUATING,
        voting_method=VotingMethod.BUDGET,
        budget=1,
        electorate=Electorate.VOTING_CODES,
    )
    response = moderator_client.post(
        f"/consultations/{ended.slug}/voting-codes",
        data={"count": "2"},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422
    assert "Voting has ended" in response.get_data(as_text=True)
    assert _hashes(app) == []


def test_revoking_a_code_says_so_and_a_second_time_says_why_not(app, moderator_client, budget):
    (printed,) = _issue(app, budget)
    url = f"/consultations/{budget.slug}/voting-codes/revoke"
    response = moderator_client.post(url, data={"revoke-code": printed})
    assert response.status_code == 302
    again = moderator_client.post(
        url, data={"revoke-code": printed}, headers={"Accept-Language": "en"}
    )
    assert again.status_code == 422
    assert 'id="revoke-code-error"' in again.get_data(as_text=True)


def test_reissuing_shows_the_new_code_once_on_a_page_kept_from_caches(
    app, moderator_client, budget
):
    (lost,) = _issue(app, budget, district="Süd")
    response = moderator_client.post(
        f"/consultations/{budget.slug}/voting-codes/reissue", data={"reissue-code": lost}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    (new,) = {code for code in CODE.findall(html)} - {lost} or {None}
    assert new is not None and "data:image/svg+xml" in html
    with app.app_context():
        found = electorate.find_code(db.session.get(Consultation, budget.id), new)
        assert found.district == "Süd"


def test_the_consultation_page_says_who_may_vote(client, budget, factory):
    html = client.get(f"/consultations/{budget.slug}", headers={"Accept-Language": "en"})
    assert "no account needed" in html.get_data(as_text=True)
    register = factory.consultation(
        Phase.COLLECTING, electorate=Electorate.REGISTER, min_voting_age=16
    )
    html = client.get(f"/consultations/{register.slug}", headers={"Accept-Language": "en"})
    assert "aged 16 or over on the day voting opens" in html.get_data(as_text=True)


def test_the_settings_form_sets_the_electorate(app, moderator_client, factory):
    consultation = factory.consultation(
        Phase.COLLECTING, voting_method=VotingMethod.BUDGET, budget=1
    )
    data = {
        "title": consultation.title,
        "voting_method": "budget",
        "budget": "1",
        "tally_rule": "greedy",
        "electorate": "register",
        "min_voting_age": "16",
    }
    response = moderator_client.post(f"/consultations/{consultation.slug}/edit", data=data)
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.get(Consultation, consultation.id)
        assert stored.electorate is Electorate.REGISTER and stored.min_voting_age == 16
    support = factory.consultation(Phase.COLLECTING)
    data |= {"title": support.title, "voting_method": "support", "electorate": "voting_codes"}
    del data["min_voting_age"], data["budget"]
    response = moderator_client.post(f"/consultations/{support.slug}/edit", data=data)
    assert response.status_code == 422
    assert 'id="electorate-error"' in response.get_data(as_text=True)


# flask voters codes


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_voters_codes_writes_the_letters(app, runner, budget, tmp_path):
    out = tmp_path / "letters.csv"
    result = runner.invoke(
        args=[
            "voters", "codes", budget.slug, "--count", "5", "--district", "Nord",
            "--out", str(out), "--base-url", "https://town.example/",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "5" in result.output
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len(rows) == 5 and {row["district"] for row in rows} == {"Nord"}
    assert all(
        row["voting_address"].startswith("https://town.example/consultations/") for row in rows
    )
    assert len(_hashes(app)) == 5
    assert not any(row["code"] in result.output for row in rows)


def test_voters_codes_refuses_an_existing_file_unless_forced(app, runner, budget, tmp_path):
    out = tmp_path / "letters.csv"
    out.write_text("keep me")
    args = ["voters", "codes", budget.slug, "--count", "2", "--out", str(out)]
    args += ["--base-url", "https://town.example/"]
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and "--force" in result.output
    assert out.read_text() == "keep me" and _hashes(app) == []
    assert runner.invoke(args=[*args, "--force"]).exit_code == 0
    assert len(out.read_text().splitlines()) == 3


def test_voters_codes_says_why_a_consultation_has_no_codes(app, runner, factory, tmp_path):
    support = factory.consultation(Phase.VOTING)
    out = tmp_path / "letters.csv"
    result = runner.invoke(
        args=["voters", "codes", support.slug, "--count", "2", "--out", str(out),
              "--base-url", "https://town.example/"]
    )  # fmt: skip
    with app.app_context():
        reason = str(electorate.NOT_FOR_CODES)  # in the site's default language
    assert result.exit_code != 0 and reason in " ".join(result.output.split())
    assert not out.exists() and _hashes(app) == []
