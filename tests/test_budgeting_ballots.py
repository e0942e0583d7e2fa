"""Budget ballots: the consultation's ballot settings and their freeze once voting opens, the
counting rule explained to citizens, and the ballot service — within the budget and the number
of projects, only in the voting phase, one ballot per citizen with a random code that stays
when the ballot changes, also when two different ballots of one citizen arrive at once."""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest
from flask import Flask
from flask_login import AnonymousUserMixin
from sqlalchemy import func, select

from participation.extensions import db
from participation.models import (
    Ballot,
    BallotChoice,
    Consultation,
    Phase,
    Proposal,
    ProposalState,
    TallyRule,
    User,
    VotingMethod,
)
from participation.services import consultations
from participation.services.budgeting import ballots
from participation.services.budgeting.ballots import BallotRefused
from participation.services.consultations import ConsultationSettings
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from tests.factories import Factory
from tests.helpers import at_the_same_moment, attached

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


class BudgetVote(NamedTuple):
    """A budget consultation of 1,000 € in its voting phase, four projects and a citizen."""

    consultation: Consultation
    projects: list[Proposal]  # costing 300, 500, 400 and 200
    citizen: User


def budget_vote(
    factory: Factory, phase: Phase = Phase.VOTING, costs=(300, 500, 400, 200), **fields
) -> BudgetVote:
    values = {"voting_method": VotingMethod.BUDGET, "budget": 1000} | fields
    consultation = factory.consultation(phase=phase, categories=("Parks", "Streets"), **values)
    author = factory.user()
    projects = [
        factory.proposal(consultation, author, estimated_cost=cost, title=f"Project {cost}")
        for cost in costs
    ]
    return BudgetVote(consultation, projects, factory.user())


@pytest.fixture
def vote(factory: Factory) -> BudgetVote:
    return budget_vote(factory)


def submit(consultation: Consultation, citizen: User, projects: list) -> Ballot:
    """Submit the given projects (or raw ids) as the citizen's ballot."""
    ids = [getattr(project, "id", project) for project in projects]
    return ballots.submit_ballot(attached(Consultation, consultation), attached(User, citizen), ids)


def stored(consultation: Consultation, citizen: User) -> tuple[str, set[int]] | None:
    """The citizen's stored ballot as (code, chosen proposal ids), read afresh."""
    db.session.expire_all()
    ballot = db.session.scalar(
        select(Ballot).where(
            Ballot.consultation_id == consultation.id, Ballot.user_id == citizen.id
        )
    )
    if ballot is None:
        return None
    return ballot.code, {choice.proposal_id for choice in ballot.choices}


def ballot_rows() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count()).select_from(Ballot)),
        db.session.scalar(select(func.count()).select_from(BallotChoice)),
    )


# Settings: the moderators' consultation form, through the service


def settings(**overrides) -> ConsultationSettings:
    values = {"title": "Participatory budget", "voting_method": VotingMethod.BUDGET}
    return ConsultationSettings(**(values | {"budget": 50_000} | overrides))


def test_moderator_sets_the_ballot_limits_and_the_counting_rule(moderator):
    created = consultations.create(
        settings(
            ballot_min_projects=2,
            ballot_max_projects=5,
            ballot_max_share=40,
            tally_rule=TallyRule.EQUAL_SHARES,
            min_approvals=25,
        ),
        moderator,
    )
    db.session.expire_all()
    stored_settings = db.session.get(Consultation, created.id)
    assert (
        stored_settings.ballot_min_projects,
        stored_settings.ballot_max_projects,
        stored_settings.ballot_max_share,
        stored_settings.tally_rule,
        stored_settings.min_approvals,
        stored_settings.ballot_limit,
    ) == (2, 5, 40, TallyRule.EQUAL_SHARES, 25, 20_000)


def test_without_a_share_a_ballot_may_use_the_whole_budget(moderator):
    created = consultations.create(settings(), moderator)
    assert (created.ballot_max_share, created.ballot_limit, created.tally_rule) == (
        None,
        50_000,
        TallyRule.GREEDY,
    )


def test_a_budget_consultation_needs_a_budget(moderator):
    with pytest.raises(ValidationFailed) as refused:
        consultations.create(settings(budget=None), moderator)
    assert "budget" in refused.value.errors


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"ballot_min_projects": 0}, "ballot_min_projects", "between 1 and 1000"),
        ({"ballot_max_projects": 0}, "ballot_max_projects", "between 1 and 1000"),
        ({"ballot_max_projects": 1001}, "ballot_max_projects", "between 1 and 1000"),
        (
            {"ballot_min_projects": 4, "ballot_max_projects": 3},
            "ballot_max_projects",
            "cannot be smaller than the minimum",
        ),
        ({"ballot_max_share": 0}, "ballot_max_share", "between 1 and 100"),
        ({"ballot_max_share": 101}, "ballot_max_share", "between 1 and 100"),
        ({"min_approvals": 0}, "min_approvals", "at least 1"),
    ],
)
def test_ballot_settings_out_of_range_are_refused_and_nothing_is_stored(
    moderator, fields, field, message
):
    with pytest.raises(ValidationFailed) as refused:
        consultations.create(settings(**fields), moderator)
    assert message in str(refused.value.errors[field])
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Consultation)) == 0


def test_equal_minimum_and_maximum_are_accepted(moderator):
    created = consultations.create(
        settings(ballot_min_projects=3, ballot_max_projects=3), moderator
    )
    assert (created.ballot_min_projects, created.ballot_max_projects) == (3, 3)


@pytest.mark.parametrize(
    "fields",
    [{"ballot_min_projects": 1}, {"ballot_max_projects": 3}, {"ballot_max_share": 50}],
)
def test_ballot_limits_are_refused_for_the_support_method(moderator, fields):
    with pytest.raises(ValidationFailed, match="only apply to the budget voting method"):
        consultations.create(
            settings(voting_method=VotingMethod.SUPPORT, budget=None, **fields), moderator
        )


def test_min_approvals_are_refused_for_the_support_method(moderator):
    with pytest.raises(ValidationFailed, match="only applies to the budget voting method"):
        consultations.create(
            settings(voting_method=VotingMethod.SUPPORT, budget=None, min_approvals=3), moderator
        )


def settings_of(consultation: Consultation, **overrides) -> ConsultationSettings:
    """The consultation's current settings, with some changed."""
    values = {
        "title": consultation.title,
        "voting_method": consultation.voting_method,
        "budget": consultation.budget,
        "ballot_min_projects": consultation.ballot_min_projects,
        "ballot_max_projects": consultation.ballot_max_projects,
        "ballot_max_share": consultation.ballot_max_share,
        "tally_rule": consultation.tally_rule,
        "min_approvals": consultation.min_approvals,
    }
    return ConsultationSettings(**(values | overrides))


FROZEN_CHANGES = [
    {"ballot_min_projects": 2},
    {"ballot_max_projects": 3},
    {"ballot_max_share": 50},
    {"tally_rule": TallyRule.EQUAL_SHARES},
    {"min_approvals": 10},
    {"budget": 2000},
]


@pytest.mark.parametrize("phase", [Phase.VOTING, Phase.EVALUATING, Phase.CLOSED])
@pytest.mark.parametrize("change", FROZEN_CHANGES)
def test_ballot_and_counting_settings_are_frozen_once_voting_opens(
    factory, moderator, phase, change
):
    consultation = attached(Consultation, budget_vote(factory, phase).consultation)
    with pytest.raises(ValidationFailed) as refused:
        consultations.update(consultation, settings_of(consultation, **change), moderator)
    [field] = change
    assert "announced before voting opens" in str(refused.value.errors[field])
    db.session.rollback()
    db.session.expire_all()
    again = db.session.get(Consultation, consultation.id)
    assert (getattr(again, field), again.tally_rule) == (
        getattr(consultation, field),
        TallyRule.GREEDY,
    )


@pytest.mark.parametrize("phase", [Phase.DRAFT, Phase.COLLECTING])
@pytest.mark.parametrize("change", FROZEN_CHANGES)
def test_ballot_and_counting_settings_change_before_voting(factory, moderator, phase, change):
    consultation = attached(Consultation, budget_vote(factory, phase).consultation)
    consultations.update(consultation, settings_of(consultation, **change), moderator)
    db.session.expire_all()
    [(field, value)] = change.items()
    assert getattr(db.session.get(Consultation, consultation.id), field) == value


def test_other_settings_still_change_while_voting(factory, moderator, vote):
    consultation = attached(Consultation, vote.consultation)
    consultations.update(consultation, settings_of(consultation, title="New title"), moderator)
    assert db.session.get(Consultation, consultation.id).title == "New title"


# The counting rule in plain words


@pytest.mark.parametrize("rule", list(TallyRule))
def test_every_rule_has_a_short_explanation(factory, ctx, rule):
    consultation = attached(
        Consultation, budget_vote(factory, Phase.COLLECTING, tally_rule=rule).consultation
    )
    [paragraph] = ballots.rule_explanation(consultation)
    sentences = [part for part in re.split(r"(?<=\.) ", paragraph) if part]
    assert 1 <= len(sentences) <= 3
    assert paragraph == str(ballots.RULE_EXPLANATIONS[rule])


def test_the_explanation_names_the_minimum_of_approvals(factory, ctx):
    consultation = attached(
        Consultation, budget_vote(factory, Phase.COLLECTING, min_approvals=40).consultation
    )
    assert ballots.rule_explanation(consultation)[1] == (
        "A project must be chosen on at least 40 ballots to be funded."
    )


# The projects on the ballot


def test_ballot_lists_published_projects_with_a_cost_by_category_then_title(factory, ctx):
    consultation = factory.consultation(
        phase=Phase.VOTING,
        categories=("Parks", "Streets"),
        voting_method=VotingMethod.BUDGET,
        budget=1000,
    )
    parks, streets = consultation.categories
    author = factory.user()

    def project(title, category=None, **fields):
        fields.setdefault("estimated_cost", 100)
        category_id = category.id if category else None
        return factory.proposal(
            consultation, author, title=title, category_id=category_id, **fields
        )

    no_category = project("Aardvark statue")
    street_b = project("benches", streets)
    park = project("Zebra crossing", parks)
    street_a = project("Avenue trees", streets)
    project("Hidden", parks, state=ProposalState.HIDDEN)
    project("Withdrawn", parks, state=ProposalState.WITHDRAWN)
    project("Without a cost", parks, estimated_cost=None)
    listed = ballots.ballot_projects(attached(Consultation, consultation))
    assert [p.id for p in listed] == [park.id, street_a.id, street_b.id, no_category.id]


# Submitting a ballot


def test_a_ballot_within_the_budget_is_stored_with_a_random_code(vote, ctx):
    ballot = submit(vote.consultation, vote.citizen, vote.projects[:2])
    code, chosen = stored(vote.consultation, vote.citizen)
    assert chosen == {vote.projects[0].id, vote.projects[1].id}
    assert code == ballot.code
    assert CODE.match(code)


def test_a_ballot_may_use_exactly_the_limit(vote, ctx):
    submit(vote.consultation, vote.citizen, [vote.projects[0], vote.projects[1], vote.projects[3]])
    assert len(stored(vote.consultation, vote.citizen)[1]) == 3


def test_a_ballot_over_the_budget_is_refused_with_the_amount_and_nothing_is_stored(vote, ctx):
    with pytest.raises(BallotRefused) as refused:
        submit(vote.consultation, vote.citizen, vote.projects[:3])
    assert refused.value.errors == (
        "Your choices cost €1,200, €200 more than the €1,000 a ballot may use. "
        "Please untick projects worth at least €200.",
    )
    assert stored(vote.consultation, vote.citizen) is None
    assert ballot_rows() == (0, 0)


def test_the_limit_is_the_announced_share_of_the_budget(factory, ctx):
    vote = budget_vote(factory, ballot_max_share=50)
    with pytest.raises(BallotRefused, match="€800, €300 more than the €500"):
        submit(vote.consultation, vote.citizen, vote.projects[:2])
    submit(vote.consultation, vote.citizen, [vote.projects[0], vote.projects[3]])
    assert len(stored(vote.consultation, vote.citizen)[1]) == 2


def test_too_few_projects_are_refused_saying_how_many(factory, ctx):
    vote = budget_vote(factory, ballot_min_projects=3)
    with pytest.raises(BallotRefused) as refused:
        submit(vote.consultation, vote.citizen, vote.projects[:1])
    assert refused.value.errors == ("Please choose at least 3 projects: you chose 1, so 2 more.",)
    assert ballot_rows() == (0, 0)


def test_too_many_projects_are_refused_saying_how_many(factory, ctx):
    vote = budget_vote(factory, ballot_max_projects=2)
    with pytest.raises(BallotRefused) as refused:
        submit(
            vote.consultation, vote.citizen, [vote.projects[0], vote.projects[2], vote.projects[3]]
        )
    assert refused.value.errors == ("Please choose at most 2 projects: you chose 3, 1 too many.",)
    assert ballot_rows() == (0, 0)


def test_every_reason_is_given_at_once(factory, ctx):
    vote = budget_vote(factory, ballot_max_projects=2)
    with pytest.raises(BallotRefused) as refused:
        submit(vote.consultation, vote.citizen, vote.projects[:3])
    assert len(refused.value.errors) == 2
    assert "€200 more" in refused.value.message


def test_an_empty_ballot_is_refused(vote, ctx):
    with pytest.raises(BallotRefused, match="Your ballot is empty"):
        submit(vote.consultation, vote.citizen, [])
    assert ballot_rows() == (0, 0)


@pytest.mark.parametrize("state", [ProposalState.HIDDEN, ProposalState.WITHDRAWN])
def test_a_hidden_or_withdrawn_project_is_refused(factory, vote, ctx, state):
    gone = factory.proposal(vote.consultation, factory.user(), estimated_cost=10, state=state)
    with pytest.raises(BallotRefused, match="1 of the chosen projects is not on this ballot"):
        submit(vote.consultation, vote.citizen, [vote.projects[0], gone])
    assert ballot_rows() == (0, 0)


def test_a_project_of_another_consultation_is_refused(factory, vote, ctx):
    other = budget_vote(factory).projects[0]
    with pytest.raises(BallotRefused, match="not on this ballot"):
        submit(vote.consultation, vote.citizen, [vote.projects[0], other])
    assert ballot_rows() == (0, 0)


@pytest.mark.parametrize("bad", [999_999, "abc", "-1", "1.5", ""])
def test_unknown_ids_are_refused(vote, ctx, bad):
    with pytest.raises(BallotRefused, match="not on this ballot"):
        submit(vote.consultation, vote.citizen, [vote.projects[0], bad])
    assert ballot_rows() == (0, 0)


def test_repeated_projects_count_once(vote, ctx):
    first = vote.projects[0]
    submit(vote.consultation, vote.citizen, [first, first, str(first.id), vote.projects[3]])
    assert stored(vote.consultation, vote.citizen)[1] == {first.id, vote.projects[3].id}


@pytest.mark.parametrize("phase", [Phase.DRAFT, Phase.COLLECTING, Phase.EVALUATING, Phase.CLOSED])
def test_ballots_are_accepted_only_while_voting(factory, ctx, phase):
    vote = budget_vote(factory, phase)
    with pytest.raises(DomainError, match="only be filled in while the consultation is in the"):
        submit(vote.consultation, vote.citizen, vote.projects[:1])
    assert ballot_rows() == (0, 0)


def test_a_support_consultation_has_no_ballot(factory, ctx):
    vote = budget_vote(factory, voting_method=VotingMethod.SUPPORT)
    with pytest.raises(DomainError, match="not with a ballot"):
        submit(vote.consultation, vote.citizen, vote.projects[:1])
    assert ballot_rows() == (0, 0)


def test_a_blocked_citizen_cannot_submit(factory, vote, ctx):
    blocked = factory.user(is_blocked=True)
    with pytest.raises(NotAllowed, match="blocked"):
        submit(vote.consultation, blocked, vote.projects[:1])
    assert ballot_rows() == (0, 0)


def test_a_visitor_cannot_submit(vote, ctx):
    with pytest.raises(NotAllowed, match="log in"):
        ballots.submit_ballot(
            attached(Consultation, vote.consultation), AnonymousUserMixin(), [vote.projects[0].id]
        )


# Changing the ballot: the last one counts, the code stays


def test_changing_the_ballot_replaces_the_choices_and_keeps_the_code(vote, ctx):
    first = submit(vote.consultation, vote.citizen, vote.projects[:2])
    first_code, first_time = first.code, first.submitted_at
    second = submit(vote.consultation, vote.citizen, vote.projects[2:])
    assert stored(vote.consultation, vote.citizen) == (
        first_code,
        {vote.projects[2].id, vote.projects[3].id},
    )
    assert second.submitted_at >= first_time
    assert ballot_rows() == (1, 2)


def test_a_refused_change_leaves_the_last_ballot_as_it_was(vote, ctx):
    submit(vote.consultation, vote.citizen, vote.projects[:2])
    before = stored(vote.consultation, vote.citizen)
    with pytest.raises(BallotRefused):
        submit(vote.consultation, vote.citizen, vote.projects)
    assert stored(vote.consultation, vote.citizen) == before


def test_get_ballot_returns_the_citizens_own_ballot_only(factory, vote, ctx):
    submit(vote.consultation, vote.citizen, vote.projects[:1])
    consultation = attached(Consultation, vote.consultation)
    mine = ballots.get_ballot(consultation, attached(User, vote.citizen))
    assert ballots.chosen_ids(mine) == {vote.projects[0].id}
    assert ballots.get_ballot(consultation, attached(User, factory.user())) is None
    assert ballots.get_ballot(consultation, AnonymousUserMixin()) is None


def test_codes_are_random_and_not_derived_from_the_user(factory, ctx):
    first, second = budget_vote(factory), budget_vote(factory)
    other_citizen = factory.user()
    codes = [
        submit(first.consultation, first.citizen, first.projects[:1]).code,
        submit(second.consultation, first.citizen, second.projects[:1]).code,
        submit(first.consultation, other_citizen, first.projects[:1]).code,
    ]
    assert len(set(codes)) == 3  # the same citizen gets a different code in each consultation
    assert all(CODE.match(code) for code in codes)
    assert all(str(first.citizen.id) != code.replace("-", "").lstrip("0") for code in codes)


def test_generated_codes_do_not_repeat():
    codes = {ballots.generate_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(CODE.match(code) for code in codes)


# The summary that the page shows


def test_summary_adds_up_used_remaining_and_count(vote, ctx):
    consultation = attached(Consultation, vote.consultation)
    checked = ballots.summary(consultation, [vote.projects[0].id, str(vote.projects[3].id)])
    assert (checked.used, checked.remaining, checked.count, checked.over_by, checked.ok) == (
        500,
        500,
        2,
        0,
        True,
    )


def test_summary_over_the_limit_says_by_how_much(vote, ctx):
    consultation = attached(Consultation, vote.consultation)
    checked = ballots.summary(consultation, [project.id for project in vote.projects])
    assert (checked.used, checked.remaining, checked.over_by, checked.ok) == (
        1400,
        -400,
        400,
        False,
    )
    assert "€400 more" in checked.errors[0]


# At the same moment: each thread has its own app context, session and connection


def submit_at_the_same_moment(
    app: Flask, consultation_id: int, user_id: int, choices: list[list[int]]
) -> list[object]:
    """Submit each set of choices in its own thread, all released by one barrier; return the
    code each stored or the error each raised."""

    def load(proposal_ids: list[int]) -> tuple:
        return (
            db.session.get(Consultation, consultation_id),
            db.session.get(User, user_id),
            proposal_ids,
        )

    def submit(consultation: Consultation, user: User, proposal_ids: list[int]) -> str:
        return ballots.submit_ballot(consultation, user, proposal_ids).code

    return at_the_same_moment(app, load, submit, [(ids,) for ids in choices])


@pytest.mark.parametrize("existing", [False, True], ids=["first ballot", "changed ballot"])
def test_two_different_ballots_at_once_leave_one_complete_ballot(
    app, threaded_app, factory, existing
):
    vote = budget_vote(factory, costs=(100, 200, 300, 150, 250, 50))
    first = [project.id for project in vote.projects[:3]]
    second = [project.id for project in vote.projects[3:]]
    for _round in range(4):
        if existing:
            factory.ballot(vote.consultation, vote.citizen, vote.projects[2:4])
        outcomes = submit_at_the_same_moment(
            threaded_app, vote.consultation.id, vote.citizen.id, [first, second]
        )
        with app.app_context():
            rows = db.session.scalars(
                select(Ballot).where(Ballot.consultation_id == vote.consultation.id)
            ).all()
            assert len(rows) == 1
            [ballot] = rows
            chosen = {choice.proposal_id for choice in ballot.choices}
            assert chosen in (set(first), set(second))
            assert outcomes == [ballot.code, ballot.code]
            db.session.delete(ballot)
            db.session.commit()


def test_many_ballots_of_one_citizen_at_once_leave_one_of_them(app, threaded_app, factory):
    vote = budget_vote(factory, costs=(100, 200, 300, 150, 250, 50))
    ids = [project.id for project in vote.projects]
    choices = [ids[n : n + 2] for n in range(5)] + [ids[:1], ids[4:]]
    outcomes = submit_at_the_same_moment(
        threaded_app, vote.consultation.id, vote.citizen.id, choices
    )
    with app.app_context():
        [ballot] = db.session.scalars(select(Ballot)).all()
        assert {choice.proposal_id for choice in ballot.choices} in [set(c) for c in choices]
        assert set(outcomes) == {ballot.code}


# Loading the consultation of a ballot


def test_a_support_consultation_has_no_ballot_to_load(factory, ctx):
    consultation = factory.consultation(phase=Phase.VOTING, voting_method=VotingMethod.SUPPORT)
    with pytest.raises(NotFound):
        ballots.get_consultation(consultation.slug, None)


def test_a_budget_consultation_is_loaded_for_its_ballot(factory, ctx):
    consultation = factory.consultation(
        phase=Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=10_000
    )
    assert ballots.get_consultation(consultation.slug, None).id == consultation.id


def test_the_ballot_of_a_budget_draft_is_not_found_by_a_visitor(factory, ctx):
    consultation = factory.consultation(
        phase=Phase.DRAFT, voting_method=VotingMethod.BUDGET, budget=10_000
    )
    with pytest.raises(NotFound):
        ballots.get_consultation(consultation.slug, None)
