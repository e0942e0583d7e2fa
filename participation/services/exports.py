"""CSV exports of one consultation: results, proposals, comments and initiatives; for budget
consultations also the anonymised ballots, the counted results and the pabulib file.

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
- ballots (budget consultations): ballot_code, project_ids — one line per ballot, sorted by
  its random code (never in the order the ballots were cast, which could tie a code to a
  person in a small election; the count reads them in the same order), the approved proposal
  ids comma-separated (in the order of the
  projects, oldest first). Only what the count sees: choices of proposals that are hidden,
  withdrawn or without a cost are left out; a ballot left empty stays (it counts as a voter).
  No user ids or names: a citizen finds their ballot by the code shown after voting.
- budget_results (budget consultations, once counted): proposal_id, title, category, cost,
  approvals, funded_by_rule, position (the order the rule chose the project, empty if not
  chosen), share_per_supporter_cents (equal shares: the most one supporter paid, in cents),
  override (`fund`/`drop`), override_reason, funded (the final outcome), funded_by_comparison
  (the comparison rule's outcome) — the rule's choices first in their order, then by approvals.
- The pabulib file (`export_pabulib`, not CSV): see services.pabulib.

Who may download (`may_download`): moderators everything, always. Ballots, budget results and
the pabulib file are what makes a result reproducible, so they are public as soon as the
results are published (like the results page); the other exports hold names and stay with the
moderators.
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
    Ballot,
    BallotChoice,
    Category,
    Comment,
    CommentState,
    Consultation,
    Initiative,
    Proposal,
    ProposalState,
    Tally,
    TallyEntry,
    User,
)
from participation.services import audit, budget_results, pabulib
from participation.services.errors import DomainError, NotFound

BATCH_SIZE = 500
DELETED_AUTHOR = "deleted participant"
BYTE_ORDER_MARK = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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
    ExportKind.BALLOTS: ("ballot_code", "project_ids"),
    ExportKind.BUDGET_RESULTS: (
        "proposal_id",
        "title",
        "category",
        "cost",
        "approvals",
        "funded_by_rule",
        "position",
        "share_per_supporter_cents",
        "override",
        "override_reason",
        "funded",
        "funded_by_comparison",
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
    """A deleted account has no row or, as a tombstone, an empty name."""
    return name or DELETED_AUTHOR


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


def _ballots_batches(consultation_id: int) -> Iterator[list[tuple]]:
    statement = (
        select(Ballot.id, Ballot.code)
        .where(Ballot.consultation_id == consultation_id)
        .order_by(budget_results.code_order())
    )
    for batch in _batches(statement):
        ids = [ballot_id for ballot_id, _code in batch]
        chosen: dict[int, list[str]] = {ballot_id: [] for ballot_id in ids}
        for ballot_id, proposal_id in db.session.execute(
            select(BallotChoice.ballot_id, BallotChoice.proposal_id)
            .join(Proposal, Proposal.id == BallotChoice.proposal_id)
            .where(
                BallotChoice.ballot_id.in_(ids),
                Proposal.state == ProposalState.PUBLISHED,
                Proposal.estimated_cost.is_not(None),
            )
            .order_by(Proposal.created_at.asc(), Proposal.id.asc())
        ):
            chosen[ballot_id].append(str(proposal_id))
        yield [(code, ",".join(chosen[ballot_id])) for ballot_id, code in batch]


def _budget_results_batches(consultation_id: int) -> Iterator[list[tuple]]:
    statement = (
        select(
            Proposal.id,
            Proposal.title,
            Category.name,
            TallyEntry.cost,
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
        .where(Tally.consultation_id == consultation_id, Proposal.state != ProposalState.HIDDEN)
        .order_by(
            TallyEntry.position.is_(None),
            TallyEntry.position.asc(),
            TallyEntry.approvals.desc(),
            Proposal.id.asc(),
        )
    )
    for batch in _batches(statement):
        rows = []
        for row in batch:
            entry = TallyEntry(funded_by_rule=row[5], override=row[8])
            rows.append((*row[:10], entry.funded, row[10]))
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


def _is_moderator(viewer: User | None) -> bool:
    return bool(viewer is not None and viewer.is_authenticated and viewer.is_moderator)


def results_published(consultation: Consultation) -> bool:
    return consultation.results_published_at is not None and consultation.is_public


def may_download(consultation: Consultation, kind: ExportKind | None, viewer: User | None) -> bool:
    """Moderators always; everybody the ballots, the budget results and the pabulib file
    (`kind` None) once the results are published."""
    if _is_moderator(viewer):
        return True
    return (kind is None or kind in PUBLIC_KINDS) and results_published(consultation)


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
) -> Iterator[bytes]:
    """Record who exported what, then the file's bytes, streamed.

    The event is committed before the first row is read, so that it is kept even when the
    download is interrupted. Raises DomainError when there is nothing to export.
    """
    check_available(consultation, kind)
    _record(consultation, f"export.{kind.value}", actor, via, dialect=dialect.value)
    chunks = rows(kind, consultation, dialect)
    db.session.commit()
    return (chunk.encode("utf-8") for chunk in chunks)


def pabulib_filename(consultation: Consultation) -> str:
    return pabulib.filename(consultation)


def export_pabulib(
    consultation: Consultation, actor: User | None, via: str | None = None
) -> Iterator[bytes]:
    """The budget consultation as a pabulib file (services.pabulib), recorded like the CSVs."""
    check_available(consultation, None)
    _record(consultation, "export.pabulib", actor, via)
    text = pabulib.export_text(consultation)
    db.session.commit()
    return iter([text.encode("utf-8")])
