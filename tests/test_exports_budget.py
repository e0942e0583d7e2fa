"""The exports of a budget consultation: anonymised ballots (CSV), the counted results (CSV) and
the whole election as a pabulib file; who may download them, what they hold, the audit."""

from __future__ import annotations

import csv
import io
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Ballot,
    Consultation,
    Phase,
    TallyEntry,
    VotingMethod,
)
from participation.services import budgeting, exports
from participation.services.budgeting import pabulib
from participation.services.errors import NotAllowed
from participation.services.exports import ExportKind
from tests.budget_data import budget_election, store_tally
from tests.conftest import START

ENGLISH = {"Accept-Language": "en"}
BOM = b"\xef\xbb\xbf"


def csv_url(consultation, kind: str, dialect: str | None = None) -> str:
    url = f"/consultations/{consultation.slug}/export/{kind}.csv"
    return url if dialect is None else f"{url}?dialect={dialect}"


def pb_url(consultation) -> str:
    return f"/consultations/{consultation.slug}/export/election.pb"


PUBLIC_URLS = [
    lambda c: csv_url(c, "ballots"),
    lambda c: csv_url(c, "budget_results"),
    pb_url,
]
PUBLIC_IDS = ["ballots", "budget_results", "pabulib"]


def rows_of(data: bytes, delimiter: str = ",") -> list[dict]:
    assert data.startswith(BOM)
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig")), delimiter=delimiter))


@pytest.fixture
def published(app, factory):
    election = budget_election(factory)
    store_tally(app, election)
    return election


@pytest.fixture
def unpublished(app, factory):
    election = budget_election(factory, phase=Phase.EVALUATING, published=False)
    store_tally(app, election)
    return election


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        found = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)).all()
        db.session.expunge_all()
        return found


# Who may download


@pytest.mark.parametrize("url", PUBLIC_URLS, ids=PUBLIC_IDS)
def test_anyone_downloads_ballots_results_and_pabulib_once_published(client, published, url):
    response = client.get(url(published.consultation))

    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", PUBLIC_URLS, ids=PUBLIC_IDS)
def test_before_publishing_a_visitor_is_sent_to_log_in(client, unpublished, url):
    response = client.get(url(unpublished.consultation))

    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/account/login"


@pytest.mark.parametrize("url", PUBLIC_URLS, ids=PUBLIC_IDS)
def test_before_publishing_a_citizen_may_not_download(client, auth, factory, unpublished, url):
    auth.login(factory.user().email)

    response = client.get(url(unpublished.consultation))

    assert response.status_code == 403
    assert unpublished.codes[0] not in response.get_data(as_text=True)


@pytest.mark.parametrize("url", PUBLIC_URLS, ids=PUBLIC_IDS)
def test_moderator_downloads_before_publishing(client, auth, factory, unpublished, url):
    auth.login(factory.moderator().email)

    response = client.get(url(unpublished.consultation))

    assert response.status_code == 200


@pytest.mark.parametrize("kind", ["proposals", "comments", "initiatives"])
def test_exports_with_names_stay_with_moderators_after_publishing(
    client, auth, factory, published, kind
):
    auth.login(factory.user().email)

    response = client.get(csv_url(published.consultation, kind))

    assert response.status_code == 403


# Who may download, as the service decides it


@pytest.mark.parametrize("kind", [ExportKind.BALLOTS, ExportKind.BUDGET_RESULTS, None])
def test_before_publishing_the_public_files_are_not_allowed_to_a_citizen(
    unpublished, citizen, kind
):
    with pytest.raises(NotAllowed):
        exports.get_downloadable(unpublished.consultation.slug, kind, citizen)


@pytest.mark.parametrize("kind", [ExportKind.BALLOTS, ExportKind.BUDGET_RESULTS, None])
def test_once_published_the_public_files_are_loaded_for_a_visitor(published, ctx, kind):
    consultation = exports.get_downloadable(published.consultation.slug, kind, None)
    assert consultation.id == published.consultation.id


@pytest.mark.parametrize("kind", [ExportKind.PROPOSALS, ExportKind.COMMENTS])
def test_files_with_names_are_not_allowed_to_a_citizen_after_publishing(published, citizen, kind):
    with pytest.raises(NotAllowed):
        exports.get_downloadable(published.consultation.slug, kind, citizen)


def test_a_moderator_loads_every_file_before_publishing(unpublished, moderator):
    slug = unpublished.consultation.slug
    loaded = {exports.get_downloadable(slug, kind, moderator).id for kind in [*ExportKind, None]}
    assert loaded == {unpublished.consultation.id}


def test_budget_results_without_a_count_are_refused_with_a_message(client, auth, factory):
    election = budget_election(factory, phase=Phase.EVALUATING, published=False)
    auth.login(factory.moderator().email)

    response = client.get(csv_url(election.consultation, "budget_results"), headers=ENGLISH)

    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=ENGLISH).get_data(as_text=True)
    assert "The ballots have not been counted yet" in page
    assert events(client.application, "export.budget_results") == []


@pytest.mark.parametrize("url", PUBLIC_URLS, ids=PUBLIC_IDS)
def test_budget_exports_of_a_support_consultation_are_refused(client, auth, factory, url):
    consultation = factory.consultation(phase=Phase.CLOSED)
    auth.login(factory.moderator().email)

    response = client.get(url(consultation), headers=ENGLISH)

    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=ENGLISH).get_data(as_text=True)
    assert "This consultation has no budget ballots to export." in page


# What the files hold


def test_ballots_csv_holds_codes_and_project_ids_only(client, published):
    election = published

    data = client.get(csv_url(election.consultation, "ballots")).get_data()

    assert data.splitlines()[0] == BOM + b"ballot_code,project_ids"
    assert b"\r\n" in data
    park, bikes, bench = election.park.id, election.bikes.id, election.bench.id
    assert rows_of(data) == [
        {"ballot_code": election.codes[0], "project_ids": f"{park},{bikes}"},
        {"ballot_code": election.codes[1], "project_ids": f"{park}"},  # hidden one left out
        {"ballot_code": election.codes[2], "project_ids": f"{bikes},{bench}"},
        {"ballot_code": election.codes[3], "project_ids": ""},
    ]
    text = data.decode("utf-8")
    for voter in election.voters:
        assert voter.display_name not in text and voter.email not in text


def test_german_ballots_csv_separates_project_ids_so_that_excel_reads_no_decimal(client, published):
    """German Excel would read "12,15" as the number 12.15."""
    election = published

    data = client.get(csv_url(election.consultation, "ballots", "excel_de")).get_data()

    park, bikes = election.park.id, election.bikes.id
    assert data.splitlines()[0] == BOM + "Stimmzettel-Code;Gewählte Projekte (IDs)".encode()
    assert rows_of(data, ";")[0] == {
        "Stimmzettel-Code": election.codes[0],
        "Gewählte Projekte (IDs)": f"{park}; {bikes}",
    }


def test_ballots_csv_and_pabulib_file_hold_the_same_ballots(client, published):
    ballots = rows_of(client.get(csv_url(published.consultation, "ballots")).get_data())
    pb = pabulib.parse(client.get(pb_url(published.consultation)).get_data())

    assert [(row["ballot_code"], row["project_ids"]) for row in ballots] == [
        (vote["voter_id"], ",".join(vote["vote"])) for vote in pb.votes
    ]


def test_budget_results_csv_shows_the_rule_the_overrides_and_the_final_outcome(client, published):
    election = published

    data = client.get(csv_url(election.consultation, "budget_results")).get_data()

    rows = rows_of(data)
    assert list(rows[0]) == [
        "proposal_id",
        "title",
        "category",
        "cost_cents",
        "currency",
        "approvals",
        "funded_by_rule",
        "position",
        "share_per_supporter_cents",
        "override",
        "override_reason",
        "funded",
        "funded_by_comparison",
    ]
    park, bikes, bench = rows  # the hidden proposal is left out
    assert park == {
        "proposal_id": str(election.park.id),
        "title": "'=Park an der Güterstraße",  # a formula stays text
        "category": "Grünflächen",
        "cost_cents": "6000",
        "currency": "EUR",
        "approvals": "2",
        "funded_by_rule": "true",
        "position": "1",
        "share_per_supporter_cents": "",
        "override": "",
        "override_reason": "",
        "funded": "true",
        "funded_by_comparison": "true",
    }
    assert (bikes["title"], bikes["position"], bikes["override"]) == (
        "Fahrradbügel; viele",
        "2",
        "drop",
    )
    assert bikes["override_reason"] == "'-Zu teuer für den Bezirk"
    assert (bikes["funded_by_rule"], bikes["funded"]) == ("true", "false")
    assert (bench["position"], bench["override"], bench["funded"]) == ("", "fund", "true")


def test_german_budget_results_csv_is_in_euros_and_german_words(client, published):
    election = published

    data = client.get(csv_url(election.consultation, "budget_results", "excel_de")).get_data()

    park, bikes, bench = rows_of(data, ";")
    assert list(park) == [
        "ID des Vorschlags",
        "Titel",
        "Kategorie",
        "Kosten (€)",
        "Währung",
        "Zustimmungen",
        "Von der Regel gefördert",
        "Platz in der Reihenfolge der Regel",
        "Höchstens gezahlt pro Unterstützerin/Unterstützer (€)",
        "Entscheidung des Moderationsteams",
        "Begründung der Entscheidung",
        "Gefördert",
        "Von der Vergleichsregel gefördert",
    ]
    assert (park["Kosten (€)"], park["Von der Regel gefördert"], park["Gefördert"]) == (
        "60,00",
        "Ja",
        "Ja",
    )
    assert bikes["Entscheidung des Moderationsteams"] == (
        "Durch Entscheidung des Moderationsteams gestrichen"
    )
    assert (bench["Gefördert"], bench["Von der Vergleichsregel gefördert"]) == ("Ja", "Ja")
    assert bench["Von der Regel gefördert"] == "Nein"


def test_what_one_supporter_paid_is_in_cents_and_in_euros_with_a_decimal_comma(
    app, client, factory
):
    election = budget_election(factory)
    store_tally(app, election)
    with app.app_context():
        db.session.execute(
            db.update(TallyEntry)
            .where(TallyEntry.proposal_id == election.park.id)
            .values(share_cents=3001)
        )
        db.session.commit()

    comma = rows_of(client.get(csv_url(election.consultation, "budget_results")).get_data())
    german = rows_of(
        client.get(csv_url(election.consultation, "budget_results", "excel_de")).get_data(), ";"
    )

    assert comma[0]["share_per_supporter_cents"] == "3001"
    assert german[0]["Höchstens gezahlt pro Unterstützerin/Unterstützer (€)"] == "30,01"


@pytest.mark.parametrize("kind", ["ballots", "budget_results"])
def test_each_variant_of_the_budget_files_has_its_own_file_name(client, published, kind):
    slug = published.consultation.slug

    names = []
    for dialect in ("comma", "excel_de"):
        response = client.get(csv_url(published.consultation, kind, dialect))
        names.append(response.headers["Content-Disposition"])
        response.close()

    assert names == [
        f'attachment; filename="{slug}-{kind}.csv"',
        f'attachment; filename="{slug}-{kind}-excel.csv"',
    ]


def test_pabulib_download_is_the_file_of_the_command_line(client, app, runner_out):
    consultation, out = runner_out

    download = client.get(pb_url(consultation))

    assert download.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="{consultation.slug}.pb"'
    )
    assert download.get_data() == out.read_bytes()


@pytest.fixture
def runner_out(app, published, tmp_path):
    out = tmp_path / "election.pb"
    result = app.test_cli_runner().invoke(
        args=["pb", "export", published.consultation.slug, "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    return published.consultation, out


# The audit


def test_each_download_is_recorded_with_who_and_how(client, auth, factory, published):
    client.get(csv_url(published.consultation, "ballots", "excel_de"))
    moderator = factory.moderator()
    auth.login(moderator.email)
    client.get(pb_url(published.consultation))

    [ballots] = events(client.application, "export.ballots")
    [election] = events(client.application, "export.pabulib")
    assert (ballots.actor_id, ballots.details) == (
        None,
        {"dialect": "excel_de", "audience": "public", "via": "web"},
    )
    assert (election.actor_id, election.details) == (moderator.id, {"via": "web"})
    assert ballots.consultation_id == published.consultation.id


# flask export ballots / budget_results


def test_command_line_writes_the_ballots_csv(app, published, tmp_path):
    out = tmp_path / "ballots.csv"

    result = app.test_cli_runner().invoke(
        args=["export", "ballots", published.consultation.slug, "--out", str(out)]
    )

    assert result.exit_code == 0, result.output
    assert [row["ballot_code"] for row in rows_of(out.read_bytes())] == published.codes


def test_command_line_refuses_budget_results_before_the_count(app, factory, tmp_path):
    election = budget_election(factory, phase=Phase.EVALUATING, published=False)
    out = tmp_path / "results.csv"

    result = app.test_cli_runner().invoke(
        args=["export", "budget_results", election.consultation.slug, "--out", str(out)]
    )

    assert result.exit_code == 1
    assert not out.exists()


# The links


def test_moderator_panel_of_a_budget_consultation_links_the_budget_exports(
    client, auth, factory, published
):
    auth.login(factory.moderator().email)
    slug = published.consultation.slug

    page = client.get(f"/consultations/{slug}", headers=ENGLISH).get_data(as_text=True)

    assert f'href="{csv_url(published.consultation, "ballots", "comma")}"' in page
    assert f'href="{csv_url(published.consultation, "budget_results", "excel_de")}"' in page
    assert f'href="{pb_url(published.consultation)}"' in page
    assert f'href="{csv_url(published.consultation, "results", "comma")}"' not in page


def test_published_results_page_links_the_files_to_recompute_the_result(client, published):
    slug = published.consultation.slug

    page = client.get(f"/consultations/{slug}/results", headers=ENGLISH).get_data(as_text=True)

    assert "Recompute the result yourself" in page
    for kind in ("ballots", "budget_results"):
        for dialect in ("comma", "excel_de"):
            assert f'href="{csv_url(published.consultation, kind, dialect)}"' in page
    assert f'href="{pb_url(published.consultation)}"' in page
    assert "Anonymised ballots: CSV for programs" in page
    assert "Anonymised ballots: CSV for German Excel" in page


# No list of ballots shows the order in which they were cast

# Cast in this order; their codes sort otherwise, and each ballot approves something else.
CAST_CODES = ["ZZZZ-ZZZZ-0001", "AAAA-AAAA-0002", "MMMM-MMMM-0003", "BBBB-BBBB-0004"]


@pytest.fixture
def cast_out_of_code_order(app, factory):
    """A published budget consultation whose four ballots were cast in an order their codes
    do not have; returns the consultation and code -> approved proposal ids (as strings)."""
    consultation = factory.consultation(
        phase=Phase.CLOSED,
        voting_method=VotingMethod.BUDGET,
        budget=100,
        results_published_at=START,
    )
    author = factory.user()
    a, b, c = (
        factory.proposal(consultation, author, estimated_cost=cost, created_at=START)
        for cost in (50, 30, 20)
    )
    chosen = {}
    for code, projects in zip(CAST_CODES, [[a], [a, b], [c], [b, c]], strict=True):
        factory.ballot(consultation, factory.user(), projects, code=code)
        chosen[code] = [str(project.id) for project in projects]
    return consultation, chosen


def test_ballots_csv_lists_the_ballots_by_code_not_in_the_order_they_were_cast(
    client, cast_out_of_code_order
):
    consultation, chosen = cast_out_of_code_order

    rows = rows_of(client.get(csv_url(consultation, "ballots")).get_data())

    assert [row["ballot_code"] for row in rows] == sorted(CAST_CODES)
    assert [row["project_ids"] for row in rows] == [",".join(chosen[c]) for c in sorted(chosen)]


def test_pabulib_file_lists_the_votes_by_ballot_code_not_in_the_order_they_were_cast(
    client, cast_out_of_code_order
):
    consultation, chosen = cast_out_of_code_order

    pb = pabulib.parse(client.get(pb_url(consultation)).get_data())

    assert [(vote["voter_id"], vote["vote"]) for vote in pb.votes] == [
        (code, chosen[code]) for code in sorted(CAST_CODES)
    ]


def test_pabulib_voter_ids_are_the_random_ballot_codes_never_the_ballot_ids(
    app, client, cast_out_of_code_order
):
    consultation, _chosen = cast_out_of_code_order
    with app.app_context():
        ids = db.session.scalars(
            select(Ballot.id).where(Ballot.consultation_id == consultation.id)
        ).all()

    pb = pabulib.parse(client.get(pb_url(consultation)).get_data())

    assert {vote["voter_id"] for vote in pb.votes} == set(CAST_CODES)
    assert not {str(ballot_id) for ballot_id in ids} & {vote["voter_id"] for vote in pb.votes}
    assert pb.vote_columns == ["voter_id", "vote"]


def test_the_count_reads_the_ballots_in_the_order_of_the_exported_files(
    app, client, cast_out_of_code_order
):
    """Recomputing from the exported ballots is literally the same input as the count."""
    consultation, chosen = cast_out_of_code_order
    pb = pabulib.parse(client.get(pb_url(consultation)).get_data())

    with app.app_context():
        election, _projects = budgeting.results.election_for(
            db.session.get(Consultation, consultation.id)
        )

    assert election.ballots == pabulib.to_election(pb).ballots
    assert election.ballots == tuple(frozenset(chosen[code]) for code in sorted(CAST_CODES))


def test_ballot_codes_are_sorted_byte_for_byte_on_every_database(app, client, factory):
    """Imported elections keep the file's voter ids: upper and lower case, digits, dashes."""
    consultation = factory.consultation(
        phase=Phase.CLOSED,
        voting_method=VotingMethod.BUDGET,
        budget=100,
        results_published_at=START,
    )
    codes = ["b", "a1", "B", "a-2", "10", "9", "Ä"]
    for code in codes:
        factory.ballot(consultation, None, code=code)

    rows = rows_of(client.get(csv_url(consultation, "ballots")).get_data())
    pb = pabulib.parse(client.get(pb_url(consultation)).get_data())

    assert [row["ballot_code"] for row in rows] == sorted(codes)
    assert [vote["voter_id"] for vote in pb.votes] == sorted(codes)
