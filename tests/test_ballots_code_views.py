"""Voting with the code of the town's letter through HTTP: no login needed, the code prefilled
from the letter's link, the ballot with the code in a hidden field, checking without storing,
the receipt with the ballot code, refusals next to the field, pages kept out of caches, wrong
codes rate-limited per IP address (right ones not), and the account's ballot page sending
residents to the code."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import func, select

from participation.extensions import db, limiter
from participation.models import Ballot, BallotChannel, BallotChoice, Electorate, VotingMethod
from participation.services.budgeting import electorate
from tests.conftest import login_with_csrf, make_app
from tests.factories import Factory
from tests.test_budgeting_code_ballots import CodeVote, code_vote, mistyped

ENGLISH = {"Accept-Language": "en"}
GERMAN = {"Accept-Language": "de"}
HIDDEN_CODE = re.compile(r'<input[^>]*name="code"[^>]*type="hidden"[^>]*value="([^"]*)"', re.S)
CHECKED = re.compile(r'<input[^>]*name="projects" value="(\d+)"[^>]*\bchecked\b', re.S)
BALLOT_CODE = re.compile(r"data-ballot-code>([0-9A-Z-]+)<")


@pytest.fixture
def vote(factory: Factory) -> CodeVote:
    return code_vote(factory, voting_ends_on=None)


def vote_url(vote: CodeVote) -> str:
    return f"/consultations/{vote.consultation.slug}/vote"


def rows(app: Flask) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Ballot)),
            db.session.scalar(select(func.count()).select_from(BallotChoice)),
        )


def chosen(app: Flask, vote: CodeVote) -> set[int] | None:
    with app.app_context():
        ballot = db.session.scalar(select(Ballot).where(Ballot.voting_code_id == vote.code_id))
        return None if ballot is None else {choice.proposal_id for choice in ballot.choices}


def enter(client, vote: CodeVote, code: str):
    return client.post(vote_url(vote), data={"code": code}, headers=ENGLISH)


def send_ballot(client, vote: CodeVote, projects, action="submit", code=None):
    return client.post(
        vote_url(vote) + "/ballot",
        data={
            "code": vote.code if code is None else code,
            "projects": [str(project.id) for project in projects],
            "action": action,
        },
        headers=ENGLISH,
    )


def test_a_visitor_enters_the_code_without_logging_in(client, vote):
    page = client.get(vote_url(vote), headers=ENGLISH)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Enter your voting code" in html and 'name="code"' in html
    assert page.headers["Cache-Control"] == "no-store"


def test_the_letters_link_prefills_the_code(client, vote):
    page = client.get(f"{vote_url(vote)}?code={vote.code}", headers=ENGLISH)
    assert f'value="{vote.code}"' in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    long = client.get(f"{vote_url(vote)}?code={'A' * 500}", headers=ENGLISH)
    assert long.status_code == 200
    assert f'value="{"A" * 60}"' in long.get_data(as_text=True)  # cut to what may be a code


def test_the_right_code_shows_the_ballot_with_the_code_in_a_hidden_field(app, client, vote):
    response = enter(client, vote, vote.code.lower().replace("-", " "))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert HIDDEN_CODE.findall(html) == [vote.code.lower().replace("-", " ")]
    assert f'action="{vote_url(vote)}/ballot"' in html
    assert "Submit my ballot" in html
    assert rows(app) == (0, 0)
    with client.session_transaction() as session:  # the code is not kept anywhere
        assert vote.code not in str(dict(session)) and vote.code.lower() not in str(dict(session))


def test_submitting_stores_the_ballot_and_shows_the_receipt(app, client, vote):
    response = send_ballot(client, vote, vote.projects[:2])
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    assert "Your ballot was recorded" in html
    assert "Thank you! Your ballot was recorded." in html
    with app.app_context():
        ballot = db.session.scalar(select(Ballot))
        assert BALLOT_CODE.findall(html) == [ballot.code]
        assert ballot.user_id is None and ballot.channel is BallotChannel.ONLINE
    assert chosen(app, vote) == {vote.projects[0].id, vote.projects[1].id}
    with client.session_transaction() as session:
        assert vote.code not in str(dict(session))


def test_the_code_shows_and_changes_its_ballot(app, client, vote):
    send_ballot(client, vote, vote.projects[:2])
    again = enter(client, vote, vote.code).get_data(as_text=True)
    assert set(CHECKED.findall(again)) == {str(vote.projects[0].id), str(vote.projects[1].id)}
    assert "Submit my changed ballot" in again
    send_ballot(client, vote, vote.projects[3:])
    assert chosen(app, vote) == {vote.projects[3].id}
    assert rows(app) == (1, 1)


def test_checking_without_javascript_stores_nothing(app, client, vote):
    response = send_ballot(client, vote, vote.projects[:3], action="check")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "cannot be submitted like this" in html
    assert set(CHECKED.findall(html)) == {str(p.id) for p in vote.projects[:3]}
    assert HIDDEN_CODE.findall(html) == [vote.code]
    assert rows(app) == (0, 0)


def test_a_ballot_over_the_budget_is_refused_keeping_the_boxes(app, client, vote):
    response = send_ballot(client, vote, vote.projects[:3])
    assert response.status_code == 422
    assert "Your ballot was not stored" in response.get_data(as_text=True)
    assert rows(app) == (0, 0)


@pytest.mark.parametrize(
    ("typed", "status", "words"),
    [
        (lambda code: "K7QF", 422, "This is not a voting code"),
        (lambda code: "", 422, "Please enter the voting code"),
        (mistyped, 422, "typo"),
        (lambda code: electorate.generate_code(), 404, "There is no such voting code"),
    ],
    ids=["not a code", "empty", "typo", "unknown"],
)
def test_a_wrong_code_is_refused_next_to_the_field(app, client, vote, typed, status, words):
    response = enter(client, vote, typed(vote.code))
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert words in html and 'id="code-error"' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert rows(app) == (0, 0)


def test_a_changed_hidden_code_is_refused_and_stores_nothing(app, client, vote):
    response = send_ballot(client, vote, vote.projects[:1], code=mistyped(vote.code))
    assert response.status_code == 422
    assert "typo" in response.get_data(as_text=True)
    assert rows(app) == (0, 0)


def test_a_code_used_on_paper_is_refused(app, client, factory, vote):
    factory.ballot(
        vote.consultation, None, vote.projects[:1], voting_code_id=vote.code_id,
        channel=BallotChannel.PAPER,
    )  # fmt: skip
    response = enter(client, vote, vote.code)
    assert response.status_code == 409
    assert "already used on a paper ballot" in response.get_data(as_text=True)
    refused = send_ballot(client, vote, vote.projects[3:])
    assert refused.status_code == 409
    assert chosen(app, vote) == {vote.projects[0].id}


def test_a_logged_in_person_may_vote_with_a_code_too(app, client, factory, vote):
    citizen = factory.user()
    login_with_csrf(client, citizen.email)
    response = send_ballot(client, vote, vote.projects[:1])
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Ballot.user_id)) is None


def test_the_accounts_ballot_page_sends_residents_to_the_code(client, factory, vote):
    citizen = factory.user()
    login_with_csrf(client, citizen.email)
    response = client.get(f"/consultations/{vote.consultation.slug}/ballot", headers=ENGLISH)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(vote_url(vote))
    page = client.get(vote_url(vote), headers=ENGLISH).get_data(as_text=True)
    assert "vote with the voting code from your letter" in page


def test_where_accounts_vote_the_code_page_sends_to_the_ballot(client, factory):
    consultation = factory.consultation(voting_method=VotingMethod.BUDGET, budget=1000)
    response = client.get(f"/consultations/{consultation.slug}/vote")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/consultations/{consultation.slug}/ballot")


def test_the_consultation_page_points_to_the_code(client, vote):
    html = client.get(f"/consultations/{vote.consultation.slug}", headers=ENGLISH).get_data(
        as_text=True
    )
    assert f'href="{vote_url(vote)}"' in html
    assert "Vote with your voting code" in html
    assert "you need no account" in html
    assert f"/consultations/{vote.consultation.slug}/ballot" not in html


def test_the_project_page_points_to_the_code(client, vote):
    html = client.get(f"/proposals/{vote.projects[0].id}", headers=ENGLISH).get_data(as_text=True)
    assert f'href="{vote_url(vote)}"' in html


# Wrong codes per IP address


@pytest.fixture
def limited_app(app: Flask):
    """The limiter is one object shared by every app of the test session: its switch and its
    counters are put back afterwards."""
    was_enabled = limiter.enabled
    limited = make_app(app.config["SQLALCHEMY_DATABASE_URI"], RATELIMIT_ENABLED=True)
    yield limited
    limiter.reset()
    limiter.enabled = was_enabled


def test_the_21st_wrong_code_gets_a_clear_429_page(limited_app, factory):
    vote = code_vote(factory, electorate=Electorate.VOTING_CODES)
    client = limited_app.test_client()
    statuses = {enter(client, vote, electorate.generate_code()).status_code for _ in range(10)}
    statuses |= {enter(client, vote, "typo").status_code for _ in range(5)}
    statuses |= {enter(client, vote, mistyped(vote.code)).status_code for _ in range(5)}
    assert statuses == {404, 422}
    blocked = enter(client, vote, vote.code)  # even the right code, for a while
    assert blocked.status_code == 429
    assert blocked.headers["Cache-Control"] == "no-store"
    page = blocked.get_data(as_text=True)
    assert "Too many wrong voting codes" in page and "Traceback" not in page
    german = client.post(vote_url(vote), data={"code": vote.code}, headers=GERMAN)
    assert german.status_code == 429
    assert "zu viele falsche Abstimmungscodes" in german.get_data(as_text=True)
    assert send_ballot(client, vote, vote.projects[:1]).status_code == 429


def test_right_codes_do_not_count(limited_app, factory):
    vote = code_vote(factory)
    client = limited_app.test_client()
    for _ in range(12):
        assert enter(client, vote, vote.code).status_code == 200
        assert send_ballot(client, vote, vote.projects[:1], action="check").status_code == 200
    assert send_ballot(client, vote, vote.projects[:3]).status_code == 422  # over the budget
    assert send_ballot(client, vote, vote.projects[:1]).status_code == 200
