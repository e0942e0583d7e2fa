"""CSV downloads through HTTP, the links to them, and `flask export` on the command line."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest

from participation.extensions import db
from participation.models import AuditEvent, CommentState, Phase, Proposal
from participation.services.exports import BUDGET_KINDS, ExportKind

ENGLISH = {"Accept-Language": "en"}
KINDS = [kind.value for kind in ExportKind if kind not in BUDGET_KINDS]
DIALECTS = ["comma", "excel_de"]
BOM = b"\xef\xbb\xbf"


def export_url(consultation, kind: str = "results", dialect: str | None = None) -> str:
    url = f"/consultations/{consultation.slug}/export/{kind}.csv"
    return url if dialect is None else f"{url}?dialect={dialect}"


@pytest.fixture
def consultation_with_content(factory):
    """A consultation with a proposal, a comment and an initiative, so every file has a row."""
    consultation = factory.consultation(phase=Phase.CLOSED, categories=("Grünflächen",))
    author = factory.user(display_name="Jürgen Größer")
    proposal = factory.proposal(
        consultation,
        author,
        title="=Bäume für die Güterstraße",
        category_id=consultation.categories[0].id,
        support_count=3,
    )
    factory.comment(proposal, author, body="Sehr gut; endlich!")
    factory.initiative(proposal, responsible_body="Grünflächenamt")
    return consultation


@pytest.fixture
def moderator_client(client, auth, factory):
    auth.login(factory.moderator().email)
    return client


# Who may download


@pytest.mark.parametrize("kind", KINDS)
def test_moderator_downloads_each_export_as_a_streamed_csv_attachment(
    moderator_client, consultation_with_content, kind
):
    response = moderator_client.get(export_url(consultation_with_content, kind))

    assert response.status_code == 200
    assert response.is_streamed
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{consultation_with_content.slug}-{kind}.csv"'
    )
    assert response.get_data().startswith(BOM + (b"rank," if kind == "results" else b"id,"))


@pytest.mark.parametrize("kind", KINDS)
def test_the_german_excel_variant_downloads_under_another_file_name(
    moderator_client, consultation_with_content, kind
):
    response = moderator_client.get(export_url(consultation_with_content, kind, "excel_de"))

    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{consultation_with_content.slug}-{kind}-excel.csv"'
    )


def test_download_is_not_kept_in_caches(moderator_client, consultation_with_content):
    response = moderator_client.get(export_url(consultation_with_content))

    assert response.headers["Cache-Control"] == "no-store"


def test_admin_downloads_an_export(client, auth, factory, consultation_with_content):
    auth.login(factory.admin().email)

    response = client.get(export_url(consultation_with_content))

    assert response.status_code == 200


def test_moderator_downloads_an_export_of_a_draft(moderator_client, factory):
    draft = factory.consultation(phase=Phase.DRAFT)

    response = moderator_client.get(export_url(draft, "proposals"))

    assert response.status_code == 200


@pytest.mark.parametrize("kind", KINDS)
def test_citizen_may_not_download_an_export(client, auth, factory, consultation_with_content, kind):
    auth.login(factory.user().email)

    response = client.get(export_url(consultation_with_content, kind), headers=ENGLISH)

    assert response.status_code == 403
    assert "Jürgen" not in response.get_data(as_text=True)


def test_visitor_is_sent_to_log_in_and_back_to_the_download(client, consultation_with_content):
    url = export_url(consultation_with_content, "comments", "excel_de")

    response = client.get(url)

    location = urlsplit(response.headers["Location"])
    assert (response.status_code, location.path) == (302, "/account/login")
    assert parse_qs(location.query)["next"] == [url]


def test_unknown_export_kind_is_not_found(moderator_client, consultation_with_content):
    response = moderator_client.get(export_url(consultation_with_content, "votes"))

    assert response.status_code == 404


def test_export_of_an_unknown_consultation_is_not_found(moderator_client):
    response = moderator_client.get("/consultations/no-such-thing/export/results.csv")

    assert response.status_code == 404


def test_unknown_dialect_is_a_bad_request(moderator_client, consultation_with_content):
    response = moderator_client.get(export_url(consultation_with_content, dialect="tabs"))

    assert response.status_code == 400


# What is downloaded


def test_download_without_a_dialect_is_comma_separated(moderator_client, consultation_with_content):
    data = moderator_client.get(export_url(consultation_with_content, "comments")).get_data()

    assert data.startswith(
        BOM + b"id,proposal_id,parent_id,author_name,body,created_at,"
        b"state,hidden_reason,proposal_state\r\n"
    )


def test_excel_de_download_is_semicolon_separated_utf8_with_umlauts_and_german_titles(
    moderator_client, consultation_with_content
):
    data = moderator_client.get(
        export_url(consultation_with_content, "comments", "excel_de"), headers=ENGLISH
    ).get_data()

    header, row = data.removeprefix(BOM).decode("utf-8").split("\r\n")[:2]
    assert header == (
        "ID;ID des Vorschlags;Antwort auf Kommentar (ID);Verfasst von;Text;Geschrieben am;"
        "Status;Grund für das Ausblenden;Status des Vorschlags"
    )
    assert ';Jürgen Größer;"Sehr gut; endlich!";' in row
    assert row.endswith(";Veröffentlicht;;Veröffentlicht")


def test_moderators_download_hidden_comments_with_their_reason(
    moderator_client, factory, consultation_with_content
):
    with moderator_client.application.app_context():
        proposal = db.session.scalar(
            db.select(Proposal).where(Proposal.consultation_id == consultation_with_content.id)
        )
        db.session.expunge(proposal)
    factory.comment(
        proposal, factory.user(), state=CommentState.HIDDEN, body="Beleidigung", hidden_reason="Ton"
    )

    data = moderator_client.get(export_url(consultation_with_content, "comments")).get_data()

    *_others, hidden = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    assert (hidden["body"], hidden["state"], hidden["hidden_reason"]) == (
        "Beleidigung",
        "hidden",
        "Ton",
    )


def test_download_neutralises_a_title_that_starts_with_a_formula(
    moderator_client, consultation_with_content
):
    text = moderator_client.get(export_url(consultation_with_content)).get_data().decode()

    assert ",'=Bäume für die Güterstraße," in text


def test_download_is_recorded_in_the_audit_log_of_the_consultation(
    app, client, auth, factory, consultation_with_content
):
    moderator = factory.moderator()
    auth.login(moderator.email)

    client.get(export_url(consultation_with_content, "initiatives", "excel_de")).get_data()

    with app.app_context():
        [event] = db.session.scalars(db.select(AuditEvent)).all()
        assert (event.action, event.actor_id, event.consultation_id) == (
            "export.initiatives",
            moderator.id,
            consultation_with_content.id,
        )


def test_audit_log_names_the_export(moderator_client, consultation_with_content):
    moderator_client.get(export_url(consultation_with_content, "proposals")).get_data()

    page = moderator_client.get(
        f"/consultations/{consultation_with_content.slug}/audit", headers=ENGLISH
    ).get_data(as_text=True)

    assert "Proposals exported as CSV" in page


# The links on the consultation page


def test_moderator_sees_a_link_to_each_export_in_both_dialects(
    moderator_client, consultation_with_content
):
    page = moderator_client.get(
        f"/consultations/{consultation_with_content.slug}", headers=ENGLISH
    ).get_data(as_text=True)

    for kind in KINDS:
        for dialect in DIALECTS:
            assert f'href="{export_url(consultation_with_content, kind, dialect)}"' in page
    assert "Results: CSV for programs (commas, amounts in cents, times in UTC)" in page
    assert (
        "Results: CSV for German Excel (semicolons, German column titles, amounts with a"
        " decimal comma, local times)"
    ) in page


def test_citizen_sees_no_export_links(client, auth, factory, consultation_with_content):
    auth.login(factory.user().email)

    page = client.get(f"/consultations/{consultation_with_content.slug}").get_data(as_text=True)

    assert "/export/" not in page


# flask export


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_command_line_writes_the_same_bytes_as_the_download(
    moderator_client, runner, consultation_with_content, tmp_path, kind, dialect
):
    out = tmp_path / "export.csv"

    result = runner.invoke(
        args=[
            "export",
            kind,
            consultation_with_content.slug,
            "--out",
            str(out),
            "--dialect",
            dialect,
        ]
    )

    assert result.exit_code == 0, result.output
    download = moderator_client.get(export_url(consultation_with_content, kind, dialect))
    assert out.read_bytes() == download.get_data()


def test_command_line_writes_comma_separated_results_by_default(
    runner, consultation_with_content, tmp_path
):
    out = tmp_path / "results.csv"

    result = runner.invoke(args=["export", "results", consultation_with_content.slug, "--out", out])

    assert result.exit_code == 0, result.output
    assert out.read_bytes().startswith(BOM + b"rank,proposal_id,title,")


def test_command_line_writes_the_public_file_for_publishing_without_hidden_content(
    runner, factory, consultation_with_content, tmp_path
):
    with runner.app.app_context():
        proposal = db.session.scalar(
            db.select(Proposal).where(Proposal.consultation_id == consultation_with_content.id)
        )
        db.session.expunge(proposal)
    factory.comment(proposal, factory.user(), state=CommentState.HIDDEN, body="Beleidigung")
    out = tmp_path / "comments.csv"

    slug = consultation_with_content.slug

    result = runner.invoke(
        args=["export", "comments", slug, "--out", str(out), "--audience", "public"]
    )

    assert result.exit_code == 0, result.output
    text = out.read_bytes().decode("utf-8-sig")
    assert text.startswith("id,proposal_id,parent_id,author_name,body,created_at\r\n")
    assert "Sehr gut; endlich!" in text and "Beleidigung" not in text


def test_command_line_refuses_an_unknown_consultation_and_writes_nothing(runner, tmp_path):
    out = tmp_path / "results.csv"

    result = runner.invoke(args=["export", "results", "no-such-thing", "--out", str(out)])

    assert result.exit_code == 1
    assert result.output.startswith("no-such-thing: ")
    assert list(tmp_path.iterdir()) == []
