"""Supporting proposals through HTTP: the button on the proposal page and in the list, the
redirects, the login round trip for visitors, CSRF, JSON answers for the small script, and the
cap as a consultation setting."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import func, select

from participation.extensions import db
from participation.models import (
    Consultation,
    Phase,
    Proposal,
    ProposalState,
    Support,
    User,
    VotingMethod,
)
from participation.services import votes
from tests.conftest import csrf_token_from, login_with_csrf
from tests.factories import Factory
from tests.test_votes import Voting, open_voting

ENGLISH = {"Accept-Language": "en"}
JSON = {"Accept": "application/json"}
SUPPORT_BUTTON = re.compile(
    r'<button type="submit" class="btn [^"]*"\s+aria-pressed="(true|false)"'
    r' aria-describedby="support-state-\d+">'
)


@pytest.fixture
def vote(factory: Factory) -> Voting:
    return open_voting(factory)


def support_url(proposal: Proposal) -> str:
    return f"/proposals/{proposal.id}/support"


def withdraw_url(proposal: Proposal) -> str:
    return f"/proposals/{proposal.id}/support/withdraw"


def proposal_url(proposal: Proposal) -> str:
    return f"/proposals/{proposal.id}"


def rows_and_count(app: Flask, proposal: Proposal) -> tuple[int, int]:
    with app.app_context():
        rows = db.session.scalar(
            select(func.count()).select_from(Support).where(Support.proposal_id == proposal.id)
        )
        return rows, db.session.get(Proposal, proposal.id).support_count


def supported_beforehand(app: Flask, proposal: Proposal, citizen: User) -> None:
    with app.app_context():
        votes.support(db.session.get(Proposal, proposal.id), db.session.get(User, citizen.id))


def page(client, url: str) -> str:
    response = client.get(url, headers=ENGLISH)
    assert response.status_code == 200
    return response.get_data(as_text=True)


# Supporting and withdrawing


def test_citizen_supports_and_returns_to_the_proposal(app, client, auth, vote):
    auth.login(vote.citizen.email)
    response = client.post(support_url(vote.proposal))
    assert response.status_code == 302
    assert response.headers["Location"] == proposal_url(vote.proposal)
    assert rows_and_count(app, vote.proposal) == (1, 1)


def test_support_is_confirmed_on_the_proposal_page(client, auth, vote):
    auth.login(vote.citizen.email)
    response = client.post(support_url(vote.proposal), headers=ENGLISH, follow_redirects=True)
    assert "Thank you! You support this proposal." in response.get_data(as_text=True)


def test_supporting_twice_is_not_an_error_and_counts_once(app, client, auth, vote):
    auth.login(vote.citizen.email)
    client.post(support_url(vote.proposal))
    response = client.post(support_url(vote.proposal))
    assert response.status_code == 302
    assert rows_and_count(app, vote.proposal) == (1, 1)


def test_supporting_from_the_list_returns_to_the_list(client, auth, vote):
    auth.login(vote.citizen.email)
    back = f"/consultations/{vote.consultation.slug}?sort=supported#support-{vote.proposal.id}"
    response = client.post(support_url(vote.proposal), data={"next": back})
    assert response.headers["Location"] == back


def test_next_to_another_site_is_not_followed(client, auth, vote):
    auth.login(vote.citizen.email)
    response = client.post(support_url(vote.proposal), data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_citizen_withdraws_a_support(app, client, auth, vote):
    supported_beforehand(app, vote.proposal, vote.citizen)
    auth.login(vote.citizen.email)
    response = client.post(withdraw_url(vote.proposal), headers=ENGLISH, follow_redirects=True)
    assert "You no longer support this proposal." in response.get_data(as_text=True)
    assert rows_and_count(app, vote.proposal) == (0, 0)


# Refusals: told why, nothing stored


def test_support_outside_voting_is_refused_with_a_message(app, client, auth, factory):
    vote = open_voting(factory, phase=Phase.COLLECTING)
    auth.login(vote.citizen.email)
    response = client.post(support_url(vote.proposal), headers=ENGLISH, follow_redirects=True)
    assert "can only be supported while the consultation is in the voting phase" in (
        response.get_data(as_text=True)
    )
    assert rows_and_count(app, vote.proposal) == (0, 0)


def test_support_in_a_budget_consultation_is_refused(app, client, auth, factory):
    vote = open_voting(factory, voting_method=VotingMethod.BUDGET, budget=5000)
    auth.login(vote.citizen.email)
    response = client.post(support_url(vote.proposal), headers=ENGLISH, follow_redirects=True)
    assert "budget ballot" in response.get_data(as_text=True)
    assert rows_and_count(app, vote.proposal) == (0, 0)


def test_withdrawn_proposal_cannot_be_supported_by_its_author(app, client, auth, factory, vote):
    author = factory.user()
    withdrawn = factory.proposal(vote.consultation, author, state=ProposalState.WITHDRAWN)
    auth.login(author.email)
    response = client.post(support_url(withdrawn), headers=ENGLISH, follow_redirects=True)
    assert "withdrawn or hidden proposal cannot be supported" in response.get_data(as_text=True)
    assert rows_and_count(app, withdrawn) == (0, 0)


@pytest.mark.parametrize("state", [ProposalState.HIDDEN, ProposalState.WITHDRAWN])
def test_support_of_a_proposal_others_cannot_see_is_not_found(
    app, client, auth, factory, vote, state
):
    hidden = factory.proposal(vote.consultation, factory.user(), state=state)
    auth.login(vote.citizen.email)
    assert client.post(support_url(hidden)).status_code == 404
    assert rows_and_count(app, hidden) == (0, 0)


def test_withdrawing_after_voting_is_refused(app, client, auth, vote):
    supported_beforehand(app, vote.proposal, vote.citizen)
    with app.app_context():
        db.session.get(Consultation, vote.consultation.id).phase = Phase.EVALUATING
        db.session.commit()
    auth.login(vote.citizen.email)
    response = client.post(withdraw_url(vote.proposal), headers=ENGLISH, follow_redirects=True)
    assert "can only be withdrawn while" in response.get_data(as_text=True)
    assert rows_and_count(app, vote.proposal) == (1, 1)


def test_support_beyond_the_cap_is_refused_with_a_message(app, client, auth, factory):
    vote = open_voting(factory, max_supports=1)
    other = factory.proposal(vote.consultation, factory.user())
    supported_beforehand(app, vote.proposal, vote.citizen)
    auth.login(vote.citizen.email)
    response = client.post(support_url(other), headers=ENGLISH, follow_redirects=True)
    assert "already used all your 1 supports" in response.get_data(as_text=True)
    assert rows_and_count(app, other) == (0, 0)


# Visitors: to the login, and back to the proposal


def test_visitor_is_sent_to_log_in_with_the_proposal_as_next(app, client, vote):
    response = client.post(support_url(vote.proposal))
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert (target.path, parse_qs(target.query)["next"]) == (
        "/account/login",
        [proposal_url(vote.proposal)],
    )
    assert rows_and_count(app, vote.proposal) == (0, 0)


def test_visitor_comes_back_to_the_proposal_after_logging_in(client, vote):
    login_page = client.post(support_url(vote.proposal)).headers["Location"]
    response = client.post(
        login_page, data={"email": vote.citizen.email, "password": Factory.PASSWORD}
    )
    assert response.headers["Location"] == proposal_url(vote.proposal)


def test_visitor_sees_a_login_link_instead_of_the_button(client, vote):
    html = page(client, proposal_url(vote.proposal))
    [link] = re.findall(r'href="([^"]+)">Log in to support</a>', html)
    target = urlsplit(link)
    assert (target.path, parse_qs(target.query)["next"]) == (
        "/account/login",
        [proposal_url(vote.proposal)],
    )
    assert not SUPPORT_BUTTON.search(html)


# The button


SUPPORT_STATE = re.compile(r"<span [^>]*data-support-state>([^<]*)</span>")
SUPPORT_BUTTON_TEXT = re.compile(r'aria-describedby="support-state-\d+">(.*?)</button>', re.S)


@pytest.mark.parametrize(
    ("supported", "pressed", "state"),
    [(False, "false", ""), (True, "true", "You support this proposal.")],
)
def test_button_shows_the_citizens_own_state(app, client, auth, vote, supported, pressed, state):
    """A toggle button keeps its name whether pressed or not (WAI-ARIA APG): aria-pressed
    carries the state for screen readers, and the text beside the button shows it."""
    if supported:
        supported_beforehand(app, vote.proposal, vote.citizen)
    auth.login(vote.citizen.email)
    html = page(client, proposal_url(vote.proposal))
    assert SUPPORT_BUTTON.findall(html) == [pressed]
    [button_text] = SUPPORT_BUTTON_TEXT.findall(html)
    assert re.sub(r"<[^>]+>|✓", "", button_text).strip() == "Support this proposal"
    assert SUPPORT_STATE.findall(html) == [state]
    assert f'aria-describedby="support-state-{vote.proposal.id}"' in html


def test_button_of_another_citizens_support_is_not_pressed(app, client, auth, factory, vote):
    supported_beforehand(app, vote.proposal, factory.user())
    auth.login(vote.citizen.email)
    html = page(client, proposal_url(vote.proposal))
    assert SUPPORT_BUTTON.findall(html) == ["false"]
    assert "1 support</p>" in html


def test_remaining_supports_are_shown_when_capped(app, client, auth, factory):
    vote = open_voting(factory, max_supports=3)
    supported_beforehand(app, vote.proposal, vote.citizen)
    auth.login(vote.citizen.email)
    assert "You have 2 supports left." in page(client, proposal_url(vote.proposal))


def test_no_button_when_the_cap_is_used_up(app, client, auth, factory):
    vote = open_voting(factory, max_supports=1)
    other = factory.proposal(vote.consultation, factory.user())
    supported_beforehand(app, vote.proposal, vote.citizen)
    auth.login(vote.citizen.email)
    html = page(client, proposal_url(other))
    assert not SUPPORT_BUTTON.search(html)
    assert "You have already used all your 1 supports." in html


@pytest.mark.parametrize("phase", [Phase.COLLECTING, Phase.EVALUATING, Phase.CLOSED])
def test_outside_voting_only_the_count_is_shown(client, auth, factory, phase):
    vote = open_voting(factory, phase=phase)
    auth.login(vote.citizen.email)
    html = page(client, proposal_url(vote.proposal))
    assert f'data-support-count="{vote.proposal.id}">0 supports</p>' in html
    assert not SUPPORT_BUTTON.search(html)
    assert "Log in to support" not in html


def test_list_shows_a_button_that_returns_to_the_list(client, auth, vote):
    auth.login(vote.citizen.email)
    html = page(client, f"/consultations/{vote.consultation.slug}?sort=newest")
    assert SUPPORT_BUTTON.findall(html) == ["false"]
    back = f"/consultations/{vote.consultation.slug}?sort=newest#support-{vote.proposal.id}"
    assert f'name="next" value="{back}"' in html


def test_list_shows_no_support_buttons_to_visitors(client, vote):
    html = page(client, f"/consultations/{vote.consultation.slug}")
    assert not SUPPORT_BUTTON.search(html)


# CSRF


def test_support_without_the_csrf_token_is_refused(app, csrf_client, vote):
    login_with_csrf(csrf_client, vote.citizen.email)
    response = csrf_client.post(support_url(vote.proposal))
    assert response.status_code == 400
    assert rows_and_count(app, vote.proposal) == (0, 0)


def test_support_with_the_token_of_the_page_is_stored(app, csrf_client, vote):
    login_with_csrf(csrf_client, vote.citizen.email)
    token = csrf_token_from(page(csrf_client, proposal_url(vote.proposal)))
    response = csrf_client.post(support_url(vote.proposal), data={"csrf_token": token})
    assert response.status_code == 302
    assert rows_and_count(app, vote.proposal) == (1, 1)


# JSON for the script that updates the button without reloading


def test_json_answer_describes_the_new_state(client, auth, factory):
    vote = open_voting(factory, max_supports=2)
    auth.login(vote.citizen.email)
    response = client.post(support_url(vote.proposal), headers=JSON | ENGLISH)
    assert response.status_code == 200
    answer = response.get_json()
    assert (answer["supported"], answer["count"], answer["remaining"]) == (True, 1, 1)
    assert (answer["state_text"], answer["count_text"], answer["action"]) == (
        "You support this proposal.",
        "1 support",
        withdraw_url(vote.proposal),
    )


def test_a_client_accepting_anything_gets_the_redirect(client, auth, vote):
    auth.login(vote.citizen.email)
    response = client.post(support_url(vote.proposal), headers={"Accept": "*/*"})
    assert response.status_code == 302


def test_json_refusal_carries_the_message(app, client, auth, factory):
    vote = open_voting(factory, phase=Phase.EVALUATING)
    auth.login(vote.citizen.email)
    response = client.post(support_url(vote.proposal), headers=JSON | ENGLISH)
    assert response.status_code == 409
    assert "voting phase" in response.get_json()["message"]


# The cap as a consultation setting


def consultation_form(**overrides) -> dict:
    data = {
        "title": "Ideas for the old town",
        "summary": "",
        "description": "",
        "categories": "",
        "voting_method": "support",
        "budget": "",
        "max_supports": "",
        "collecting_starts_on": "",
        "voting_starts_on": "",
        "voting_ends_on": "",
        "results_on": "",
    }
    return data | overrides


def test_moderator_sets_the_cap_in_the_consultation_form(app, client, auth, factory):
    auth.login(factory.moderator().email)
    response = client.post("/consultations/new", data=consultation_form(max_supports="5"))
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Consultation.max_supports)) == 5


def test_cap_of_zero_is_shown_next_to_the_field(app, client, auth, factory):
    auth.login(factory.moderator().email)
    response = client.post(
        "/consultations/new", data=consultation_form(max_supports="0"), headers=ENGLISH
    )
    assert response.status_code == 422
    assert 'id="max_supports-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Consultation)) == 0


def test_edit_form_shows_the_stored_cap(client, auth, factory):
    consultation = factory.consultation(max_supports=4)
    auth.login(factory.moderator().email)
    html = page(client, f"/consultations/{consultation.slug}/edit")
    assert re.search(r'id="max_supports"[^>]*value="4"|value="4"[^>]*id="max_supports"', html)


def test_consultation_page_announces_the_cap_while_voting(client, factory):
    consultation = factory.consultation(phase=Phase.VOTING, max_supports=3)
    html = page(client, f"/consultations/{consultation.slug}")
    assert "You can support up to 3 proposals." in html
