"""The exports service: the CSV files of a consultation, byte by byte and cell by cell."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy

from participation.extensions import db
from participation.models import (
    Answer,
    AuditEvent,
    CommentState,
    Consultation,
    InitiativeStatus,
    ProposalState,
    User,
)
from participation.services import exports
from participation.services.exports import BUDGET_KINDS, HEADERS, Dialect, ExportKind
from tests.conftest import START

# The exports of every consultation; the budget ones are tested in tests/test_budget_exports.py.
PARTICIPATION_KINDS = [kind for kind in ExportKind if kind not in BUDGET_KINDS]

DELIMITER = {Dialect.COMMA: ",", Dialect.EXCEL_DE: ";"}
FORMULA_STARTS = ["=1+1", "+49 30 1234", "-5 Bäume", "@SUM(A1:A9)", "\tTab", "\rReturn"]


def exported_text(consultation, kind=ExportKind.RESULTS, dialect=Dialect.COMMA) -> str:
    return "".join(exports.rows(kind, consultation, dialect))


def exported_rows(consultation, kind=ExportKind.RESULTS, dialect=Dialect.COMMA) -> list[dict]:
    """What a program reading the file gets: one dict a row, by header."""
    text = exported_text(consultation, kind, dialect)
    assert text.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=DELIMITER[dialect])
    return list(reader)


def exported_bytes(consultation, kind=ExportKind.RESULTS, dialect=Dialect.COMMA) -> bytes:
    attached = db.session.get(Consultation, consultation.id)
    return b"".join(exports.export(attached, kind, dialect, actor=None))


def column(rows: list[dict], name: str) -> list[str]:
    return [row[name] for row in rows]


@pytest.fixture
def author(factory) -> User:
    return factory.user(display_name="Jürgen Größer")


# The file: byte order mark, header, line ends, dialects


@pytest.mark.parametrize("kind", PARTICIPATION_KINDS)
@pytest.mark.parametrize("dialect", list(Dialect))
def test_export_starts_with_the_byte_order_mark_and_the_english_header(factory, ctx, kind, dialect):
    consultation = factory.consultation()

    data = exported_bytes(consultation, kind, dialect)

    header = DELIMITER[dialect].join(HEADERS[kind]).encode()
    assert data == b"\xef\xbb\xbf" + header + b"\r\n"


@pytest.mark.parametrize("dialect", list(Dialect))
def test_umlauts_read_back_unchanged_from_the_utf8_bytes(factory, ctx, author, dialect):
    consultation = factory.consultation(categories=("Grünflächen",))
    factory.proposal(
        consultation,
        author,
        title="Schöne Bäume für die Güterstraße",
        category_id=consultation.categories[0].id,
    )

    text = exported_bytes(consultation, ExportKind.RESULTS, dialect).decode("utf-8-sig")
    [row] = csv.DictReader(io.StringIO(text, newline=""), delimiter=DELIMITER[dialect])

    assert (row["title"], row["author_name"], row["category"]) == (
        "Schöne Bäume für die Güterstraße",
        "Jürgen Größer",
        "Grünflächen",
    )


def test_excel_de_separates_cells_with_semicolons_and_quotes_a_semicolon_in_text(
    factory, ctx, author
):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author, title="Bänke; Tische, Stühle")

    lines = exported_text(consultation, dialect=Dialect.EXCEL_DE).split("\r\n")

    assert lines[1].startswith(f'1;{proposal.id};"Bänke; Tische, Stühle";Jürgen Größer;')


def test_comma_dialect_quotes_a_comma_and_a_quote_in_text_as_rfc_4180_says(factory, ctx, author):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author, title='Bänke, "Tische"')

    lines = exported_text(consultation).split("\r\n")

    assert lines[1].startswith(f'1,{proposal.id},"Bänke, ""Tische""",Jürgen Größer,')


def test_every_row_ends_with_crlf_and_line_breaks_in_text_stay_inside_quotes(factory, ctx, author):
    consultation = factory.consultation()
    factory.proposal(consultation, author, body="First line\nsecond line")
    factory.proposal(consultation, author)

    text = exported_text(consultation, ExportKind.PROPOSALS)
    rows = exported_rows(consultation, ExportKind.PROPOSALS)

    assert text.endswith("\r\n") and text.count("\r\n") == 3
    assert rows[0]["body"] == "First line\nsecond line"


# Formulas


@pytest.mark.parametrize("title", FORMULA_STARTS)
def test_text_that_a_spreadsheet_would_run_as_a_formula_gets_a_leading_quote(
    factory, ctx, author, title
):
    consultation = factory.consultation()
    factory.proposal(consultation, author, title=title)

    [row] = exported_rows(consultation)

    assert row["title"] == "'" + title


def test_numbers_are_written_as_numbers_even_when_negative():
    text = "".join(exports.encode_rows(("amount", "note"), [[(-5, "-5")]], Dialect.COMMA))

    assert text.split("\r\n")[1] == "-5,'-5"


def test_every_text_column_of_every_export_is_neutralised(factory, ctx):
    formula = '=HYPERLINK("http://evil.example")'
    consultation = factory.consultation(categories=(formula,))
    author = factory.user(display_name=formula)
    proposal = factory.proposal(
        consultation,
        author,
        title=formula,
        body=formula,
        answer=Answer.REJECTED,
        answer_text=formula,
        category_id=consultation.categories[0].id,
    )
    factory.comment(proposal, author, body=formula)
    factory.initiative(proposal, title=formula, responsible_body=formula)

    cells = [
        cell
        for kind in PARTICIPATION_KINDS
        for row in exported_rows(consultation, kind)
        for cell in row.values()
    ]

    assert formula not in cells
    assert cells.count("'" + formula) == 12


# What is exported and what never is


@pytest.fixture
def hidden_proposal(factory, author):
    """A hidden proposal with a comment and an initiative, beside a published one."""
    consultation = factory.consultation()
    factory.proposal(consultation, author, title="Published proposal")
    hidden = factory.proposal(
        consultation, author, state=ProposalState.HIDDEN, title="Hidden proposal"
    )
    factory.comment(hidden, author, body="Comment on the hidden proposal")
    factory.initiative(hidden, title="Initiative of the hidden proposal")
    return consultation, hidden


@pytest.mark.parametrize("kind", PARTICIPATION_KINDS)
def test_hidden_proposals_appear_in_no_export(ctx, hidden_proposal, kind):
    consultation, hidden = hidden_proposal

    text = exported_text(consultation, kind)
    rows = exported_rows(consultation, kind)

    assert "hidden proposal" not in text
    id_column = "id" if kind is ExportKind.PROPOSALS else "proposal_id"
    assert str(hidden.id) not in column(rows, id_column)


def test_comments_export_leaves_out_hidden_and_deleted_comments(factory, ctx, author):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author)
    published = factory.comment(proposal, author, body="Published comment")
    factory.comment(proposal, author, state=CommentState.HIDDEN, body="Hidden comment")
    factory.comment(proposal, author, state=CommentState.DELETED, body="Deleted comment")

    rows = exported_rows(consultation, ExportKind.COMMENTS)

    assert [(row["id"], row["body"]) for row in rows] == [(str(published.id), "Published comment")]


@pytest.mark.parametrize(
    ("kind", "listed"),
    [
        (ExportKind.RESULTS, False),
        (ExportKind.PROPOSALS, True),
    ],
)
def test_withdrawn_proposals_appear_in_the_proposals_export_only(
    factory, ctx, author, kind, listed
):
    consultation = factory.consultation()
    withdrawn = factory.proposal(consultation, author, state=ProposalState.WITHDRAWN)

    rows = exported_rows(consultation, kind)

    id_column = "id" if kind is ExportKind.PROPOSALS else "proposal_id"
    assert (str(withdrawn.id) in column(rows, id_column)) is listed


def test_proposals_export_gives_the_state_of_a_withdrawn_proposal(factory, ctx, author):
    consultation = factory.consultation()
    factory.proposal(consultation, author, state=ProposalState.WITHDRAWN)

    [row] = exported_rows(consultation, ExportKind.PROPOSALS)

    assert row["state"] == "withdrawn"


@pytest.mark.parametrize("kind", PARTICIPATION_KINDS)
def test_export_holds_only_the_rows_of_its_own_consultation(factory, ctx, author, kind):
    consultation = factory.consultation()
    other = factory.consultation()
    proposal = factory.proposal(other, author)
    factory.comment(proposal, author)
    factory.initiative(proposal)

    assert exported_rows(consultation, kind) == []


def test_author_of_a_deleted_account_is_a_deleted_participant(factory, ctx, author):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author)
    factory.comment(proposal, author)
    db.session.execute(db.delete(User).where(User.id == author.id))
    db.session.commit()

    names = [
        row["author_name"]
        for kind in (ExportKind.RESULTS, ExportKind.PROPOSALS, ExportKind.COMMENTS)
        for row in exported_rows(consultation, kind)
    ]

    assert names == ["deleted participant"] * 3


# Ranking


def test_results_rank_by_supports_and_give_a_tie_to_the_earlier_proposal(factory, ctx, author):
    consultation = factory.consultation()
    later_tie = factory.proposal(consultation, author, support_count=5, created_at=START)
    most = factory.proposal(consultation, author, support_count=9, created_at=START)
    none = factory.proposal(consultation, author, support_count=0, created_at=START)
    earlier_tie = factory.proposal(
        consultation, author, support_count=5, created_at=START - timedelta(days=1)
    )

    rows = exported_rows(consultation)

    assert [(row["rank"], row["proposal_id"], row["supports"]) for row in rows] == [
        ("1", str(most.id), "9"),
        ("2", str(earlier_tie.id), "5"),
        ("3", str(later_tie.id), "5"),
        ("4", str(none.id), "0"),
    ]


def test_results_give_a_tie_at_the_same_moment_to_the_lower_id(factory, ctx, author):
    consultation = factory.consultation()
    ids = [
        factory.proposal(consultation, author, support_count=3, created_at=START).id
        for _ in range(3)
    ]

    assert column(exported_rows(consultation), "proposal_id") == [str(i) for i in ids]


def test_ranks_run_on_across_batches_of_rows(factory, ctx, author, monkeypatch):
    monkeypatch.setattr(exports, "BATCH_SIZE", 2)
    consultation = factory.consultation()
    for supports in range(5):
        factory.proposal(consultation, author, support_count=supports)

    chunks = list(exports.rows(ExportKind.RESULTS, consultation))
    rows = exported_rows(consultation)

    assert len(chunks) == 1 + 3  # the header, then one chunk a batch of two rows
    assert column(rows, "rank") == ["1", "2", "3", "4", "5"]
    assert column(rows, "supports") == ["4", "3", "2", "1", "0"]


@pytest.mark.parametrize("kind", PARTICIPATION_KINDS)
def test_export_reads_its_rows_through_a_streaming_cursor(factory, ctx, kind):
    """yield_per makes SQLAlchemy stream: a server-side cursor on PostgreSQL."""
    consultation = factory.consultation()
    options = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            options.append(context.execution_options)

    sqlalchemy.event.listen(db.engine, "before_cursor_execute", remember)
    try:
        exported_text(consultation, kind)
    finally:
        sqlalchemy.event.remove(db.engine, "before_cursor_execute", remember)

    assert [(o.get("stream_results"), o.get("yield_per")) for o in options] == [
        (True, exports.BATCH_SIZE)
    ]


def test_results_ranking_agrees_with_the_results_service(factory, ctx, author):
    from participation.services import results

    consultation = factory.consultation()
    for supports, day in [(5, 2), (9, 3), (5, 1), (0, 0), (5, 1)]:
        factory.proposal(
            consultation, author, support_count=supports, created_at=START + timedelta(days=day)
        )
    factory.proposal(consultation, author, state=ProposalState.HIDDEN, support_count=50)
    factory.proposal(consultation, author, state=ProposalState.WITHDRAWN, support_count=40)

    ranked = results.ranking(db.session.get(Consultation, consultation.id))

    exported = [(row["rank"], row["proposal_id"]) for row in exported_rows(consultation)]
    assert exported == [(str(entry.rank), str(entry.proposal.id)) for entry in ranked]


# The columns of each export


def test_results_row_holds_answer_selection_and_initiative(factory, ctx, author):
    consultation = factory.consultation(categories=("Parks",))
    proposal = factory.proposal(
        consultation,
        author,
        title="Benches",
        category_id=consultation.categories[0].id,
        estimated_cost=12000,
        support_count=7,
        comment_count=2,
        answer=Answer.ACCEPTED,
        selected=True,
    )
    initiative = factory.initiative(proposal, status=InitiativeStatus.IN_PROGRESS)

    [row] = exported_rows(consultation)

    assert row == {
        "rank": "1",
        "proposal_id": str(proposal.id),
        "title": "Benches",
        "author_name": "Jürgen Größer",
        "category": "Parks",
        "estimated_cost": "12000",
        "supports": "7",
        "comments": "2",
        "answer": "accepted",
        "selected": "true",
        "initiative_id": str(initiative.id),
        "initiative_status": "in_progress",
    }


def test_results_row_without_category_cost_or_initiative_has_empty_cells(factory, ctx, author):
    consultation = factory.consultation()
    factory.proposal(consultation, author)

    [row] = exported_rows(consultation)

    assert [row[name] for name in ("category", "estimated_cost", "initiative_id")] == ["", "", ""]
    assert (row["answer"], row["selected"], row["initiative_status"]) == ("none", "false", "")


def test_proposals_row_holds_text_answer_counters_and_the_utc_submission_time(factory, ctx, author):
    consultation = factory.consultation()
    proposal = factory.proposal(
        consultation,
        author,
        title="Benches",
        body="More **benches**.",
        estimated_cost=800,
        answer=Answer.UNDER_EVALUATION,
        answer_text="We are checking the places.",
        support_count=4,
        comment_count=1,
        created_at=START,
    )

    [row] = exported_rows(consultation, ExportKind.PROPOSALS)

    assert row == {
        "id": str(proposal.id),
        "title": "Benches",
        "body": "More **benches**.",
        "author_name": "Jürgen Größer",
        "category": "",
        "estimated_cost": "800",
        "state": "published",
        "answer": "under_evaluation",
        "answer_text": "We are checking the places.",
        "supports": "4",
        "comments": "1",
        "created_at": "2027-03-01T12:00:00Z",
    }


def test_proposals_export_lists_the_oldest_proposal_first(ctx, three_proposals_newest_first):
    consultation, newest_first = three_proposals_newest_first

    rows = exported_rows(consultation, ExportKind.PROPOSALS)

    assert column(rows, "id") == [str(i) for i in reversed(newest_first)]


def test_comments_export_gives_replies_their_parent_oldest_first(factory, ctx, author):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author)
    parent = factory.comment(proposal, author, body="Good idea.", created_at=START)
    reply = factory.comment(
        proposal,
        author,
        body="Agreed!",
        parent_id=parent.id,
        created_at=START + timedelta(minutes=5),
    )

    rows = exported_rows(consultation, ExportKind.COMMENTS)

    assert rows == [
        {
            "id": str(parent.id),
            "proposal_id": str(proposal.id),
            "parent_id": "",
            "author_name": "Jürgen Größer",
            "body": "Good idea.",
            "created_at": "2027-03-01T12:00:00Z",
        },
        {
            "id": str(reply.id),
            "proposal_id": str(proposal.id),
            "parent_id": str(parent.id),
            "author_name": "Jürgen Größer",
            "body": "Agreed!",
            "created_at": "2027-03-01T12:05:00Z",
        },
    ]


def test_initiatives_row_holds_budget_status_progress_and_update_time(factory, ctx, author):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author)
    initiative = factory.initiative(
        proposal,
        title="Benches for the Marktplatz",
        responsible_body="Grünflächenamt",
        allocated_budget=15000,
        status=InitiativeStatus.COMPLETED,
        progress_percent=100,
        updated_at=START,
    )

    [row] = exported_rows(consultation, ExportKind.INITIATIVES)

    assert row == {
        "id": str(initiative.id),
        "proposal_id": str(proposal.id),
        "title": "Benches for the Marktplatz",
        "responsible_body": "Grünflächenamt",
        "allocated_budget": "15000",
        "status": "completed",
        "progress_percent": "100",
        "updated_at": "2027-03-01T12:00:00Z",
    }


# Recording


def test_export_records_an_audit_event_for_the_consultation(factory, ctx):
    consultation = factory.consultation()
    moderator = db.session.get(User, factory.moderator().id)
    attached = db.session.get(Consultation, consultation.id)

    b"".join(exports.export(attached, ExportKind.COMMENTS, Dialect.EXCEL_DE, moderator))

    [event] = db.session.scalars(db.select(AuditEvent)).all()
    assert (event.action, event.consultation_id, event.actor_id, event.details) == (
        "export.comments",
        consultation.id,
        moderator.id,
        {"dialect": "excel_de", "via": "web"},
    )
