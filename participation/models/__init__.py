"""Typed SQLAlchemy models, one module per aggregate."""

from participation.models.account import AccountType, LoginSession, Role, User
from participation.models.ballot import Ballot, BallotChannel, BallotChoice, PaperEntry
from participation.models.comment import Comment, CommentState
from participation.models.consultation import (
    Category,
    Consultation,
    Phase,
    TallyRule,
    VotingMethod,
)
from participation.models.electorate import Electorate, RegisterEntry, VotingCode, VotingCodeState
from participation.models.follow import Follow
from participation.models.initiative import Initiative, InitiativeStatus, InitiativeUpdate
from participation.models.mail import OutboxMail
from participation.models.moderation import AuditEvent, Report, ReportReason, ReportState
from participation.models.notification import (
    EmailFrequency,
    Notification,
    NotificationKind,
    NotificationSettings,
)
from participation.models.proposal import Answer, Proposal, ProposalState
from participation.models.tally import Override, Tally, TallyEntry
from participation.models.vote import Support

__all__ = [
    "AccountType",
    "Answer",
    "AuditEvent",
    "Ballot",
    "BallotChannel",
    "BallotChoice",
    "Category",
    "Comment",
    "CommentState",
    "Consultation",
    "Electorate",
    "EmailFrequency",
    "Follow",
    "Initiative",
    "InitiativeStatus",
    "InitiativeUpdate",
    "LoginSession",
    "Notification",
    "NotificationKind",
    "NotificationSettings",
    "OutboxMail",
    "Override",
    "PaperEntry",
    "Phase",
    "Proposal",
    "ProposalState",
    "RegisterEntry",
    "Report",
    "ReportReason",
    "ReportState",
    "Role",
    "Support",
    "Tally",
    "TallyEntry",
    "TallyRule",
    "User",
    "VotingCode",
    "VotingCodeState",
    "VotingMethod",
]
