"""`flask pb import` and `flask pb export`: pabulib files into a closed budget consultation and
back, on both database backends."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Ballot,
    BallotChoice,
    Category,
    Consultation,
    Phase,
    Proposal,
    TallyRule,
    VotingMethod,
)
from participation.services import budgeting
from participation.services.budgeting import pabulib, tally
from tests.budget_data import EXPECTED, PABULIB, RULES, budget_election, store_tally
from tests.test_budgeting_pabulib import SMALL, replaced

ASSEN = PABULIB / "Netherlands_Assen_2024.pb"
ZURICH = PABULIB / "Switzerland_Zurich_SN.pb"
D10 = PABULIB / "Switzerland_Zurich_D10.pb"
MODELS = (Consultation, Proposal, Category, Ballot, BallotChoice, AuditEvent)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__name__: db.session.scalar(select(func.count()).select_from(model))
            for model in MODELS
        }


def import_ok(runner, path, *options) -> str:
    result = runner.invoke(args=["pb", "import", str(path), *options])
    assert result.exit_code == 0, result.output
    return result.stdout.split(" as ")[1].split(":")[0]


def consultation_of(slug: str) -> Consultation:
    return db.session.scalar(select(Consultation).where(Consultation.slug == slug))


def stored_ballots(consultation: Consultation) -> dict[str, frozenset[str]]:
    """ballot code -> the original pabulib ids of the approved projects."""
    originals = {
        proposal.id: pabulib.original_id(proposal)
        for proposal in budgeting.results.projects_of(consultation)
    }
    ballots = {
        ballot.id: (ballot.code, set())
        for ballot in db.session.scalars(
            select(Ballot).where(Ballot.consultation_id == consultation.id)
        )
    }
    for choice in db.session.scalars(
        select(BallotChoice).where(BallotChoice.ballot_id.in_(ballots))
    ):
        ballots[choice.ballot_id][1].add(originals[choice.proposal_id])
    return {code: frozenset(chosen) for code, chosen in ballots.values()}


# flask pb import


def test_import_creates_a_closed_budget_consultation_with_anonymous_ballots(app, runner):
    result = runner.invoke(args=["pb", "import", str(ASSEN)])

    assert result.exit_code == 0, result.output
    assert "14 projects, 84 ballots" in result.stdout
    with app.app_context():
        consultation = consultation_of("assen-top-idee")
        assert consultation.title == "Assen Top Idee"
        assert (consultation.phase, consultation.voting_method) == (
            Phase.CLOSED,
            VotingMethod.BUDGET,
        )
        assert (consultation.budget, consultation.currency) == (100000, "EUR")
        assert consultation.tally_rule is TallyRule.EQUAL_SHARES
        assert (consultation.ballot_min_projects, consultation.ballot_max_projects) == (2, None)
        assert consultation.voting_starts_on == date(2024, 3, 31)
        assert consultation.voting_ends_on == date(2024, 4, 15)
        ballots = db.session.scalars(
            select(Ballot).where(Ballot.consultation_id == consultation.id)
        ).all()
        assert len(ballots) == 84
        assert all(ballot.user_id is None for ballot in ballots)
        # Assen's voter ids are 40 characters long: too long for a code, so new codes.
        assert all(len(ballot.code) == 14 for ballot in ballots)
        projects = budgeting.results.projects_of(consultation)
        podium = next(p for p in projects if pabulib.original_id(p) == "3")
        assert (podium.title, podium.estimated_cost, podium.author_id) == (
            "PopUp Podium",
            7200,
            None,
        )
        assert podium.body == (
            "12x per jaar zal er een PopUp Podium opduiken in de stad\n\npabulib project_id: 3"
        )


def test_import_keeps_the_ballots_as_they_are_in_the_file(app, runner):
    slug = import_ok(runner, ZURICH)

    pb = pabulib.parse(ZURICH.read_bytes())
    with app.app_context():
        ballots = stored_ballots(consultation_of(slug))
    # Zürich's voter ids are short: they become the ballot codes.
    assert ballots == {vote["voter_id"]: frozenset(vote["vote"]) for vote in pb.votes}


def test_import_takes_the_first_of_several_categories(app, runner, tmp_path):
    path = tmp_path / "categories.pb"
    text = replaced("project_id;cost;name", "project_id;cost;name;category")
    text = replaced('1;50;"Park; with a bench"', '1;50;"Park; with a bench";"parks,sport"', text)
    text = replaced("2;40;Bikes", "2;40;Bikes;traffic", text)
    text = replaced('10;30;"A ""quoted"" name"', '10;30;"A ""quoted"" name";parks', text)
    path.write_text(text)

    slug = import_ok(runner, path)

    with app.app_context():
        consultation = consultation_of(slug)
        assert [category.name for category in consultation.categories] == ["parks", "traffic"]
        by_original = {
            pabulib.original_id(p): p.category.name
            for p in budgeting.results.projects_of(consultation)
        }
        assert by_original == {"1": "parks", "2": "traffic", "10": "parks"}


def test_import_maps_the_files_limits_and_threshold(app, runner, tmp_path):
    path = tmp_path / "limits.pb"
    extra = "min_length;1\nmax_length;2\nmax_sum_cost;50\nmin_project_score_threshold;2\n"
    text = replaced("vote_type;approval\n", "vote_type;approval\nrule;greedy-threshold\n" + extra)
    path.write_text(text)

    slug = import_ok(runner, path, "--slug", "mein-haushalt")

    with app.app_context():
        consultation = consultation_of("mein-haushalt")
        assert slug == "mein-haushalt"
        assert consultation.ballot_min_projects == 1
        assert consultation.ballot_max_projects == 2
        assert consultation.ballot_max_share == 50
        assert consultation.min_approvals == 2
        assert consultation.tally_rule is TallyRule.GREEDY


def test_imported_election_counts_as_the_file_does(app, runner):
    """The new proposal ids sort as strings like the original ids: ties break alike."""
    slug = import_ok(runner, ASSEN)

    with app.app_context():
        election, projects = budgeting.results.election_for(consultation_of(slug))
        original = {str(p.id): pabulib.original_id(p) for p in projects}
        for rule in RULES:
            outcome = tally.count(election, rule)
            funded = [original[project] for project in outcome.funded]
            assert funded == EXPECTED["Netherlands_Assen_2024.pb"][rule]["funded"], rule


def test_import_refuses_cumulative_ballots_by_name_and_stores_nothing(app, runner):
    before = row_counts(app)

    result = runner.invoke(args=["pb", "import", str(D10)])

    assert result.exit_code == 1
    assert "'cumulative'" in result.stderr
    assert "Traceback" not in result.output
    assert row_counts(app) == before


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (replaced("2;40;Bikes", "2;40.5;Bikes"), "the cost of project 2 is 40.5"),
        (replaced("budget;100", "budget;99.5"), "line 6: the budget is 99.5"),
        (replaced("budget;100", "budget;0"), "line 6: the budget must be more than 0"),
        (replaced("c;1;", "c;7;"), "line 17: voter c votes for unknown project 7"),
    ],
)
def test_import_of_an_unusable_file_stores_nothing(app, runner, tmp_path, text, words):
    path = tmp_path / "bad.pb"
    path.write_text(text)
    before = row_counts(app)

    result = runner.invoke(args=["pb", "import", str(path)])

    assert result.exit_code == 1
    assert words in result.stderr
    assert "nothing was imported" in result.stderr
    assert row_counts(app) == before


def test_import_refuses_a_slug_in_use(app, runner, factory, tmp_path):
    factory.consultation(slug="taken")
    path = tmp_path / "small.pb"
    path.write_text(SMALL)
    before = row_counts(app)

    result = runner.invoke(args=["pb", "import", str(path), "--slug", "taken"])

    assert result.exit_code == 1
    assert "'taken' exists already" in result.stderr
    assert row_counts(app) == before


def test_import_is_recorded_in_the_audit_log(app, runner, tmp_path):
    path = tmp_path / "small.pb"
    path.write_text(SMALL)

    slug = import_ok(runner, path)

    with app.app_context():
        consultation = consultation_of(slug)
        event = db.session.scalar(
            select(AuditEvent).where(
                AuditEvent.consultation_id == consultation.id,
                AuditEvent.action == "consultation.imported",
            )
        )
        assert event.details["projects"] == 3 and event.details["ballots"] == 4
        assert set(event.details["project_ids"]) == {"1", "2", "10"}


def test_import_counts_the_election_with_its_rule_and_publishes_it(app, runner, tmp_path):
    """A past election is loaded to be recomputed: the import counts it with the file's rule
    and publishes the result, like the city did."""
    path = tmp_path / "small.pb"
    path.write_text(SMALL)

    slug = import_ok(runner, path)

    with app.app_context():
        consultation = consultation_of(slug)
        assert consultation.results_published_at is not None
        record = budgeting.results.tally_of(consultation)
        assert record is not None and record.computed_by_id is None
        assert record.rule is consultation.tally_rule
        election = pabulib.to_election(pabulib.parse(SMALL))
        expected = tally.count(election, consultation.tally_rule, consultation.min_approvals)
        by_original = {pabulib.original_id(entry.proposal): entry for entry in record.entries}
        assert {p for p, entry in by_original.items() if entry.funded} == set(expected.funded)


# flask pb export


def test_export_writes_the_election_with_ballot_codes_and_no_names(app, runner, factory, tmp_path):
    election = budget_election(factory, min_approvals=1, ballot_max_projects=3)
    out = tmp_path / "out.pb"

    result = runner.invoke(args=["pb", "export", election.consultation.slug, "--out", str(out)])

    assert result.exit_code == 0, result.output
    text = out.read_text()
    pb = pabulib.parse(text)
    assert pb.meta["description"] == "Bürgerhaushalt Güterstraße"
    assert pb.meta["budget"] == "100" and pb.meta["currency"] == "EUR"
    assert pb.meta["rule"] == "greedy" and pb.meta["vote_type"] == "approval"
    assert pb.meta["min_project_score_threshold"] == "1"
    assert pb.meta["max_length"] == "3"
    park, bikes, bench = (str(p.id) for p in (election.park, election.bikes, election.bench))
    # The hidden project and its choice are left out; the empty ballot stays.
    assert [p["project_id"] for p in pb.projects] == [park, bikes, bench]
    assert [p["votes"] for p in pb.projects] == ["2", "2", "1"]
    assert [p["category"] for p in pb.projects] == ["Grünflächen", "Verkehr", ""]
    assert "selected" not in pb.project_columns
    assert [(v["voter_id"], v["vote"]) for v in pb.votes] == [
        (election.codes[0], [park, bikes]),
        (election.codes[1], [park]),
        (election.codes[2], [bikes, bench]),
        (election.codes[3], []),
    ]
    for voter in election.voters:
        assert voter.display_name not in text and voter.email not in text
    assert "Jürgen" not in text


def test_export_marks_the_final_outcome_as_selected(app, runner, factory, tmp_path):
    election = budget_election(factory)
    store_tally(app, election)
    out = tmp_path / "out.pb"

    runner.invoke(args=["pb", "export", election.consultation.slug, "--out", str(out)])

    pb = pabulib.parse(out.read_text())
    assert [p["selected"] for p in pb.projects] == ["1", "0", "1"]  # bikes dropped, bench funded


def test_export_is_recorded_in_the_audit_log(app, runner, factory, tmp_path):
    election = budget_election(factory)

    runner.invoke(args=["pb", "export", election.consultation.slug, "--out", str(tmp_path / "x")])

    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "export.pabulib"))
        assert event.actor_id is None and event.details == {"via": "command line"}


def test_export_of_a_support_consultation_is_refused(runner, factory, tmp_path):
    consultation = factory.consultation()
    out = tmp_path / "out.pb"

    result = runner.invoke(args=["pb", "export", consultation.slug, "--out", str(out)])

    assert result.exit_code == 1
    assert not out.exists()
    assert "Traceback" not in result.output


def test_export_of_an_unknown_consultation_is_refused(runner, tmp_path):
    result = runner.invoke(args=["pb", "export", "nothing-here", "--out", str(tmp_path / "x")])

    assert result.exit_code == 1
    assert "nothing-here" in result.stderr


# Round trips


def test_export_import_export_gives_the_same_ballots_and_result(app, runner, factory, tmp_path):
    election = budget_election(factory)
    first, second = tmp_path / "first.pb", tmp_path / "second.pb"
    runner.invoke(args=["pb", "export", election.consultation.slug, "--out", str(first)])

    slug = import_ok(runner, first)
    result = runner.invoke(args=["pb", "export", slug, "--out", str(second)])

    assert result.exit_code == 0, result.output
    one, two = pabulib.parse(first.read_text()), pabulib.parse(second.read_text())
    with app.app_context():
        original = {
            str(p.id): pabulib.original_id(p)
            for p in budgeting.results.projects_of(consultation_of(slug))
        }
    assert [v["voter_id"] for v in two.votes] == [v["voter_id"] for v in one.votes]
    assert [sorted(original[p] for p in v["vote"]) for v in two.votes] == [
        sorted(v["vote"]) for v in one.votes
    ]
    for rule in RULES:
        funded_one = tally.count(pabulib.to_election(one), rule).funded
        funded_two = tally.count(pabulib.to_election(two), rule).funded
        assert [original[p] for p in funded_two] == list(funded_one), rule


def test_an_imported_file_exports_to_the_same_election(app, runner, tmp_path):
    out = tmp_path / "assen.pb"
    slug = import_ok(runner, ASSEN)

    runner.invoke(args=["pb", "export", slug, "--out", str(out)])

    exported = pabulib.parse(out.read_text())
    with app.app_context():
        consultation = consultation_of(slug)
        original = {
            str(p.id): pabulib.original_id(p) for p in budgeting.results.projects_of(consultation)
        }
        codes = stored_ballots(consultation)
    source = pabulib.parse(ASSEN.read_bytes())
    assert Counter(frozenset(original[p] for p in v["vote"]) for v in exported.votes) == Counter(
        frozenset(v["vote"]) for v in source.votes
    )
    assert {v["voter_id"] for v in exported.votes} == set(codes)
    for rule in RULES:
        funded = tally.count(pabulib.to_election(exported), rule).funded
        expected = EXPECTED["Netherlands_Assen_2024.pb"][rule]["funded"]
        assert [original[p] for p in funded] == expected, rule
