"""Funded initiatives: promoting winners, editing them, dated progress updates, the public list."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError

from participation.extensions import db
from participation.models import (
    Answer,
    AuditEvent,
    Initiative,
    InitiativeStatus,
    InitiativeUpdate,
    Phase,
    Proposal,
    ProposalState,
    User,
)
from participation.services import initiatives
from participation.services.errors import DomainError, NotAllowed, ValidationFailed
from participation.services.initiatives import InitiativeQuery
from tests.helpers import attached

PLANNED = InitiativeStatus.PLANNED
IN_PROGRESS = InitiativeStatus.IN_PROGRESS
COMPLETED = InitiativeStatus.COMPLETED


def stored_initiatives() -> list[Initiative]:
    return list(db.session.scalars(db.select(Initiative).order_by(Initiative.id)))


def stored_updates() -> list[InitiativeUpdate]:
    return list(db.session.scalars(db.select(InitiativeUpdate)))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action)))


def promote(proposal, moderator, **overrides) -> Initiative:
    settings = {
        "allocated_budget": 40_000,
        "responsible_body": "Parks department",
        "status": PLANNED,
        "progress_percent": 0,
    }
    return initiatives.promote(proposal, moderator, **(settings | overrides))


@pytest.fixture
def winner(factory, ctx) -> Proposal:
    """A selected proposal of a consultation that is being evaluated."""
    consultation = factory.consultation(phase=Phase.EVALUATING)
    proposal = factory.proposal(consultation, factory.user(), selected=True, support_count=12)
    return attached(Proposal, proposal)


@pytest.fixture
def initiative(winner, moderator) -> Initiative:
    return promote(winner, moderator)


# Promoting


def test_moderator_promotes_a_selected_proposal(winner, moderator):
    initiative = promote(winner, moderator, allocated_budget=35_000, progress_percent=10)
    [stored] = stored_initiatives()
    assert stored.id == initiative.id
    assert (stored.proposal_id, stored.consultation_id) == (winner.id, winner.consultation_id)
    assert (stored.allocated_budget, stored.responsible_body) == (35_000, "Parks department")
    assert (stored.status, stored.progress_percent) == (PLANNED, 10)


def test_initiative_takes_the_title_of_the_proposal_unless_given(winner, moderator):
    assert promote(winner, moderator).title == winner.title


def test_initiative_keeps_a_title_of_its_own(winner, moderator):
    assert promote(winner, moderator, title="  Shade  for the square ").title == (
        "Shade for the square"
    )


def test_an_accepted_proposal_can_be_promoted(factory, moderator):
    consultation = factory.consultation(phase=Phase.CLOSED)
    accepted = factory.proposal(consultation, factory.user(), answer=Answer.ACCEPTED)
    promote(attached(Proposal, accepted), moderator)
    assert [i.proposal_id for i in stored_initiatives()] == [accepted.id]


def test_a_proposal_that_did_not_win_cannot_be_promoted(factory, moderator):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    loser = factory.proposal(consultation, factory.user(), answer=Answer.REJECTED)
    with pytest.raises(DomainError, match="winning"):
        promote(attached(Proposal, loser), moderator)
    assert stored_initiatives() == []


@pytest.mark.parametrize("phase", [Phase.COLLECTING, Phase.VOTING], ids=lambda p: p.value)
def test_promoting_before_evaluation_is_refused(factory, moderator, phase):
    consultation = factory.consultation(phase=phase)
    proposal = factory.proposal(consultation, factory.user(), selected=True)
    with pytest.raises(DomainError, match="evaluated or closed"):
        promote(attached(Proposal, proposal), moderator)
    assert stored_initiatives() == []


def test_a_hidden_winner_cannot_be_promoted(factory, moderator):
    consultation = factory.consultation(phase=Phase.EVALUATING)
    proposal = factory.proposal(
        consultation, factory.user(), selected=True, state=ProposalState.HIDDEN
    )
    with pytest.raises(DomainError, match="hidden"):
        promote(attached(Proposal, proposal), moderator)
    assert stored_initiatives() == []


def test_a_proposal_is_promoted_only_once(winner, moderator):
    promote(winner, moderator)
    with pytest.raises(DomainError, match="already an initiative"):
        promote(winner, moderator, responsible_body="Somebody else")
    assert [i.responsible_body for i in stored_initiatives()] == ["Parks department"]


def test_the_database_refuses_a_second_initiative_for_a_proposal(factory, winner, moderator):
    promote(winner, moderator)
    db.session.add(
        Initiative(
            proposal_id=winner.id,
            consultation_id=winner.consultation_id,
            title="Twice",
            responsible_body="Somebody",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()


def test_citizens_cannot_promote(factory, winner):
    citizen = attached(User, factory.user())
    with pytest.raises(NotAllowed):
        promote(winner, citizen)
    assert stored_initiatives() == []


def test_promoting_is_an_audit_event_of_the_consultation(winner, moderator):
    initiative = promote(winner, moderator)
    [event] = events("initiative.created")
    assert (event.actor_id, event.consultation_id, event.subject_id) == (
        moderator.id,
        winner.consultation_id,
        initiative.id,
    )
    assert event.details["proposal_id"] == winner.id


@pytest.mark.parametrize("progress", [101, -1])
def test_progress_outside_0_to_100_is_refused(winner, moderator, progress):
    with pytest.raises(ValidationFailed) as refusal:
        promote(winner, moderator, progress_percent=progress)
    assert refusal.value.field == "progress_percent"
    assert stored_initiatives() == []


def test_a_negative_budget_is_refused(winner, moderator):
    with pytest.raises(ValidationFailed) as refusal:
        promote(winner, moderator, allocated_budget=-1)
    assert refusal.value.field == "allocated_budget"
    assert stored_initiatives() == []


def test_the_budget_may_be_left_open(winner, moderator):
    assert promote(winner, moderator, allocated_budget=None).allocated_budget is None


def test_a_responsible_body_is_required(winner, moderator):
    with pytest.raises(ValidationFailed) as refusal:
        promote(winner, moderator, responsible_body="   ")
    assert refusal.value.field == "responsible_body"
    assert stored_initiatives() == []


def test_completed_with_less_than_100_percent_is_refused(winner, moderator):
    with pytest.raises(ValidationFailed) as refusal:
        promote(winner, moderator, status=COMPLETED, progress_percent=80)
    assert refusal.value.field == "progress_percent"
    assert stored_initiatives() == []


# Editing


def test_moderator_edits_budget_body_status_and_progress(initiative, moderator):
    initiatives.update_initiative(
        initiative,
        moderator,
        allocated_budget=50_000,
        responsible_body="Town works",
        status=IN_PROGRESS,
        progress_percent=30,
    )
    stored = db.session.get(Initiative, initiative.id)
    assert (stored.allocated_budget, stored.responsible_body) == (50_000, "Town works")
    assert (stored.status, stored.progress_percent) == (IN_PROGRESS, 30)


def test_editing_records_what_changed(initiative, moderator):
    initiatives.update_initiative(
        initiative,
        moderator,
        allocated_budget=40_000,
        responsible_body="Town works",
        status=PLANNED,
        progress_percent=0,
    )
    [event] = events("initiative.edited")
    assert event.details["changes"] == {
        "responsible_body": {"from": "Parks department", "to": "Town works"}
    }


def test_editing_with_invalid_progress_changes_nothing(initiative, moderator):
    with pytest.raises(ValidationFailed):
        initiatives.update_initiative(
            initiative,
            moderator,
            allocated_budget=1,
            responsible_body="Town works",
            status=IN_PROGRESS,
            progress_percent=101,
        )
    db.session.expire_all()
    stored = db.session.get(Initiative, initiative.id)
    assert (stored.responsible_body, stored.progress_percent) == ("Parks department", 0)
    assert events("initiative.edited") == []


# Progress updates


def test_an_update_is_stored_with_its_date(initiative, moderator):
    initiatives.post_update(initiative, moderator, date(2027, 5, 3), "Trees ordered.")
    [update] = stored_updates()
    assert (update.initiative_id, update.happened_on, update.body) == (
        initiative.id,
        date(2027, 5, 3),
        "Trees ordered.",
    )


def test_an_update_applies_its_status_and_progress_to_the_initiative(initiative, moderator):
    initiatives.post_update(
        initiative, moderator, date(2027, 5, 3), "Work started.", IN_PROGRESS, 25
    )
    stored = db.session.get(Initiative, initiative.id)
    assert (stored.status, stored.progress_percent) == (IN_PROGRESS, 25)


def test_an_update_without_status_or_progress_leaves_them_as_they_are(initiative, moderator):
    initiatives.post_update(initiative, moderator, date(2027, 5, 3), "A note.")
    stored = db.session.get(Initiative, initiative.id)
    assert (stored.status, stored.progress_percent) == (PLANNED, 0)


def test_an_update_that_completes_the_initiative_sets_the_progress_to_100(initiative, moderator):
    initiatives.post_update(initiative, moderator, date(2027, 9, 1), "Done!", COMPLETED)
    assert db.session.get(Initiative, initiative.id).progress_percent == 100


def test_an_update_completing_at_less_than_100_percent_is_refused(initiative, moderator):
    with pytest.raises(ValidationFailed):
        initiatives.post_update(initiative, moderator, date(2027, 9, 1), "Done?", COMPLETED, 90)
    assert stored_updates() == []


@pytest.mark.parametrize("progress", [101, -1])
def test_an_update_with_progress_outside_0_to_100_stores_nothing(initiative, moderator, progress):
    with pytest.raises(ValidationFailed) as refusal:
        initiatives.post_update(initiative, moderator, date(2027, 5, 3), "Hm.", None, progress)
    assert refusal.value.field == "progress_percent"
    assert stored_updates() == []
    db.session.expire_all()
    assert db.session.get(Initiative, initiative.id).progress_percent == 0


def test_an_update_needs_a_text_and_a_date(initiative, moderator):
    with pytest.raises(ValidationFailed) as refusal:
        initiatives.post_update(initiative, moderator, None, "  ")
    assert set(refusal.value.errors) == {"body", "happened_on"}
    assert stored_updates() == []


def test_posting_an_update_is_an_audit_event(initiative, moderator):
    initiatives.post_update(initiative, moderator, date(2027, 5, 3), "Go.", IN_PROGRESS, 5)
    [event] = events("initiative.update_posted")
    assert event.consultation_id == initiative.consultation_id
    assert (event.details["status"], event.details["progress_percent"]) == ("in_progress", 5)


def test_citizens_cannot_post_updates(factory, initiative):
    citizen = attached(User, factory.user())
    with pytest.raises(NotAllowed):
        initiatives.post_update(initiative, citizen, date(2027, 5, 3), "Mine.")
    assert stored_updates() == []


def test_updates_come_newest_first(initiative, moderator):
    for day, text in [(3, "Middle"), (9, "Newest"), (1, "Oldest")]:
        initiatives.post_update(initiative, moderator, date(2027, 5, day), text)
    db.session.expire_all()
    timeline = db.session.get(Initiative, initiative.id).updates
    assert [update.body for update in timeline] == ["Newest", "Middle", "Oldest"]


# The public list


@pytest.fixture
def three_initiatives(factory, ctx) -> dict[str, Initiative]:
    """Two in one consultation (planned, completed), one in progress in another."""
    parks = factory.consultation(phase=Phase.CLOSED, slug="parks")
    roads = factory.consultation(phase=Phase.CLOSED, slug="roads")
    author = factory.user()
    made = {
        "parks-planned": factory.initiative(factory.proposal(parks, author), status=PLANNED),
        "parks-completed": factory.initiative(
            factory.proposal(parks, author), status=COMPLETED, progress_percent=100
        ),
        "roads-in-progress": factory.initiative(
            factory.proposal(roads, author), status=IN_PROGRESS
        ),
    }
    return made


def listed(query: InitiativeQuery) -> set[int]:
    return {initiative.id for initiative in initiatives.search(query).items}


def test_the_list_filters_by_consultation(three_initiatives):
    assert listed(InitiativeQuery(consultation_slug="parks")) == {
        three_initiatives["parks-planned"].id,
        three_initiatives["parks-completed"].id,
    }


def test_the_list_filters_by_status(three_initiatives):
    assert listed(InitiativeQuery(status=IN_PROGRESS)) == {
        three_initiatives["roads-in-progress"].id
    }


def test_the_list_filters_by_consultation_and_status(three_initiatives):
    assert listed(InitiativeQuery(consultation_slug="parks", status=COMPLETED)) == {
        three_initiatives["parks-completed"].id
    }
