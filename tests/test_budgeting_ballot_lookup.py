"""Finding a ballot once voting is over: the voter's own ballot on the consultation and results
pages, and anybody's look-up by ballot code on the results page, with a rate limit on codes
that no ballot has."""

from __future__ import annotations

import pytest
from flask import Flask

from participation.extensions import db, limiter
from participation.models import Ballot, Consultation, Phase, Proposal, ProposalState
from participation.models.base import utcnow
from participation.services.budgeting import ballots
from participation.services.errors import DomainError, NotFound, ValidationFailed
from tests.budget_data import budget_consultation
from tests.conftest import make_app
from tests.helpers import attached

ENGLISH = {"Accept-Language": "en"}


# The code as people type it


@pytest.mark.parametrize(
    "typed",
    ["K7QF-M2XD-9P4T", "k7qf m2xd 9p4t", "K7QFM2XD9P4T", " k7qf-m2xd-9p4t ", "K7QF-M2XD-9P4T\n"],
)
def test_a_code_is_read_in_any_case_with_or_without_dashes_and_spaces(typed):
    assert ballots.normalise_code(typed) == "K7QF-M2XD-9P4T"


def test_look_alike_letters_are_read_as_the_digits_they_resemble():
    assert ballots.normalise_code("0OIL-1111-AAAA") == "0011-1111-AAAA"


@pytest.mark.parametrize("typed", ["", "K7QF-M2XD", "K7QF-M2XD-9P4T-AAAA", "K7QF-M2XD-9P4*", None])
def test_what_cannot_be_a_code_is_none(typed):
    assert ballots.normalise_code(typed) is None


# The service


@pytest.fixture
def closed_vote(factory):
    """A closed budget consultation; B was funded, A not; C was hidden after the vote."""
    consultation, projects = budget_consultation(
        factory, {"A": 60, "B": 50, "C": 10}, phase=Phase.CLOSED
    )
    voter = factory.user()
    ballot = factory.ballot(consultation, voter, [projects["A"], projects["B"], projects["C"]])
    with factory.app.app_context():
        for name, selected in (("A", False), ("B", True)):
            attached(Proposal, projects[name]).selected = selected
        attached(Proposal, projects["C"]).state = ProposalState.HIDDEN
        db.session.commit()
    return consultation, projects, voter, ballot


def test_a_ballot_is_found_by_its_code_as_typed(closed_vote, ctx):
    consultation, _, _, ballot = closed_vote
    found = ballots.find_by_code(attached(Consultation, consultation), ballot.code.lower())
    assert found.id == ballot.id


def test_the_content_holds_the_counted_projects_with_their_outcome(closed_vote, ctx):
    _, projects, _, ballot = closed_vote
    content = ballots.content_of(attached(Ballot, ballot), with_outcome=True)
    assert [(line.project.id, line.funded) for line in content.lines] == [
        (projects["A"].id, False),
        (projects["B"].id, True),
    ]


def test_without_the_outcome_the_content_says_nothing_about_funding(closed_vote, ctx):
    _, _, _, ballot = closed_vote
    content = ballots.content_of(attached(Ballot, ballot), with_outcome=False)
    assert {line.funded for line in content.lines} == {None}


def test_a_code_of_another_consultation_is_not_found(closed_vote, factory, ctx):
    _, _, _, ballot = closed_vote
    other, _ = budget_consultation(factory, {"X": 10}, phase=Phase.CLOSED)
    with pytest.raises(NotFound):
        ballots.find_by_code(attached(Consultation, other), ballot.code)


def test_a_mistyped_code_is_refused_with_a_hint(closed_vote, ctx):
    consultation, _, _, _ = closed_vote
    with pytest.raises(ValidationFailed) as refused:
        ballots.find_by_code(attached(Consultation, consultation), "K7QF-M2XD")
    assert "12 letters and digits" in str(refused.value.errors["code"])


def test_ballots_cannot_be_looked_up_while_voting_is_open(factory, ctx):
    consultation, projects = budget_consultation(factory, {"A": 60}, phase=Phase.VOTING)
    ballot = factory.ballot(consultation, factory.user(), [projects["A"]])
    with pytest.raises(DomainError) as refused:
        ballots.find_by_code(attached(Consultation, consultation), ballot.code)
    assert "once voting has closed" in str(refused.value.message)


# Through HTTP


def lookup(client, consultation, code, **options):
    return client.post(
        f"/consultations/{consultation.slug}/results/ballot",
        data={"code": code},
        headers=ENGLISH,
        **options,
    )


@pytest.fixture
def published(closed_vote, factory):
    consultation, projects, voter, ballot = closed_vote
    with factory.app.app_context():
        attached(Consultation, consultation).results_published_at = utcnow()
        db.session.commit()
    return consultation, projects, voter, ballot


def test_anybody_sees_a_ballot_by_its_code_and_nothing_about_the_voter(client, published):
    consultation, projects, voter, ballot = published
    response = lookup(client, consultation, ballot.code.lower().replace("-", " "))
    html = response.get_data(as_text=True)
    found = html[html.index('id="found-ballot"') :]
    found = found[: found.index("</section>")]
    assert (response.status_code, ballot.code in found, projects["B"].title in found) == (
        200,
        True,
        True,
    )
    assert voter.display_name not in html and voter.email not in html
    assert projects["C"].title not in html  # hidden since: not counted, not shown


def test_a_code_nobody_holds_is_404_with_the_message_next_to_the_field(client, published):
    consultation, _, _, _ = published
    response = lookup(client, consultation, "AAAA-BBBB-CCCC")
    assert response.status_code == 404
    assert "No ballot of this consultation has this code" in response.get_data(as_text=True)


def test_a_mistyped_code_is_422(client, published):
    consultation, _, _, _ = published
    assert lookup(client, consultation, "hello").status_code == 422


def test_the_look_up_is_not_cached(client, published):
    consultation, _, _, ballot = published
    assert lookup(client, consultation, ballot.code).headers["Cache-Control"] == "no-store"


def test_no_look_up_before_the_results_are_published(client, closed_vote):
    consultation, _, _, ballot = closed_vote
    assert lookup(client, consultation, ballot.code).status_code == 404


def test_the_results_page_offers_the_look_up_form(client, published):
    consultation, _, _, _ = published
    html = client.get(f"/consultations/{consultation.slug}/results", headers=ENGLISH).get_data(
        as_text=True
    )
    assert f'action="/consultations/{consultation.slug}/results/ballot"' in html


@pytest.mark.parametrize("page", ["", "/results"])
def test_the_voter_sees_their_ballot_and_code_after_voting(client, auth, published, page):
    consultation, projects, voter, ballot = published
    auth.login(voter.email)
    html = client.get(f"/consultations/{consultation.slug}{page}", headers=ENGLISH).get_data(
        as_text=True
    )
    own = html[html.index('id="own-ballot"') :]
    own = own[: own.index("</section>")]
    assert (ballot.code in own, projects["A"].title in own, "funded" in own) == (True, True, True)


def test_the_voter_sees_their_ballot_on_the_consultation_page_while_evaluating(
    client, auth, factory
):
    consultation, projects = budget_consultation(factory, {"A": 60}, phase=Phase.EVALUATING)
    voter = factory.user()
    ballot = factory.ballot(consultation, voter, [projects["A"]])
    auth.login(voter.email)
    html = client.get(f"/consultations/{consultation.slug}", headers=ENGLISH).get_data(as_text=True)
    assert 'id="own-ballot"' in html and ballot.code in html


def test_others_do_not_see_a_voters_ballot(client, auth, published, factory):
    consultation, _, _, ballot = published
    auth.login(factory.user().email)
    html = client.get(f"/consultations/{consultation.slug}/results").get_data(as_text=True)
    assert ballot.code not in html


@pytest.fixture
def limited_app(app: Flask):
    """Three wrong codes per window; the limiter is shared, so it is put back afterwards."""
    was_enabled = limiter.enabled
    limited = make_app(
        app.config["SQLALCHEMY_DATABASE_URI"],
        RATELIMIT_ENABLED=True,
        BALLOT_LOOKUP_RATE_LIMIT="3 per 15 minutes",
    )
    yield limited
    limiter.reset()
    limiter.enabled = was_enabled


def test_wrong_codes_are_rate_limited_per_address_but_found_codes_are_not(limited_app, published):
    consultation, _, _, ballot = published
    client = limited_app.test_client()
    found = [lookup(client, consultation, ballot.code).status_code for _ in range(4)]
    wrong = [lookup(client, consultation, "AAAA-BBBB-CCCC").status_code for _ in range(4)]
    assert (found, wrong) == ([200] * 4, [404, 404, 404, 429])
