"""Reading what the platform mailed: the outbox rows for an address, the link in a mail, and a
real SMTP server on loopback (aiosmtpd) that keeps what it received.

Browser tests can confirm a freshly registered account like this, against their live app:

    link = confirmation_link(live_app, "new.person@example.org")
    page.goto(link)
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import select

from participation.extensions import db
from participation.models import OutboxMail
from participation.services import mail

LINK = re.compile(r"https?://\S+")


def mails_to(app: Flask, recipient: str, purpose: str | None = None) -> list[OutboxMail]:
    """The outbox rows for an address, oldest first, detached (their columns stay readable)."""
    with app.app_context():
        query = select(OutboxMail).where(OutboxMail.recipient == recipient.lower())
        if purpose is not None:
            query = query.where(OutboxMail.purpose == purpose)
        rows = list(db.session.scalars(query.order_by(OutboxMail.id)))
        db.session.expunge_all()
        return rows


def link_in(text: str) -> str:
    links = LINK.findall(text)
    assert len(links) == 1, f"expected one link in the mail, found {links}"
    return links[0]


def confirmation_link(app: Flask, recipient: str) -> str:
    """The link of the newest confirmation mail to the address."""
    rows = mails_to(app, recipient, mail.CONFIRM_EMAIL)
    assert rows, f"no confirmation mail for {recipient} in the outbox"
    return link_in(rows[-1].text_body)


def reset_link(app: Flask, recipient: str) -> str:
    """The link of the newest password-reset mail to the address."""
    rows = mails_to(app, recipient, mail.RESET_PASSWORD)
    assert rows, f"no reset mail for {recipient} in the outbox"
    return link_in(rows[-1].text_body)


def path_of(link: str) -> str:
    """The link without scheme and host, for the test client."""
    return re.sub(r"^https?://[^/]+", "", link)


@dataclass
class Delivery:
    sender: str
    recipients: list[str]
    message: EmailMessage


@dataclass
class SmtpHandler:
    """Keeps every mail; while `refusing` it answers every recipient with a permanent error."""

    received: list[Delivery] = field(default_factory=list)
    refusing: bool = False

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refusing:
            return "550 5.1.1 Mailbox unavailable (the test server refuses)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        self.received.append(Delivery(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpServer:
    """An SMTP server on 127.0.0.1 for one test."""

    def __init__(self) -> None:
        self.handler = SmtpHandler()
        self.port = free_port()
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()

    @property
    def received(self) -> list[Delivery]:
        return self.handler.received

    def settings(self) -> dict:
        """App settings that send through this server."""
        return {
            "MAIL_BACKEND": "smtp",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": self.port,
            "MAIL_USE_TLS": False,
            "MAIL_USE_SSL": False,
            "MAIL_USERNAME": "",
            "MAIL_PASSWORD": "",
            "MAIL_TIMEOUT": 10,
        }
