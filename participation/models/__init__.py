"""Typed SQLAlchemy models, one module per aggregate."""

from participation.models.consultation import Category, Consultation, Phase, VotingMethod
from participation.models.moderation import AuditEvent
from participation.models.proposal import Proposal, ProposalState
from participation.models.user import AccountType, Role, User

__all__ = [
    "AccountType",
    "AuditEvent",
    "Category",
    "Consultation",
    "Phase",
    "Proposal",
    "ProposalState",
    "Role",
    "User",
    "VotingMethod",
]
