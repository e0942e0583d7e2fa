"""Notifications: telling the followers of a proposal or consultation what happened to it.

The services that change things call one of the `notify_*` functions below in their own
transaction, before they commit, so a notification exists exactly when its event does. They
notify the followers (and, for a reply, the author of the comment answered), never the person
who acted, never a blocked or deleted account.

Fan-out is a constant number of statements however many follow: one INSERT … SELECT writes
every notification from the follows table, one SELECT reads the people who want an e-mail right
away, and one executemany queues their mails in the outbox.

E-mail is each person's choice: none, immediately, or a daily digest (`flask notifications
digest`, one mail per person and day with what they have neither read nor been mailed). The
default is none: the issue asks for mails to those who opted in, and a mail nobody asked for
from a town's platform is the quickest way to lose trust. Every notification mail carries a
link that turns them off with one click, without logging in (and the List-Unsubscribe headers
of RFC 8058, so mail programs offer the same). Mails go to confirmed addresses only.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import LazyString, force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import Select, String, and_, case, func, literal, select, union_all, update
from sqlalchemy.orm import selectinload

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Answer,
    Comment,
    Consultation,
    EmailFrequency,
    Follow,
    Initiative,
    InitiativeUpdate,
    Notification,
    NotificationKind,
    NotificationSettings,
    Phase,
    Proposal,
    Report,
    Role,
    User,
)
from participation.models.base import utcnow
from participation.services import mail
from participation.services.errors import InvalidLink, NotAllowed, NotFound

log = logging.getLogger(__name__)

DEFAULT_EMAIL_FREQUENCY = EmailFrequency.NONE
NOTIFICATION_MAIL = "notification"
DIGEST_MAIL = "notification_digest"
REPORT_MAIL = "report"
UNSUBSCRIBE_SALT = "participation.notifications.unsubscribe"
MAX_DIGEST_ENTRIES = 30
MAX_SUBJECT_LENGTH = 255

EMAIL_FREQUENCY_LABELS = {
    EmailFrequency.NONE: _l("No e-mails: I read my notifications on the site"),
    EmailFrequency.IMMEDIATE: _l("An e-mail for every notification, right away"),
    EmailFrequency.DAILY: _l("One e-mail a day with the new notifications"),
}

UNSUBSCRIBE_INVALID = _l(
    "This link to stop the e-mails is not valid. Please check that you copied it completely, "
    "or choose your e-mails in your account settings."
)


# The events


@dataclass
class Event:
    """What happened, to which subject; the ORM objects are the ones the service holds."""

    kind: NotificationKind
    consultation: Consultation
    actor: User | None
    proposal: Proposal | None = None
    comment: Comment | None = None
    initiative: Initiative | None = None
    initiative_update: InitiativeUpdate | None = None
    detail: str | None = None

    def view(self, kind: NotificationKind) -> Notification:
        """A notification as a recipient of `kind` gets it, to describe in a mail (not stored)."""
        return Notification(
            kind=kind,
            consultation=self.consultation,
            proposal=self.proposal,
            comment=self.comment,
            initiative=self.initiative,
            initiative_update=self.initiative_update,
            detail=self.detail,
        )

    @property
    def key(self) -> str:
        """Names the event in the mails' idempotency keys."""
        subject = self.comment or self.initiative_update or self.proposal or self.consultation
        return f"{self.kind.value}:{type(subject).__name__.lower()}-{subject.id}"


def _kind(kind: NotificationKind):
    return literal(kind.value, String(40))


def _followers(column, subject_id: int, kind: NotificationKind, excluded: Iterable[int | None]):
    """(user_id, kind) of everybody following the subject, but for the excluded people."""
    statement = select(Follow.user_id.label("user_id"), _kind(kind).label("kind")).where(
        column == subject_id
    )
    excluded_ids = [user_id for user_id in excluded if user_id is not None]
    if excluded_ids:
        statement = statement.where(Follow.user_id.not_in(excluded_ids))
    return statement


def _actor_id(event: Event) -> int | None:
    return event.actor.id if event.actor is not None else None


def notify_comment(comment: Comment, actor: User) -> None:
    """A comment tells the proposal's followers; a reply tells the author of the comment it
    answers (as a reply, not twice), whether they follow the proposal or not."""
    proposal = comment.proposal
    event = Event(
        NotificationKind.COMMENT,
        proposal.consultation,
        actor,
        proposal=proposal,
        comment=comment,
    )
    answered_author = None
    if comment.parent_id is not None:
        answered_author = db.session.scalar(
            select(Comment.author_id).where(Comment.id == comment.parent_id)
        )
    recipients = _followers(
        Follow.proposal_id, proposal.id, NotificationKind.COMMENT, [actor.id, answered_author]
    )
    if answered_author is not None and answered_author != actor.id:
        recipients = union_all(
            recipients,
            select(
                literal(answered_author).label("user_id"),
                _kind(NotificationKind.REPLY).label("kind"),
            ),
        )
    _fan_out(event, recipients)


def _notify_proposal_followers(event: Event) -> None:
    _fan_out(
        event,
        _followers(Follow.proposal_id, event.proposal.id, event.kind, [_actor_id(event)]),
    )


def notify_answer(proposal: Proposal, actor: User) -> None:
    """An answer tells the followers; taking an answer back (none) tells nobody."""
    if not proposal.has_answer:
        return
    _notify_proposal_followers(
        Event(
            NotificationKind.ANSWER,
            proposal.consultation,
            actor,
            proposal=proposal,
            detail=proposal.answer.value,
        )
    )


def notify_hidden(proposal: Proposal, actor: User) -> None:
    _notify_proposal_followers(
        Event(NotificationKind.HIDDEN, proposal.consultation, actor, proposal=proposal)
    )


def notify_promoted(initiative: Initiative, actor: User) -> None:
    """The initiative needs its id: the caller has flushed it."""
    _notify_proposal_followers(
        Event(
            NotificationKind.PROMOTED,
            initiative.consultation,
            actor,
            proposal=initiative.proposal,
            initiative=initiative,
        )
    )


def notify_initiative_update(update: InitiativeUpdate, actor: User) -> None:
    """The followers of the proposal the initiative grew from hear of its progress."""
    initiative = update.initiative
    _notify_proposal_followers(
        Event(
            NotificationKind.INITIATIVE_UPDATE,
            initiative.consultation,
            actor,
            proposal=initiative.proposal,
            initiative=initiative,
            initiative_update=update,
        )
    )


def notify_phase(consultation: Consultation, actor: User) -> None:
    event = Event(NotificationKind.PHASE, consultation, actor, detail=consultation.phase.value)
    _fan_out(
        event,
        _followers(Follow.consultation_id, consultation.id, event.kind, [_actor_id(event)]),
    )


# Fan-out


def _wants_mail_now():
    """Of a recipient joined with their settings: an e-mail right away, to a confirmed address."""
    return and_(
        NotificationSettings.email_frequency == EmailFrequency.IMMEDIATE,
        User.email_confirmed_at.is_not(None),
    )


def _fan_out(event: Event, recipients: Select) -> None:
    """Write the notifications of one event and queue the immediate mails, in the caller's
    transaction, in three statements whatever the number of recipients."""
    db.session.flush()  # the subject's new state and ids are in the database
    now = utcnow()
    chosen = recipients.subquery("recipients")

    def joined(*columns) -> Select:
        return (
            select(*columns)
            .select_from(chosen)
            .join(User, User.id == chosen.c.user_id)
            .outerjoin(NotificationSettings, NotificationSettings.user_id == chosen.c.user_id)
            .where(User.is_blocked.is_(False), User.deleted_at.is_(None))
        )

    def constant(value: Any, column):
        return literal(value, column.type)

    subject = {
        "consultation_id": event.consultation.id,
        "proposal_id": event.proposal.id if event.proposal else None,
        "comment_id": event.comment.id if event.comment else None,
        "initiative_id": event.initiative.id if event.initiative else None,
        "initiative_update_id": event.initiative_update.id if event.initiative_update else None,
        "detail": event.detail,
    }
    table = Notification.__table__
    columns = ["recipient_id", "kind", *subject, "created_at", "mailed_at"]
    db.session.execute(
        table.insert().from_select(
            columns,
            joined(
                chosen.c.user_id,
                chosen.c.kind,
                *(constant(value, table.c[name]) for name, value in subject.items()),
                constant(now, table.c.created_at),
                case((_wants_mail_now(), constant(now, table.c.mailed_at)), else_=None),
            ),
        )
    )
    readers = db.session.execute(joined(chosen.c.kind, User).where(_wants_mail_now())).all()
    mail.queue_many(
        [_immediate_mail(event, NotificationKind(kind), user) for kind, user in readers]
    )


# Describing a notification, on the page and in mails


@dataclass(frozen=True)
class Reader:
    """Who reads a notification: what they may see decides what it says."""

    id: int
    is_moderator: bool

    @classmethod
    def of(cls, user: User) -> Reader:
        return cls(id=user.id, is_moderator=user.is_moderator)


@dataclass(frozen=True)
class Link:
    endpoint: str
    values: dict[str, Any]
    anchor: str | None = None


@dataclass(frozen=True)
class Description:
    text: str
    link: Link | None


def _sees(proposal: Proposal, reader: Reader) -> bool:
    """As services.proposals.can_see, for a reader who may not be the current user."""
    if reader.is_moderator:
        return True
    if not proposal.consultation.is_public:
        return False
    return proposal.is_published or proposal.author_id == reader.id


def _name(user: User | None) -> str:
    if user is None or user.is_deleted:
        return _("deleted participant")
    return user.display_name


ANSWER_TEXTS = {
    Answer.ACCEPTED.value: _l("The proposal “%(title)s” was accepted."),
    Answer.REJECTED.value: _l("The proposal “%(title)s” was rejected."),
    Answer.UNDER_EVALUATION.value: _l("The proposal “%(title)s” is under evaluation."),
}


def describe(notification: Notification, reader: Reader) -> Description:
    """The sentence and the link of a notification, in the current language, as it is true now:
    a proposal that the reader may no longer see is not named."""
    from participation.services.consultations import phases

    kind = notification.kind
    consultation = notification.consultation
    if kind is NotificationKind.PHASE:
        return Description(
            _(
                "The consultation “%(title)s” moved to the phase “%(phase)s”.",
                title=consultation.title,
                phase=phases.phase_label(Phase(notification.detail)),
            ),
            Link("consultations.show", {"slug": consultation.slug}),
        )
    proposal = notification.proposal
    if not _sees(proposal, reader):
        text = (
            _("A proposal you follow was hidden by the moderators.")
            if kind is NotificationKind.HIDDEN
            else _("This notification is about a proposal that is no longer public.")
        )
        return Description(text, None)
    title = proposal.title
    to_proposal = Link("proposals.show", {"proposal_id": proposal.id})
    if kind in (NotificationKind.COMMENT, NotificationKind.REPLY):
        comment = notification.comment
        name = _name(comment.author)
        if kind is NotificationKind.REPLY:
            text = _("%(name)s replied to your comment on “%(title)s”.", name=name, title=title)
        else:
            text = _("%(name)s commented on “%(title)s”.", name=name, title=title)
        return Description(
            text,
            Link("proposals.show", {"proposal_id": proposal.id}, f"comment-{comment.id}"),
        )
    if kind is NotificationKind.ANSWER:
        text = ANSWER_TEXTS.get(notification.detail)
        return Description(str(text % {"title": title}) if text else title, to_proposal)
    if kind is NotificationKind.HIDDEN:
        return Description(
            _("The proposal “%(title)s” was hidden by the moderators.", title=title), to_proposal
        )
    initiative = notification.initiative
    to_initiative = Link("initiatives.show", {"initiative_id": initiative.id})
    if kind is NotificationKind.PROMOTED:
        return Description(
            _("The proposal “%(title)s” became an initiative.", title=title), to_initiative
        )
    update_id = notification.initiative_update.id
    return Description(
        _("The initiative “%(title)s” has a new progress update.", title=initiative.title),
        Link("initiatives.show", {"initiative_id": initiative.id}, f"update-{update_id}-date"),
    )


def absolute_link(link: Link | None) -> str | None:
    if link is None:
        return None
    url = mail.absolute_url(link.endpoint, **link.values)
    return f"{url}#{link.anchor}" if link.anchor else url


# Mails


def mail_locale(user: User) -> str:
    """The recipient's language; without one, the platform's (never the actor's page's)."""
    if user.locale in current_app.config["LANGUAGES"]:
        return user.locale
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=UNSUBSCRIBE_SALT)


def unsubscribe_token(user_id: int) -> str:
    """Works without logging in and without expiry (an old mail's link must still work); it
    can do nothing but turn notification mails off."""
    return _serializer().dumps({"user": user_id})


def unsubscribe_url(user_id: int) -> str:
    return mail.absolute_url("notifications.unsubscribe", token=unsubscribe_token(user_id))


def _mail_fields(user: User, subject: str, text: str, purpose: str, key: str) -> dict[str, Any]:
    return {
        "recipient": user.email,
        "subject": subject[:MAX_SUBJECT_LENGTH],
        "text_body": text,
        "purpose": purpose,
        "idempotency_key": key,
        "user_id": user.id,
        "unsubscribe_url": unsubscribe_url(user.id),
    }


def _immediate_mail(event: Event, kind: NotificationKind, user: User) -> dict[str, Any]:
    with force_locale(mail_locale(user)):
        description = describe(event.view(kind), Reader.of(user))
        subject, text = mail.compose(
            "notification",
            mail_locale(user),
            description.text,
            user=user,
            text=description.text,
            link=absolute_link(description.link),
            **_footer_links(user),
        )
    key = f"{NOTIFICATION_MAIL}:{event.key}:{utcnow():%Y%m%d%H%M%S%f}:user-{user.id}"
    return _mail_fields(user, subject, text, NOTIFICATION_MAIL, key)


def _footer_links(user: User) -> dict[str, str]:
    return {
        "unsubscribe_link": unsubscribe_url(user.id),
        "settings_link": mail.absolute_url("notifications.settings"),
        "notifications_link": mail.absolute_url("notifications.index"),
    }


def _unmailed_for_digest() -> Select:
    return (
        select(Notification, User)
        .join(User, User.id == Notification.recipient_id)
        .join(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(
            NotificationSettings.email_frequency == EmailFrequency.DAILY,
            User.email_confirmed_at.is_not(None),
            User.is_blocked.is_(False),
            User.deleted_at.is_(None),
            Notification.mailed_at.is_(None),
            Notification.read_at.is_(None),
            Notification.created_at >= NotificationSettings.changed_at,
        )
        .options(*_display_options())
        .order_by(Notification.recipient_id, Notification.created_at, Notification.id)
    )


def send_digests(now: datetime | None = None) -> int:
    """Queue the daily digests: one mail per person who chose them and has notifications they
    have neither read nor been mailed since choosing. Its key is the person and the day, so a
    second run on the same day queues nothing (what came meanwhile waits for tomorrow's).
    Returns how many mails were queued."""
    now = now or utcnow()
    pending: dict[int, list[Notification]] = defaultdict(list)
    readers: dict[int, User] = {}
    for notification, user in db.session.execute(_unmailed_for_digest()).all():
        pending[user.id].append(notification)
        readers[user.id] = user
    queued = 0
    for user_id, entries in pending.items():
        user = readers[user_id]
        if mail.queue(**_digest_mail(user, entries, now)):
            db.session.execute(
                update(Notification)
                .where(Notification.id.in_([entry.id for entry in entries]))
                .values(mailed_at=now)
                .execution_options(synchronize_session=False)
            )
            queued += 1
    db.session.commit()
    operation(log, "digests.queued", actor=None, subject=None, count=queued)
    return queued


def _digest_mail(user: User, entries: list[Notification], now: datetime) -> dict[str, Any]:
    locale = mail_locale(user)
    reader = Reader.of(user)
    with force_locale(locale):
        shown = [describe(entry, reader) for entry in entries[:MAX_DIGEST_ENTRIES]]
        items = [(item.text, absolute_link(item.link)) for item in shown]
        subject = ngettext("%(num)d new notification", "%(num)d new notifications", len(entries))
        _subject, text = mail.compose(
            "notifications_digest",
            locale,
            subject,
            user=user,
            items=items,
            more=len(entries) - len(shown),
            **_footer_links(user),
        )
    key = f"{DIGEST_MAIL}:user-{user.id}:{now:%Y-%m-%d}"
    return _mail_fields(user, subject, text, DIGEST_MAIL, key)


# Settings


def email_frequency(user: User) -> EmailFrequency:
    settings = db.session.get(NotificationSettings, user.id)
    return settings.email_frequency if settings is not None else DEFAULT_EMAIL_FREQUENCY


def _settings_of(user: User) -> NotificationSettings:
    settings = db.session.get(NotificationSettings, user.id)
    if settings is None:
        settings = NotificationSettings(
            user_id=user.id, email_frequency=DEFAULT_EMAIL_FREQUENCY, mail_on_report=False
        )
        db.session.add(settings)
    return settings


def _set_frequency(user: User, frequency: EmailFrequency) -> None:
    """A daily digest starts with what comes after the choice; the caller commits."""
    settings = _settings_of(user)
    if settings.email_frequency is not frequency:
        settings.email_frequency = frequency
        settings.changed_at = utcnow()


def set_email_frequency(user: User, frequency: EmailFrequency) -> None:
    """Save the choice; a daily digest starts with what comes after it."""
    _set_frequency(user, frequency)
    db.session.commit()
    operation(
        log, "notification_settings.changed", actor=user, subject=user, email_frequency=frequency
    )


def mails_on_report(user: User) -> bool:
    settings = db.session.get(NotificationSettings, user.id)
    return bool(settings is not None and settings.mail_on_report and user.is_moderator)


def set_mails_on_report(user: User, wanted: bool) -> None:
    """A moderator's choice of a mail whenever somebody reports content; nobody else's."""
    if wanted and not user.is_moderator:
        raise NotAllowed(_l("Only moderators get mails about reports."))
    _settings_of(user).mail_on_report = wanted
    db.session.commit()
    operation(log, "notification_settings.changed", actor=user, subject=user, mail_on_report=wanted)


def mail_moderators_about(report: Report, reason: LazyString) -> int:
    """Queue, in the caller's transaction, a mail to every moderator who asked for one about
    each report (never to the reporter), in the moderator's language; `reason` is the report's
    reason in words. Returns how many."""
    moderators = db.session.scalars(
        select(User)
        .join(NotificationSettings, NotificationSettings.user_id == User.id)
        .where(
            NotificationSettings.mail_on_report.is_(True),
            User.role.in_((Role.MODERATOR, Role.ADMIN)),
            User.email_confirmed_at.is_not(None),
            User.is_blocked.is_(False),
            User.deleted_at.is_(None),
            User.id != report.reporter_id,
        )
        .order_by(User.id)
    ).all()
    mails = [_report_mail(report, reason, moderator) for moderator in moderators]
    mail.queue_many(mails)
    return len(mails)


def _report_mail(report: Report, reason: LazyString, moderator: User) -> dict[str, Any]:
    locale = mail_locale(moderator)
    proposal = report.comment.proposal if report.comment is not None else report.proposal
    with force_locale(locale):
        subject, text = mail.compose(
            "report",
            locale,
            _l("New report: %(title)s", title=proposal.title),
            user=moderator,
            about_comment=report.comment is not None,
            title=proposal.title,
            consultation=proposal.consultation.title,
            reason=str(reason),
            explanation=report.text,
            queue_link=mail.absolute_url(
                "moderation.reports", consultation=proposal.consultation.slug
            ),
            **_footer_links(moderator),
        )
    key = f"{REPORT_MAIL}:report-{report.id}:user-{moderator.id}"
    return _mail_fields(moderator, subject, text, REPORT_MAIL, key)


def account_for_unsubscribe(token: str) -> User:
    try:
        data = _serializer().loads(token)
    except BadSignature as error:
        raise InvalidLink(UNSUBSCRIBE_INVALID) from error
    user = db.session.get(User, data.get("user")) if isinstance(data, dict) else None
    if user is None:
        raise InvalidLink(UNSUBSCRIBE_INVALID)
    return user


def unsubscribe(token: str) -> User:
    """Turn notification mails (and a moderator's mails about reports) off for the account of
    the link; doing it again is harmless."""
    user = account_for_unsubscribe(token)
    _settings_of(user).mail_on_report = False
    _set_frequency(user, EmailFrequency.NONE)
    db.session.commit()
    operation(log, "notifications.unsubscribed", actor=None, subject=user)
    return user


# Reading


def unread_count(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
    )


def _display_options() -> tuple:
    return (
        selectinload(Notification.consultation),
        selectinload(Notification.proposal).selectinload(Proposal.consultation),
        selectinload(Notification.comment).selectinload(Comment.author),
        selectinload(Notification.initiative),
        selectinload(Notification.initiative_update),
    )


def page_for(user: User, page: int = 1, per_page: int = 20) -> Pagination:
    """The person's notifications, newest first."""
    statement = (
        select(Notification)
        .where(Notification.recipient_id == user.id)
        .options(*_display_options())
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    return db.paginate(statement, page=max(page, 1), per_page=per_page, error_out=False)


def get_own(user: User, notification_id: int) -> Notification:
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.recipient_id != user.id:
        raise NotFound(_l("This notification does not exist."))
    return notification


def mark_read(user: User, notification_id: int) -> Notification:
    notification = get_own(user, notification_id)
    if notification.read_at is None:
        notification.read_at = utcnow()
        db.session.commit()
        operation(log, "notification.read", actor=user, subject=notification)
    return notification


def mark_all_read(user: User) -> int:
    """Returns how many were unread."""
    result = db.session.execute(
        update(Notification)
        .where(Notification.recipient_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    operation(log, "notifications.read", actor=user, subject=user, count=result.rowcount)
    return result.rowcount
