"""Loading the demo data in seeds/ — idempotent: what exists already is left as it is."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml

from participation.extensions import db
from participation.models import (
    AccountType,
    Category,
    Consultation,
    Phase,
    Proposal,
    Role,
    User,
    VotingMethod,
)
from participation.services import accounts


@dataclass
class SeedReport:
    created: dict[str, int] = field(
        default_factory=lambda: {"users": 0, "consultations": 0, "proposals": 0}
    )
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def load_file(path: Path) -> SeedReport:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return load(data)


def load(data: dict) -> SeedReport:
    report = SeedReport()
    users = {}
    for entry in data.get("users", []):
        user = _user(entry, report)
        users[user.email] = user
        report.logins.append((entry["role"], user.email, entry["password"]))
    for entry in data.get("consultations", []):
        _consultation(entry, users, report)
    db.session.commit()
    return report


def _user(entry: dict, report: SeedReport) -> User:
    email = entry["email"].lower()
    user = accounts.find_by_email(email)
    if user is None:
        user = User(
            email=email,
            display_name=entry["display_name"],
            password_hash=accounts.hash_password(entry["password"]),
            role=Role(entry.get("role", "citizen")),
            account_type=AccountType(entry.get("account_type", "person")),
            locale=entry.get("locale"),
        )
        db.session.add(user)
        db.session.flush()
        report.created["users"] += 1
    return user


def _date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _consultation(entry: dict, users: dict[str, User], report: SeedReport) -> None:
    consultation = db.session.scalar(
        db.select(Consultation).where(Consultation.slug == entry["slug"])
    )
    if consultation is None:
        consultation = Consultation(
            slug=entry["slug"],
            title=entry["title"],
            summary=entry.get("summary", ""),
            description=entry.get("description", ""),
            phase=Phase(entry.get("phase", "draft")),
            voting_method=VotingMethod(entry.get("voting_method", "support")),
            budget=entry.get("budget"),
            currency=entry.get("currency", "EUR"),
            collecting_starts_on=_date(entry.get("collecting_starts_on")),
            voting_starts_on=_date(entry.get("voting_starts_on")),
            voting_ends_on=_date(entry.get("voting_ends_on")),
            results_on=_date(entry.get("results_on")),
            created_by=users.get(entry.get("created_by", "").lower()),
            categories=[
                Category(name=name, position=position)
                for position, name in enumerate(entry.get("categories", []))
            ],
        )
        db.session.add(consultation)
        db.session.flush()
        report.created["consultations"] += 1
    categories = {category.name: category for category in consultation.categories}
    for proposal_entry in entry.get("proposals", []):
        exists = db.session.scalar(
            db.select(Proposal.id).where(
                Proposal.consultation_id == consultation.id,
                Proposal.title == proposal_entry["title"],
            )
        )
        if exists:
            continue
        db.session.add(
            Proposal(
                consultation=consultation,
                author=users[proposal_entry["author"].lower()],
                title=proposal_entry["title"],
                body=proposal_entry["body"],
                category=categories.get(proposal_entry.get("category")),
                estimated_cost=proposal_entry.get("estimated_cost"),
            )
        )
        report.created["proposals"] += 1
