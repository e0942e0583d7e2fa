"""E-mail through an outbox.

`queue()` writes a mail into the outbox in the caller's transaction, so the mail exists exactly
when the event that caused it was committed. `send_due()` (run by `flask mail send`) delivers the
due mails one by one: it claims a mail, hands it to the backend and marks it as sent in the same
short transaction, right after it went out. A mail the server refused is tried again later, each
time after a longer pause, and its error is kept on the row.

Claiming: on PostgreSQL the sender locks the mail's row with `FOR UPDATE SKIP LOCKED` until it is
marked, so senders running at the same time each take other mails and never send one twice. SQLite
has no row locks: run a single sender there (one cron job or one `flask mail send --every`).

In development the web server delivers the outbox itself (`start_sender`, switched on by
MAIL_SEND_IN_PROCESS_SECONDS), so that a confirmation link shows up in the console that `make
run` writes to within seconds, without a second command. Production keeps the outbox and
`flask mail send` (or several senders on PostgreSQL).

What remains: if the process dies after the server accepted a mail and before the row was marked,
that mail goes out once more on the next run. Its Message-ID is derived from the idempotency key,
so it is the same both times and mail programs can recognise the copy.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any, Protocol, TextIO
from urllib.parse import urlsplit

from flask import Flask, current_app, render_template, url_for
from flask_babel import LazyString, force_locale, get_locale
from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from participation.extensions import db
from participation.logs import operation
from participation.models import OutboxMail
from participation.models.base import utcnow

log = logging.getLogger(__name__)

CONFIRM_EMAIL = "confirm_email"
RESET_PASSWORD = "reset_password"
# Somebody registered with an address that has an account: its owner is told, not the form.
ACCOUNT_EXISTS = "account_exists"

MAX_RETRY_DELAY = timedelta(hours=6)
MAX_ERROR_LENGTH = 2000


# Writing mails


def queue(
    *,
    recipient: str,
    subject: str,
    text_body: str,
    purpose: str,
    idempotency_key: str,
    html_body: str | None = None,
    user_id: int | None = None,
    unsubscribe_url: str | None = None,
) -> bool:
    """Add a mail to the outbox in the current transaction; the caller commits it together with
    the event that causes it. A mail whose key is already in the outbox is not added again.

    A mail with an `unsubscribe_url` goes out with the List-Unsubscribe headers (RFC 8058).
    Returns whether the mail was added.
    """
    values = _row(
        recipient=recipient,
        subject=subject,
        text_body=text_body,
        purpose=purpose,
        idempotency_key=idempotency_key,
        html_body=html_body,
        user_id=user_id,
        unsubscribe_url=unsubscribe_url,
    )
    statement = _insert().values(**values).returning(OutboxMail.id)
    return db.session.execute(statement).scalar_one_or_none() is not None


def queue_many(mails: list[dict[str, Any]]) -> None:
    """Add many mails (each with the arguments of `queue`) in one statement, executed once for
    all of them (executemany): a notification to thousands costs no more queries than to ten.
    Mails whose key is already in the outbox are left out."""
    if mails:
        db.session.execute(_insert(), [_row(**fields) for fields in mails])


def _row(
    *,
    recipient: str,
    subject: str,
    text_body: str,
    purpose: str,
    idempotency_key: str,
    html_body: str | None = None,
    user_id: int | None = None,
    unsubscribe_url: str | None = None,
) -> dict[str, Any]:
    now = utcnow()
    return {
        "idempotency_key": idempotency_key,
        "purpose": purpose,
        "user_id": user_id,
        "recipient": recipient,
        "subject": subject,
        "text_body": text_body,
        "html_body": html_body,
        "unsubscribe_url": unsubscribe_url,
        "created_at": now,
        "next_attempt_at": now,
        "attempts": 0,
    }


def _insert():
    """INSERT … ON CONFLICT (idempotency_key) DO NOTHING, on the table (not the ORM entity), so
    that a list of rows is one executemany."""
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(OutboxMail.__table__).on_conflict_do_nothing(
        index_elements=["idempotency_key"]
    )


def compose(template: str, locale: str | None, subject: str | LazyString, **context: Any):
    """The subject and text of a mail in the recipient's language (`templates/mail/*.txt`)."""
    with force_locale(locale or str(get_locale())):
        return str(subject), render_template(f"mail/{template}.txt", **context)


def absolute_url(endpoint: str, **values: Any) -> str:
    """A link for a mail: under PUBLIC_URL when it is set, never under a request's Host header
    then; without it (development, tests) under the request's or SERVER_NAME's address."""
    public_url = current_app.config.get("PUBLIC_URL")
    if not public_url:
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(public_url)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)


def minute_key(prefix: str, moment: datetime | None = None) -> str:
    """An idempotency key for an event that a person may ask for again: at most one such mail
    per minute, so pressing a button twice sends one mail."""
    return f"{prefix}:{(moment or utcnow()):%Y%m%d%H%M}"


# Building and delivering mails


def build_message(mail: OutboxMail, sender: str, moment: datetime) -> EmailMessage:
    """The mail as it goes out: UTF-8 text (and HTML, if any) with the usual headers."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = _message_id(mail.idempotency_key, sender)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, please
    if mail.unsubscribe_url:
        # One click in the mail program unsubscribes: it POSTs to the link (RFC 8058).
        message["List-Unsubscribe"] = f"<{mail.unsubscribe_url}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(mail.text_body, charset="utf-8")
    if mail.html_body:
        message.add_alternative(mail.html_body, subtype="html", charset="utf-8")
    return message


def _message_id(idempotency_key: str, sender: str) -> str:
    """The same Message-ID on every attempt of one mail."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}@{domain}>"


class Backend(Protocol):
    def send(self, message: EmailMessage) -> None: ...

    def close(self) -> None: ...


class ConsoleBackend:
    """For development: prints each mail readably instead of sending it."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, message: EmailMessage) -> None:
        lines = [f"{name}: {message[name]}" for name in ("From", "To", "Subject", "Date")]
        body = message.get_body(preferencelist=("plain",))
        text = body.get_content() if body is not None else ""
        print("\n".join(["-" * 72, *lines, "", text.rstrip(), "-" * 72]), file=self.stream)
        self.stream.flush()

    def close(self) -> None:
        pass


class SmtpBackend:
    """Delivers through an SMTP server, one connection for a whole run; after an error the next
    mail opens a fresh connection."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._connection: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        config = self.config
        host, port, timeout = config["MAIL_SERVER"], config["MAIL_PORT"], config["MAIL_TIMEOUT"]
        if config["MAIL_USE_SSL"]:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                host, port, timeout=timeout, context=ssl.create_default_context()
            )
        else:
            connection = smtplib.SMTP(host, port, timeout=timeout)
            if config["MAIL_USE_TLS"]:
                connection.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            connection.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        return connection

    def send(self, message: EmailMessage) -> None:
        if self._connection is None:
            self._connection = self._connect()
        try:
            self._connection.send_message(message)
        except Exception:
            self.close()
            raise

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.quit()
        except (smtplib.SMTPException, OSError):
            connection.close()


BACKENDS: dict[str, Callable[[dict[str, Any]], Backend]] = {
    "console": lambda config: ConsoleBackend(),
    "smtp": SmtpBackend,
}


def backend_from_config() -> Backend:
    name = current_app.config["MAIL_BACKEND"]
    if name not in BACKENDS:
        raise RuntimeError(f"MAIL_BACKEND must be one of {', '.join(BACKENDS)}, not {name!r}.")
    return BACKENDS[name](current_app.config)


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0


def retry_delay(attempts: int) -> timedelta:
    """The pause after the n-th failed attempt: 1, 2, 4 … times MAIL_RETRY_SECONDS, at most 6 h."""
    base = current_app.config["MAIL_RETRY_SECONDS"]
    return min(timedelta(seconds=base * 2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY)


def _due(now: datetime):
    return (
        OutboxMail.sent_at.is_(None),
        OutboxMail.next_attempt_at <= now,
        OutboxMail.attempts < current_app.config["MAIL_MAX_ATTEMPTS"],
    )


def _claim_next(now: datetime) -> OutboxMail | None:
    """The next due mail, locked (PostgreSQL) so that no other sender takes it meanwhile."""
    return db.session.scalar(
        select(OutboxMail)
        .where(*_due(now))
        .order_by(OutboxMail.next_attempt_at, OutboxMail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def send_due(backend: Backend, *, now: datetime | None = None) -> SendReport:
    """Deliver every mail that is due, each in a transaction of its own."""
    report = SendReport()
    sender = current_app.config["MAIL_FROM"]
    moment = now or utcnow()
    while (mail := _claim_next(moment)) is not None:
        mail.attempts += 1
        mail_id, user_id, attempts = mail.id, mail.user_id, mail.attempts
        try:
            backend.send(build_message(mail, sender, utcnow()))
        except Exception as error:  # whatever went wrong, the next mails still go out
            mail.last_error = f"{type(error).__name__}: {error}"[:MAX_ERROR_LENGTH]
            mail.next_attempt_at = moment + retry_delay(mail.attempts)
            report.failed += 1
            action, level = "mail.failed", logging.WARNING
        else:
            mail.sent_at = utcnow()
            mail.last_error = None
            report.sent += 1
            action, level = "mail.sent", logging.INFO
        db.session.commit()
        # By ids only: the recipient's address, and the error (which may name it), stay on the
        # row for the administrator.
        operation(
            log,
            action,
            actor=None,
            subject=mail_id,
            user=user_id,
            attempts=attempts,
            level=level,
        )
    db.session.rollback()  # ends the transaction of the last (empty) claim
    return report


def purge_sent(*, now: datetime | None = None) -> int:
    """Delete the mails sent more than MAIL_KEEP_DAYS ago; returns how many.

    A sent mail's body may hold a link that still works, so it is not kept longer than needed.
    Mails not sent (waiting, or given up) stay for the administrator to look at.
    """
    cutoff = (now or utcnow()) - timedelta(days=current_app.config["MAIL_KEEP_DAYS"])
    deleted = db.session.execute(
        delete(OutboxMail)
        .where(OutboxMail.sent_at.is_not(None), OutboxMail.sent_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if deleted:  # `flask mail send --every` purges every round
        operation(log, "mail.purged", actor=None, subject=None, count=deleted)
    return deleted


@dataclass(frozen=True)
class OutboxState:
    pending: int  # not sent yet, to be tried (again)
    given_up: int  # not sent after MAIL_MAX_ATTEMPTS attempts


def outbox_state() -> OutboxState:
    unsent = OutboxMail.sent_at.is_(None)
    limit = current_app.config["MAIL_MAX_ATTEMPTS"]
    pending, given_up = (
        db.session.scalar(select(func.count()).select_from(OutboxMail).where(unsent, condition))
        for condition in (OutboxMail.attempts < limit, OutboxMail.attempts >= limit)
    )
    return OutboxState(pending=pending or 0, given_up=given_up or 0)


# Delivering from the web server itself (development)


@dataclass
class _Sender:
    thread: threading.Thread
    stop: threading.Event


_senders: dict[int, _Sender] = {}
_senders_lock = threading.Lock()


def _deliver_until_stopped(app: Flask, every: float, stop: threading.Event) -> None:
    with app.app_context():
        backend = backend_from_config()
        try:
            while True:
                try:
                    send_due(backend)
                except Exception as error:  # a locked SQLite file, say: the next round tries
                    db.session.rollback()
                    # The kind of error only: a database error's text may quote a row, with a
                    # recipient's address.
                    log.error("mail.sender_failed error=%s", type(error).__name__)
                finally:
                    db.session.remove()
                if stop.wait(every):
                    return
        finally:
            backend.close()


def deliver_in_process(app: Flask) -> None:
    """In development the serving process delivers the outbox itself, started by the first
    request so that `flask db upgrade`, `flask seed` and other commands do not."""
    if not app.config.get("MAIL_SEND_IN_PROCESS_SECONDS"):
        return

    @app.before_request
    def start_mail_sender() -> None:
        start_sender(app)


def start_sender(app: Flask) -> bool:
    """Deliver the due mails of the outbox from a thread of this process, every
    MAIL_SEND_IN_PROCESS_SECONDS; once per application. Returns whether a sender was started.

    For the development server only: the thread dies with the process, and SQLite allows one
    sender at a time, so production runs `flask mail send` instead.
    """
    every = float(app.config.get("MAIL_SEND_IN_PROCESS_SECONDS") or 0)
    if every <= 0 or id(app) in _senders:
        return False
    with _senders_lock:
        if id(app) in _senders:
            return False
        stop = threading.Event()
        thread = threading.Thread(
            target=_deliver_until_stopped,
            args=(app, every, stop),
            name="outbox-sender",
            daemon=True,
        )
        _senders[id(app)] = _Sender(thread, stop)
        thread.start()
    return True


def stop_sender(app: Flask, timeout: float = 10) -> None:
    """Stop the application's sender after the round it is in (tests; a clean shutdown)."""
    with _senders_lock:
        sender = _senders.pop(id(app), None)
    if sender is not None:
        sender.stop.set()
        sender.thread.join(timeout)


def sender_running(app: Flask) -> bool:
    return id(app) in _senders
