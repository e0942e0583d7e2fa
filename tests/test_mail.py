"""The e-mail outbox and its sender, against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import io
import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from config import DevelopmentConfig, ProductionConfig, TestingConfig
from participation.extensions import db
from participation.models import OutboxMail
from participation.models.base import utcnow
from participation.services import accounts, mail
from participation.services.errors import ValidationFailed
from tests.conftest import make_app
from tests.mailbox import SmtpServer, mails_to

SUBJECT = "Grüße aus der Bürgerbeteiligung"
TEXT = "Hallo Änne,\n\nüber die Straße: 100 € für Bäume.\n"


@pytest.fixture
def smtp(app: Flask, monkeypatch: pytest.MonkeyPatch):
    """A real SMTP server on 127.0.0.1, and the app sending through it for this test."""
    with SmtpServer() as server:
        for key, value in server.settings().items():
            monkeypatch.setitem(app.config, key, value)
        monkeypatch.setitem(app.config, "MAIL_FROM", "Bürgerbeteiligung <noreply@town.example>")
        yield server


def _queue(key: str = "test:1", **fields) -> bool:
    values = {
        "recipient": "anna@example.org",
        "subject": SUBJECT,
        "text_body": TEXT,
        "purpose": "test",
        "idempotency_key": key,
    }
    return mail.queue(**(values | fields))


def _lines(text: str) -> str:
    """SMTP ends lines with CRLF; the text was written with LF."""
    return text.replace("\r\n", "\n")


def _outbox() -> list[OutboxMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id)))


def _send() -> mail.SendReport:
    backend = mail.backend_from_config()
    try:
        return mail.send_due(backend)
    finally:
        backend.close()


# Queueing: the mail belongs to the transaction of its event


def test_a_queued_mail_is_stored_when_the_caller_commits(ctx):
    _queue()
    db.session.commit()

    assert [row.recipient for row in _outbox()] == ["anna@example.org"]


def test_a_queued_mail_is_gone_when_the_callers_transaction_is_rolled_back(ctx):
    _queue()
    db.session.rollback()

    assert _outbox() == []


def test_queueing_the_same_key_twice_gives_one_mail(ctx):
    first = _queue(key="event:7")
    second = _queue(key="event:7", subject="Another subject")
    db.session.commit()

    assert (first, second) == (True, False)
    assert [row.subject for row in _outbox()] == [SUBJECT]


def test_a_refused_registration_queues_no_mail(ctx):
    with pytest.raises(ValidationFailed):
        accounts.register(email="anna@example.org", display_name="Anna", password="short")

    assert _outbox() == []


def test_a_registration_and_its_confirmation_mail_are_committed_together(ctx):
    user = accounts.register(
        email="anna@example.org", display_name="Anna", password="a long enough password"
    )

    rows = _outbox()
    assert [(row.recipient, row.purpose, row.user_id) for row in rows] == [
        ("anna@example.org", mail.CONFIRM_EMAIL, user.id)
    ]
    assert rows[0].sent_at is None


# Delivering through SMTP


def test_the_sender_delivers_a_pending_mail_through_smtp(ctx, smtp):
    _queue()
    db.session.commit()

    report = _send()

    assert (report.sent, report.failed) == (1, 0)
    assert [delivery.recipients for delivery in smtp.received] == [["anna@example.org"]]


def test_the_delivered_mail_has_utf8_subject_body_and_the_usual_headers(ctx, smtp):
    _queue()
    db.session.commit()

    _send()

    message = smtp.received[0].message
    assert message["Subject"] == SUBJECT
    assert message["From"] == "Bürgerbeteiligung <noreply@town.example>"
    assert message["To"] == "anna@example.org"
    assert message["Date"] and message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].endswith("@town.example>")
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert _lines(message.get_content()) == TEXT


def test_a_mail_with_html_goes_out_as_text_with_an_html_alternative(ctx, smtp):
    _queue(html_body="<p>Hallo <strong>Änne</strong></p>")
    db.session.commit()

    _send()

    message = smtp.received[0].message
    assert message.get_content_type() == "multipart/alternative"
    assert _lines(message.get_body(("plain",)).get_content()) == TEXT
    assert "<strong>Änne</strong>" in message.get_body(("html",)).get_content()


def test_a_delivered_mail_is_marked_sent_with_its_attempt(ctx, smtp):
    _queue()
    db.session.commit()

    _send()

    (row,) = _outbox()
    assert row.sent_at is not None
    assert (row.attempts, row.last_error) == (1, None)


def test_a_crash_before_the_sender_ran_loses_nothing_and_two_runs_deliver_once(app, smtp):
    """The event is committed and the process dies: the mail waits in the outbox. The sender
    then runs twice (a retry of a cron job, say): the mail arrives once."""
    client = app.test_client()
    client.post(
        "/account/register",
        data={
            "email": "new.person@example.org",
            "display_name": "New Person",
            "account_type": "person",
            "password": "a long enough password",
            "password_repeat": "a long enough password",
        },
    )
    (pending,) = mails_to(app, "new.person@example.org")
    assert pending.sent_at is None

    with app.app_context():
        first, second = _send(), _send()

    assert (first.sent, second.sent) == (1, 0)
    assert [delivery.recipients for delivery in smtp.received] == [["new.person@example.org"]]
    assert mails_to(app, "new.person@example.org")[0].sent_at is not None


def test_every_attempt_of_one_mail_carries_the_same_message_id(ctx):
    _queue()
    db.session.commit()
    (row,) = _outbox()

    first = mail.build_message(row, "noreply@town.example", utcnow())
    again = mail.build_message(row, "noreply@town.example", utcnow() + timedelta(hours=1))

    assert first["Message-ID"] == again["Message-ID"]


# Failures and retries


def test_a_refused_mail_counts_the_attempt_and_keeps_the_error(ctx, smtp):
    smtp.handler.refusing = True
    _queue()
    db.session.commit()

    report = _send()

    (row,) = _outbox()
    assert (report.sent, report.failed) == (0, 1)
    assert row.sent_at is None
    assert row.attempts == 1
    assert "550" in row.last_error and "Mailbox unavailable" in row.last_error


def test_a_refused_mail_waits_before_the_next_attempt(ctx, smtp):
    smtp.handler.refusing = True
    _queue()
    db.session.commit()
    _send()
    smtp.handler.refusing = False

    report = _send()

    assert report.sent == 0
    assert smtp.received == []


def test_a_refused_mail_is_sent_on_a_later_run_once_the_server_accepts(ctx, smtp):
    smtp.handler.refusing = True
    _queue()
    db.session.commit()
    _send()
    smtp.handler.refusing = False

    backend = mail.backend_from_config()
    report = mail.send_due(backend, now=utcnow() + timedelta(minutes=2))
    backend.close()

    (row,) = _outbox()
    assert report.sent == 1
    assert len(smtp.received) == 1
    assert (row.attempts, row.last_error) == (2, None)
    assert row.sent_at is not None


def test_the_pause_between_attempts_doubles_up_to_six_hours(ctx):
    delays = [mail.retry_delay(attempt) for attempt in (1, 2, 3, 4, 20)]

    assert delays == [
        timedelta(minutes=1),
        timedelta(minutes=2),
        timedelta(minutes=4),
        timedelta(minutes=8),
        timedelta(hours=6),
    ]


def test_each_failure_pushes_the_next_attempt_further_out(ctx, smtp):
    smtp.handler.refusing = True
    _queue()
    db.session.commit()
    moment = utcnow()
    backend = mail.backend_from_config()
    waits = []
    for _ in range(3):
        mail.send_due(backend, now=moment)
        (row,) = _outbox()
        waits.append(row.next_attempt_at.replace(tzinfo=None) - moment.replace(tzinfo=None))
        moment = row.next_attempt_at
    backend.close()

    assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]


def test_a_mail_is_given_up_after_the_last_attempt(ctx, smtp, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_MAX_ATTEMPTS", 2)
    smtp.handler.refusing = True
    _queue()
    db.session.commit()
    backend = mail.backend_from_config()
    later = utcnow()
    for _ in range(3):
        later += timedelta(hours=7)
        mail.send_due(backend, now=later)
    backend.close()

    (row,) = _outbox()
    assert row.attempts == 2
    assert mail.outbox_state() == mail.OutboxState(pending=0, given_up=1)


def test_a_refused_mail_does_not_hold_up_the_next_one(ctx, smtp):
    _queue(key="test:1", recipient="refused@example.org")
    _queue(key="test:2", recipient="anna@example.org")
    db.session.commit()

    class RefuseOne:
        def __init__(self, inner):
            self.inner = inner

        def send(self, message):
            if message["To"] == "refused@example.org":
                raise OSError("connection reset")
            self.inner.send(message)

        def close(self):
            self.inner.close()

    backend = RefuseOne(mail.backend_from_config())
    report = mail.send_due(backend)
    backend.close()

    assert (report.sent, report.failed) == (1, 1)
    assert [delivery.recipients for delivery in smtp.received] == [["anna@example.org"]]


def test_an_unreachable_server_is_recorded_as_the_error(ctx, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_BACKEND", "smtp")
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", _closed_port())
    _queue()
    db.session.commit()

    report = _send()

    (row,) = _outbox()
    assert report.failed == 1
    assert "ConnectionRefusedError" in row.last_error


def _closed_port() -> int:
    from tests.mailbox import free_port

    return free_port()


# Two senders at the same time


# On SQLite a single sender runs (no row locks); see services/mail.py.
@pytest.mark.postgresql_only
def test_two_senders_at_the_same_time_deliver_each_mail_once(backend, threaded_app, smtp):
    threaded_app.config.update(smtp.settings())
    with threaded_app.app_context():
        for number in range(20):
            _queue(key=f"test:{number}", recipient=f"person{number}@example.org")
        db.session.commit()

    class Slow:
        """Each mail takes a moment, so the two senders overlap."""

        def __init__(self, inner):
            self.inner = inner

        def send(self, message):
            time.sleep(0.02)
            self.inner.send(message)

        def close(self):
            self.inner.close()

    barrier = threading.Barrier(2)
    reports: list[mail.SendReport] = []

    def sender() -> None:
        with threaded_app.app_context():
            backend = Slow(mail.backend_from_config())
            barrier.wait(timeout=30)
            reports.append(mail.send_due(backend))
            backend.close()
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    delivered = sorted(delivery.recipients[0] for delivery in smtp.received)
    assert delivered == sorted(f"person{number}@example.org" for number in range(20))
    assert sum(report.sent for report in reports) == 20
    assert all(report.sent for report in reports), "both senders took part"


# Links and the console backend


def test_links_in_mails_use_the_public_url_not_the_requests_host(app, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_URL", "https://town.example/beteiligung")
    with app.test_request_context("/", base_url="http://attacker.example"):
        link = mail.absolute_url("accounts.confirm_email", token="abc")

    assert link == "https://town.example/beteiligung/account/confirm/abc"


def test_the_console_backend_prints_the_mail_readably(ctx):
    _queue()
    db.session.commit()
    printed = io.StringIO()

    report = mail.send_due(mail.ConsoleBackend(printed))

    assert report.sent == 1
    assert f"Subject: {SUBJECT}" in printed.getvalue()
    assert "über die Straße: 100 € für Bäume." in printed.getvalue()


def test_flask_mail_send_delivers_the_outbox(app, smtp):
    with app.app_context():
        _queue()
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["mail", "send"])

    assert result.exit_code == 0, result.output
    assert len(smtp.received) == 1
    assert "Sent 1 mail(s), 0 failed" in result.output


def test_flask_mail_send_exits_with_1_when_a_mail_was_refused(app, smtp):
    smtp.handler.refusing = True
    with app.app_context():
        _queue()
        db.session.commit()

    result = app.test_cli_runner().invoke(args=["mail", "send"])

    assert result.exit_code == 1
    assert "0 mail(s), 1 failed; 1 waiting" in result.output


# Sent mails are not kept for ever: their links may still work


def _sent_days_ago(key: str, days: float) -> None:
    _queue(key=key)
    db.session.commit()
    row = db.session.scalar(select(OutboxMail).filter_by(idempotency_key=key))
    row.sent_at = utcnow() - timedelta(days=days)
    db.session.commit()


def test_mails_sent_longer_ago_than_the_keeping_time_are_deleted(app, ctx):
    keep = app.config["MAIL_KEEP_DAYS"]
    _sent_days_ago("test:old", keep + 1)
    _sent_days_ago("test:recent", keep - 1)
    _queue(key="test:waiting")  # not sent: stays, however old
    db.session.commit()

    assert mail.purge_sent() == 1
    assert [row.idempotency_key for row in _outbox()] == ["test:recent", "test:waiting"]


def test_flask_mail_send_deletes_the_old_sent_mails(app, smtp):
    with app.app_context():
        _sent_days_ago("test:old", app.config["MAIL_KEEP_DAYS"] + 1)

    result = app.test_cli_runner().invoke(args=["mail", "send"])

    assert result.exit_code == 0, result.output
    assert "1 sent more than 30 days ago deleted" in result.output
    with app.app_context():
        assert _outbox() == []


def test_the_outbox_counts_only_unsent_mails_as_waiting(ctx, smtp):
    _queue(key="test:1")
    db.session.commit()
    _send()
    _queue(key="test:2")
    db.session.commit()

    assert mail.outbox_state() == mail.OutboxState(pending=1, given_up=0)
    assert db.session.scalar(select(func.count()).select_from(OutboxMail)) == 2


# Development: the web server delivers the outbox itself


@pytest.fixture
def sending_app(app):
    """The same database, with the web server's own sender on, as in development."""
    sending = make_app(app.config["SQLALCHEMY_DATABASE_URI"], MAIL_SEND_IN_PROCESS_SECONDS=0.05)
    yield sending
    mail.stop_sender(sending)


def _wait_until_sent(app, seconds: float = 10) -> OutboxMail | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with app.app_context():
            row = db.session.scalar(select(OutboxMail))
            if row is not None and row.sent_at is not None:
                return row
        time.sleep(0.05)
    return None


def test_in_development_the_server_prints_a_queued_mail_within_seconds(sending_app, capfd):
    with sending_app.app_context():
        _queue()
        db.session.commit()
    sending_app.test_client().get("/healthz")  # the first request starts the sender

    sent = _wait_until_sent(sending_app)

    assert sent is not None
    assert f"Subject: {SUBJECT}" in capfd.readouterr().out


def test_pages_answer_as_usual_while_the_sender_runs(sending_app):
    client = sending_app.test_client()
    assert [client.get("/healthz").status_code for _ in range(3)] == [200, 200, 200]


def test_commands_do_not_start_the_sender(sending_app):
    result = sending_app.test_cli_runner().invoke(args=["doctor"])
    assert (result.exit_code, mail.sender_running(sending_app)) == (0, False)


def test_the_sender_is_on_in_development_only():
    assert (
        DevelopmentConfig.MAIL_SEND_IN_PROCESS_SECONDS > 0,
        ProductionConfig.MAIL_SEND_IN_PROCESS_SECONDS,
        TestingConfig.MAIL_SEND_IN_PROCESS_SECONDS,
    ) == (True, 0, 0)
