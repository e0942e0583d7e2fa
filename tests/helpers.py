"""Helpers for the service tests, which run inside the `ctx` fixture's application context."""

from __future__ import annotations

from participation.extensions import db
from participation.models import Proposal


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
