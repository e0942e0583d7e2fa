"""Moderation: citizens report content, moderators hide or restore it and handle the reports,
admins block accounts.

Hidden content is never deleted: it stays for the audit trail and can be restored. Every
moderator or admin action is an audit event written in the same transaction.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Comment,
    CommentState,
    Consultation,
    Proposal,
    ProposalState,
    Report,
    ReportReason,
    ReportState,
    User,
)
from participation.models.base import utcnow
from participation.services import accounts, audit, comments, limits, notifications
from participation.services.accounts import login_sessions
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

log = logging.getLogger(__name__)

MAX_REPORT_TEXT_LENGTH = 1000
MAX_HIDDEN_REASON_LENGTH = 500  # Proposal.hidden_reason and Comment.hidden_reason

REASON_LABELS = {
    ReportReason.SPAM: _l("Spam or advertising"),
    ReportReason.OFFENSIVE: _l("Offensive or abusive"),
    ReportReason.OFF_TOPIC: _l("Off topic"),
    ReportReason.OTHER: _l("Something else"),
}


# Who may do what


def _require_citizen(actor: User | None) -> User:
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_l("Please log in first."))
    return actor


def _require_moderator(actor: User | None) -> User:
    if actor is None or not actor.is_authenticated or not actor.is_moderator:
        raise NotAllowed(_l("Only moderators can do this."))
    return actor


def _require_admin(actor: User | None) -> User:
    if actor is None or not actor.is_authenticated or not actor.is_admin:
        raise NotAllowed(_l("Only administrators can block or unblock accounts."))
    return actor


# Reports


def _same_subject(proposal: Proposal | None, comment: Comment | None):
    if comment is not None:
        return Report.comment_id == comment.id
    return Report.proposal_id == proposal.id


def has_reported(
    reporter: User | None, *, proposal: Proposal | None = None, comment: Comment | None = None
) -> bool:
    if reporter is None or not reporter.is_authenticated:
        return False
    return bool(
        db.session.scalar(
            db.select(Report.id).where(
                Report.reporter_id == reporter.id, _same_subject(proposal, comment)
            )
        )
    )


def _already_reported(comment: Comment | None) -> LazyString:
    if comment is not None:
        return _l("You have already reported this comment. The moderators will look at it.")
    return _l("You have already reported this proposal. The moderators will look at it.")


def check_reportable(
    reporter: User | None, *, proposal: Proposal | None = None, comment: Comment | None = None
) -> User:
    """Refuse as report() would, before the citizen fills in the form."""
    reporter = accounts.require_confirmed(_require_citizen(reporter))
    if (proposal is None) == (comment is None):
        raise ValueError("report exactly one proposal or one comment")
    if comment is not None:
        if not comment.is_published:
            raise DomainError(_l("This comment can no longer be reported."))
        if comment.author_id == reporter.id:
            raise DomainError(_l("You cannot report your own comment."))
    else:
        if not proposal.is_published:
            raise DomainError(_l("This proposal can no longer be reported."))
        if proposal.author_id == reporter.id:
            raise DomainError(_l("You cannot report your own proposal."))
    if has_reported(reporter, proposal=proposal, comment=comment):
        raise DomainError(_already_reported(comment))
    return reporter


def report(
    reporter: User | None,
    *,
    proposal: Proposal | None = None,
    comment: Comment | None = None,
    reason: ReportReason,
    text: str = "",
) -> Report:
    """Flag a published proposal or comment, once per citizen; it goes to the moderators' queue,
    and moderators who asked for it get a mail (in the same transaction, through the outbox)."""
    reporter = check_reportable(reporter, proposal=proposal, comment=comment)
    text = (text or "").strip()
    if reason is ReportReason.OTHER and not text:
        raise ValidationFailed({"text": _l("Please tell the moderators what is wrong.")})
    limits.check_length(
        "text",
        text,
        MAX_REPORT_TEXT_LENGTH,
        _l("The explanation may have at most %(count)d characters.", count=MAX_REPORT_TEXT_LENGTH),
    )
    subject_proposal = comment.proposal if comment is not None else proposal
    new_report = Report(
        reporter_id=reporter.id,
        consultation_id=subject_proposal.consultation_id,
        proposal_id=proposal.id if proposal is not None else None,
        comment_id=comment.id if comment is not None else None,
        reason=reason,
        text=text,
    )
    db.session.add(new_report)
    try:
        db.session.flush()
    except IntegrityError as error:  # the same report sent twice at once: the database decides
        db.session.rollback()
        raise DomainError(_already_reported(comment)) from error
    mailed = notifications.mail_moderators_about(new_report, REASON_LABELS[reason])
    db.session.commit()
    operation(
        log,
        "report.created",
        actor=reporter,
        subject=new_report,
        proposal=proposal,
        comment=comment,
        reason=reason,
        moderators_mailed=mailed,
    )
    return new_report


@dataclass
class ReportedSubject:
    """One reported proposal or comment with its open reports, oldest first."""

    reports: list[Report]
    proposal: Proposal | None = None
    comment: Comment | None = None
    reasons: Counter = field(default_factory=Counter)

    @property
    def first(self) -> Report:
        return self.reports[0]

    @property
    def count(self) -> int:
        return len(self.reports)

    @property
    def first_reported_at(self) -> datetime:
        return self.first.created_at

    @property
    def consultation(self) -> Consultation:
        return self.first.consultation

    @property
    def subject_proposal(self) -> Proposal:
        """The proposal itself, or the one the reported comment belongs to."""
        return self.comment.proposal if self.comment is not None else self.proposal


def _open_subjects(consultation: Consultation | None) -> Select:
    """One row per reported subject with open reports, the longest waiting first."""
    statement = (
        db.select(
            Report.proposal_id,
            Report.comment_id,
            func.min(Report.created_at).label("first_at"),
            func.min(Report.id).label("first_id"),
        )
        .where(Report.is_open)
        .group_by(Report.proposal_id, Report.comment_id)
    )
    if consultation is not None:
        statement = statement.where(Report.consultation_id == consultation.id)
    return statement


class _ReportQueue(Pagination):
    """A page of the queue: subjects are paginated, each with all of its open reports."""

    def _subjects(self) -> Select:
        return self._query_args["statement"]

    def _query_items(self) -> list[ReportedSubject]:
        statement = self._subjects().order_by("first_at", "first_id")
        rows = db.session.execute(statement.limit(self.per_page).offset(self._query_offset)).all()
        if not rows:
            return []
        proposal_ids = [row.proposal_id for row in rows if row.proposal_id is not None]
        comment_ids = [row.comment_id for row in rows if row.comment_id is not None]
        reports = db.session.scalars(
            db.select(Report)
            .where(
                Report.is_open,
                or_(Report.proposal_id.in_(proposal_ids), Report.comment_id.in_(comment_ids)),
            )
            .options(
                selectinload(Report.reporter),
                selectinload(Report.consultation),
                selectinload(Report.proposal),
                selectinload(Report.comment).selectinload(Comment.proposal),
                selectinload(Report.comment).selectinload(Comment.author),
            )
            .order_by(Report.created_at, Report.id)
        ).all()
        grouped: dict[tuple, ReportedSubject] = {}
        for item in reports:
            key = (item.proposal_id, item.comment_id)
            subject = grouped.setdefault(
                key, ReportedSubject(reports=[], proposal=item.proposal, comment=item.comment)
            )
            subject.reports.append(item)
            subject.reasons[item.reason] += 1
        return [
            grouped[(row.proposal_id, row.comment_id)]
            for row in rows
            if (row.proposal_id, row.comment_id) in grouped
        ]

    def _query_count(self) -> int:
        return db.session.scalar(db.select(func.count()).select_from(self._subjects().subquery()))


def open_reports(
    consultation: Consultation | None = None, page: int = 1, per_page: int = 20
) -> Pagination:
    """The moderators' queue: reported subjects with open reports, the longest waiting first.

    Reports of the same proposal or comment are grouped, so that moderators act once for all.
    """
    return _ReportQueue(
        page=max(page, 1),
        per_page=per_page,
        error_out=False,
        statement=_open_subjects(consultation),
    )


def open_reports_for(viewer: User | None) -> int:
    """The reports waiting in every consultation, as a moderator's header shows them; nothing
    for anybody else."""
    if viewer is None or not viewer.is_authenticated or not viewer.is_moderator:
        return 0
    return open_report_count()


def open_report_count(consultation: Consultation | None = None) -> int:
    """Reports waiting for a moderator, in one consultation or (None) in all of them."""
    statement = db.select(func.count()).select_from(Report).where(Report.is_open)
    if consultation is not None:
        statement = statement.where(Report.consultation_id == consultation.id)
    return db.session.scalar(statement)


def get_report(report_id: int) -> Report:
    found = db.session.get(Report, report_id)
    if found is None:
        raise NotFound(_l("This report does not exist."))
    return found


def _resolve_reports(subject_filter, moderator: User, state: ReportState) -> int:
    result = db.session.execute(
        update(Report)
        .where(subject_filter, Report.is_open)
        .values(state=state, resolved_at=utcnow(), resolved_by_id=moderator.id)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def dismiss_report(report: Report, moderator: User) -> int:
    """The content stays. Every open report of the same subject is dismissed with this one,
    since the moderators judged the content, not the single report; returns how many."""
    moderator = _require_moderator(moderator)
    if not report.is_open:
        raise DomainError(_l("This report has already been handled."))
    subject_filter = _same_subject(report.proposal, report.comment)
    dismissed = _resolve_reports(subject_filter, moderator, ReportState.DISMISSED)
    audit.record(
        actor=moderator,
        action="report.dismissed",
        subject_type="report",
        subject_id=report.id,
        consultation=report.consultation,
        details=_subject_details(report.proposal, report.comment) | {"reports": dismissed},
    )
    db.session.commit()
    db.session.expire(report)
    operation(log, "report.dismissed", actor=moderator, subject=report, reports=dismissed)
    return dismissed


# Hiding and restoring


def _clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationFailed(
            {"reason": _l("Please give a reason. It is shown in place of the content.")}
        )
    limits.check_length(
        "reason",
        reason,
        MAX_HIDDEN_REASON_LENGTH,
        _l("The reason may have at most %(count)d characters.", count=MAX_HIDDEN_REASON_LENGTH),
    )
    return reason


def _subject_details(proposal: Proposal | None, comment: Comment | None) -> dict:
    """What the audit log needs to show and link the subject later."""
    if comment is not None:
        return {
            "proposal_id": comment.proposal_id,
            "comment_id": comment.id,
            "title": comment.proposal.title,
        }
    return {"proposal_id": proposal.id, "title": proposal.title}


def _change_state(model, subject, from_state, to_state, **values) -> bool:
    """Move the subject from one state to another in one conditional UPDATE.

    Two moderators acting at once cannot both move it, so a counter adjusted on success
    is adjusted exactly once.
    """
    result = db.session.execute(
        update(model)
        .where(model.id == subject.id, model.state == from_state)
        .values(state=to_state, **values)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _set_hidden(subject: Proposal | Comment, moderator: User, reason: str | None, refused) -> None:
    """Hide (with a reason) or restore (reason None) a proposal or a comment, or raise
    `refused` if it is not published or hidden respectively.

    Hiding closes the open reports about it as actioned; a comment's count on its proposal
    follows it. The audit event says who did it and why.
    """
    comment = subject if isinstance(subject, Comment) else None
    kind, states = ("comment", CommentState) if comment else ("proposal", ProposalState)
    hiding = reason is not None
    from_state, to_state = (
        (states.PUBLISHED, states.HIDDEN) if hiding else (states.HIDDEN, states.PUBLISHED)
    )
    if not _change_state(type(subject), subject, from_state, to_state, hidden_reason=reason):
        db.session.rollback()
        raise DomainError(refused)
    if comment:
        comments.change_count(comment.proposal_id, -1 if hiding else +1)
    details = _subject_details(None if comment else subject, comment)
    actioned = 0
    if hiding:
        reported = Report.comment_id if comment else Report.proposal_id
        actioned = _resolve_reports(reported == subject.id, moderator, ReportState.ACTIONED)
        details |= {"reason": reason, "reports": actioned}
        if not comment:
            db.session.refresh(subject)  # the UPDATE went past the session
            notifications.notify_hidden(subject, moderator)
    action = f"{kind}.hidden" if hiding else f"{kind}.restored"
    audit.record(
        actor=moderator,
        action=action,
        subject_type=kind,
        subject_id=subject.id,
        consultation=(comment.proposal if comment else subject).consultation,
        details=details,
    )
    db.session.commit()
    db.session.refresh(subject)
    if comment:
        db.session.expire(comment.proposal)
    operation(log, action, actor=moderator, subject=subject, reports=actioned)


def hide_proposal(proposal: Proposal, moderator: User, reason: str) -> Proposal:
    moderator = _require_moderator(moderator)
    reason = _clean_reason(reason)
    _set_hidden(proposal, moderator, reason, _l("Only a published proposal can be hidden."))
    return proposal


def restore_proposal(proposal: Proposal, moderator: User) -> Proposal:
    moderator = _require_moderator(moderator)
    _set_hidden(proposal, moderator, None, _l("Only a hidden proposal can be restored."))
    return proposal


def hide_comment(comment: Comment, moderator: User, reason: str) -> Comment:
    """Only a published comment can be hidden; it no longer counts on its proposal."""
    moderator = _require_moderator(moderator)
    reason = _clean_reason(reason)
    _set_hidden(comment, moderator, reason, _l("Only a published comment can be hidden."))
    return comment


def restore_comment(comment: Comment, moderator: User) -> Comment:
    moderator = _require_moderator(moderator)
    _set_hidden(comment, moderator, None, _l("Only a hidden comment can be restored."))
    return comment


# Blocking accounts


def block_user(admin: User, user: User) -> User:
    """A blocked user cannot log in and is logged out; their content stays unless hidden."""
    admin = _require_admin(admin)
    if user.id == admin.id:
        raise DomainError(_l("You cannot block your own account."))
    if not _set_blocked(user, True):
        raise DomainError(_l("This account is already blocked."))
    ended = login_sessions.end_all(user)
    audit.record(actor=admin, action="user.blocked", subject_type="user", subject_id=user.id)
    db.session.commit()
    db.session.refresh(user)
    operation(log, "user.blocked", actor=admin, subject=user, sessions_ended=ended)
    return user


def unblock_user(admin: User, user: User) -> User:
    admin = _require_admin(admin)
    if not _set_blocked(user, False):
        raise DomainError(_l("This account is not blocked."))
    audit.record(actor=admin, action="user.unblocked", subject_type="user", subject_id=user.id)
    db.session.commit()
    db.session.refresh(user)
    operation(log, "user.unblocked", actor=admin, subject=user)
    return user


def _set_blocked(user: User, blocked: bool) -> bool:
    result = db.session.execute(
        update(User)
        .where(User.id == user.id, User.is_blocked == (not blocked))
        .values(is_blocked=blocked)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    return True


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_l("This account does not exist."))
    return user


def find_users(text: str = "", page: int = 1, per_page: int = 25) -> Pagination:
    """Accounts for the admins' list, searched by e-mail address or display name."""
    statement = db.select(User)
    for word in text.split()[:5]:
        pattern = f"%{_escape_like(word)}%"
        statement = statement.where(
            or_(
                User.email.ilike(pattern, escape="\\"),
                User.display_name.ilike(pattern, escape="\\"),
            )
        )
    # Deleted accounts (without a name) last.
    statement = statement.order_by(User.deleted_at.is_not(None), User.display_name, User.id)
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
