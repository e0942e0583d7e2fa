"""What the citizen journeys (by keyboard, without JavaScript) share: a fresh account per run,
what the new citizen writes and which projects go on the ballot.

Each journey registers its own citizen, so it can run again on the same session server (and
after the other browser tests) without meeting a support or ballot left by an earlier run.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from flask import Flask
from flask_babel import force_locale, gettext
from sqlalchemy import select

from participation.extensions import db
from participation.models.mail import OutboxMail
from tests.browser import demo

PASSWORD = "a long journey password"

# Two cheap projects of the demo's budget consultation in voting (seeds/demo.yaml): together
# 20.000 € of the 250.000 € budget, and the ballot has no minimum number of projects.
BALLOT_PROJECTS = ("Sitzbänke am Flussufer", "Insektenhotels an Grundschulen")
BALLOT_TOTAL = "20.000\u00a0€"  # as Babel writes it, with a no-break space
# The same two as the ballot lists them: by category (Umwelt before Soziales).
BALLOT_PROJECTS_IN_PAGE_ORDER = ("Insektenhotels an Grundschulen", "Sitzbänke am Flussufer")


SUPPORT_BUTTON_NAME = "Diesen Vorschlag unterstützen"  # the same whether pressed or not


def in_german(app: Flask, msgid: str) -> str:
    """A message as the pages show it in German (the browser asks for de-DE)."""
    with app.test_request_context(), force_locale("de"):
        return gettext(msgid)


def supported_text(app: Flask) -> str:
    """The text beside a pressed support button."""
    return in_german(app, "You support this proposal.")


@dataclass(frozen=True)
class Citizen:
    email: str
    name: str


def fresh_citizen(journey: str) -> Citizen:
    """A new resident with an e-mail address no earlier run has used."""
    token = uuid.uuid4().hex[:10]
    return Citizen(email=f"{journey}-{token}@example.org", name=f"Journey {journey} {token}")


CONFIRMATION_LINK = re.compile(r"/account/confirm/[^\s\"'<>]+")


def confirmation_path(app: Flask, citizen: Citizen) -> str:
    """The link of the confirmation mail the new account was sent, as a path on the server.

    Opening it stands for the citizen clicking it in their mail program, which is no part of
    the journey under test.
    """
    with app.app_context():
        bodies = db.session.scalars(
            select(OutboxMail.text_body)
            .filter_by(recipient=citizen.email)
            .order_by(OutboxMail.id.desc())
        ).all()
    for body in bodies:
        if match := CONFIRMATION_LINK.search(body):
            return match.group()
    raise AssertionError(f"no confirmation link was mailed to {citizen.email}")


def confirm_email(page, app: Flask, citizen: Citizen) -> None:
    """Open the confirmation link: the login follows, with the address filled in."""
    page.goto(confirmation_path(app, citizen))
    confirmed = in_german(app, "Thank you! Your e-mail address is confirmed. You can log in now.")
    assert confirmed in flash(page).inner_text()
    assert page.get_by_label("E-Mail-Adresse").input_value() == citizen.email


def registered(page, app: Flask, citizen: Citizen) -> None:
    """The page after registering says where the link went, and nobody is logged in."""
    assert page.get_by_role("heading", level=1).inner_text() == in_german(
        app, "Look in your mailbox"
    )
    assert citizen.email in page.locator("main [role=status]").inner_text()
    assert page.get_by_role("button", name="Abmelden").count() == 0


@dataclass(frozen=True)
class ProposalText:
    title: str
    body: str
    category: str


def fresh_proposal(journey: str) -> ProposalText:
    token = uuid.uuid4().hex[:6]
    return ProposalText(
        title=f"Mehr Schatten am Marktplatz ({journey} {token})",
        body=(
            "Zehn Bäume in großen Kübeln rund um den Brunnen,\n"
            "damit man im Sommer dort sitzen kann."
        ),
        category="Grünflächen",
    )


def consultation_path(slug: str) -> str:
    return f"/consultations/{slug}"


COLLECTING = demo.COLLECTING
SUPPORT_VOTING = demo.SUPPORT_VOTING
BUDGET_VOTING = demo.BUDGET_VOTING
# The budget consultation in voting votes with the codes of the town's letters: a journey
# votes with a new code of its own.
new_voting_code = demo.new_voting_code


def header_link(page, name: str):
    """A link of the main navigation in the page header, by its German name."""
    return page.get_by_role("navigation", name="Hauptnavigation").get_by_role(
        "link", name=name, exact=True
    )


def flash(page):
    """The messages the app flashes after a redirect."""
    return page.locator(".flash-messages")


def support_count(text: str) -> int:
    """The number in "12 Unterstützungen" (or "1.234 …")."""
    match = re.search(r"\d[\d.,]*", text)
    assert match, f"no number in {text!r}"
    return int(re.sub(r"\D", "", match.group()))
