"""Factories for test data. Each call opens its own application context, commits, and returns
a detached object whose columns stay readable (relationships are not loaded)."""

from __future__ import annotations

import itertools
from typing import Any

from flask import Flask

from participation.extensions import db
from participation.models import (
    AccountType,
    Ballot,
    BallotChoice,
    Category,
    Comment,
    CommentState,
    Consultation,
    EmailFrequency,
    Follow,
    Initiative,
    NotificationSettings,
    Phase,
    Proposal,
    ProposalState,
    Report,
    ReportReason,
    Role,
    Support,
    User,
    VotingCode,
    VotingMethod,
)
from participation.models.base import utcnow
from participation.services.accounts import hash_password
from participation.services.budgeting import electorate
from participation.services.budgeting.ballots import generate_code

_sequence = itertools.count(1)


class Factory:
    PASSWORD = "correct horse battery"

    def __init__(self, app: Flask) -> None:
        self.app = app

    def _save(self, instance: Any) -> Any:
        with self.app.app_context():
            db.session.add(instance)
            db.session.commit()
            db.session.refresh(instance)
            db.session.expunge(instance)
        return instance

    def _save_with(self, instance: Any, relationship: str) -> Any:
        """Like _save, with one relationship loaded before detaching, so it stays readable."""
        with self.app.app_context():
            db.session.add(instance)
            db.session.commit()
            db.session.refresh(instance)
            getattr(instance, relationship)
            db.session.expunge_all()
        return instance

    def user(self, role: Role = Role.CITIZEN, **fields: Any) -> User:
        number = next(_sequence)
        with self.app.app_context():
            password_hash = hash_password(fields.pop("password", self.PASSWORD))
        defaults = {
            "email": f"person{number}@example.org",
            "display_name": f"Person {number}",
            "account_type": AccountType.PERSON,
            # Confirmed unless a test says otherwise (email_confirmed_at=None).
            "email_confirmed_at": utcnow(),
        }
        return self._save(User(role=role, password_hash=password_hash, **(defaults | fields)))

    def moderator(self, **fields: Any) -> User:
        return self.user(Role.MODERATOR, **fields)

    def admin(self, **fields: Any) -> User:
        return self.user(Role.ADMIN, **fields)

    def consultation(
        self,
        phase: Phase = Phase.COLLECTING,
        categories: tuple[str, ...] = (),
        **fields: Any,
    ) -> Consultation:
        number = next(_sequence)
        defaults = {
            "slug": f"consultation-{number}",
            "title": f"Consultation {number}",
            "summary": "What should the town do?",
            "description": "A **consultation** for tests.",
            "voting_method": VotingMethod.SUPPORT,
        }
        consultation = Consultation(phase=phase, **(defaults | fields))
        consultation.categories = [
            Category(name=name, position=position) for position, name in enumerate(categories)
        ]
        return self._save_with(consultation, "categories")

    def proposal(
        self,
        consultation: Consultation,
        author: User,
        state: ProposalState = ProposalState.PUBLISHED,
        **fields: Any,
    ) -> Proposal:
        number = next(_sequence)
        defaults = {"title": f"Proposal {number}", "body": f"Body of proposal {number}."}
        return self._save(
            Proposal(
                consultation_id=consultation.id,
                author_id=author.id,
                state=state,
                **(defaults | fields),
            )
        )

    def comment(
        self,
        proposal: Proposal,
        author: User,
        state: CommentState = CommentState.PUBLISHED,
        **fields: Any,
    ) -> Comment:
        """A comment row as it is stored; the proposal's comment_count is left alone."""
        number = next(_sequence)
        defaults = {"body": f"Comment {number}."}
        return self._save(
            Comment(
                proposal_id=proposal.id, author_id=author.id, state=state, **(defaults | fields)
            )
        )

    def report(
        self,
        reporter: User,
        *,
        proposal: Proposal | None = None,
        comment: Comment | None = None,
        reason: ReportReason = ReportReason.SPAM,
        **fields: Any,
    ) -> Report:
        """An open report of a proposal or of a comment, stored without the service."""
        if proposal is None:
            with self.app.app_context():
                consultation_id = db.session.get(Proposal, comment.proposal_id).consultation_id
        else:
            consultation_id = proposal.consultation_id
        return self._save(
            Report(
                reporter_id=reporter.id,
                consultation_id=consultation_id,
                proposal_id=proposal.id if comment is None else None,
                comment_id=comment.id if comment is not None else None,
                reason=reason,
                **fields,
            )
        )

    def support(self, proposal: Proposal, user: User, **fields: Any) -> Support:
        """A support row as it is stored; the proposal's support_count is left alone."""
        return self._save(
            Support(
                proposal_id=proposal.id,
                consultation_id=proposal.consultation_id,
                user_id=user.id,
                **fields,
            )
        )

    def initiative(self, proposal: Proposal, **fields: Any) -> Initiative:
        number = next(_sequence)
        defaults = {"title": f"Initiative {number}", "responsible_body": "Parks department"}
        return self._save(
            Initiative(
                proposal_id=proposal.id,
                consultation_id=proposal.consultation_id,
                **(defaults | fields),
            )
        )

    def ballot(
        self,
        consultation: Consultation,
        user: User | None,
        proposals: list[Proposal] = (),
        **fields: Any,
    ) -> Ballot:
        """A ballot as it is stored, with a random code and one choice per proposal; no rule is
        checked (use services.budgeting.ballots.submit_ballot for that)."""
        ballot = Ballot(
            consultation_id=consultation.id,
            user_id=user.id if user is not None else None,
            code=fields.pop("code", None) or generate_code(),
            choices=[BallotChoice(proposal_id=proposal.id) for proposal in proposals],
            **fields,
        )
        return self._save_with(ballot, "choices")

    def voting_code(
        self, consultation: Consultation, printed: str | None = None, **fields: Any
    ) -> tuple[str, VotingCode]:
        """A voting code of the consultation's letters: its printed form (`printed` or a new
        one) and the row, which holds only the keyed hash."""
        printed = printed or electorate.generate_code()
        with self.app.app_context():
            code_hash = electorate.code_hash(electorate.parse_code(printed))
        return printed, self._save(
            VotingCode(consultation_id=consultation.id, code_hash=code_hash, **fields)
        )

    def follow(self, user: User, subject: Proposal | Consultation) -> Follow:
        """`user` follows the proposal or consultation."""
        column = "proposal_id" if isinstance(subject, Proposal) else "consultation_id"
        return self._save(Follow(user_id=user.id, **{column: subject.id}))

    def email_frequency(self, user: User, frequency: EmailFrequency) -> NotificationSettings:
        """The person's choice of notification e-mails."""
        return self._save(NotificationSettings(user_id=user.id, email_frequency=frequency))
