"""Loading the demo data in seeds/ — idempotent: what exists already is left as it is.

Besides accounts, consultations and proposals, a seed file may hold supports (named
supporters, or a number of generated residents), comments with replies, answers, winners,
published results and initiatives with progress updates. Counters are recomputed from the
rows at the end, so they always equal what they count.

Budget consultations may hold ballots (named voters, or groups of generated residents who
approve the same projects) and a `tally`: the ballots are then counted by
services.budgeting.results, exactly as a moderator would, overrides applied with their reasons,
and every funded project promoted to an initiative (services.initiatives).

A budget consultation whose electorate is voting codes holds the codes of a few letters in
their printed form (`voting_codes`, stored by their keyed hash like any other) and ballots of
residents who voted with a letter's code nobody knows (`residents` per ballot entry); the
printed codes nobody has used on paper are offered to try (SeedReport.voting_codes).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    AccountType,
    Answer,
    Ballot,
    BallotChannel,
    BallotChoice,
    Category,
    Comment,
    Consultation,
    Electorate,
    Initiative,
    InitiativeStatus,
    InitiativeUpdate,
    PaperEntry,
    Phase,
    Proposal,
    Role,
    Support,
    TallyRule,
    User,
    VotingCode,
    VotingMethod,
)
from participation.models.base import utcnow
from participation.services import accounts, budgeting, follows, initiatives

log = logging.getLogger(__name__)

# Generated residents cannot log in: their hash matches no password.
UNUSABLE_PASSWORD_HASH = "!seeded-resident-without-password"


@dataclass
class SeedReport:
    created: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            (
                "users",
                "consultations",
                "proposals",
                "supports",
                "comments",
                "ballots",
                "voting_codes",
                "register_entries",
                "initiatives",
            ),
            0,
        )
    )
    logins: list[tuple[str, str, str]] = field(default_factory=list)
    # (consultation slug, printed code) of the seeded codes that can vote online.
    voting_codes: list[tuple[str, str]] = field(default_factory=list)
    # (consultation title, identifier, date of birth) of the seeded voter-register entries.
    register_entries: list[tuple[str, str, str]] = field(default_factory=list)


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
    operation(log, "seed.loaded", actor=None, subject=None, **report.created)
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
            email_confirmed_at=utcnow(),  # demo logins take part at once
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
                email_confirmed_at=utcnow(),
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
            tally_rule=TallyRule(entry.get("tally_rule", "greedy")),
            min_approvals=entry.get("min_approvals"),
            ballot_min_projects=entry.get("ballot_min_projects"),
            ballot_max_projects=entry.get("ballot_max_projects"),
            ballot_max_share=entry.get("ballot_max_share"),
            electorate=Electorate(entry.get("electorate", "open")),
            min_voting_age=entry.get("min_voting_age"),
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
    if entry.get("voting_codes"):
        _voting_codes(consultation, entry["voting_codes"], report)
    if entry.get("voter_register"):
        _voter_register(consultation, entry["voter_register"], report)
    if entry.get("ballots") and consultation.uses_voting_codes:
        _code_ballots(consultation, entry["ballots"], report)
    elif entry.get("ballots"):
        _ballots(consultation, entry["ballots"], users, residents, report)
    if "paper_ballots" in entry:
        _paper_ballots(consultation, entry["paper_ballots"], users, report)
    if "tally" in entry:
        _tally(consultation, entry["tally"], users, report)


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
    follows.follow_own(proposal)
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


def _ballots(
    consultation: Consultation,
    entries: list[dict],
    users: dict[str, User],
    residents: list[User],
    report: SeedReport,
) -> None:
    """Each entry is one ballot approving `projects` (titles), cast by the named `voters` and
    by the next `residents` generated residents; who has a ballot already keeps it."""
    projects = {
        proposal.title: proposal
        for proposal in db.session.scalars(
            db.select(Proposal).where(Proposal.consultation_id == consultation.id)
        )
    }
    voted = set(
        db.session.scalars(
            db.select(Ballot.user_id).where(Ballot.consultation_id == consultation.id)
        )
    )
    next_resident = 0
    for entry in entries:
        chosen = [projects[title] for title in entry.get("projects", [])]
        cost = sum(proposal.estimated_cost for proposal in chosen)
        if consultation.ballot_limit is not None and cost > consultation.ballot_limit:
            raise ValueError(f"A seeded ballot of {consultation.slug} exceeds the budget: {cost}.")
        voters = [users[email.lower()] for email in entry.get("voters", [])]
        count = entry.get("residents", 0)
        voters += residents[next_resident : next_resident + count]
        next_resident += count
        for voter in voters:
            if voter.id in voted:
                continue
            db.session.add(
                Ballot(
                    consultation_id=consultation.id,
                    user_id=voter.id,
                    code=budgeting.ballots.generate_code(),
                    choices=[BallotChoice(proposal_id=proposal.id) for proposal in chosen],
                )
            )
            voted.add(voter.id)
            report.created["ballots"] += 1
    db.session.flush()


def _voting_codes(consultation: Consultation, printed: list[str], report: SeedReport) -> None:
    """The letters' codes in their printed form, stored by their keyed hash only."""
    for text in printed:
        code_hash = budgeting.electorate.code_hash(budgeting.electorate.parse_code(text))
        code = db.session.scalar(db.select(VotingCode).where(VotingCode.code_hash == code_hash))
        if code is None:
            code = VotingCode(consultation_id=consultation.id, code_hash=code_hash)
            db.session.add(code)
            db.session.flush()
            report.created["voting_codes"] += 1
        used_on_paper = db.session.scalar(
            db.select(Ballot.id).where(
                Ballot.voting_code_id == code.id, Ballot.channel == BallotChannel.PAPER
            )
        )
        if not code.is_revoked and used_on_paper is None:
            report.voting_codes.append((consultation.slug, text))


def _code_ballots(consultation: Consultation, entries: list[dict], report: SeedReport) -> None:
    """Each entry is `residents` ballots approving `projects`, each cast with the code of a
    letter whose printed form nobody knows. Once the consultation has code ballots, none are
    added (loading twice adds nothing)."""
    if any(entry.get("voters") for entry in entries):
        raise ValueError(f"{consultation.slug} votes with codes: its ballots have no voters.")
    has_ballots = db.session.scalar(
        db.select(Ballot.id).where(
            Ballot.consultation_id == consultation.id, Ballot.voting_code_id.is_not(None)
        )
    )
    if has_ballots is not None:
        return
    projects = {
        proposal.title: proposal
        for proposal in db.session.scalars(
            db.select(Proposal).where(Proposal.consultation_id == consultation.id)
        )
    }
    for entry in entries:
        chosen = [projects[title] for title in entry.get("projects", [])]
        cost = sum(proposal.estimated_cost for proposal in chosen)
        if consultation.ballot_limit is not None and cost > consultation.ballot_limit:
            raise ValueError(f"A seeded ballot of {consultation.slug} exceeds the budget: {cost}.")
        for _number in range(entry.get("residents", 0)):
            random = budgeting.electorate.parse_code(budgeting.electorate.generate_code())
            code = VotingCode(
                consultation_id=consultation.id,
                code_hash=budgeting.electorate.code_hash(random),
            )
            db.session.add(code)
            db.session.flush()
            report.created["voting_codes"] += 1
            db.session.add(
                Ballot(
                    consultation_id=consultation.id,
                    voting_code_id=code.id,
                    code=budgeting.ballots.generate_code(),
                    choices=[BallotChoice(proposal_id=proposal.id) for proposal in chosen],
                )
            )
            report.created["ballots"] += 1
    db.session.flush()


def _paper_ballots(
    consultation: Consultation, entry: dict, users: dict[str, User], report: SeedReport
) -> None:
    """Paper sheets entered twice, by the two staff members of `entered_by`, through the service
    as the staff do (while the consultation is evaluating, before its results are published):
    each group of `sheets` is `count` sheets of one `batch`, numbered from 1, approving
    `projects`. A consultation that has paper entries already keeps them."""
    exists = db.session.scalar(
        db.select(db.func.count())
        .select_from(PaperEntry)
        .where(PaperEntry.consultation_id == consultation.id)
    )
    if exists:
        return
    clerks = [users[email.lower()] for email in entry["entered_by"]]
    projects = {
        proposal.title: proposal.id
        for proposal in db.session.scalars(
            db.select(Proposal).where(Proposal.consultation_id == consultation.id)
        )
    }
    phase, published = consultation.phase, consultation.results_published_at
    consultation.phase, consultation.results_published_at = Phase.EVALUATING, None
    db.session.flush()
    for group in entry["sheets"]:
        chosen = [projects[title] for title in group["projects"]]
        for number in range(1, group["count"] + 1):
            for clerk in clerks:
                budgeting.paper.enter(
                    consultation, clerk, chosen, batch=group["batch"], sheet=number
                )
            report.created["ballots"] += 1
    consultation.phase, consultation.results_published_at = phase, published
    db.session.flush()


def _voter_register(consultation: Consultation, entries: list[dict], report: SeedReport) -> None:
    """The town's register as its file would give it, imported as the moderators do (keyed
    hashes only; loading twice adds nothing); the entries are offered to try."""
    header = ["identifier", "date_of_birth", "district"]
    rows = [
        [entry["identifier"], str(entry["date_of_birth"]), entry.get("district", "")]
        for entry in entries
    ]
    imported = budgeting.electorate.import_register(consultation, [header, *rows])
    report.created["register_entries"] += imported.added
    for identifier, born, _district in rows:
        report.register_entries.append((consultation.title, identifier, born))


def voting_codes_to_try(report: SeedReport, per_consultation: int = 2) -> list[tuple[str, str]]:
    """Two seeded codes per consultation that votes with codes now, as (title, printed code)."""
    titles = dict(
        db.session.execute(
            db.select(Consultation.slug, Consultation.title).where(
                Consultation.phase == Phase.VOTING,
                Consultation.voting_method == VotingMethod.BUDGET,
                Consultation.electorate == Electorate.VOTING_CODES,
            )
        ).all()
    )
    offered: dict[str, list[str]] = {}
    for slug, code in report.voting_codes:
        if slug in titles and len(offered.setdefault(slug, [])) < per_consultation:
            offered[slug].append(code)
    return [(titles[slug], code) for slug, codes in offered.items() for code in codes]


def _tally(consultation: Consultation, entry: dict, users: dict[str, User], report: SeedReport):
    """Count the ballots the way the moderators do: while evaluating, through the service;
    then overrides with their reasons, and the funded projects promoted to initiatives."""
    moderator = users[entry["computed_by"].lower()]
    if budgeting.results.tally_of(consultation) is None:
        phase = consultation.phase
        consultation.phase = Phase.EVALUATING
        db.session.flush()
        record = budgeting.results.compute(consultation, moderator)
        if "computed_on" in entry:  # the demo's result was counted in the past
            record.computed_at = _moment(entry["computed_on"])
        projects = {
            proposal.title: proposal
            for proposal in db.session.scalars(
                db.select(Proposal).where(Proposal.consultation_id == consultation.id)
            )
        }
        for change in entry.get("overrides", []):
            budgeting.results.override(
                consultation,
                moderator,
                projects[change["project"]],
                bool(change["fund"]),
                change["reason"],
            )
        consultation.phase = phase
        db.session.flush()
    if consultation.is_closed and "initiatives_by" in entry:
        created = initiatives.promote_funded(consultation, moderator, entry["initiatives_by"])
        report.created["initiatives"] += len(created)


def _recount() -> None:
    """Set every counter to the rows it counts (the seed writes rows, not counters)."""
    supports = (
        db.select(db.func.count(Support.id))
        .where(Support.proposal_id == Proposal.id)
        .scalar_subquery()
    )
    comments = (
        db.select(db.func.count(Comment.id))
        .where(Comment.proposal_id == Proposal.id, Comment.is_published)
        .scalar_subquery()
    )
    db.session.execute(db.update(Proposal).values(support_count=supports, comment_count=comments))


def ballot_codes_to_try() -> list[tuple[str, str]]:
    """For each budget consultation with published results, its title and one ballot code (the
    first in code order), so that a newcomer can try finding a ballot by its code."""
    first_code = db.func.min(budgeting.results.code_order())
    rows = db.session.execute(
        db.select(Consultation.title, first_code)
        .join(Ballot, Ballot.consultation_id == Consultation.id)
        .where(
            Consultation.voting_method == VotingMethod.BUDGET,
            Consultation.results_published_at.is_not(None),
        )
        .group_by(Consultation.id, Consultation.title)
        .order_by(Consultation.id)
    )
    return [(title, code) for title, code in rows]
