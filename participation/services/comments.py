"""Comments on proposals: writing, replying, editing, deleting, and the thread shown on a page.

One level of replies keeps a discussion readable on a phone: a reply to a reply is attached to
the top-level comment. Comments stay open from collecting until the consultation closes.
The proposal's comment_count counts its PUBLISHED comments and is changed only here (and by
moderation), with an atomic SQL update in the transaction that changes the comment.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import update
from sqlalchemy.orm import joinedload

from participation.extensions import db
from participation.logs import operation
from participation.models import Comment, CommentState, Proposal, User
from participation.services import accounts, limits, notifications
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

log = logging.getLogger(__name__)

MAX_BODY_LENGTH = 5000
EDIT_MINUTES = 15
EDIT_WINDOW = timedelta(minutes=EDIT_MINUTES)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# Rules


def comments_open(proposal: Proposal) -> bool:
    """Published proposals take comments from collecting until the consultation closes."""
    return proposal.is_published and proposal.consultation.accepts_comments


def _is_citizen(actor: User | None) -> bool:
    return bool(actor is not None and actor.is_authenticated and not actor.is_blocked)


def _may_write(actor: User | None) -> bool:
    """New comments and replies come from citizens whose address is confirmed."""
    return _is_citizen(actor) and actor.is_confirmed


def _require_citizen(actor: User | None) -> User:
    if actor is None or not actor.is_authenticated:
        raise NotAllowed(_l("Please log in to comment."))
    if actor.is_blocked:
        raise NotAllowed(_l("Your account is blocked, so you cannot comment."))
    return actor


def _require_open(proposal: Proposal) -> None:
    if not proposal.is_published:
        raise DomainError(_l("A withdrawn or hidden proposal cannot be commented on."))
    if not proposal.consultation.accepts_comments:
        raise DomainError(
            _l("Comments are not open: the consultation has not started yet or is closed.")
        )


def _clean_body(body: str | None) -> str:
    cleaned = (body or "").strip()
    if not cleaned:
        raise ValidationFailed({"body": _l("Please write a comment.")})
    limits.check_length(
        "body",
        cleaned,
        MAX_BODY_LENGTH,
        _l("A comment may have at most %(count)d characters.", count=MAX_BODY_LENGTH),
    )
    return cleaned


def change_count(proposal_id: int, by: int) -> None:
    """Move a proposal's comment_count atomically, in the caller's transaction."""
    db.session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id)
        .values(comment_count=Proposal.comment_count + by)
    )


def can_comment(proposal: Proposal, actor: User | None) -> bool:
    return _may_write(actor) and comments_open(proposal)


def check_editable(comment: Comment, actor: User | None, now: datetime | None = None) -> None:
    """The author may change a published comment within 15 minutes, while comments are open."""
    actor = _require_citizen(actor)
    if comment.author_id != actor.id:
        raise NotAllowed(_l("Only the author can change a comment."))
    if not comment.is_published:
        raise DomainError(_l("A deleted or hidden comment can no longer be changed."))
    _require_open(comment.proposal)
    if _aware(now or _utcnow()) - _aware(comment.created_at) > EDIT_WINDOW:
        raise DomainError(
            _l(
                "A comment can only be changed within %(minutes)d minutes of writing it.",
                minutes=EDIT_MINUTES,
            )
        )


def can_edit(comment: Comment, actor: User | None, now: datetime | None = None) -> bool:
    try:
        check_editable(comment, actor, now)
    except DomainError:
        return False
    return True


def check_deletable(comment: Comment, actor: User | None) -> None:
    """The author, at any time, as long as the comment is published (not hidden by moderation)."""
    actor = _require_citizen(actor)
    if comment.author_id != actor.id:
        raise NotAllowed(_l("Only the author can delete a comment."))
    if not comment.is_published:
        raise DomainError(_l("This comment has already been deleted or hidden."))


def can_delete(comment: Comment, actor: User | None) -> bool:
    try:
        check_deletable(comment, actor)
    except DomainError:
        return False
    return True


# Writing


def add(
    proposal: Proposal,
    author: User | None,
    body: str | None,
    reply_to: Comment | None = None,
    now: datetime | None = None,
) -> Comment:
    """A comment on the proposal, or a reply to `reply_to` (attached to its top-level comment)."""
    try:
        author = accounts.require_confirmed(_require_citizen(author))
        _require_open(proposal)
        parent_id = None
        if reply_to is not None:
            if reply_to.proposal_id != proposal.id:
                raise NotFound(_l("This comment does not exist."))
            root = reply_to.parent if reply_to.parent_id is not None else reply_to
            if not reply_to.is_published or root.is_hidden:
                raise DomainError(_l("This comment was deleted or hidden and cannot be answered."))
            parent_id = root.id
        comment = Comment(
            proposal_id=proposal.id,
            author=author,
            parent_id=parent_id,
            body=_clean_body(body),
            state=CommentState.PUBLISHED,
        )
        if now is not None:
            comment.created_at = now
        db.session.add(comment)
        db.session.flush()
        change_count(proposal.id, +1)
        notifications.notify_comment(comment, author)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    operation(
        log,
        "comment.replied" if parent_id is not None else "comment.added",
        actor=author,
        subject=comment,
        proposal=proposal,
        parent=parent_id,
    )
    return comment


def edit(
    comment: Comment, actor: User | None, body: str | None, now: datetime | None = None
) -> Comment:
    now = _aware(now or _utcnow())
    try:
        check_editable(comment, actor, now)
        comment.body = _clean_body(body)
        comment.edited_at = now
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    operation(log, "comment.edited", actor=actor, subject=comment)
    return comment


def delete(comment: Comment, actor: User | None) -> Comment:
    """The text is erased; the row stays so that replies keep their place."""
    try:
        check_deletable(comment, actor)
        comment.state = CommentState.DELETED
        comment.body = ""
        db.session.flush()
        change_count(comment.proposal_id, -1)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    operation(log, "comment.deleted", actor=actor, subject=comment)
    return comment


# Reading


def get(comment_id: int, viewer: User | None) -> Comment:
    """A comment on a proposal the viewer may see."""
    from participation.services.proposals import can_see

    comment = db.session.get(Comment, comment_id)
    if comment is None or not can_see(comment.proposal, viewer):
        raise NotFound(_l("This comment does not exist."))
    return comment


@dataclass
class ThreadEntry:
    """A comment as shown: its text, or a placeholder in its place.

    A hidden comment always keeps its place, so that the public sees the moderators' reason
    where it was and every link to it (audit log, notification, report queue) lands on it;
    moderators see its text too, marked as hidden, with a button to restore it.
    """

    comment: Comment
    can_edit: bool = False
    can_delete: bool = False
    can_reply: bool = False
    can_restore: bool = False  # a moderator, on a hidden comment: shows its text and the button
    replies: list[ThreadEntry] = field(default_factory=list)

    @property
    def is_deleted(self) -> bool:
        return self.comment.is_deleted

    @property
    def is_hidden(self) -> bool:
        return self.comment.is_hidden

    @property
    def is_published(self) -> bool:
        return self.comment.is_published


@dataclass
class Thread:
    entries: list[ThreadEntry]
    is_open: bool  # the proposal accepts comments now
    can_comment: bool  # ... from this viewer


def _is_moderator(viewer: User | None) -> bool:
    return bool(_is_citizen(viewer) and viewer.is_moderator)


def _keeps_place(entry: ThreadEntry) -> bool:
    """Published and hidden comments are shown (hidden ones as the moderators' placeholder); a
    comment its author deleted only while it holds replies together."""
    return not entry.is_deleted or bool(entry.replies)


def thread_for(
    proposal: Proposal, viewer: User | None = None, now: datetime | None = None
) -> Thread:
    """Top-level comments oldest first, each with its replies, in one query for any length.

    Hidden comments keep their place as the moderators' placeholder; deleted ones only while
    they have replies, so that the replies still make sense.
    """
    now = _aware(now or _utcnow())
    comments = db.session.scalars(
        db.select(Comment)
        .where(Comment.proposal_id == proposal.id)
        .options(joinedload(Comment.author))
        .order_by(Comment.created_at, Comment.id)
    ).all()
    is_open = comments_open(proposal)
    may_comment = is_open and _may_write(viewer)
    viewer_id = viewer.id if _is_citizen(viewer) else None
    moderates = _is_moderator(viewer)

    def entry(comment: Comment) -> ThreadEntry:
        # comment.proposal is the proposal in hand (the identity map answers, not a query).
        own = viewer_id is not None and comment.author_id == viewer_id
        return ThreadEntry(
            comment=comment,
            can_edit=own and can_edit(comment, viewer, now),
            can_delete=own and can_delete(comment, viewer),
            can_reply=may_comment and comment.is_published,
            can_restore=moderates and comment.is_hidden,
        )

    top_level: list[ThreadEntry] = []
    by_id: dict[int, ThreadEntry] = {}
    for comment in comments:
        if comment.parent_id is None:
            by_id[comment.id] = entry(comment)
            top_level.append(by_id[comment.id])
    for comment in comments:
        parent = by_id.get(comment.parent_id) if comment.parent_id is not None else None
        if parent is not None:
            reply = entry(comment)
            if _keeps_place(reply):
                parent.replies.append(reply)
    entries = [item for item in top_level if _keeps_place(item)]
    return Thread(entries=entries, is_open=is_open, can_comment=may_comment)


def published_count(proposal_id: int) -> int:
    """The rows that Proposal.comment_count counts."""
    return db.session.scalar(
        db.select(db.func.count())
        .select_from(Comment)
        .where(Comment.proposal_id == proposal_id, Comment.is_published)
    )
