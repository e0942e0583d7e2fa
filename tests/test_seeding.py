"""The demo data: loads into an empty database, twice without duplicates, and keeps the rules."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from participation.extensions import db
from participation.models import (
    Comment,
    CommentState,
    Consultation,
    Initiative,
    InitiativeUpdate,
    Phase,
    Proposal,
    Support,
    User,
)
from participation.services import seeding

DEMO = Path(__file__).resolve().parent.parent / "seeds" / "demo.yaml"
COUNTED = (User, Consultation, Proposal, Support, Comment, Initiative, InitiativeUpdate)


@pytest.fixture
def seeded(ctx):
    seeding.load_file(DEMO)


def _counts() -> dict[str, int]:
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in COUNTED
    }


def test_loading_the_demo_twice_adds_nothing_the_second_time(seeded):
    before = _counts()
    report = seeding.load_file(DEMO)
    assert _counts() == before
    assert set(report.created.values()) == {0}


def test_the_demo_has_every_kind_of_content(seeded):
    assert all(count > 0 for count in _counts().values())


def test_every_phase_is_in_the_demo(seeded):
    phases = set(db.session.scalars(select(Consultation.phase)))
    assert phases == set(Phase)


def test_seeded_counters_equal_the_rows_they_count(seeded):
    for proposal in db.session.scalars(select(Proposal)):
        supports = db.session.scalar(
            select(func.count()).select_from(Support).where(Support.proposal_id == proposal.id)
        )
        comments = db.session.scalar(
            select(func.count())
            .select_from(Comment)
            .where(Comment.proposal_id == proposal.id, Comment.state == CommentState.PUBLISHED)
        )
        assert (proposal.support_count, proposal.comment_count) == (supports, comments)


def test_seeded_supports_respect_the_cap_of_their_consultation(seeded):
    per_citizen = db.session.execute(
        select(Consultation.max_supports, func.count(Support.id))
        .join(Support, Support.consultation_id == Consultation.id)
        .where(Consultation.max_supports.is_not(None))
        .group_by(Consultation.id, Consultation.max_supports, Support.user_id)
    ).all()
    assert per_citizen
    assert all(count <= cap for cap, count in per_citizen)


def test_the_closed_demo_consultation_has_published_results_and_initiatives(seeded):
    closed = db.session.scalar(select(Consultation).where(Consultation.phase == Phase.CLOSED))
    assert closed.results_published_at is not None
    initiatives = db.session.scalar(
        select(func.count()).select_from(Initiative).where(Initiative.consultation_id == closed.id)
    )
    assert initiatives >= 2


def test_generated_residents_cannot_log_in(seeded):
    from participation.services import accounts

    assert accounts.authenticate("einwohner1@example.org", "") is None
    assert accounts.authenticate("einwohner1@example.org", seeding.UNUSABLE_PASSWORD_HASH) is None
