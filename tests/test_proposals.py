"""The proposals service: submitting, editing, withdrawing and listing proposals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale

from participation.extensions import db
from participation.models import (
    Answer,
    Consultation,
    Phase,
    Proposal,
    ProposalState,
    User,
    VotingMethod,
)
from participation.services import proposals
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from participation.services.proposals import ProposalQuery, ProposalSort, ProposalText
from tests.budget_data import budget_election, store_tally
from tests.conftest import START
from tests.helpers import attached

NOT_COLLECTING = [Phase.DRAFT, Phase.VOTING, Phase.EVALUATING, Phase.CLOSED]


def in_english(message) -> str:
    with force_locale("en"):
        return str(message)


def proposal_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Proposal))


def text(**overrides) -> ProposalText:
    values = {"title": "Benches in the park", "body": "We need **more** benches."}
    return ProposalText(**(values | overrides))


def listed(consultation, **query) -> list[int]:
    page = proposals.search(attached(Consultation, consultation), ProposalQuery(**query))
    return [proposal.id for proposal in page.items]


def all_pages(consultation, **query) -> list[int]:
    """Every id in the order shown, walking the pages until one is empty."""
    ids: list[int] = []
    page_number = 1
    while page_ids := listed(consultation, page=page_number, **query):
        ids.extend(page_ids)
        page_number += 1
    return ids


# Submitting


def test_citizen_submits_a_proposal_while_collecting(factory, ctx):
    author = attached(User, factory.user())
    created = factory.consultation(phase=Phase.COLLECTING, categories=("Parks", "Traffic"))
    consultation = attached(Consultation, created)
    parks = consultation.categories[0]
    proposal = proposals.submit(
        consultation, author, text(category_id=parks.id, estimated_cost=1_200)
    )
    db.session.expire_all()
    stored = db.session.get(Proposal, proposal.id)
    assert (stored.title, stored.body, stored.category_id, stored.estimated_cost) == (
        "Benches in the park",
        "We need **more** benches.",
        parks.id,
        1_200,
    )
    assert (stored.author_id, stored.consultation_id, stored.state) == (
        author.id,
        created.id,
        ProposalState.PUBLISHED,
    )


def test_cost_is_required_when_the_consultation_has_a_budget(factory, ctx):
    author = attached(User, factory.user())
    consultation = attached(Consultation, factory.consultation(budget=100_000))
    with pytest.raises(ValidationFailed) as refused:
        proposals.submit(consultation, author, text(estimated_cost=None))
    assert set(refused.value.errors) == {"estimated_cost"}
    db.session.rollback()
    assert proposal_count() == 0


def test_cost_is_required_for_budget_voting(factory, ctx):
    author = attached(User, factory.user())
    consultation = attached(
        Consultation, factory.consultation(voting_method=VotingMethod.BUDGET, budget=50_000)
    )
    with pytest.raises(ValidationFailed) as refused:
        proposals.submit(consultation, author, text())
    assert set(refused.value.errors) == {"estimated_cost"}


def test_cost_is_optional_without_a_budget(factory, ctx):
    author = attached(User, factory.user())
    consultation = attached(Consultation, factory.consultation(budget=None))
    proposal = proposals.submit(consultation, author, text(estimated_cost=None))
    assert db.session.get(Proposal, proposal.id).estimated_cost is None


def test_cost_above_the_whole_budget_is_refused(factory, ctx):
    author = attached(User, factory.user())
    consultation = attached(Consultation, factory.consultation(budget=10_000))
    with pytest.raises(ValidationFailed) as refused:
        proposals.submit(consultation, author, text(estimated_cost=10_001))
    assert set(refused.value.errors) == {"estimated_cost"}


def test_category_of_another_consultation_is_refused(factory, ctx):
    author = attached(User, factory.user())
    consultation = attached(Consultation, factory.consultation(categories=("Parks",)))
    other = factory.consultation(categories=("Elsewhere",))
    with pytest.raises(ValidationFailed) as refused:
        proposals.submit(consultation, author, text(category_id=other.categories[0].id))
    assert set(refused.value.errors) == {"category_id"}
    db.session.rollback()
    assert proposal_count() == 0


def test_category_is_required_when_the_consultation_has_categories(factory, ctx):
    author = attached(User, factory.user())
    consultation = attached(Consultation, factory.consultation(categories=("Parks",)))
    with pytest.raises(ValidationFailed) as refused:
        proposals.submit(consultation, author, text(category_id=None))
    assert set(refused.value.errors) == {"category_id"}


def test_empty_title_and_body_are_refused_together(factory, ctx):
    author = attached(User, factory.user())
    consultation = attached(Consultation, factory.consultation())
    with pytest.raises(ValidationFailed) as refused:
        proposals.submit(consultation, author, text(title="  ", body=""))
    assert set(refused.value.errors) == {"title", "body"}


@pytest.mark.parametrize("phase", NOT_COLLECTING, ids=lambda phase: phase.value)
def test_submitting_outside_collecting_is_refused_and_nothing_is_stored(factory, ctx, phase):
    author = attached(User, factory.user())
    consultation = attached(Consultation, factory.consultation(phase=phase))
    with pytest.raises(DomainError) as refused:
        proposals.submit(consultation, author, text())
    assert "while the consultation is collecting" in in_english(refused.value.message)
    db.session.rollback()
    assert proposal_count() == 0


def test_nobody_logged_in_cannot_submit(factory, ctx):
    consultation = attached(Consultation, factory.consultation())
    with pytest.raises(NotAllowed):
        proposals.submit(consultation, None, text())


# Editing and withdrawing


def test_author_edits_the_proposal_while_collecting(factory, ctx):
    author = factory.user()
    created = factory.proposal(factory.consultation(), author, title="Old")
    proposals.edit(
        attached(Proposal, created), attached(User, author), text(title="New", body="New body")
    )
    db.session.expire_all()
    stored = db.session.get(Proposal, created.id)
    assert (stored.title, stored.body) == ("New", "New body")


@pytest.mark.parametrize(
    "phase", [Phase.VOTING, Phase.EVALUATING, Phase.CLOSED], ids=lambda phase: phase.value
)
def test_author_cannot_edit_once_voting_has_opened(factory, ctx, phase):
    author = factory.user()
    created = factory.proposal(factory.consultation(phase=phase), author, title="Frozen")
    with pytest.raises(DomainError):
        proposals.edit(attached(Proposal, created), attached(User, author), text(title="Changed"))
    db.session.rollback()
    assert db.session.get(Proposal, created.id).title == "Frozen"


def test_another_citizen_cannot_edit_a_proposal(factory, ctx):
    created = factory.proposal(factory.consultation(), factory.user(), title="Mine")
    stranger = attached(User, factory.user())
    with pytest.raises(NotAllowed):
        proposals.edit(attached(Proposal, created), stranger, text(title="Yours now"))
    db.session.rollback()
    assert db.session.get(Proposal, created.id).title == "Mine"


def test_can_edit_only_for_the_author_while_collecting(factory, ctx):
    author = factory.user()
    consultation = factory.consultation(phase=Phase.COLLECTING)
    frozen = factory.consultation(phase=Phase.VOTING)
    open_one = attached(Proposal, factory.proposal(consultation, author))
    frozen_one = attached(Proposal, factory.proposal(frozen, author))
    stranger = attached(User, factory.user())
    assert (
        proposals.can_edit(open_one, attached(User, author)),
        proposals.can_edit(open_one, stranger),
        proposals.can_edit(frozen_one, attached(User, author)),
        proposals.can_edit(open_one, None),
    ) == (True, False, False, False)


def test_author_withdraws_a_proposal(factory, ctx):
    author = factory.user()
    created = factory.proposal(factory.consultation(), author)
    proposals.withdraw(attached(Proposal, created), attached(User, author))
    db.session.expire_all()
    assert db.session.get(Proposal, created.id).state is ProposalState.WITHDRAWN


def test_another_citizen_cannot_withdraw_a_proposal(factory, ctx):
    created = factory.proposal(factory.consultation(), factory.user())
    with pytest.raises(NotAllowed):
        proposals.withdraw(attached(Proposal, created), attached(User, factory.user()))
    db.session.rollback()
    assert db.session.get(Proposal, created.id).state is ProposalState.PUBLISHED


def test_a_withdrawn_proposal_cannot_be_edited(factory, ctx):
    author = factory.user()
    created = factory.proposal(
        factory.consultation(), author, state=ProposalState.WITHDRAWN, title="Gone"
    )
    with pytest.raises(DomainError):
        proposals.edit(attached(Proposal, created), attached(User, author), text(title="Back"))
    db.session.rollback()
    assert db.session.get(Proposal, created.id).title == "Gone"


def test_withdrawn_proposal_is_still_visible_to_its_author_only(factory, ctx):
    author = factory.user()
    created = factory.proposal(factory.consultation(), author, state=ProposalState.WITHDRAWN)
    assert proposals.get_visible(created.id, attached(User, author)).id == created.id
    with pytest.raises(NotFound):
        proposals.get_visible(created.id, attached(User, factory.user()))
    with pytest.raises(NotFound):
        proposals.get_visible(created.id, None)


def test_proposals_of_a_draft_are_not_visible_to_visitors(factory, ctx):
    created = factory.proposal(factory.consultation(phase=Phase.DRAFT), factory.user())
    with pytest.raises(NotFound):
        proposals.get_visible(created.id, None)


# Loading a proposal to change it


def test_loading_somebody_elses_proposal_to_change_it_is_not_allowed(factory, ctx):
    created = factory.proposal(factory.consultation(), factory.user())
    with pytest.raises(NotAllowed):
        proposals.get_visible(created.id, attached(User, factory.user()), for_change=True)


def test_loading_a_public_proposal_to_change_it_without_a_login_is_not_allowed(factory, ctx):
    created = factory.proposal(factory.consultation(), factory.user())
    with pytest.raises(NotAllowed):
        proposals.get_visible(created.id, None, for_change=True)


def test_a_moderator_may_not_load_a_citizens_proposal_to_change_it(factory, ctx):
    created = factory.proposal(factory.consultation(), factory.user())
    with pytest.raises(NotAllowed):
        proposals.get_visible(created.id, attached(User, factory.moderator()), for_change=True)


@pytest.mark.parametrize("phase", [Phase.COLLECTING, Phase.VOTING])
def test_the_author_loads_their_proposal_to_change_it_in_any_phase(factory, ctx, phase):
    """Whether it may still change (frozen once voting opens) is can_edit's to say, so that the
    author is told why instead of being refused like a stranger."""
    author = factory.user()
    created = factory.proposal(factory.consultation(phase=phase), author)
    loaded = proposals.get_visible(created.id, attached(User, author), for_change=True)
    assert loaded.id == created.id


def test_a_stranger_loading_a_withdrawn_proposal_to_change_it_finds_nothing(factory, ctx):
    created = factory.proposal(
        factory.consultation(), factory.user(), state=ProposalState.WITHDRAWN
    )
    with pytest.raises(NotFound):
        proposals.get_visible(created.id, attached(User, factory.user()), for_change=True)


def test_a_proposal_of_another_consultation_is_not_found_there(factory, ctx):
    elsewhere = factory.consultation()
    created = factory.proposal(factory.consultation(), factory.user())
    with pytest.raises(NotFound):
        proposals.get_visible(created.id, None, consultation=attached(Consultation, elsewhere))


def test_a_proposal_is_found_in_its_own_consultation(factory, ctx):
    consultation = factory.consultation()
    created = factory.proposal(consultation, factory.user())
    loaded = proposals.get_visible(
        created.id, None, consultation=attached(Consultation, consultation)
    )
    assert loaded.id == created.id


# Listing: order


def test_list_is_newest_first_by_default(three_proposals_newest_first, ctx):
    consultation, newest_first = three_proposals_newest_first
    assert listed(consultation) == newest_first


def test_most_supported_first(four_proposals_most_supported_first, ctx):
    consultation, most_supported_first = four_proposals_most_supported_first
    assert listed(consultation, sort=ProposalSort.MOST_SUPPORTED) == most_supported_first


# Orders that fit the voting method


def test_a_support_consultation_sorts_by_supports(factory, ctx):
    consultation = attached(Consultation, factory.consultation())
    assert proposals.sorts_for(consultation) == [
        ProposalSort.NEWEST,
        ProposalSort.MOST_SUPPORTED,
        ProposalSort.RANDOM,
    ]


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        (False, [ProposalSort.NEWEST, ProposalSort.LOWEST_COST, ProposalSort.RANDOM]),
        (
            True,
            [
                ProposalSort.NEWEST,
                ProposalSort.MOST_APPROVED,
                ProposalSort.LOWEST_COST,
                ProposalSort.RANDOM,
            ],
        ),
    ],
)
def test_a_budget_consultation_sorts_by_cost_and_approvals_once_published(
    factory, ctx, published, expected
):
    election = budget_election(factory, published=published)
    assert proposals.sorts_for(attached(Consultation, election.consultation)) == expected


def test_an_order_that_does_not_fit_the_consultation_falls_back_to_the_newest(factory, ctx):
    election = budget_election(factory, published=False)
    consultation = attached(Consultation, election.consultation)
    assert [proposals.sort_for(consultation, value) for value in ("supported", "approved")] == [
        ProposalSort.NEWEST,
        ProposalSort.NEWEST,
    ]


def test_most_approved_first_follows_the_counted_approvals(factory, app, ctx):
    election = budget_election(factory)
    store_tally(app, election)
    # park 2, bikes 2 (park submitted first), bench 1
    assert listed(election.consultation, sort=ProposalSort.MOST_APPROVED) == [
        election.park.id,
        election.bikes.id,
        election.bench.id,
    ]


def test_lowest_cost_first(factory, ctx):
    election = budget_election(factory)
    assert listed(election.consultation, sort=ProposalSort.LOWEST_COST) == [
        election.bench.id,
        election.bikes.id,
        election.park.id,
    ]


def test_most_supported_breaks_ties_by_the_earlier_submission(factory, ctx):
    consultation = factory.consultation()
    author = factory.user()
    later = factory.proposal(
        consultation, author, support_count=3, created_at=START + timedelta(hours=1)
    )
    earlier = factory.proposal(consultation, author, support_count=3, created_at=START)
    assert listed(consultation, sort=ProposalSort.MOST_SUPPORTED) == [earlier.id, later.id]


def test_random_order_is_the_same_for_the_same_seed(thirty_proposals, ctx):
    consultation, _ = thirty_proposals
    first = all_pages(consultation, sort=ProposalSort.RANDOM, seed=4711, per_page=7)
    again = all_pages(consultation, sort=ProposalSort.RANDOM, seed=4711, per_page=7)
    assert first == again


def test_random_order_differs_between_seeds(thirty_proposals, ctx):
    consultation, _ = thirty_proposals
    one = all_pages(consultation, sort=ProposalSort.RANDOM, seed=4711, per_page=30)
    other = all_pages(consultation, sort=ProposalSort.RANDOM, seed=4712, per_page=30)
    assert one != other


def test_random_order_over_all_pages_shows_every_proposal_exactly_once(thirty_proposals, ctx):
    consultation, ids = thirty_proposals
    shown = all_pages(consultation, sort=ProposalSort.RANDOM, seed=99, per_page=7)
    assert sorted(shown) == sorted(ids)


def test_random_order_is_not_the_order_of_submission(thirty_proposals, ctx):
    consultation, ids = thirty_proposals
    for seed in range(1, 21):
        shown = all_pages(consultation, sort=ProposalSort.RANDOM, seed=seed, per_page=30)
        assert shown not in (ids, ids[::-1])


def test_random_order_puts_different_proposals_on_top(thirty_proposals, ctx):
    """Nobody's proposal is always first: over 200 seeds most of the 30 get the top spot."""
    consultation, _ = thirty_proposals
    tops = {
        listed(consultation, sort=ProposalSort.RANDOM, seed=seed, per_page=1)[0]
        for seed in range(1, 201)
    }
    assert len(tops) >= 25


def test_random_order_keeps_the_others_in_place_when_a_proposal_is_added(
    factory, thirty_proposals, ctx
):
    consultation, _ = thirty_proposals
    before = all_pages(consultation, sort=ProposalSort.RANDOM, seed=31337, per_page=30)
    added = factory.proposal(consultation, factory.user())
    after = all_pages(consultation, sort=ProposalSort.RANDOM, seed=31337, per_page=30)
    assert [proposal_id for proposal_id in after if proposal_id != added.id] == before


# Listing: filters and pages


def test_filter_by_category(proposal_in_parks, ctx):
    consultation, in_parks = proposal_in_parks
    assert listed(consultation, category_id=in_parks.category_id) == [in_parks.id]


def test_text_search_is_case_insensitive_on_title_and_body(factory, ctx):
    consultation = factory.consultation()
    author = factory.user()
    in_title = factory.proposal(consultation, author, title="More TREES on Main Street")
    in_body = factory.proposal(consultation, author, body="Plant trees along the river.")
    factory.proposal(consultation, author, title="Bike lanes", body="Paint them red.")
    assert set(listed(consultation, text="Trees")) == {in_title.id, in_body.id}


def test_text_search_needs_every_word(factory, ctx):
    consultation = factory.consultation()
    author = factory.user()
    both = factory.proposal(consultation, author, title="Trees", body="by the river")
    factory.proposal(consultation, author, title="Trees", body="in the square")
    assert listed(consultation, text="river trees") == [both.id]


@pytest.mark.parametrize(
    ("field", "literal", "lookalike", "search"),
    [
        pytest.param(
            "title", "Cut parking fees by 50%", "Cut parking fees by 50 euros", "50%", id="percent"
        ),
        pytest.param(
            "body", "See file plan_v2.pdf", "See file planXv2.pdf", "plan_v2", id="underscore"
        ),
        pytest.param("body", r"Path C:\town\plans", "Path C:townplans", r"C:\town", id="backslash"),
    ],
)
def test_wildcard_characters_in_the_search_are_literal(
    factory, ctx, field, literal, lookalike, search
):
    consultation = factory.consultation()
    author = factory.user()
    wanted = factory.proposal(consultation, author, **{field: literal})
    factory.proposal(consultation, author, **{field: lookalike})
    assert listed(consultation, text=search) == [wanted.id]


def test_second_page_shows_the_next_items(seven_proposals_newest_first, ctx):
    consultation, newest_first = seven_proposals_newest_first
    assert listed(consultation, per_page=5, page=1) == newest_first[:5]
    assert listed(consultation, per_page=5, page=2) == newest_first[5:]


def test_page_beyond_the_last_is_empty_without_error(factory, ctx):
    consultation = factory.consultation()
    factory.proposal(consultation, factory.user())
    page = proposals.search(attached(Consultation, consultation), ProposalQuery(page=9, per_page=5))
    assert (page.items, page.total) == ([], 1)


def test_random_page_beyond_the_last_is_empty_without_error(factory, ctx):
    consultation = factory.consultation()
    factory.proposal(consultation, factory.user())
    page = proposals.search(
        attached(Consultation, consultation),
        ProposalQuery(sort=ProposalSort.RANDOM, page=9, per_page=5),
    )
    assert (page.items, page.total) == ([], 1)


@pytest.mark.parametrize("sort", list(ProposalSort), ids=lambda sort: sort.value)
def test_withdrawn_and_hidden_proposals_never_appear(factory, ctx, sort):
    consultation = factory.consultation()
    author = factory.user()
    published = factory.proposal(consultation, author, title="Visible idea")
    factory.proposal(consultation, author, state=ProposalState.WITHDRAWN, title="Visible too")
    factory.proposal(consultation, author, state=ProposalState.HIDDEN, title="Visible three")
    assert listed(consultation, sort=sort, text="visible") == [published.id]


def test_proposals_of_other_consultations_never_appear(factory, ctx):
    consultation = factory.consultation()
    author = factory.user()
    own = factory.proposal(consultation, author)
    factory.proposal(factory.consultation(), author)
    assert listed(consultation) == [own.id]


# The states, asked through the model (in SQL too)


def test_the_published_filter_leaves_out_withdrawn_and_hidden_proposals(factory, ctx):
    consultation = factory.consultation()
    author = factory.user()
    published = factory.proposal(consultation, author)
    for state in (ProposalState.WITHDRAWN, ProposalState.HIDDEN):
        factory.proposal(consultation, author, state=state)
    found = db.session.scalars(
        db.select(Proposal.id).where(
            Proposal.consultation_id == consultation.id, Proposal.is_published
        )
    ).all()
    assert found == [published.id]


def test_the_hidden_filter_finds_only_hidden_proposals(factory, ctx):
    consultation = factory.consultation()
    author = factory.user()
    hidden = factory.proposal(consultation, author, state=ProposalState.HIDDEN)
    for state in (ProposalState.PUBLISHED, ProposalState.WITHDRAWN):
        factory.proposal(consultation, author, state=state)
    found = db.session.scalars(
        db.select(Proposal.id).where(
            Proposal.consultation_id == consultation.id, Proposal.is_hidden
        )
    ).all()
    assert found == [hidden.id]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (ProposalState.PUBLISHED, (True, False, False)),
        (ProposalState.WITHDRAWN, (False, True, False)),
        (ProposalState.HIDDEN, (False, False, True)),
    ],
)
def test_a_proposal_says_its_state(state, expected):
    proposal = Proposal(state=state)
    assert (proposal.is_published, proposal.is_withdrawn, proposal.is_hidden) == expected


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (Answer.NONE, False),
        (Answer.UNDER_EVALUATION, True),
        (Answer.ACCEPTED, True),
        (Answer.REJECTED, True),
    ],
)
def test_a_proposal_has_an_answer_unless_none_was_given(answer, expected):
    assert Proposal(answer=answer).has_answer is expected
