"""CSV exports of one consultation: results, proposals, comments and initiatives; for budget
consultations also the anonymised ballots, the counted results and the pabulib file.

docs/open-data.md describes every column of every file; this is how they are built.

Each export comes in two variants, under two file names (`filename`):

- `comma`, for programs: RFC 4180 (commas, CRLF, quoted where needed); fixed English
  snake_case column names, never reordered; numbers as digits; money in integer cents,
  always in a column named `…_cents`, next to a `currency` column; times in ISO 8601 UTC
  (`2027-03-01T12:00:00Z`); enum values as their stable English value (`under_evaluation`);
  `true`/`false`; the author of a deleted account as `deleted participant`.
- `excel_de`, for people who open it with a double click in German Excel or LibreOffice:
  semicolons; German column titles whatever the reader's language (the title of a money
  column names the currency: "Kosten (€)"); money in currency units with a decimal comma and
  no thousands separator (`1234,50`, which Excel reads as a number); times in the site's time
  zone (`BABEL_DEFAULT_TIMEZONE`) as `TT.MM.JJJJ HH:MM`; enum values and flags in the site's
  German words ("In Prüfung", "Ja"); "gelöschtes Konto"; a ballot's project ids separated by
  "; " (German Excel would read "12,15" as a number).

Both are UTF-8 with a byte order mark, the only way to make Excel read umlauts. A text cell
that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or carriage
return) gets a leading `'`; numbers and money, negative ones too, are never altered.

Who a file is for (`Audience`) decides what it may hold, in the service, not in a view, so
that no public file can ever hold hidden content:

- `public`: what the public pages show. Only published proposals and their published
  comments; hidden and withdrawn proposals appear nowhere (not as the proposal of a comment,
  an initiative or a ballot's choice).
- `staff` (moderators' downloads and the command line): the proposals file also lists
  withdrawn and hidden proposals (`state`, `hidden_reason`), the comments file every comment
  with its `state`, public `hidden_reason` and `proposal_state`; a deleted comment's text stays
  erased. The staff columns come after the public ones. The results, initiatives and budget
  files are the same for both: they never hold hidden content.

Rows are streamed from the database in batches (`yield_per`, a server-side cursor on
PostgreSQL), so a large export never holds all rows in memory. Anonymised ballots are listed
by their random code, never in the order they were cast (services.budgeting.results).

Who may download (`may_download`): moderators everything, always. Ballots, budget results and
the pabulib file are what makes a result reproducible, so they are public as soon as the
results are published (like the results page); the other exports hold names and stay with the
moderators.
"""

from __future__ import annotations

import csv
import enum
import io
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from babel.dates import get_timezone
from babel.numbers import get_currency_symbol
from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import BigInteger, ColumnElement, Select, cast, select

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Ballot,
    BallotChoice,
    Category,
    Comment,
    CommentState,
    Consultation,
    Initiative,
    Override,
    Proposal,
    ProposalState,
    Tally,
    TallyEntry,
    User,
)
from participation.services import audit, budgeting, consultations
from participation.services.budgeting import pabulib
from participation.services.errors import DomainError, NotAllowed, NotFound
from participation.services.initiatives import STATUS_LABELS
from participation.services.moderation import answers

log = logging.getLogger(__name__)

BATCH_SIZE = 500
DELETED_AUTHOR = "deleted participant"
BYTE_ORDER_MARK = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GERMAN = "de"


class ExportKind(enum.Enum):
    RESULTS = "results"
    PROPOSALS = "proposals"
    COMMENTS = "comments"
    INITIATIVES = "initiatives"
    BALLOTS = "ballots"
    BUDGET_RESULTS = "budget_results"


# Public once the results are published; the others are for moderators only.
PUBLIC_KINDS = frozenset({ExportKind.BALLOTS, ExportKind.BUDGET_RESULTS})
BUDGET_KINDS = frozenset({ExportKind.BALLOTS, ExportKind.BUDGET_RESULTS})


class Dialect(enum.Enum):
    COMMA = "comma"
    EXCEL_DE = "excel_de"


DELIMITERS = {Dialect.COMMA: ",", Dialect.EXCEL_DE: ";"}
FILE_SUFFIXES = {Dialect.COMMA: "", Dialect.EXCEL_DE: "-excel"}


class Audience(enum.Enum):
    """Who a file is for, which decides whether it may hold hidden content."""

    PUBLIC = "public"
    STAFF = "staff"


class Format(enum.Enum):
    """What a column holds, which decides how each variant writes it."""

    TEXT = "text"
    NUMBER = "number"  # ids and counts
    CENTS = "cents"  # money, in cents
    TIME = "time"
    YES_NO = "yes_no"
    CHOICE = "choice"  # an enum value
    AUTHOR = "author"  # a display name; None for a deleted account
    IDS = "ids"  # a list of ids


@dataclass(frozen=True)
class Column:
    """`name` is the comma variant's header, `title` the German one; a money column's title
    holds `%(currency)s`. `labels` are the German words of a CHOICE column's values."""

    name: str
    title: Any
    format: Format = Format.TEXT
    labels: Mapping[enum.Enum, Any] | None = None
    staff_only: bool = False


PROPOSAL_STATE_LABELS = {
    ProposalState.PUBLISHED: _l("Published"),
    ProposalState.WITHDRAWN: _l("Withdrawn"),
    ProposalState.HIDDEN: _l("Hidden"),
}
COMMENT_STATE_LABELS = {
    CommentState.PUBLISHED: _l("Published"),
    CommentState.DELETED: _l("Deleted"),
    CommentState.HIDDEN: _l("Hidden"),
}
OVERRIDE_LABELS = {
    Override.FUND: _l("Funded by the moderators' decision"),
    Override.DROP: _l("Dropped by the moderators' decision"),
}

_ID = Column("id", _l("ID"), Format.NUMBER)
_PROPOSAL_ID = Column("proposal_id", _l("Proposal ID"), Format.NUMBER)
_TITLE = Column("title", _l("Title"))
_AUTHOR = Column("author_name", _l("Written by"), Format.AUTHOR)
_CATEGORY = Column("category", _l("Category"))
_ESTIMATED_COST = Column("estimated_cost_cents", _l("Estimated cost (%(currency)s)"), Format.CENTS)
_CURRENCY = Column("currency", _l("Currency"))
_SUPPORTS = Column("supports", _l("Supports"), Format.NUMBER)
_COMMENTS = Column("comments", _l("Comments"), Format.NUMBER)
_ANSWER = Column("answer", _l("Answer"), Format.CHOICE, answers.ANSWER_LABELS)
_HIDDEN_REASON = Column("hidden_reason", _l("Reason for hiding"), staff_only=True)

COLUMNS: dict[ExportKind, tuple[Column, ...]] = {
    ExportKind.RESULTS: (
        Column("rank", _l("Rank"), Format.NUMBER),
        _PROPOSAL_ID,
        _TITLE,
        _AUTHOR,
        _CATEGORY,
        _ESTIMATED_COST,
        _CURRENCY,
        _SUPPORTS,
        _COMMENTS,
        _ANSWER,
        Column("selected", _l("Winner"), Format.YES_NO),
        Column("initiative_id", _l("Initiative ID"), Format.NUMBER),
        Column("initiative_status", _l("Initiative status"), Format.CHOICE, STATUS_LABELS),
    ),
    ExportKind.PROPOSALS: (
        _ID,
        _TITLE,
        Column("body", _l("Text")),
        _AUTHOR,
        _CATEGORY,
        _ESTIMATED_COST,
        _CURRENCY,
        Column("state", _l("Status"), Format.CHOICE, PROPOSAL_STATE_LABELS),
        _ANSWER,
        Column("answer_text", _l("Answer text")),
        _SUPPORTS,
        _COMMENTS,
        Column("created_at", _l("Submitted at"), Format.TIME),
        _HIDDEN_REASON,
    ),
    ExportKind.COMMENTS: (
        _ID,
        _PROPOSAL_ID,
        Column("parent_id", _l("Reply to comment (ID)"), Format.NUMBER),
        _AUTHOR,
        Column("body", _l("Text")),
        Column("created_at", _l("Written at"), Format.TIME),
        Column("state", _l("Status"), Format.CHOICE, COMMENT_STATE_LABELS, staff_only=True),
        _HIDDEN_REASON,
        Column(
            "proposal_state",
            _l("Proposal status"),
            Format.CHOICE,
            PROPOSAL_STATE_LABELS,
            staff_only=True,
        ),
    ),
    ExportKind.INITIATIVES: (
        _ID,
        _PROPOSAL_ID,
        _TITLE,
        Column("responsible_body", _l("Responsible body")),
        Column("allocated_budget_cents", _l("Allocated budget (%(currency)s)"), Format.CENTS),
        _CURRENCY,
        Column("status", _l("State of work"), Format.CHOICE, STATUS_LABELS),
        Column("progress_percent", _l("Progress in percent"), Format.NUMBER),
        Column("updated_at", _l("Last changed at"), Format.TIME),
    ),
    ExportKind.BALLOTS: (
        Column("ballot_code", _l("Ballot code")),
        Column("project_ids", _l("Chosen projects (IDs)"), Format.IDS),
    ),
    ExportKind.BUDGET_RESULTS: (
        _PROPOSAL_ID,
        _TITLE,
        _CATEGORY,
        Column("cost_cents", _l("Cost (%(currency)s)"), Format.CENTS),
        _CURRENCY,
        Column("approvals", _l("Approvals"), Format.NUMBER),
        Column("funded_by_rule", _l("Funded by the rule"), Format.YES_NO),
        Column("position", _l("Place in the rule's order"), Format.NUMBER),
        Column(
            "share_per_supporter_cents",
            _l("Paid per supporter at most (%(currency)s)"),
            Format.CENTS,
        ),
        Column("override", _l("Moderators' decision"), Format.CHOICE, OVERRIDE_LABELS),
        Column("override_reason", _l("Reason for the decision")),
        Column("funded", _l("Funded"), Format.YES_NO),
        Column("funded_by_comparison", _l("Funded by the comparison rule"), Format.YES_NO),
    ),
}


def columns(kind: ExportKind, audience: Audience) -> tuple[Column, ...]:
    """The columns of one export for this audience: the staff's add theirs at the end."""
    return tuple(
        column for column in COLUMNS[kind] if audience is Audience.STAFF or not column.staff_only
    )


# Cells


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula gets a leading quote; numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored time is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso_utc(value: datetime) -> str:
    return _utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _decimal_comma(cents: int) -> str:
    """Cents as currency units, the way German Excel reads a number: `-1234,05`. Written from
    the number, so that a minus sign is never taken for the start of a formula."""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return f"{sign}{units},{rest:02d}"


def _same(value: Any) -> Any:
    return value


def _enum_value(value: enum.Enum) -> str:
    return value.value


Writer = Callable[[Any], Any]


class CellWriter:
    """How one variant writes the header and each kind of cell.

    The German words are looked up by `header` and `writers`, before the first row, in German
    whatever the reader's language.
    """

    def __init__(self, dialect: Dialect, currency: str, time_zone: str = "UTC") -> None:
        self.dialect = dialect
        self.delimiter = DELIMITERS[dialect]
        self.german = dialect is Dialect.EXCEL_DE
        self.currency_symbol = get_currency_symbol(currency, locale=GERMAN)
        self.time_zone: tzinfo = get_timezone(time_zone)

    def header(self, columns: Sequence[Column]) -> list[str]:
        if not self.german:
            return [column.name for column in columns]
        with force_locale(GERMAN):
            return [self._title(column) for column in columns]

    def _title(self, column: Column) -> str:
        if column.format is Format.CENTS:
            return str(column.title) % {"currency": self.currency_symbol}
        return str(column.title)

    def writers(self, columns: Sequence[Column]) -> list[Writer]:
        """One function per column, from the stored value to the cell."""
        with force_locale(GERMAN):
            return [self._writer(column) for column in columns]

    def _writer(self, column: Column) -> Writer:
        write = self._german(column) if self.german else self._comma(column)
        if column.format is Format.AUTHOR:  # None is a deleted account, not an empty cell
            return write
        return lambda value: "" if value is None else write(value)

    def _comma(self, column: Column) -> Writer:
        return {
            Format.TEXT: neutralise,
            Format.NUMBER: _same,
            Format.CENTS: _same,
            Format.TIME: _iso_utc,
            Format.YES_NO: lambda flag: "true" if flag else "false",
            Format.CHOICE: _enum_value,
            Format.AUTHOR: lambda name: neutralise(name or DELETED_AUTHOR),
            Format.IDS: lambda ids: ",".join(map(str, ids)),
        }[column.format]

    def _german(self, column: Column) -> Writer:
        yes, no, deleted = str(_l("Yes")), str(_l("No")), str(_l("deleted participant"))
        words = {value: str(label) for value, label in (column.labels or {}).items()}
        return {
            Format.TEXT: neutralise,
            Format.NUMBER: _same,
            Format.CENTS: _decimal_comma,
            Format.TIME: self._local_time,
            Format.YES_NO: lambda flag: yes if flag else no,
            Format.CHOICE: words.__getitem__,
            Format.AUTHOR: lambda name: neutralise(name or deleted),
            # German Excel would read "12,15" as a number.
            Format.IDS: lambda ids: "; ".join(map(str, ids)),
        }[column.format]

    def _local_time(self, value: datetime) -> str:
        return _utc(value).astimezone(self.time_zone).strftime("%d.%m.%Y %H:%M")


def site_time_zone() -> str:
    """The site's time zone, in which the German-Excel files give times (as the pages do)."""
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def encode_rows(
    columns: Sequence[Column], batches: Iterable[Iterable[Sequence[Any]]], writer: CellWriter
) -> Iterator[str]:
    """The CSV text in chunks: the byte order mark and header first, then one chunk a batch."""
    buffer = io.StringIO()
    output = csv.writer(buffer, delimiter=writer.delimiter, lineterminator="\r\n")
    buffer.write(BYTE_ORDER_MARK)
    output.writerow(writer.header(columns))
    cells = writer.writers(columns)
    yield buffer.getvalue()
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        output.writerows(
            [write(value) for write, value in zip(cells, row, strict=True)] for row in batch
        )
        chunk = buffer.getvalue()
        if chunk:
            yield chunk


def _batches(statement: Select) -> Iterator[Sequence[Any]]:
    """Rows of the statement, BATCH_SIZE at a time, never all of them at once."""
    result = db.session.execute(statement.execution_options(yield_per=BATCH_SIZE))
    try:
        yield from result.partitions()
    finally:
        result.close()


def _cents(units: ColumnElement[int]) -> ColumnElement[int]:
    """Whole currency units (budgets, costs) as cents, in 64 bits: 2 billion euros fit."""
    return cast(units, BigInteger) * 100


# The exports


def ranking_order() -> tuple:
    """Most supports first; a tie goes to the proposal submitted earlier (then the lower id)."""
    return (Proposal.support_count.desc(), Proposal.created_at.asc(), Proposal.id.asc())


def _results_batches(consultation: Consultation, audience: Audience) -> Iterator[list[tuple]]:
    """The published proposals, ranked; the same for every audience."""
    statement = (
        select(
            Proposal.id,
            Proposal.title,
            User.display_name,
            Category.name,
            _cents(Proposal.estimated_cost),
            Proposal.support_count,
            Proposal.comment_count,
            Proposal.answer,
            Proposal.selected,
            Initiative.id,
            Initiative.status,
        )
        .outerjoin(User, User.id == Proposal.author_id)
        .outerjoin(Category, Category.id == Proposal.category_id)
        .outerjoin(Initiative, Initiative.proposal_id == Proposal.id)
        .where(
            Proposal.consultation_id == consultation.id,
            Proposal.is_published,
        )
        .order_by(*ranking_order())
    )
    currency = consultation.currency
    rank = 0
    for batch in _batches(statement):
        yield [(rank + number, *row[:5], currency, *row[5:]) for number, row in enumerate(batch, 1)]
        rank += len(batch)


def _proposals_batches(consultation: Consultation, audience: Audience) -> Iterator[list[tuple]]:
    """Published proposals; for the staff also the withdrawn and hidden ones."""
    statement = (
        select(
            Proposal.id,
            Proposal.title,
            Proposal.body,
            User.display_name,
            Category.name,
            _cents(Proposal.estimated_cost),
            Proposal.state,
            Proposal.answer,
            Proposal.answer_text,
            Proposal.support_count,
            Proposal.comment_count,
            Proposal.created_at,
            Proposal.hidden_reason,
        )
        .outerjoin(User, User.id == Proposal.author_id)
        .outerjoin(Category, Category.id == Proposal.category_id)
        .where(Proposal.consultation_id == consultation.id)
        .order_by(Proposal.created_at.asc(), Proposal.id.asc())
    )
    if audience is Audience.PUBLIC:
        statement = statement.where(Proposal.is_published)
    currency = consultation.currency
    for batch in _batches(statement):
        yield [(*row[:6], currency, *row[6:]) for row in batch]


def _comments_batches(consultation: Consultation, audience: Audience) -> Iterator[list[tuple]]:
    """Published comments of published proposals; for the staff every comment, a deleted one
    without its text."""
    statement = (
        select(
            Comment.id,
            Comment.proposal_id,
            Comment.parent_id,
            User.display_name,
            Comment.body,
            Comment.created_at,
            Comment.state,
            Comment.hidden_reason,
            Proposal.state,
        )
        .join(Proposal, Proposal.id == Comment.proposal_id)
        .outerjoin(User, User.id == Comment.author_id)
        .where(Proposal.consultation_id == consultation.id)
        .order_by(Comment.created_at.asc(), Comment.id.asc())
    )
    if audience is Audience.PUBLIC:
        statement = statement.where(Proposal.is_published, Comment.is_published)
    for batch in _batches(statement):
        yield [
            (*row[:4], "" if row[6] is CommentState.DELETED else row[4], *row[5:]) for row in batch
        ]


def _initiatives_batches(consultation: Consultation, audience: Audience) -> Iterator[list[tuple]]:
    """Initiatives of proposals that are not hidden; the same for every audience."""
    statement = (
        select(
            Initiative.id,
            Initiative.proposal_id,
            Initiative.title,
            Initiative.responsible_body,
            _cents(Initiative.allocated_budget),
            Initiative.status,
            Initiative.progress_percent,
            Initiative.updated_at,
        )
        .join(Proposal, Proposal.id == Initiative.proposal_id)
        .where(
            Initiative.consultation_id == consultation.id,
            ~Proposal.is_hidden,
        )
        .order_by(Initiative.id.asc())
    )
    currency = consultation.currency
    for batch in _batches(statement):
        yield [(*row[:5], currency, *row[5:]) for row in batch]


def _ballots_batches(consultation: Consultation, audience: Audience) -> Iterator[list[tuple]]:
    """Every ballot by its code (never in the order they were cast) with what the count sees
    of it: choices of proposals that are hidden, withdrawn or without a cost are left out."""
    statement = (
        select(Ballot.id, Ballot.code)
        .where(Ballot.consultation_id == consultation.id)
        .order_by(budgeting.results.code_order())
    )
    for batch in _batches(statement):
        ids = [ballot_id for ballot_id, _code in batch]
        chosen: dict[int, list[int]] = {ballot_id: [] for ballot_id in ids}
        for ballot_id, proposal_id in db.session.execute(
            select(BallotChoice.ballot_id, BallotChoice.proposal_id)
            .join(Proposal, Proposal.id == BallotChoice.proposal_id)
            .where(
                BallotChoice.ballot_id.in_(ids),
                Proposal.is_on_ballot,
            )
            .order_by(Proposal.created_at.asc(), Proposal.id.asc())
        ):
            chosen[ballot_id].append(proposal_id)
        yield [(code, chosen[ballot_id]) for ballot_id, code in batch]


def _budget_results_batches(
    consultation: Consultation, audience: Audience
) -> Iterator[list[tuple]]:
    """The counted projects that are not hidden: the rule's choices first in their order."""
    statement = (
        select(
            Proposal.id,
            Proposal.title,
            Category.name,
            _cents(TallyEntry.cost),
            TallyEntry.approvals,
            TallyEntry.funded_by_rule,
            TallyEntry.position,
            TallyEntry.share_cents,
            TallyEntry.override,
            TallyEntry.override_reason,
            TallyEntry.funded_by_comparison,
        )
        .join(Tally, Tally.id == TallyEntry.tally_id)
        .join(Proposal, Proposal.id == TallyEntry.proposal_id)
        .outerjoin(Category, Category.id == Proposal.category_id)
        .where(Tally.consultation_id == consultation.id, ~Proposal.is_hidden)
        .order_by(
            TallyEntry.position.is_(None),
            TallyEntry.position.asc(),
            TallyEntry.approvals.desc(),
            Proposal.id.asc(),
        )
    )
    currency = consultation.currency
    for batch in _batches(statement):
        rows = []
        for row in batch:
            entry = TallyEntry(funded_by_rule=row[5], override=row[8])
            rows.append((*row[:4], currency, *row[4:10], entry.funded, row[10]))
        yield rows


_BATCHES = {
    ExportKind.RESULTS: _results_batches,
    ExportKind.PROPOSALS: _proposals_batches,
    ExportKind.COMMENTS: _comments_batches,
    ExportKind.INITIATIVES: _initiatives_batches,
    ExportKind.BALLOTS: _ballots_batches,
    ExportKind.BUDGET_RESULTS: _budget_results_batches,
}


def rows(
    kind: ExportKind,
    consultation: Consultation,
    dialect: Dialect = Dialect.COMMA,
    *,
    audience: Audience,
) -> Iterator[str]:
    """The CSV lines of one export for this audience: the header, then the rows a batch at a
    time. Every batch function gives the staff's columns; the public file drops theirs."""
    every = COLUMNS[kind]
    kept = [
        index
        for index, column in enumerate(every)
        if audience is Audience.STAFF or not column.staff_only
    ]
    batches = _BATCHES[kind](consultation, audience)
    if len(kept) < len(every):
        batches = ([tuple(row[index] for index in kept) for row in batch] for batch in batches)
    writer = CellWriter(dialect, consultation.currency, site_time_zone())
    return encode_rows([every[index] for index in kept], batches, writer)


# What the download and the command line share


def find_consultation(slug: str) -> Consultation:
    """Any consultation, drafts included: for the command line, which has no viewer."""
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise NotFound(_l("This consultation does not exist."))
    return consultation


def filename(consultation: Consultation, kind: ExportKind, dialect: Dialect) -> str:
    """`radwege-results.csv` for programs, `radwege-results-excel.csv` for German Excel: the
    two variants never overwrite each other in a downloads folder."""
    return f"{consultation.slug}-{kind.value}{FILE_SUFFIXES[dialect]}.csv"


def _is_moderator(viewer: User | None) -> bool:
    return bool(viewer is not None and viewer.is_authenticated and viewer.is_moderator)


def audience_for(viewer: User | None) -> Audience:
    """Moderators get the staff files, everybody else the public ones."""
    return Audience.STAFF if _is_moderator(viewer) else Audience.PUBLIC


def may_download(consultation: Consultation, kind: ExportKind | None, viewer: User | None) -> bool:
    """Moderators always; everybody the ballots, the budget results and the pabulib file
    (`kind` None) once the results are published."""
    if _is_moderator(viewer):
        return True
    return (kind is None or kind in PUBLIC_KINDS) and consultation.has_published_results


def get_downloadable(slug: str, kind: ExportKind | None, viewer: User | None) -> Consultation:
    """The consultation, if this viewer may download `kind` of it (None: the pabulib file):
    NotFound if they may not see it, NotAllowed (log in first, or 403) if not this file."""
    consultation = consultations.get_visible(slug, viewer)
    if may_download(consultation, kind, viewer):
        return consultation
    if kind is None or kind in PUBLIC_KINDS:
        raise NotAllowed(_l("This file can be downloaded once the results are published."))
    raise NotAllowed(_l("Only moderators can download this file."))


def check_available(consultation: Consultation, kind: ExportKind | None) -> None:
    """Refuses the budget exports where there is nothing to export (`kind` None: pabulib)."""
    if (kind is None or kind in BUDGET_KINDS) and not consultation.uses_ballots:
        raise DomainError(_l("This consultation has no budget ballots to export."))
    if kind is ExportKind.BUDGET_RESULTS and not db.session.scalar(
        select(Tally.id).where(Tally.consultation_id == consultation.id)
    ):
        raise DomainError(
            _l("The ballots have not been counted yet, so there are no results to export.")
        )


def _record(consultation: Consultation, action: str, actor: User | None, via, **details) -> None:
    """Exports hold personal data or ballots, so each one is an audit event; `actor` is None
    for the command line and for visitors who are not logged in."""
    if via is None:
        via = "web" if actor is not None else "command line"
    audit.record(
        actor=actor,
        action=action,
        subject_type="consultation",
        subject_id=consultation.id,
        consultation=consultation,
        details={**details, "via": via},
    )


def export(
    consultation: Consultation,
    kind: ExportKind,
    dialect: Dialect,
    actor: User | None,
    via: str | None = None,
    *,
    audience: Audience,
) -> Iterator[bytes]:
    """Record who exported what for whom, then the file's bytes, streamed.

    The event is committed before the first row is read, so that it is kept even when the
    download is interrupted. Raises DomainError when there is nothing to export.
    """
    check_available(consultation, kind)
    _record(
        consultation,
        f"export.{kind.value}",
        actor,
        via,
        dialect=dialect.value,
        audience=audience.value,
    )
    chunks = rows(kind, consultation, dialect, audience=audience)
    db.session.commit()
    operation(
        log,
        f"export.{kind.value}",
        actor=actor,
        subject=consultation,
        dialect=dialect,
        audience=audience,
    )
    return (chunk.encode("utf-8") for chunk in chunks)


def pabulib_filename(consultation: Consultation) -> str:
    return pabulib.filename(consultation)


def export_pabulib(
    consultation: Consultation, actor: User | None, via: str | None = None
) -> Iterator[bytes]:
    """The budget consultation as a pabulib file (budgeting.pabulib), recorded like the CSVs.
    It holds no hidden content, so it is the same for every audience."""
    check_available(consultation, None)
    _record(consultation, "export.pabulib", actor, via)
    text = pabulib.export_text(consultation)
    db.session.commit()
    operation(log, "export.pabulib", actor=actor, subject=consultation)
    return iter([text.encode("utf-8")])
