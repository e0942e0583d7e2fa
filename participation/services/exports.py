"""CSV exports of one consultation: results, proposals, comments and initiatives.

The files are read by people (Excel, LibreOffice) and by programs, so they are built for both:

- Headers are fixed English snake_case names, whatever the reader's language, so that scripts
  keep working; the columns of each export are listed in `HEADERS` and never reordered.
- Two dialects. `comma`: RFC 4180 (comma-separated, CRLF line ends, fields quoted when needed).
  `excel_de`: the same with semicolons, which German Excel expects. Both are UTF-8 with a byte
  order mark, the only way to make Excel read umlauts correctly.
- Values: numbers as plain digits; empty cells for missing values; `true`/`false` for
  `selected`; enum columns (state, answer, status) as their stable English value, such as
  `under_evaluation`; times in ISO 8601 UTC (`2027-03-01T12:00:00Z`); the author of a
  deleted account as `deleted participant`.
- Text cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab
  or carriage return) get a leading `'`, so that "=HYPERLINK(…)" or "-5 Bäume" stay text.
  Numbers are written as numbers and never altered.
- Hidden proposals never appear: not in the results, not as the proposal of a comment or an
  initiative. Withdrawn proposals appear in the proposals export only (with their state),
  comments only when published (not hidden, not deleted).
- Rows are streamed from the database in batches (`yield_per`, a server-side cursor on
  PostgreSQL), so a large export never holds all rows in memory.

Columns of each export (see `HEADERS`):

- results: rank (1 = most supports; ties go to the earlier proposal), proposal_id, title,
  author_name, category, estimated_cost, supports, comments, answer, selected, initiative_id,
  initiative_status — the published proposals.
- proposals: id, title, body, author_name, category, estimated_cost, state, answer,
  answer_text, supports, comments, created_at — published and withdrawn, oldest first.
- comments: id, proposal_id, parent_id, author_name, body, created_at — oldest first.
- initiatives: id, proposal_id, title, responsible_body, allocated_budget, status,
  progress_percent, updated_at — by id.
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from participation.extensions import db
from participation.models import (
    Category,
    Comment,
    CommentState,
    Consultation,
    Initiative,
    Proposal,
    ProposalState,
    User,
)
from participation.services import audit
from participation.services.errors import NotFound

BATCH_SIZE = 500
DELETED_AUTHOR = "deleted participant"
BYTE_ORDER_MARK = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class ExportKind(enum.Enum):
    RESULTS = "results"
    PROPOSALS = "proposals"
    COMMENTS = "comments"
    INITIATIVES = "initiatives"


class Dialect(enum.Enum):
    COMMA = "comma"
    EXCEL_DE = "excel_de"


DELIMITERS = {Dialect.COMMA: ",", Dialect.EXCEL_DE: ";"}

HEADERS: dict[ExportKind, tuple[str, ...]] = {
    ExportKind.RESULTS: (
        "rank",
        "proposal_id",
        "title",
        "author_name",
        "category",
        "estimated_cost",
        "supports",
        "comments",
        "answer",
        "selected",
        "initiative_id",
        "initiative_status",
    ),
    ExportKind.PROPOSALS: (
        "id",
        "title",
        "body",
        "author_name",
        "category",
        "estimated_cost",
        "state",
        "answer",
        "answer_text",
        "supports",
        "comments",
        "created_at",
    ),
    ExportKind.COMMENTS: ("id", "proposal_id", "parent_id", "author_name", "body", "created_at"),
    ExportKind.INITIATIVES: (
        "id",
        "proposal_id",
        "title",
        "responsible_body",
        "allocated_budget",
        "status",
        "progress_percent",
        "updated_at",
    ),
}


# Cells


def neutralise(value: Any) -> Any:
    """A text that a spreadsheet would run as a formula gets a leading quote; numbers stay."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    # SQLite hands back naive datetimes; every stored time is UTC.
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return aware.strftime("%Y-%m-%dT%H:%M:%SZ")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return _timestamp(value)
    return neutralise(value)


def encode_rows(
    header: Sequence[str], batches: Iterable[Iterable[Sequence[Any]]], dialect: Dialect
) -> Iterator[str]:
    """The CSV text in chunks: the byte order mark and header first, then one chunk a batch."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITERS[dialect], lineterminator="\r\n")
    buffer.write(BYTE_ORDER_MARK)
    writer.writerow(header)
    yield buffer.getvalue()
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_cell(value) for value in row] for row in batch)
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


def _author_name(name: str | None) -> str:
    return DELETED_AUTHOR if name is None else name


def _batches_with_authors(statement: Select, column: int) -> Iterator[list[tuple]]:
    """Like _batches, with the author's display name in `column` (None for a deleted account)
    written out."""
    for batch in _batches(statement):
        yield [(*row[:column], _author_name(row[column]), *row[column + 1 :]) for row in batch]


# The four exports


def ranking_order() -> tuple:
    """Most supports first; a tie goes to the proposal submitted earlier (then the lower id)."""
    return (Proposal.support_count.desc(), Proposal.created_at.asc(), Proposal.id.asc())


def _results_batches(consultation_id: int) -> Iterator[list[tuple]]:
    statement = (
        select(
            Proposal.id,
            Proposal.title,
            User.display_name,
            Category.name,
            Proposal.estimated_cost,
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
            Proposal.consultation_id == consultation_id,
            Proposal.state == ProposalState.PUBLISHED,
        )
        .order_by(*ranking_order())
    )
    rank = 0
    for batch in _batches_with_authors(statement, 2):
        yield [(rank + number, *row) for number, row in enumerate(batch, start=1)]
        rank += len(batch)


def _proposals_batches(consultation_id: int) -> Iterator[list[tuple]]:
    statement = (
        select(
            Proposal.id,
            Proposal.title,
            Proposal.body,
            User.display_name,
            Category.name,
            Proposal.estimated_cost,
            Proposal.state,
            Proposal.answer,
            Proposal.answer_text,
            Proposal.support_count,
            Proposal.comment_count,
            Proposal.created_at,
        )
        .outerjoin(User, User.id == Proposal.author_id)
        .outerjoin(Category, Category.id == Proposal.category_id)
        .where(
            Proposal.consultation_id == consultation_id,
            Proposal.state != ProposalState.HIDDEN,
        )
        .order_by(Proposal.created_at.asc(), Proposal.id.asc())
    )
    return _batches_with_authors(statement, 3)


def _comments_batches(consultation_id: int) -> Iterator[list[tuple]]:
    statement = (
        select(
            Comment.id,
            Comment.proposal_id,
            Comment.parent_id,
            User.display_name,
            Comment.body,
            Comment.created_at,
        )
        .join(Proposal, Proposal.id == Comment.proposal_id)
        .outerjoin(User, User.id == Comment.author_id)
        .where(
            Proposal.consultation_id == consultation_id,
            Proposal.state != ProposalState.HIDDEN,
            Comment.state == CommentState.PUBLISHED,
        )
        .order_by(Comment.created_at.asc(), Comment.id.asc())
    )
    return _batches_with_authors(statement, 3)


def _initiatives_batches(consultation_id: int) -> Iterator[Sequence[Any]]:
    statement = (
        select(
            Initiative.id,
            Initiative.proposal_id,
            Initiative.title,
            Initiative.responsible_body,
            Initiative.allocated_budget,
            Initiative.status,
            Initiative.progress_percent,
            Initiative.updated_at,
        )
        .join(Proposal, Proposal.id == Initiative.proposal_id)
        .where(
            Initiative.consultation_id == consultation_id,
            Proposal.state != ProposalState.HIDDEN,
        )
        .order_by(Initiative.id.asc())
    )
    return _batches(statement)


_BATCHES = {
    ExportKind.RESULTS: _results_batches,
    ExportKind.PROPOSALS: _proposals_batches,
    ExportKind.COMMENTS: _comments_batches,
    ExportKind.INITIATIVES: _initiatives_batches,
}


def rows(
    kind: ExportKind, consultation: Consultation, dialect: Dialect = Dialect.COMMA
) -> Iterator[str]:
    """The CSV lines of one export: the header, then the rows a batch at a time."""
    return encode_rows(HEADERS[kind], _BATCHES[kind](consultation.id), dialect)


# What the download and the command line share


def find_consultation(slug: str) -> Consultation:
    """Any consultation, drafts included: for the command line, which has no viewer."""
    consultation = db.session.scalar(select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise NotFound(_l("This consultation does not exist."))
    return consultation


def filename(consultation: Consultation, kind: ExportKind) -> str:
    return f"{consultation.slug}-{kind.value}.csv"


def export(
    consultation: Consultation,
    kind: ExportKind,
    dialect: Dialect,
    actor: User | None,
) -> Iterator[bytes]:
    """Record who exported what, then the file's bytes, streamed.

    Exports hold personal data (author names), so each one is an audit event; `actor` is None
    for the command line. The event is committed before the first row is read, so that it is
    kept even when the download is interrupted.
    """
    audit.record(
        actor=actor,
        action=f"export.{kind.value}",
        subject_type="consultation",
        subject_id=consultation.id,
        consultation=consultation,
        details={"dialect": dialect.value, "via": "web" if actor is not None else "command line"},
    )
    chunks = rows(kind, consultation, dialect)
    db.session.commit()
    return (chunk.encode("utf-8") for chunk in chunks)
