"""Loading the demo data in seeds/ — idempotent: what exists already is left as it is.

Besides accounts, consultations and proposals, a seed file may hold supports (named
supporters, or a number of generated residents), comments with replies, answers, winners,
published results and initiatives with progress updates. Counters are recomputed from the
rows at the end, so they always equal what they count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

from participation.extensions import db
from participation.models import (
    AccountType,
    Answer,
    Category,
    Comment,
    CommentState,
    Consultation,
    Initiative,
    InitiativeStatus,
    InitiativeUpdate,
    Phase,
    Proposal,
    Role,
    Support,
    User,
    VotingMethod,
)
from participation.services import accounts

# Generated residents cannot log in: their hash matches no password.
UNUSABLE_PASSWORD_HASH = "!seeded-resident-without-password"


@dataclass
class SeedReport:
    created: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("users", "consultations", "proposals", "supports", "comments", "initiatives"), 0
        )
    )
    logins: list[tuple[str, str, str]] = field(default_factory=list)


def load_file(path: Path) -> SeedReport:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return load(data)


def load(data: dict) -> SeedReport:
    report = SeedReport()
    users: dict[str, User] = {}
    for entry in data.get("users", []):
        user = _user(entry, report)
        users[user.email] = user
        report.logins.append((entry["role"], user.email, entry["password"]))
    residents = _residents(data.get("generated_residents", 0), report)
    for entry in data.get("consultations", []):
        _consultation(entry, users, residents, report)
    db.session.flush()
    _recount()
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


def _residents(count: int, report: SeedReport) -> list[User]:
    """Residents who only appear as supporters, so the demo has realistic numbers."""
    residents = []
    for number in range(1, count + 1):
        email = f"einwohner{number}@example.org"
        user = accounts.find_by_email(email)
        if user is None:
            user = User(
                email=email,
                display_name=f"Einwohner·in {number}",
                password_hash=UNUSABLE_PASSWORD_HASH,
                role=Role.CITIZEN,
            )
            db.session.add(user)
            report.created["users"] += 1
        residents.append(user)
    db.session.flush()
    return residents


def _date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def _moment(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.combine(_date(value), datetime.min.time(), tzinfo=UTC)


def _consultation(
    entry: dict, users: dict[str, User], residents: list[User], report: SeedReport
) -> None:
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
            max_supports=entry.get("max_supports"),
            collecting_starts_on=_date(entry.get("collecting_starts_on")),
            voting_starts_on=_date(entry.get("voting_starts_on")),
            voting_ends_on=_date(entry.get("voting_ends_on")),
            results_on=_date(entry.get("results_on")),
            results_published_at=_moment(entry.get("results_published_on")),
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
        proposal = _proposal(consultation, proposal_entry, users, categories, report)
        _supports(proposal, proposal_entry, users, residents, report)
        for comment_entry in proposal_entry.get("comments", []):
            _comment(proposal, comment_entry, users, None, report)
        if "initiative" in proposal_entry:
            _initiative(proposal, proposal_entry["initiative"], users, report)


def _proposal(
    consultation: Consultation,
    entry: dict,
    users: dict[str, User],
    categories: dict[str, Category],
    report: SeedReport,
) -> Proposal:
    proposal = db.session.scalar(
        db.select(Proposal).where(
            Proposal.consultation_id == consultation.id, Proposal.title == entry["title"]
        )
    )
    if proposal is not None:
        return proposal
    proposal = Proposal(
        consultation=consultation,
        author=users[entry["author"].lower()],
        title=entry["title"],
        body=entry["body"],
        category=categories.get(entry.get("category")),
        estimated_cost=entry.get("estimated_cost"),
        answer=Answer(entry.get("answer", "none")),
        answer_text=entry.get("answer_text"),
        answered_at=_moment(entry.get("answered_on")),
        selected=bool(entry.get("selected", False)),
    )
    db.session.add(proposal)
    db.session.flush()
    report.created["proposals"] += 1
    return proposal


def _supports(
    proposal: Proposal,
    entry: dict,
    users: dict[str, User],
    residents: list[User],
    report: SeedReport,
) -> None:
    supporters = [users[email.lower()] for email in entry.get("supporters", [])]
    offset = entry.get("resident_offset", 0)
    supporters += residents[offset : offset + entry.get("resident_supporters", 0)]
    existing = set(
        db.session.scalars(db.select(Support.user_id).where(Support.proposal_id == proposal.id))
    )
    for user in supporters:
        if user.id not in existing:
            db.session.add(
                Support(proposal=proposal, consultation_id=proposal.consultation_id, user=user)
            )
            existing.add(user.id)
            report.created["supports"] += 1


def _comment(
    proposal: Proposal,
    entry: dict,
    users: dict[str, User],
    parent: Comment | None,
    report: SeedReport,
) -> None:
    author = users[entry["author"].lower()]
    comment = db.session.scalar(
        db.select(Comment).where(
            Comment.proposal_id == proposal.id,
            Comment.author_id == author.id,
            Comment.body == entry["body"],
        )
    )
    if comment is None:
        comment = Comment(proposal=proposal, author=author, parent=parent, body=entry["body"])
        db.session.add(comment)
        db.session.flush()
        report.created["comments"] += 1
    for reply in entry.get("replies", []):
        _comment(proposal, reply, users, comment, report)


def _initiative(proposal: Proposal, entry: dict, users: dict[str, User], report: SeedReport):
    initiative = db.session.scalar(
        db.select(Initiative).where(Initiative.proposal_id == proposal.id)
    )
    if initiative is None:
        initiative = Initiative(
            proposal=proposal,
            consultation_id=proposal.consultation_id,
            title=entry.get("title", proposal.title),
            allocated_budget=entry.get("allocated_budget"),
            responsible_body=entry["responsible_body"],
            status=InitiativeStatus(entry.get("status", "planned")),
            progress_percent=entry.get("progress_percent", 0),
        )
        db.session.add(initiative)
        db.session.flush()
        report.created["initiatives"] += 1
    known = {(update.happened_on, update.body) for update in initiative.updates}
    author = users.get(entry.get("updates_by", "").lower())
    for update in entry.get("updates", []):
        happened_on = _date(update["happened_on"])
        if (happened_on, update["body"]) in known:
            continue
        initiative.updates.append(
            InitiativeUpdate(
                author=author,
                happened_on=happened_on,
                body=update["body"],
                status=InitiativeStatus(update["status"]) if "status" in update else None,
                progress_percent=update.get("progress_percent"),
            )
        )


def _recount() -> None:
    """Set every counter to the rows it counts (the seed writes rows, not counters)."""
    supports = (
        db.select(db.func.count(Support.id))
        .where(Support.proposal_id == Proposal.id)
        .scalar_subquery()
    )
    comments = (
        db.select(db.func.count(Comment.id))
        .where(Comment.proposal_id == Proposal.id, Comment.state == CommentState.PUBLISHED)
        .scalar_subquery()
    )
    db.session.execute(db.update(Proposal).values(support_count=supports, comment_count=comments))
