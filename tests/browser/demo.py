"""What the browser tests look up in the demo data: the pages they visit, by slug and title."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import func, select

from participation.extensions import db
from participation.models import (
    Ballot,
    Comment,
    Consultation,
    Initiative,
    InitiativeUpdate,
    Phase,
    Proposal,
    ReportReason,
    User,
    VotingCode,
)
from participation.services import accounts, moderation, notifications
from participation.services import comments as comment_service
from participation.services.budgeting import electorate

COLLECTING = "ideen-fuer-die-innenstadt"
SUPPORT_VOTING = "sicherer-schulweg"
BUDGET_VOTING = "buergerhaushalt-2027"
EVALUATING = "stadtteilfeste-2027"
SUPPORT_CLOSED = "spielplaetze-2026"
BUDGET_CLOSED = "buergerhaushalt-2026"
DRAFT = "entwurf-klimaschutz"

CITIZEN = "anna@example.org"
MODERATOR = "moderation@example.org"
NEIGHBOUR = "mehmet@example.org"
# An account whose address is not confirmed yet (the browser tests log in with it as well).
UNCONFIRMED = ("unconfirmed@example.org", "demo-unconfirmed-password")
HIDDEN_REASON = "Persönlicher Angriff auf eine Person."


@dataclass(frozen=True)
class DemoIds:
    """Ids of the demo rows that the pages under test show."""

    discussed_proposal: int  # the proposal with the most comments, collecting
    own_proposal: int  # one of the citizen's own proposals, collecting
    reportable_proposal: int  # somebody else's, not reported by the citizen yet
    voting_proposal: int  # a proposal of the support consultation in voting
    collecting_category: int
    initiative: int  # the initiative with the most updates
    reported_comment: int
    hidden_comment: int  # on the discussed proposal, hidden by the moderator with HIDDEN_REASON
    budget_ballot_code: str  # a ballot of the closed budget consultation, as its voter got it
    voting_code: str  # an unused letter's code of the budget consultation in voting, as printed
    citizen: int  # the demo citizen's account, for their profile
    author: int  # another person with public proposals and comments
    other_user: int  # an account an admin may delete on request (not deleted by the tests)
    reset_token: str  # a valid password reset link's token for the demo citizen
    unsubscribe_token: str  # a valid one-click unsubscribe token of another person


@dataclass(frozen=True)
class Visit:
    """One page as one role sees it; `action` brings the page into the state to check."""

    name: str
    role: str
    path: str | Callable[[DemoIds], str]
    status: int = 200
    action: Callable | None = None
    # For an action that needs the demo's ids (a ballot code to type): ids -> action.
    action_for: Callable[[DemoIds], Callable] | None = None

    def url(self, ids: DemoIds) -> str:
        return self.path(ids) if callable(self.path) else self.path

    def action_on(self, ids: DemoIds) -> Callable | None:
        return self.action_for(ids) if self.action_for else self.action


def consultation(slug: str, suffix: str = "") -> str:
    """The path of the consultation's page, or of one below it."""
    return f"/consultations/{slug}{suffix}"


def new_voting_code(app: Flask) -> str:
    """A new letter's code of the budget consultation in voting (which votes with codes), in
    its printed form: a journey votes with a code no earlier run has used."""
    printed = electorate.generate_code()
    with app.app_context():
        voting = _consultation(BUDGET_VOTING)
        assert voting.uses_voting_codes, "the demo's budget consultation in voting uses codes"
        db.session.add(
            VotingCode(
                consultation_id=voting.id,
                code_hash=electorate.code_hash(electorate.parse_code(printed)),
            )
        )
        db.session.commit()
    return printed


def _consultation(slug: str) -> Consultation:
    return db.session.scalar(select(Consultation).filter_by(slug=slug))


def _user(email: str) -> User:
    return db.session.scalar(select(User).filter_by(email=email))


def _most_commented(consultation: Consultation) -> Proposal:
    return db.session.scalar(
        select(Proposal)
        .filter_by(consultation_id=consultation.id)
        .order_by(Proposal.comment_count.desc(), Proposal.id)
    )


def prepare(app: Flask) -> DemoIds:
    """Add what the demo lacks and the pages must show: open reports and a hidden comment."""
    with app.app_context():
        collecting = _consultation(COLLECTING)
        assert collecting.phase is Phase.COLLECTING
        citizen, moderator = _user(CITIZEN), _user(MODERATOR)
        discussed = _most_commented(collecting)
        comments = db.session.scalars(
            select(Comment)
            .filter_by(proposal_id=discussed.id)
            .where(Comment.author_id != citizen.id)
            .order_by(Comment.id)
        ).all()
        assert len(comments) >= 2, "the demo's most discussed proposal needs two comments"
        others_proposals = db.session.scalars(
            select(Proposal)
            .filter_by(consultation_id=collecting.id)
            .where(Proposal.author_id != citizen.id)
            .order_by(Proposal.id)
        ).all()
        moderation.report(citizen, proposal=others_proposals[0], reason=ReportReason.SPAM)
        moderation.report(
            citizen, comment=comments[0], reason=ReportReason.OTHER, text="Beleidigend."
        )
        moderation.hide_comment(comments[1], moderator, HIDDEN_REASON)
        own = db.session.scalar(
            select(Proposal).filter_by(consultation_id=collecting.id, author_id=citizen.id)
        )
        assert own is not None, "the demo citizen needs a proposal in the collecting phase"
        neighbour = _user(NEIGHBOUR)
        # The citizen follows their own proposal: a comment on it makes a notification.
        email, password = UNCONFIRMED
        with app.test_request_context():  # the mails they queue link to the site
            comment_service.add(own, neighbour, "Gute Idee, ich bin dafür.")
            accounts.register(email=email, display_name="Noch Unbestätigt", password=password)
        voting_proposal = _most_commented(_consultation(SUPPORT_VOTING))
        initiative = db.session.scalar(
            select(Initiative)
            .outerjoin(InitiativeUpdate)
            .group_by(Initiative.id)
            .order_by(func.count(InitiativeUpdate.id).desc(), Initiative.id)
        )
        ballot_code = db.session.scalar(
            select(Ballot.code)
            .filter_by(consultation_id=_consultation(BUDGET_CLOSED).id)
            .order_by(Ballot.code)
        )
        assert ballot_code, "the demo's closed budget consultation needs ballots"
        return DemoIds(
            discussed_proposal=discussed.id,
            own_proposal=own.id,
            reportable_proposal=others_proposals[1].id,
            voting_proposal=voting_proposal.id,
            collecting_category=collecting.categories[0].id,
            initiative=initiative.id,
            reported_comment=comments[0].id,
            hidden_comment=comments[1].id,
            budget_ballot_code=ballot_code,
            voting_code=new_voting_code(app),
            citizen=citizen.id,
            author=discussed.author_id,
            other_user=neighbour.id,
            reset_token=accounts.password_reset_token(citizen),
            unsubscribe_token=notifications.unsubscribe_token(neighbour.id),
        )


def add_comment(app: Flask, proposal_id: int, email: str, text: str) -> int:
    """A new comment by the person with `email`, for a test that changes it (hides it, say)
    without touching the comments other tests look at."""
    with app.test_request_context():  # the mails it queues link to the site
        proposal = db.session.get(Proposal, proposal_id)
        return comment_service.add(proposal, _user(email), text).id
