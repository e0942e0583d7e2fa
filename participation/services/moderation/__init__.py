"""Moderation: reports, hiding and restoring content, blocking accounts (`content`, whose names
the package offers) and the moderators' public answers to proposals (`answers`).

Other areas import this package, never its modules."""

from __future__ import annotations

from participation.services.moderation import (
    answers,
    content,
)
from participation.services.moderation.content import (
    MAX_HIDDEN_REASON_LENGTH,
    MAX_REPORT_TEXT_LENGTH,
    REASON_LABELS,
    ReportedSubject,
    block_user,
    check_reportable,
    dismiss_report,
    find_users,
    get_report,
    get_user,
    has_reported,
    hide_comment,
    hide_proposal,
    open_report_count,
    open_reports,
    open_reports_for,
    report,
    restore_comment,
    restore_proposal,
    unblock_user,
)

__all__ = [
    "MAX_HIDDEN_REASON_LENGTH",
    "MAX_REPORT_TEXT_LENGTH",
    "REASON_LABELS",
    "ReportedSubject",
    "answers",
    "block_user",
    "check_reportable",
    "content",
    "dismiss_report",
    "find_users",
    "get_report",
    "get_user",
    "has_reported",
    "hide_comment",
    "hide_proposal",
    "open_report_count",
    "open_reports",
    "open_reports_for",
    "report",
    "restore_comment",
    "restore_proposal",
    "unblock_user",
]
