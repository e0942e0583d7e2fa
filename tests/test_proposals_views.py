"""Proposal pages and forms, and the proposal list on the consultation page, through HTTP."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from participation.extensions import db
from participation.models import Phase, Proposal, ProposalState, Role, User, VotingMethod
from tests.budget_data import budget_election, store_tally
from tests.conftest import START, csrf_token_from, login_with_csrf

ENGLISH = {"Accept-Language": "en"}
PROPOSAL_LINK = re.compile(r'<h3 class="h5 card-title"><a href="/proposals/(\d+)">')


def stored_proposals(app) -> list[Proposal]:
    with app.app_context():
        return list(db.session.scalars(db.select(Proposal).order_by(Proposal.id)))


def stored(app, proposal) -> Proposal:
    with app.app_context():
        return db.session.get(Proposal, proposal.id)


def listed_ids(client, consultation, **params) -> list[int]:
    response = client.get(f"/consultations/{consultation.slug}", query_string=params)
    assert response.status_code == 200
    return [int(found) for found in PROPOSAL_LINK.findall(response.get_data(as_text=True))]


def proposal_form(**overrides) -> dict:
    data = {
        "title": "Benches in the park",
        "body": "We need **more** benches.",
        "category_id": "",
        "estimated_cost": "",
    }
    return data | overrides


def submit(client, consultation, **options):
    """Send the new-proposal form: `proposal_form()` unless `data` says otherwise."""
    options.setdefault("data", proposal_form())
    return client.post(f"/consultations/{consultation.slug}/proposals/new", **options)


@pytest.fixture
def authored_proposal(factory) -> tuple[User, Proposal]:
    """A citizen and their published proposal in a consultation that is collecting proposals."""
    author = factory.user()
    return author, factory.proposal(factory.consultation(phase=Phase.COLLECTING), author)


# Submitting


def test_citizen_submits_a_proposal_while_collecting(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING, categories=("Parks", "Traffic"))
    parks = consultation.categories[0]
    author = factory.user()
    auth.login(author.email)
    response = submit(
        client, consultation, data=proposal_form(category_id=str(parks.id), estimated_cost="1200")
    )
    [proposal] = stored_proposals(app)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{proposal.id}"
    assert (proposal.author_id, proposal.category_id, proposal.estimated_cost) == (
        author.id,
        parks.id,
        1200,
    )
    assert (proposal.title, proposal.body) == ("Benches in the park", "We need **more** benches.")


def test_submitted_proposal_page_shows_the_rendered_body(client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    auth.login(factory.user().email)
    response = submit(
        client,
        consultation,
        data=proposal_form(body="We need **more** benches.\n\n<script>x()</script>"),
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "We need <strong>more</strong> benches." in html
    assert "<script>x()</script>" not in html


def test_cost_is_required_next_to_the_field_when_the_consultation_has_a_budget(
    app, client, auth, factory
):
    consultation = factory.consultation(phase=Phase.COLLECTING, budget=100_000)
    auth.login(factory.user().email)
    response = submit(client, consultation, headers=ENGLISH)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="estimated_cost-error"' in html
    assert "Please estimate the cost" in html
    assert stored_proposals(app) == []


def test_form_marks_the_cost_as_required_for_a_budget(client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING, budget=100_000)
    auth.login(factory.user().email)
    html = client.get(f"/consultations/{consultation.slug}/proposals/new").get_data(as_text=True)
    assert re.search(r'<input [^>]*id="estimated_cost"[^>]*required', html)


def test_category_of_another_consultation_is_refused(app, client, auth, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING, categories=("Parks",))
    elsewhere = factory.consultation(phase=Phase.COLLECTING, categories=("Elsewhere",))
    auth.login(factory.user().email)
    response = submit(
        client, consultation, data=proposal_form(category_id=str(elsewhere.categories[0].id))
    )
    assert response.status_code == 422
    assert 'id="category_id-error"' in response.get_data(as_text=True)
    assert stored_proposals(app) == []


@pytest.mark.parametrize(
    "phase", [Phase.VOTING, Phase.EVALUATING, Phase.CLOSED], ids=lambda phase: phase.value
)
def test_submitting_outside_collecting_is_refused_with_409(app, client, auth, factory, phase):
    consultation = factory.consultation(phase=phase)
    auth.login(factory.user().email)
    response = submit(client, consultation, headers=ENGLISH)
    assert response.status_code == 409
    assert "nothing was saved" in response.get_data(as_text=True)
    assert stored_proposals(app) == []


@pytest.mark.parametrize(
    ("role", "status"),
    [
        pytest.param(Role.MODERATOR, 409, id="moderator-gets-409"),
        pytest.param(Role.CITIZEN, 404, id="citizen-gets-404"),
    ],
)
def test_submitting_to_a_draft_is_refused(app, client, auth, factory, role, status):
    consultation = factory.consultation(phase=Phase.DRAFT)
    auth.login(factory.user(role).email)
    response = submit(client, consultation)
    assert response.status_code == status
    assert stored_proposals(app) == []


def test_opening_the_form_outside_collecting_leads_back_with_a_message(client, auth, factory):
    consultation = factory.consultation(phase=Phase.VOTING)
    auth.login(factory.user().email)
    response = client.get(
        f"/consultations/{consultation.slug}/proposals/new", headers=ENGLISH, follow_redirects=True
    )
    assert response.request.path == f"/consultations/{consultation.slug}"
    assert "not collecting proposals at the moment" in response.get_data(as_text=True)


def test_visitor_is_sent_to_login_with_next(client, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    response = client.get(f"/consultations/{consultation.slug}/proposals/new")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        f"/account/login?next=%2Fconsultations%2F{consultation.slug}%2Fproposals%2Fnew"
    )


def test_visitor_posting_a_proposal_stores_nothing(app, client, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    response = submit(client, consultation)
    assert response.status_code == 302
    assert stored_proposals(app) == []


# Editing


def test_author_edits_the_proposal_while_collecting(app, client, auth, authored_proposal):
    author, proposal = authored_proposal
    auth.login(author.email)
    response = client.post(
        f"/proposals/{proposal.id}/edit",
        data=proposal_form(title="Benches and shade", body="Trees too."),
    )
    assert response.status_code == 302
    assert (stored(app, proposal).title, stored(app, proposal).body) == (
        "Benches and shade",
        "Trees too.",
    )


def test_edit_form_is_filled_with_the_proposal(client, auth, factory):
    author = factory.user()
    proposal = factory.proposal(
        factory.consultation(phase=Phase.COLLECTING), author, title="Shade for the square"
    )
    auth.login(author.email)
    html = client.get(f"/proposals/{proposal.id}/edit").get_data(as_text=True)
    assert 'value="Shade for the square"' in html


def test_author_cannot_edit_after_voting_opened(app, client, auth, factory):
    author = factory.user()
    proposal = factory.proposal(factory.consultation(phase=Phase.VOTING), author, title="Frozen")
    auth.login(author.email)
    response = client.post(
        f"/proposals/{proposal.id}/edit",
        data=proposal_form(title="Changed"),
        headers=ENGLISH,
        follow_redirects=True,
    )
    assert "frozen once voting opens" in response.get_data(as_text=True)
    assert stored(app, proposal).title == "Frozen"


def test_another_citizen_cannot_edit_a_proposal(app, client, auth, factory):
    proposal = factory.proposal(
        factory.consultation(phase=Phase.COLLECTING), factory.user(), title="Mine"
    )
    auth.login(factory.user().email)
    response = client.post(f"/proposals/{proposal.id}/edit", data=proposal_form(title="Yours"))
    assert response.status_code == 403
    assert stored(app, proposal).title == "Mine"


def test_edit_and_withdraw_buttons_are_shown_to_the_author_only(client, auth, authored_proposal):
    author, proposal = authored_proposal
    edit_link = f'href="/proposals/{proposal.id}/edit"'
    assert edit_link not in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    auth.login(author.email)
    assert edit_link in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)


# Withdrawing


def test_author_withdraws_a_proposal(app, client, auth, authored_proposal):
    author, proposal = authored_proposal
    auth.login(author.email)
    response = client.post(f"/proposals/{proposal.id}/withdraw")
    assert response.status_code == 302
    assert stored(app, proposal).state is ProposalState.WITHDRAWN


def test_withdrawn_proposal_is_gone_from_the_list(client, auth, factory):
    author = factory.user()
    consultation = factory.consultation(phase=Phase.COLLECTING)
    kept = factory.proposal(consultation, author)
    withdrawn = factory.proposal(consultation, author)
    auth.login(author.email)
    client.post(f"/proposals/{withdrawn.id}/withdraw")
    assert listed_ids(client, consultation) == [kept.id]


def test_withdrawn_proposal_page_shows_the_author_a_notice(client, auth, authored_proposal):
    author, proposal = authored_proposal
    auth.login(author.email)
    client.post(f"/proposals/{proposal.id}/withdraw")
    response = client.get(f"/proposals/{proposal.id}", headers=ENGLISH)
    assert response.status_code == 200
    assert "The author has withdrawn this proposal." in response.get_data(as_text=True)


def test_withdrawn_proposal_page_is_404_for_visitors(client, factory):
    proposal = factory.proposal(
        factory.consultation(phase=Phase.COLLECTING), factory.user(), state=ProposalState.WITHDRAWN
    )
    assert client.get(f"/proposals/{proposal.id}").status_code == 404


def test_another_citizen_cannot_withdraw_a_proposal(app, client, auth, factory):
    proposal = factory.proposal(factory.consultation(phase=Phase.COLLECTING), factory.user())
    auth.login(factory.user().email)
    response = client.post(
        f"/proposals/{proposal.id}/withdraw", headers=ENGLISH, follow_redirects=True
    )
    assert "Only the author can withdraw" in response.get_data(as_text=True)
    assert stored(app, proposal).state is ProposalState.PUBLISHED


def test_withdrawing_after_voting_opened_is_refused(app, client, auth, factory):
    author = factory.user()
    proposal = factory.proposal(factory.consultation(phase=Phase.VOTING), author)
    auth.login(author.email)
    client.post(f"/proposals/{proposal.id}/withdraw")
    assert stored(app, proposal).state is ProposalState.PUBLISHED


# CSRF


def test_proposal_form_without_csrf_token_is_refused(app, csrf_client, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    login_with_csrf(csrf_client, factory.user().email)
    response = submit(csrf_client, consultation)
    assert response.status_code == 400
    assert stored_proposals(app) == []


def test_proposal_form_with_the_token_from_the_page_is_accepted(app, csrf_client, factory):
    consultation = factory.consultation(phase=Phase.COLLECTING)
    login_with_csrf(csrf_client, factory.user().email)
    url = f"/consultations/{consultation.slug}/proposals/new"
    token = csrf_token_from(csrf_client.get(url).get_data(as_text=True))
    response = csrf_client.post(url, data=proposal_form(csrf_token=token))
    assert response.status_code == 302
    assert [p.title for p in stored_proposals(app)] == ["Benches in the park"]


def test_proposal_edit_without_csrf_token_changes_nothing(app, csrf_client, factory):
    author = factory.user()
    proposal = factory.proposal(factory.consultation(phase=Phase.COLLECTING), author, title="Old")
    login_with_csrf(csrf_client, author.email)
    response = csrf_client.post(f"/proposals/{proposal.id}/edit", data=proposal_form(title="New"))
    assert response.status_code == 400
    assert stored(app, proposal).title == "Old"


def test_withdraw_without_csrf_token_is_refused(app, csrf_client, authored_proposal):
    author, proposal = authored_proposal
    login_with_csrf(csrf_client, author.email)
    response = csrf_client.post(f"/proposals/{proposal.id}/withdraw")
    assert response.status_code == 400
    assert stored(app, proposal).state is ProposalState.PUBLISHED


def test_withdraw_with_the_token_from_the_page_works(app, csrf_client, authored_proposal):
    author, proposal = authored_proposal
    login_with_csrf(csrf_client, author.email)
    page = csrf_client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    response = csrf_client.post(
        f"/proposals/{proposal.id}/withdraw", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    assert stored(app, proposal).state is ProposalState.WITHDRAWN


# The list on the consultation page


def test_list_is_newest_first_by_default(client, three_proposals_newest_first):
    consultation, newest_first = three_proposals_newest_first
    assert listed_ids(client, consultation) == newest_first


def test_list_sorted_by_most_supported(client, four_proposals_most_supported_first):
    consultation, most_supported_first = four_proposals_most_supported_first
    assert listed_ids(client, consultation, sort="supported") == most_supported_first


def test_unknown_sort_falls_back_to_newest(client, factory):
    consultation = factory.consultation()
    author = factory.user()
    older = factory.proposal(consultation, author, created_at=START, support_count=9)
    newer = factory.proposal(consultation, author, created_at=START + timedelta(days=1))
    assert listed_ids(client, consultation, sort="<script>") == [newer.id, older.id]


def random_order(client, consultation) -> list[int]:
    """The whole random order as one client sees it, page by page (5 a page in tests)."""
    return [
        proposal_id
        for page in range(1, 7)
        for proposal_id in listed_ids(client, consultation, sort="random", page=page)
    ]


def test_random_order_is_stable_for_one_client_across_requests_and_pages(client, thirty_proposals):
    consultation, _ = thirty_proposals
    assert random_order(client, consultation) == random_order(client, consultation)


def test_random_order_over_all_pages_shows_every_proposal_exactly_once(client, thirty_proposals):
    consultation, ids = thirty_proposals
    shown = random_order(client, consultation)
    assert sorted(shown) == sorted(ids)


def test_random_order_differs_between_two_clients(app, client, thirty_proposals):
    """30 proposals have 30! orders: two visitors getting the same one is practically impossible."""
    consultation, _ = thirty_proposals
    assert random_order(client, consultation) != random_order(app.test_client(), consultation)


def test_filter_by_category(client, proposal_in_parks):
    consultation, in_parks = proposal_in_parks
    assert listed_ids(client, consultation, category=in_parks.category_id) == [in_parks.id]


def test_category_of_another_consultation_is_ignored_in_the_filter(client, factory):
    consultation = factory.consultation(categories=("Parks",))
    elsewhere = factory.consultation(categories=("Elsewhere",))
    author = factory.user()
    older = factory.proposal(consultation, author, created_at=START)
    newer = factory.proposal(consultation, author, created_at=START + timedelta(days=1))
    shown = listed_ids(client, consultation, category=elsewhere.categories[0].id)
    assert shown == [newer.id, older.id]


def test_text_search_is_case_insensitive(client, factory):
    consultation = factory.consultation()
    author = factory.user()
    in_title = factory.proposal(consultation, author, title="More TREES", created_at=START)
    in_body = factory.proposal(
        consultation, author, body="Plant trees.", created_at=START + timedelta(days=1)
    )
    factory.proposal(consultation, author, title="Bike lanes", body="Paint them red.")
    assert listed_ids(client, consultation, q="Trees") == [in_body.id, in_title.id]


def test_percent_and_underscore_in_the_search_are_literal(client, factory):
    consultation = factory.consultation()
    author = factory.user()
    literal = factory.proposal(consultation, author, title="Fees down 50% for plan_b")
    factory.proposal(consultation, author, title="Fees down 500 for planXb")
    assert listed_ids(client, consultation, q="50% plan_b") == [literal.id]


def test_search_without_matches_shows_no_proposals(client, factory):
    consultation = factory.consultation()
    factory.proposal(consultation, factory.user(), title="Benches")
    assert listed_ids(client, consultation, q="zeppelin") == []


def test_second_page_shows_the_next_items(client, seven_proposals_newest_first):
    consultation, newest_first = seven_proposals_newest_first
    assert listed_ids(client, consultation) == newest_first[:5]
    assert listed_ids(client, consultation, page=2) == newest_first[5:]


def test_page_links_keep_the_filters(client, factory):
    consultation = factory.consultation()
    author = factory.user()
    for _ in range(6):
        factory.proposal(consultation, author, title="Trees")
    html = client.get(
        f"/consultations/{consultation.slug}", query_string={"q": "trees", "sort": "supported"}
    ).get_data(as_text=True)
    link = re.search(r'<a class="page-link" rel="next" href="([^"]+)"', html)
    assert link is not None
    assert "page=2" in link.group(1)
    assert "q=trees" in link.group(1)
    assert "sort=supported" in link.group(1)


@pytest.mark.parametrize("page", ["99", "0", "-3", "abc"])
def test_out_of_range_page_shows_no_error(client, factory, page):
    consultation = factory.consultation()
    factory.proposal(consultation, factory.user())
    response = client.get(f"/consultations/{consultation.slug}?page={page}")
    assert response.status_code == 200


def test_page_beyond_the_last_shows_the_last_page(client, factory):
    """A list that shrank since the link was made still shows something (blueprints.limits)."""
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, factory.user())
    assert listed_ids(client, consultation, page=99) == [proposal.id]


def test_withdrawn_and_hidden_proposals_never_appear(client, factory):
    consultation = factory.consultation()
    author = factory.user()
    published = factory.proposal(consultation, author)
    factory.proposal(consultation, author, state=ProposalState.WITHDRAWN)
    factory.proposal(consultation, author, state=ProposalState.HIDDEN)
    for sort in ("newest", "supported", "random"):
        assert listed_ids(client, consultation, sort=sort) == [published.id]


def test_hidden_proposal_page_is_404_for_visitors(client, factory):
    proposal = factory.proposal(
        factory.consultation(), factory.user(), state=ProposalState.HIDDEN, title="Spam"
    )
    assert client.get(f"/proposals/{proposal.id}").status_code == 404


# Budget projects are voted on by ballot: no supports, approvals once the results are public


def test_budget_project_cards_show_no_supports_while_voting(client, factory):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=100
    )
    factory.proposal(consultation, factory.user(), estimated_cost=40)
    html = client.get(f"/consultations/{consultation.slug}", headers=ENGLISH).get_data(as_text=True)
    counts = re.findall(r"\d+ (?:supports?|approvals?)\b", html)
    assert (counts, 'value="supported"' in html) == ([], False)


def test_budget_project_cards_show_the_approvals_once_published(app, client, factory):
    election = budget_election(factory)
    store_tally(app, election)
    html = client.get(f"/consultations/{election.consultation.slug}", headers=ENGLISH).get_data(
        as_text=True
    )
    assert ("2 approvals" in html, "1 approval" in html, " supports" in html) == (
        True,
        True,
        False,
    )
    assert 'value="approved"' in html and 'value="cost"' in html


def test_a_budget_project_page_shows_its_approvals_and_outcome_not_supports(app, client, factory):
    election = budget_election(factory)
    store_tally(app, election)
    with app.app_context():
        db.session.get(Proposal, election.park.id).selected = True
        db.session.commit()
    html = client.get(f"/proposals/{election.park.id}", headers=ENGLISH).get_data(as_text=True)
    assert ("2 approvals" in html, "funded" in html, "supports" in html) == (True, True, False)


def test_a_budget_project_page_leads_to_the_ballot_while_voting(client, factory):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=100
    )
    project = factory.proposal(consultation, factory.user(), estimated_cost=40)
    html = client.get(f"/proposals/{project.id}", headers=ENGLISH).get_data(as_text=True)
    assert f'href="/consultations/{consultation.slug}/ballot"' in html
    assert "0 supports" not in html


def test_an_initiative_of_a_budget_project_shows_its_approvals(app, client, factory):
    election = budget_election(factory)
    store_tally(app, election)
    initiative = factory.initiative(election.park)
    html = client.get(f"/initiatives/{initiative.id}", headers=ENGLISH).get_data(as_text=True)
    assert ("2 approvals" in html, "supporters" in html) == (True, False)
