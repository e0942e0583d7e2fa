"""Typed SQLAlchemy models, one module per aggregate."""

from participation.models.comment import Comment, CommentState
from participation.models.consultation import Category, Consultation, Phase, VotingMethod
from participation.models.initiative import Initiative, InitiativeStatus, InitiativeUpdate
from participation.models.moderation import AuditEvent, Report, ReportReason, ReportState
from participation.models.proposal import Answer, Proposal, ProposalState
from participation.models.user import AccountType, Role, User
from participation.models.vote import Support

__all__ = [
    "AccountType",
    "Answer",
    "AuditEvent",
    "Category",
    "Comment",
    "CommentState",
    "Consultation",
    "Initiative",
    "InitiativeStatus",
    "InitiativeUpdate",
    "Phase",
    "Proposal",
    "ProposalState",
    "Report",
    "ReportReason",
    "ReportState",
    "Role",
    "Support",
    "User",
    "VotingMethod",
]
