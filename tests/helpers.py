"""Helpers for the service tests, which run inside the `ctx` fixture's application context
(but for `at_the_same_moment`, whose threads open their own)."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import Flask

from participation.extensions import db
from participation.models import Notification, NotificationKind, Proposal
from participation.models.base import utcnow


def attached(model, instance):
    """The factory's detached object, loaded in the current session."""
    return db.session.get(model, instance.id)


def selected_ids(consultation) -> set[int]:
    """The ids of the consultation's proposals marked as winners or funded, read afresh."""
    return set(
        db.session.scalars(
            db.select(Proposal.id).where(
                Proposal.consultation_id == consultation.id, Proposal.selected.is_(True)
            )
        )
    )


def add_comment_notifications(
    recipient_id: int, proposal: Proposal, comment_id: int, count: int
) -> list[int]:
    """`count` notifications of the comment for the recipient, a minute apart from a day ago on,
    oldest first; commits and returns their ids."""
    start = utcnow() - timedelta(days=1)
    rows = [
        Notification(
            recipient_id=recipient_id,
            kind=NotificationKind.COMMENT,
            consultation_id=proposal.consultation_id,
            proposal_id=proposal.id,
            comment_id=comment_id,
            created_at=start + timedelta(minutes=minute),
        )
        for minute in range(count)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def at_the_same_moment(
    app: Flask, load: Callable[..., tuple], act: Callable[..., object], attempts: list[tuple]
) -> list[object]:
    """Run each attempt in its own thread, app context, session and connection: `load(*attempt)`
    reads what it needs, then one barrier releases all threads into `act(*loaded)`. Returns what
    each act returned or the error each attempt raised, in the order of the attempts."""
    barrier = threading.Barrier(len(attempts))

    def attempt(arguments: tuple) -> object:
        with app.app_context():
            try:
                loaded = load(*arguments)
                barrier.wait(timeout=30)
                return act(*loaded)
            except Exception as error:  # the test looks at every outcome
                db.session.rollback()
                return error
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(attempts)) as pool:
        futures = [pool.submit(attempt, arguments) for arguments in attempts]
        return [future.result() for future in futures]


def without_csrf_tokens(html: str) -> str:
    """A page with its CSRF tokens blanked out: they are signed with the time, so two
    answers a second apart differ in them alone."""
    return re.sub(r'name="csrf_token" value="[^"]+"', "", html)
