"""Writing audit events, in the caller's transaction."""

from __future__ import annotations

from participation.extensions import db
from participation.models import AuditEvent, Consultation, User


def record(
    *,
    actor: User | None,
    action: str,
    subject_type: str,
    subject_id: int | None,
    consultation: Consultation | None = None,
    from_value: str | None = None,
    to_value: str | None = None,
    details: dict | None = None,
) -> AuditEvent:
    event = AuditEvent(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        consultation=consultation,
        from_value=from_value,
        to_value=to_value,
        details=details,
    )
    db.session.add(event)
    return event


def record_for_consultation(
    consultation: Consultation,
    actor: User | None,
    action: str,
    *,
    from_value: str | None = None,
    to_value: str | None = None,
) -> AuditEvent:
    """An event about the consultation itself."""
    return record(
        actor=actor,
        action=action,
        subject_type="consultation",
        subject_id=consultation.id,
        consultation=consultation,
        from_value=from_value,
        to_value=to_value,
    )


def events_for(consultation: Consultation) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            db.select(AuditEvent)
            .where(AuditEvent.consultation_id == consultation.id)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        )
    )
