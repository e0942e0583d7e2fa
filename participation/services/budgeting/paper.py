"""Paper ballots: residents without internet vote on paper, and staff enter each sheet twice.

A sheet is named by the voting code printed on it (electorate VOTING_CODES, sheet key
`code:<voting code id>`) or, in an open electorate, by its batch and number (`batch:<batch>:<n>`).
Each staff member enters a sheet once (a unique constraint); a sheet counts only when a second,
different staff member entered the same choices: then one Ballot (channel PAPER, no account,
the voting code if any, a random ballot code) is stored and both entries point at it. Entries
that differ are a mismatch, listed for a moderator, who discards the wrong one; one person's
entry never counts alone. A voting code used online cannot be entered on paper, and a code
with a paper ballot is used up (the Ballot row names it, and the database allows one).

All entries of a consultation are serialised by a lock on the consultation's row (on SQLite by
its one writer), so two clerks entering the same sheet at the same moment store one ballot.
A voter register electorate takes no paper ballots here: a register entry is claimed by an
account, which a paper sheet has not. The choices are secret: neither audited nor logged.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from participation import formatting
from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Consultation,
    Electorate,
    PaperEntry,
    Proposal,
    User,
    VotingCode,
)
from participation.models.base import utcnow
from participation.services import audit
from participation.services.budgeting import ballots, electorate, results
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

log = logging.getLogger(__name__)

BATCH_MAX_LENGTH = 40
SHEET_MAX = 1_000_000

STAFF_ONLY = _l("Only moderators can enter paper ballots.")
NOT_ACCEPTING = _l(
    "Paper ballots can be entered only while a budget consultation is voting or being "
    "evaluated, before its results are published."
)
REGISTER_REFUSED = _l(
    "This consultation's electorate is the voter register, whose entries are claimed by "
    "accounts: paper ballots cannot be entered for it."
)
SAME_CLERK = _l(
    "You have already entered this sheet. The second entry must be made by another staff member."
)
ALREADY_COUNTED = _l("This sheet has already been entered twice and counted.")
CODE_ON_PAPER = _l(
    "This code has already been used on paper: the paper ballot with it has been counted."
)
OPEN_MISMATCH = _l(
    "The two entries of this sheet differ. A moderator must first discard the wrong one on "
    "this page; then the sheet can be entered again."
)


def _online_refusal(ballot: Ballot) -> str:
    return _(
        "This code has already voted online on %(date)s: the paper ballot does not count.",
        date=formatting.datetime(ballot.submitted_at),
    )


def _is_staff(user: User | None) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_moderator)


def can_enter(consultation: Consultation, user: User | None) -> bool:
    """Whether the paper page offers the entry form to this user now."""
    return (
        _is_staff(user)
        and consultation.accepts_paper_ballots
        and consultation.electorate is not Electorate.REGISTER
    )


def get_consultation(slug: str, viewer: User | None) -> Consultation:
    """The budget consultation whose paper ballots a moderator manages, otherwise NotFound or
    NotAllowed."""
    consultation = ballots.get_consultation(slug, viewer)
    if not _is_staff(viewer):
        raise NotAllowed(STAFF_ONLY)
    return consultation


def uses_codes(consultation: Consultation) -> bool:
    return consultation.electorate is Electorate.VOTING_CODES


def takes_paper(consultation: Consultation) -> bool:
    """Whether this consultation's electorate allows paper ballots at all."""
    return consultation.electorate is not Electorate.REGISTER


# Naming the sheet


@dataclass(frozen=True)
class Sheet:
    key: str
    batch: str | None = None
    number: int | None = None
    voting_code: VotingCode | None = None


def sheet_label(entry: PaperEntry) -> str:
    """How a sheet is named on the page: by its batch and number, or by its voting code's
    number (never the code itself, which only the sheet holds)."""
    if entry.batch is not None:
        return _("Batch %(batch)s, sheet %(sheet)s", batch=entry.batch, sheet=entry.sheet)
    return _("Sheet with voting code no. %(id)s", id=entry.voting_code_id)


def _coded_sheet(consultation: Consultation, code_text: str | None) -> Sheet:
    if not (code_text or "").strip():
        raise ValidationFailed({"code": _l("Please type the voting code printed on the sheet.")})
    try:
        code = electorate.find_code(consultation, code_text)
    except ValidationFailed:
        raise
    except DomainError as error:  # no such code, another consultation's, revoked
        raise ValidationFailed({"code": error.message}) from None
    return Sheet(key=f"code:{code.id}", voting_code=code)


def _batch_sheet(batch: str | None, number: int | None) -> Sheet:
    errors = {}
    batch = (batch or "").strip()
    if not batch:
        errors["batch"] = _l("Please give the batch the sheet belongs to.")
    elif len(batch) > BATCH_MAX_LENGTH:
        errors["batch"] = _l("A batch has at most %(num)d characters.", num=BATCH_MAX_LENGTH)
    if number is None:
        errors["sheet"] = _l("Please give the sheet's number within its batch.")
    elif not 1 <= number <= SHEET_MAX:
        errors["sheet"] = _l(
            "A sheet's number is a whole number from 1 to %(max)s.",
            max=formatting.number(SHEET_MAX),
        )
    if errors:
        raise ValidationFailed(errors)
    return Sheet(key=f"batch:{batch}:{number}", batch=batch, number=number)


def _sheet(
    consultation: Consultation, code_text: str | None, batch: str | None, number: int | None
) -> Sheet:
    if consultation.electorate is Electorate.REGISTER:
        raise DomainError(REGISTER_REFUSED)
    if uses_codes(consultation):
        return _coded_sheet(consultation, code_text)
    return _batch_sheet(batch, number)


def canonical(proposal_ids: Iterable[int]) -> str:
    """Choices as stored in `PaperEntry.choice_ids`: ascending ids joined by commas."""
    return ",".join(str(proposal_id) for proposal_id in sorted(set(proposal_ids)))


def chosen_of(entry: PaperEntry) -> list[int]:
    return [int(part) for part in entry.choice_ids.split(",") if part]


# Entering a sheet


@dataclass(frozen=True)
class EntryOutcome:
    """What an entry did: waits for its second entry, made the sheet count, or differs from
    the other entry of its sheet."""

    entry_id: int
    sheet: str
    ballot_id: int | None
    mismatch: bool

    @property
    def counted(self) -> bool:
        return self.ballot_id is not None

    @property
    def waiting(self) -> bool:
        return not self.counted and not self.mismatch


def _lock(consultation: Consultation) -> None:
    """Serialise the paper entries of the consultation until the end of the transaction, and
    read its phase again: PostgreSQL locks its row (a phase change waits), SQLite takes its
    one write lock with a write that changes nothing."""
    if db.session.get_bind().dialect.name == "sqlite":
        db.session.execute(
            update(Consultation)
            .where(Consultation.id == consultation.id)
            .values(updated_at=Consultation.updated_at)
            .execution_options(synchronize_session=False)
        )
    db.session.refresh(consultation, with_for_update={"key_share": True})


def _require_open(consultation: Consultation) -> None:
    if not consultation.accepts_paper_ballots:
        raise DomainError(NOT_ACCEPTING)


def _entries_of(consultation: Consultation, key: str) -> list[PaperEntry]:
    return list(
        db.session.scalars(
            select(PaperEntry)
            .where(PaperEntry.consultation_id == consultation.id, PaperEntry.sheet_key == key)
            .order_by(PaperEntry.id)
            .execution_options(populate_existing=True)
        )
    )


def _store(consultation: Consultation, clerk: User, sheet: Sheet, chosen: tuple[int, ...]):
    _lock(consultation)
    _require_open(consultation)
    if sheet.voting_code is not None:
        used = db.session.scalar(
            select(Ballot).where(Ballot.voting_code_id == sheet.voting_code.id)
        )
        if used is not None:
            raise DomainError(CODE_ON_PAPER if used.is_on_paper else _online_refusal(used))
    entries = _entries_of(consultation, sheet.key)
    if any(entry.ballot_id is not None for entry in entries):
        raise DomainError(ALREADY_COUNTED)
    if any(entry.entered_by_id == clerk.id for entry in entries):
        raise DomainError(SAME_CLERK)
    if len(entries) > 1:
        raise DomainError(OPEN_MISMATCH)
    entry = PaperEntry(
        consultation_id=consultation.id,
        sheet_key=sheet.key,
        batch=sheet.batch,
        sheet=sheet.number,
        voting_code_id=sheet.voting_code.id if sheet.voting_code else None,
        choice_ids=canonical(chosen),
        entered_by_id=clerk.id,
    )
    db.session.add(entry)
    db.session.flush()  # the same clerk at the same moment: IntegrityError, see enter
    ballot = None
    if entries and entries[0].choice_ids == entry.choice_ids:
        ballot = Ballot(
            consultation_id=consultation.id,
            user_id=None,
            code=ballots.generate_code(),
            voting_code_id=entry.voting_code_id,
            channel=BallotChannel.PAPER,
            submitted_at=utcnow(),
        )
        db.session.add(ballot)
        db.session.flush()  # the code voted online at the same moment: IntegrityError
        db.session.execute(
            insert(BallotChoice),
            [{"ballot_id": ballot.id, "proposal_id": project_id} for project_id in chosen],
        )
        entries[0].ballot_id = ballot.id
        entry.ballot_id = ballot.id
    outcome = EntryOutcome(
        entry_id=entry.id,
        sheet=sheet_label(entry),
        ballot_id=ballot.id if ballot else None,
        mismatch=bool(entries) and ballot is None,
    )
    state = "counted" if outcome.counted else "mismatch" if outcome.mismatch else "waiting"
    audit.record(
        actor=clerk,
        action="paper.entered",
        subject_type="paper_entry",
        subject_id=entry.id,
        consultation=consultation,
        to_value=state,
        details={"sheet": sheet.key, "ballot_id": outcome.ballot_id},
    )
    db.session.flush()
    return outcome


def enter(
    consultation: Consultation,
    clerk: User | None,
    choices: Iterable[int | str],
    *,
    code_text: str | None = None,
    batch: str | None = None,
    sheet: int | None = None,
) -> EntryOutcome:
    """Store one staff member's entry of one paper sheet; the sheet counts once a second staff
    member entered the same choices. Refused, with nothing stored: not staff, not a time for
    paper ballots, a bad sheet name or code (ValidationFailed on `code`, `batch`, `sheet`),
    choices a ballot may not hold (ballots.BallotRefused), a code already used online or on
    paper, a sheet already counted or in dispute, the same clerk twice (DomainError)."""
    wanted = list(choices)
    for attempt in range(2):
        try:
            if not _is_staff(clerk):
                raise NotAllowed(STAFF_ONLY)
            _require_open(consultation)
            named = _sheet(consultation, code_text, batch, sheet)
            checked = ballots.summary(consultation, wanted)
            if not checked.ok:
                raise ballots.BallotRefused(checked.errors)
            outcome = _store(consultation, clerk, named, checked.chosen)
            db.session.commit()
        except DomainError:
            db.session.rollback()
            raise
        except IntegrityError:
            # Another entry of this clerk, or a vote with this code, was stored at the same
            # moment: once more, which now refuses it with the reason.
            db.session.rollback()
            if attempt:
                raise DomainError(
                    _l("This sheet was changed at the same moment. Please try again.")
                ) from None
            continue
        operation(
            log,
            "paper.entered",
            actor=clerk,
            subject=consultation,
            entry=outcome.entry_id,
            ballot=outcome.ballot_id,
            mismatch=outcome.mismatch,
        )
        return outcome
    raise AssertionError("unreachable")


# Resolving a mismatch


def discard(consultation: Consultation, moderator: User | None, entry_id: int) -> None:
    """Discard a staff member's entry that has not counted (the wrong one of a mismatch): the
    sheet can then be entered again by another staff member. Audited."""
    try:
        if not _is_staff(moderator):
            raise NotAllowed(_l("Only moderators can discard an entry of a paper ballot."))
        _lock(consultation)
        _require_open(consultation)
        entry = db.session.get(PaperEntry, entry_id, populate_existing=True)
        if entry is None or entry.consultation_id != consultation.id:
            raise NotFound(_l("There is no such entry of a paper ballot."))
        if entry.ballot_id is not None:
            raise DomainError(
                _l("This entry agreed with another one and has been counted: it stays.")
            )
        key, clerk_id = entry.sheet_key, entry.entered_by_id
        audit.record(
            actor=moderator,
            action="paper.discarded",
            subject_type="paper_entry",
            subject_id=entry.id,
            consultation=consultation,
            details={"sheet": key, "entered_by_id": clerk_id},
        )
        db.session.delete(entry)
        db.session.commit()
    except DomainError:
        db.session.rollback()
        raise
    operation(log, "paper.discarded", actor=moderator, subject=consultation, entry=entry_id)


# What the paper page shows


@dataclass(frozen=True)
class ShownEntry:
    entry: PaperEntry
    projects: list[Proposal]


@dataclass(frozen=True)
class Mismatch:
    sheet: str
    entries: list[ShownEntry]


@dataclass(frozen=True)
class Overview:
    entries: int
    counted: int  # sheets counted: the paper ballots
    waiting: int  # sheets with one entry, waiting for the second
    mismatches: list[Mismatch]


def overview(consultation: Consultation) -> Overview:
    rows = list(
        db.session.scalars(
            select(PaperEntry)
            .where(PaperEntry.consultation_id == consultation.id)
            .order_by(PaperEntry.id)
        )
    )
    projects = {
        project.id: project
        for project in db.session.scalars(
            select(Proposal).where(Proposal.consultation_id == consultation.id)
        )
    }
    pending: dict[str, list[PaperEntry]] = defaultdict(list)
    for entry in rows:
        if entry.ballot_id is None:
            pending[entry.sheet_key].append(entry)
    mismatches = [
        Mismatch(
            sheet=sheet_label(entries[0]),
            entries=[
                ShownEntry(entry, [projects[i] for i in chosen_of(entry) if i in projects])
                for entry in entries
            ],
        )
        for entries in pending.values()
        if len(entries) > 1
    ]
    return Overview(
        entries=len(rows),
        counted=results.paper_ballots(consultation),
        waiting=sum(1 for entries in pending.values() if len(entries) == 1),
        mismatches=mismatches,
    )
