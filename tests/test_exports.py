"""The exports service: the CSV files of a consultation, byte by byte and cell by cell."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

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
from participation.services.exports import BUDGET_KINDS, Audience, Dialect, ExportKind, Format
from tests.conftest import START

# The exports of every consultation; the budget ones are tested in tests/test_budget_exports.py.
PARTICIPATION_KINDS = [kind for kind in ExportKind if kind not in BUDGET_KINDS]

DELIMITER = {Dialect.COMMA: ",", Dialect.EXCEL_DE: ";"}
FORMULA_STARTS = ["=1+1", "+49 30 1234", "-5 Bäume", "@SUM(A1:A9)", "\tTab", "\rReturn"]
STAFF, PUBLIC = Audience.STAFF, Audience.PUBLIC
WINTER = datetime(2027, 1, 15, 12, 30, tzinfo=UTC)  # Berlin: UTC+1
SUMMER = datetime(2027, 7, 15, 12, 30, tzinfo=UTC)  # Berlin: UTC+2


def exported_text(
    consultation, kind=ExportKind.RESULTS, dialect=Dialect.COMMA, audience=STAFF
) -> str:
    return "".join(exports.rows(kind, consultation, dialect, audience=audience))


def exported_rows(
    consultation, kind=ExportKind.RESULTS, dialect=Dialect.COMMA, audience=STAFF
) -> list[dict]:
    """What a program reading the file gets: one dict a row, by header."""
    text = exported_text(consultation, kind, dialect, audience)
    assert text.startswith("\ufeff")
    reader = csv.DictReader(io.StringIO(text[1:], newline=""), delimiter=DELIMITER[dialect])
    return list(reader)


def german_rows(consultation, kind=ExportKind.RESULTS, audience=STAFF) -> list[dict]:
    """The German-Excel file, one dict a row by German column title."""
    return exported_rows(consultation, kind, Dialect.EXCEL_DE, audience)


def exported_bytes(
    consultation, kind=ExportKind.RESULTS, dialect=Dialect.COMMA, audience=STAFF
) -> bytes:
    attached = db.session.get(Consultation, consultation.id)
    return b"".join(exports.export(attached, kind, dialect, actor=None, audience=audience))


def names(kind, audience=STAFF) -> list[str]:
    return [column.name for column in exports.columns(kind, audience)]


def column(rows: list[dict], name: str) -> list[str]:
    return [row[name] for row in rows]


def column_at(rows: list[dict], position: int) -> list[str]:
    """The cells of one column, by position: the same in both variants, whatever its title."""
    return [list(row.values())[position] for row in rows]


@pytest.fixture
def author(factory) -> User:
    return factory.user(display_name="Jürgen Größer")


# The file: byte order mark, header, line ends, dialects


@pytest.mark.parametrize("kind", PARTICIPATION_KINDS)
def test_comma_export_starts_with_the_byte_order_mark_and_the_english_names(factory, ctx, kind):
    consultation = factory.consultation()

    data = exported_bytes(consultation, kind)

    assert data == b"\xef\xbb\xbf" + ",".join(names(kind)).encode() + b"\r\n"


@pytest.mark.parametrize(
    ("kind", "titles"),
    [
        (
            ExportKind.RESULTS,
            "Platz;ID des Vorschlags;Titel;Verfasst von;Kategorie;Geschätzte Kosten (€);Währung;"
            "Unterstützungen;Kommentare;Antwort;Ausgewählt;ID des Vorhabens;Stand des Vorhabens",
        ),
        (
            ExportKind.PROPOSALS,
            "ID;Titel;Text;Verfasst von;Kategorie;Geschätzte Kosten (€);Währung;Status;Antwort;"
            "Text der Antwort;Unterstützungen;Kommentare;Eingereicht am;Grund für das Ausblenden",
        ),
        (
            ExportKind.COMMENTS,
            "ID;ID des Vorschlags;Antwort auf Kommentar (ID);Verfasst von;Text;Geschrieben am;"
            "Status;Grund für das Ausblenden;Status des Vorschlags",
        ),
        (
            ExportKind.INITIATIVES,
            "ID;ID des Vorschlags;Titel;Zuständige Stelle;Bewilligtes Budget (€);Währung;Stand;"
            "Fortschritt in Prozent;Zuletzt geändert am",
        ),
    ],
)
def test_german_excel_export_has_german_column_titles_naming_the_currency(
    factory, ctx, kind, titles
):
    consultation = factory.consultation()

    data = exported_bytes(consultation, kind, Dialect.EXCEL_DE)

    assert data == b"\xef\xbb\xbf" + titles.encode() + b"\r\n"


def test_german_titles_name_the_currency_of_the_consultation(factory, ctx):
    consultation = factory.consultation(currency="CHF")

    header = exported_text(consultation, dialect=Dialect.EXCEL_DE).split("\r\n")[0]

    assert ";Geschätzte Kosten (CHF);" in header


def test_german_titles_stay_german_whatever_the_language_of_the_reader(factory, ctx):
    """The ctx fixture reads in English; the German-Excel file is German all the same."""
    consultation = factory.consultation()

    header = exported_text(consultation, ExportKind.COMMENTS, Dialect.EXCEL_DE).split("\r\n")[0]

    assert header.startswith("\ufeffID;ID des Vorschlags;Antwort auf Kommentar (ID);")


def test_each_variant_downloads_under_its_own_file_name(factory, ctx):
    consultation = factory.consultation(slug="radwege")

    assert [exports.filename(consultation, ExportKind.RESULTS, d) for d in Dialect] == [
        "radwege-results.csv",
        "radwege-results-excel.csv",
    ]


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

    # The title, the author and the category are the third to fifth columns in both variants.
    assert list(row.values())[2:5] == [
        "Schöne Bäume für die Güterstraße",
        "Jürgen Größer",
        "Grünflächen",
    ]


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


AMOUNTS = (
    exports.Column("amount_cents", "Betrag (%(currency)s)", Format.CENTS),
    exports.Column("count", "Anzahl", Format.NUMBER),
    exports.Column("note", "Notiz"),
)


def encoded(dialect: Dialect, rows) -> list[str]:
    writer = exports.CellWriter(dialect, currency="EUR")
    return "".join(exports.encode_rows(AMOUNTS, [rows], writer)).split("\r\n")[1:-1]


def test_numbers_are_written_as_numbers_even_when_negative():
    assert encoded(Dialect.COMMA, [(-1250, -5, "-5")]) == ["-1250,-5,'-5"]


def test_german_money_has_a_decimal_comma_and_no_thousands_separator_and_stays_a_number():
    rows = [(123_450, 1234, "x"), (-1250, -5, "-5"), (5, 0, "y"), (-5, 0, "z")]

    assert encoded(Dialect.EXCEL_DE, rows) == [
        "1234,50;1234;x",
        "-12,50;-5;'-5",
        "0,05;0;y",
        "-0,05;0;z",
    ]


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
@pytest.mark.parametrize("dialect", list(Dialect))
def test_hidden_proposals_appear_in_no_public_export(ctx, hidden_proposal, kind, dialect):
    consultation, hidden = hidden_proposal

    text = exported_text(consultation, kind, dialect, PUBLIC)
    rows = exported_rows(consultation, kind, dialect, PUBLIC)

    assert "hidden proposal" not in text
    # The id of the proposal is in the first column of proposals and the second of the others.
    assert str(hidden.id) not in column_at(rows, 0) + column_at(rows, 1)


@pytest.mark.parametrize("kind", [ExportKind.RESULTS, ExportKind.INITIATIVES])
def test_hidden_proposals_are_not_in_the_results_or_initiatives_of_staff(
    ctx, hidden_proposal, kind
):
    consultation, _hidden = hidden_proposal

    assert "hidden proposal" not in exported_text(consultation, kind)


def test_staff_proposals_file_says_which_proposals_were_hidden_and_why(factory, ctx, author):
    consultation = factory.consultation()
    factory.proposal(consultation, author, title="Published proposal", created_at=START)
    hidden = factory.proposal(
        consultation,
        author,
        state=ProposalState.HIDDEN,
        hidden_reason="Werbung für ein Geschäft",
        created_at=START + timedelta(minutes=1),
    )

    rows = exported_rows(consultation, ExportKind.PROPOSALS)
    german = german_rows(consultation, ExportKind.PROPOSALS)

    assert [(row["state"], row["hidden_reason"]) for row in rows] == [
        ("published", ""),
        ("hidden", "Werbung für ein Geschäft"),
    ]
    assert rows[1]["id"] == str(hidden.id)
    assert [row["Status"] for row in german] == ["Veröffentlicht", "Ausgeblendet"]


def test_public_proposals_file_holds_published_proposals_only_and_no_reasons(factory, ctx, author):
    consultation = factory.consultation()
    published = factory.proposal(consultation, author)
    factory.proposal(consultation, author, state=ProposalState.HIDDEN, hidden_reason="Spam")
    factory.proposal(consultation, author, state=ProposalState.WITHDRAWN)

    rows = exported_rows(consultation, ExportKind.PROPOSALS, audience=PUBLIC)

    assert [(row["id"], row["state"]) for row in rows] == [(str(published.id), "published")]
    assert "hidden_reason" not in rows[0]


@pytest.fixture
def moderated_comments(factory, author):
    """A published, a hidden and a deleted comment on a published proposal, and a published
    comment on a hidden proposal."""
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author)
    hidden_proposal = factory.proposal(consultation, author, state=ProposalState.HIDDEN)
    comments = [
        factory.comment(proposal, author, body="Published comment", created_at=START),
        factory.comment(
            proposal,
            author,
            state=CommentState.HIDDEN,
            body="Hidden comment",
            hidden_reason="Beleidigend",
            created_at=START + timedelta(minutes=1),
        ),
        factory.comment(
            proposal,
            author,
            state=CommentState.DELETED,
            body="",
            created_at=START + timedelta(minutes=2),
        ),
        factory.comment(
            hidden_proposal,
            author,
            body="Comment on the hidden proposal",
            created_at=START + timedelta(minutes=3),
        ),
    ]
    return consultation, comments


def test_staff_comments_file_says_which_comments_were_hidden_and_why(ctx, moderated_comments):
    consultation, comments = moderated_comments

    rows = exported_rows(consultation, ExportKind.COMMENTS)

    assert [
        (row["id"], row["body"], row["state"], row["hidden_reason"], row["proposal_state"])
        for row in rows
    ] == [
        (str(comments[0].id), "Published comment", "published", "", "published"),
        (str(comments[1].id), "Hidden comment", "hidden", "Beleidigend", "published"),
        (str(comments[2].id), "", "deleted", "", "published"),
        (str(comments[3].id), "Comment on the hidden proposal", "published", "", "hidden"),
    ]


def test_staff_comments_file_names_the_states_in_german_words(ctx, moderated_comments):
    consultation, _comments = moderated_comments

    rows = german_rows(consultation, ExportKind.COMMENTS)

    assert [(row["Status"], row["Status des Vorschlags"]) for row in rows] == [
        ("Veröffentlicht", "Veröffentlicht"),
        ("Ausgeblendet", "Veröffentlicht"),
        ("Gelöscht", "Veröffentlicht"),
        ("Veröffentlicht", "Ausgeblendet"),
    ]


def test_a_deleted_comment_stays_without_its_text_in_the_staff_file(factory, ctx, author):
    """Even a row written before the text was erased on deletion."""
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author)
    factory.comment(proposal, author, state=CommentState.DELETED, body="What I regret")

    [row] = exported_rows(consultation, ExportKind.COMMENTS)

    assert (row["state"], row["body"]) == ("deleted", "")


@pytest.mark.parametrize("dialect", list(Dialect))
def test_public_comments_file_holds_only_published_comments_of_published_proposals(
    ctx, moderated_comments, dialect
):
    consultation, comments = moderated_comments

    text = exported_text(consultation, ExportKind.COMMENTS, dialect, PUBLIC)
    rows = exported_rows(consultation, ExportKind.COMMENTS, dialect, PUBLIC)

    assert column_at(rows, 0) == [str(comments[0].id)]
    assert "Hidden comment" not in text and "Beleidigend" not in text
    assert "hidden proposal" not in text


def test_public_comments_file_has_no_state_or_reason_columns():
    assert names(ExportKind.COMMENTS, PUBLIC) == [
        "id",
        "proposal_id",
        "parent_id",
        "author_name",
        "body",
        "created_at",
    ]


@pytest.mark.parametrize("kind", list(ExportKind))
def test_staff_files_add_their_columns_after_those_of_the_public_files(kind):
    public = names(kind, PUBLIC)

    assert names(kind, STAFF)[: len(public)] == public


@pytest.mark.parametrize(
    ("kind", "listed"),
    [
        (ExportKind.RESULTS, False),
        (ExportKind.PROPOSALS, True),
    ],
)
def test_withdrawn_proposals_appear_in_the_staff_proposals_export_only(
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


@pytest.mark.parametrize(
    ("dialect", "name"),
    [(Dialect.COMMA, "deleted participant"), (Dialect.EXCEL_DE, "gelöschtes Konto")],
)
def test_author_of_a_deleted_account_is_a_deleted_participant(factory, ctx, author, dialect, name):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author)
    factory.comment(proposal, author)
    db.session.execute(db.delete(User).where(User.id == author.id))
    db.session.commit()

    # The author is the fourth column of the results, the proposals and the comments.
    authors = [
        author_name
        for kind in (ExportKind.RESULTS, ExportKind.PROPOSALS, ExportKind.COMMENTS)
        for author_name in column_at(exported_rows(consultation, kind, dialect), 3)
    ]

    assert authors == [name] * 3


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

    chunks = list(exports.rows(ExportKind.RESULTS, consultation, audience=STAFF))
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
        "estimated_cost_cents": "1200000",
        "currency": "EUR",
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

    empty = ("category", "estimated_cost_cents", "initiative_id")
    assert [row[name] for name in empty] == ["", "", ""]
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
        "estimated_cost_cents": "80000",
        "currency": "EUR",
        "state": "published",
        "answer": "under_evaluation",
        "answer_text": "We are checking the places.",
        "supports": "4",
        "comments": "1",
        "created_at": "2027-03-01T12:00:00Z",
        "hidden_reason": "",
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
            "state": "published",
            "hidden_reason": "",
            "proposal_state": "published",
        },
        {
            "id": str(reply.id),
            "proposal_id": str(proposal.id),
            "parent_id": str(parent.id),
            "author_name": "Jürgen Größer",
            "body": "Agreed!",
            "created_at": "2027-03-01T12:05:00Z",
            "state": "published",
            "hidden_reason": "",
            "proposal_state": "published",
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
        "allocated_budget_cents": "1500000",
        "currency": "EUR",
        "status": "completed",
        "progress_percent": "100",
        "updated_at": "2027-03-01T12:00:00Z",
    }


# Recording


def test_export_records_an_audit_event_for_the_consultation(factory, ctx):
    consultation = factory.consultation()
    moderator = db.session.get(User, factory.moderator().id)
    attached = db.session.get(Consultation, consultation.id)

    b"".join(
        exports.export(attached, ExportKind.COMMENTS, Dialect.EXCEL_DE, moderator, audience=STAFF)
    )

    [event] = db.session.scalars(db.select(AuditEvent)).all()
    assert (event.action, event.consultation_id, event.actor_id, event.details) == (
        "export.comments",
        consultation.id,
        moderator.id,
        {"dialect": "excel_de", "audience": "staff", "via": "web"},
    )


# Who a file is for


def test_a_moderator_gets_the_staff_files_and_everybody_else_the_public_ones(factory, ctx):
    moderator = db.session.get(User, factory.moderator().id)
    citizen = db.session.get(User, factory.user().id)

    assert [exports.audience_for(viewer) for viewer in (moderator, citizen, None)] == [
        STAFF,
        PUBLIC,
        PUBLIC,
    ]


# The comma variant: for programs


def test_every_money_column_is_in_cents_and_says_so_in_its_name():
    money = {
        kind: [c.name for c in exports.columns(kind, STAFF) if c.format is Format.CENTS]
        for kind in ExportKind
    }

    assert money == {
        ExportKind.RESULTS: ["estimated_cost_cents"],
        ExportKind.PROPOSALS: ["estimated_cost_cents"],
        ExportKind.COMMENTS: [],
        ExportKind.INITIATIVES: ["allocated_budget_cents"],
        ExportKind.BALLOTS: [],
        ExportKind.BUDGET_RESULTS: ["cost_cents", "share_per_supporter_cents"],
    }


def test_every_export_with_money_names_its_currency(factory, ctx, author):
    consultation = factory.consultation(currency="CHF")
    proposal = factory.proposal(consultation, author, estimated_cost=5)
    factory.initiative(proposal, allocated_budget=7)

    currencies = [
        row["currency"]
        for kind in (ExportKind.RESULTS, ExportKind.PROPOSALS, ExportKind.INITIATIVES)
        for row in exported_rows(consultation, kind)
    ]

    assert currencies == ["CHF"] * 3


def test_whole_currency_units_are_written_as_cents(factory, ctx, author):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author, estimated_cost=1234)
    factory.initiative(proposal, allocated_budget=2_000_000_000)

    [result] = exported_rows(consultation)
    [initiative] = exported_rows(consultation, ExportKind.INITIATIVES)

    assert result["estimated_cost_cents"] == "123400"
    assert initiative["allocated_budget_cents"] == "200000000000"


@pytest.mark.parametrize("when", [WINTER, SUMMER], ids=["winter", "summer"])
def test_comma_times_are_iso_8601_utc_whatever_the_site_time_zone(factory, ctx, author, when):
    consultation = factory.consultation()
    factory.proposal(consultation, author, created_at=when)

    [row] = exported_rows(consultation, ExportKind.PROPOSALS)

    assert row["created_at"] == when.strftime("%Y-%m-%dT%H:%M:%SZ")


# The German-Excel variant: for people


@pytest.mark.parametrize(
    ("when", "local"),
    [(WINTER, "15.01.2027 13:30"), (SUMMER, "15.07.2027 14:30")],
    ids=["winter", "summer"],
)
def test_german_times_are_in_the_site_time_zone(factory, ctx, author, when, local):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author, created_at=when)
    factory.comment(proposal, author, created_at=when)
    factory.initiative(proposal, updated_at=when)

    [proposal_row] = german_rows(consultation, ExportKind.PROPOSALS)
    [comment_row] = german_rows(consultation, ExportKind.COMMENTS)
    [initiative_row] = german_rows(consultation, ExportKind.INITIATIVES)

    assert proposal_row["Eingereicht am"] == local
    assert comment_row["Geschrieben am"] == local
    assert initiative_row["Zuletzt geändert am"] == local


def test_the_site_time_zone_is_a_setting(app, factory, ctx, author, monkeypatch):
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_TIMEZONE", "Europe/Lisbon")
    consultation = factory.consultation()
    factory.proposal(consultation, author, created_at=SUMMER)

    [row] = german_rows(consultation, ExportKind.PROPOSALS)

    assert row["Eingereicht am"] == "15.07.2027 13:30"


def test_german_money_is_in_currency_units_with_a_decimal_comma(factory, ctx, author):
    consultation = factory.consultation()
    proposal = factory.proposal(consultation, author, estimated_cost=1234)
    factory.initiative(proposal, allocated_budget=2_000_000)

    [result] = german_rows(consultation)
    [initiative] = german_rows(consultation, ExportKind.INITIATIVES)

    assert (result["Geschätzte Kosten (€)"], result["Währung"]) == ("1234,00", "EUR")
    assert initiative["Bewilligtes Budget (€)"] == "2000000,00"


def test_german_enum_values_and_flags_are_german_words(factory, ctx, author):
    consultation = factory.consultation()
    chosen = factory.proposal(
        consultation,
        author,
        answer=Answer.UNDER_EVALUATION,
        selected=True,
        support_count=2,
        created_at=START,
    )
    factory.initiative(chosen, status=InitiativeStatus.IN_PROGRESS)
    factory.proposal(consultation, author, support_count=1, created_at=START)
    factory.proposal(
        consultation, author, state=ProposalState.WITHDRAWN, created_at=START + timedelta(1)
    )

    results = german_rows(consultation)
    proposals = german_rows(consultation, ExportKind.PROPOSALS)
    [initiative] = german_rows(consultation, ExportKind.INITIATIVES)

    assert [(r["Antwort"], r["Ausgewählt"], r["Stand des Vorhabens"]) for r in results] == [
        ("In Prüfung", "Ja", "In Umsetzung"),
        ("Noch nicht beantwortet", "Nein", ""),
    ]
    assert [row["Status"] for row in proposals] == [
        "Veröffentlicht",
        "Veröffentlicht",
        "Zurückgezogen",
    ]
    assert initiative["Stand"] == "In Umsetzung"


def test_german_text_that_looks_like_a_formula_is_still_neutralised(factory, ctx, author):
    consultation = factory.consultation()
    factory.proposal(consultation, author, title="-5 Bäume", estimated_cost=5)

    [row] = german_rows(consultation)

    assert (row["Titel"], row["Geschätzte Kosten (€)"]) == ("'-5 Bäume", "5,00")


# The documentation


@pytest.mark.parametrize("kind", list(ExportKind))
def test_open_data_documentation_names_every_column_with_its_german_title(ctx, kind):
    documentation = (Path(__file__).parent.parent / "docs" / "open-data.md").read_text()
    every = exports.columns(kind, STAFF)
    titles = exports.CellWriter(Dialect.EXCEL_DE, "EUR").header(every)

    missing = [
        (column.name, title)
        for column, title in zip(every, titles, strict=True)
        if f"| `{column.name}` | {title} |" not in documentation
    ]

    assert missing == []
