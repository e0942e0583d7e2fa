"""The pabulib format (budgeting.pabulib: parse, to_election, write) and `flask pb tally`, which
needs no database. The big Warsaw files are parsed here but never counted (too slow for tests)."""

from __future__ import annotations

import io
from fractions import Fraction

import pytest
from pabutools.election import Cost_Sat, parse_pabulib
from pabutools.rules import greedy_utilitarian_welfare

from participation.services.budgeting import pabulib, tally
from participation.services.budgeting.pabulib import PabulibError
from tests.budget_data import EXPECTED, PABULIB, RULES
from tests.conftest import make_app

FILES = sorted(path.name for path in PABULIB.glob("*.pb"))
ASSEN = PABULIB / "Netherlands_Assen_2024.pb"
D10 = PABULIB / "Switzerland_Zurich_D10.pb"

SMALL = """META
key;value
description;Test
num_projects;3
num_votes;4
budget;100
vote_type;approval
PROJECTS
project_id;cost;name
1;50;"Park; with a bench"
2;40;Bikes
10;30;"A ""quoted"" name"
VOTES
voter_id;vote;age
a;1,2;30
b;2,10;40
c;1;
d;;22
"""


def replaced(old: str, new: str, text: str = SMALL) -> str:
    assert old in text
    return text.replace(old, new, 1)


def error_of(text: str | bytes) -> PabulibError:
    with pytest.raises(PabulibError) as caught:
        pabulib.parse(text)
    return caught.value


# Reading


def test_small_file_reads_meta_projects_and_votes_with_every_column():
    pb = pabulib.parse(SMALL)

    assert pb.meta["description"] == "Test"
    assert pb.budget == 100
    assert pb.project_columns == ["project_id", "cost", "name"]
    assert [project["name"] for project in pb.projects] == [
        "Park; with a bench",
        "Bikes",
        'A "quoted" name',
    ]
    assert pb.costs == {"1": 50, "2": 40, "10": 30}
    assert pb.votes[0] == {"voter_id": "a", "vote": ["1", "2"], "age": "30"}
    assert pb.votes[3] == {"voter_id": "d", "vote": [], "age": "22"}


def test_byte_order_mark_crlf_and_blank_lines_are_tolerated():
    text = "\ufeff" + SMALL.replace("\n", "\r\n").replace("PROJECTS", "\r\nPROJECTS")

    pb = pabulib.parse(text.encode("utf-8"))

    assert len(pb.projects) == 3 and len(pb.votes) == 4


def test_a_stream_of_bytes_or_text_is_read_too():
    assert len(pabulib.parse(io.BytesIO(SMALL.encode())).votes) == 4
    assert len(pabulib.parse(io.StringIO(SMALL)).votes) == 4


def test_decimal_costs_and_budget_are_exact_fractions():
    text = replaced("budget;100", "budget;100.5", replaced("1;50;", "1;12.25;"))

    pb = pabulib.parse(text)
    election = pabulib.to_election(pb)

    assert election.costs["1"] == Fraction(49, 4)
    assert election.budget == Fraction(201, 2)
    assert election.costs["2"] == 40 and isinstance(election.costs["2"], int)


@pytest.mark.parametrize("name", FILES)
def test_every_real_file_reads_with_the_counts_its_meta_states(name):
    pb = pabulib.parse((PABULIB / name).read_bytes())

    assert len(pb.projects) == int(pb.meta["num_projects"])
    assert len(pb.votes) == int(pb.meta["num_votes"])
    assert all(vote["vote"] for vote in pb.votes[:10])


def test_assen_reads_the_projects_the_city_selected():
    pb = pabulib.parse(ASSEN.read_bytes())

    selected = {project["project_id"] for project in pb.projects if project["selected"] == "1"}

    assert selected == set(EXPECTED["Netherlands_Assen_2024.pb"]["equal_shares"]["funded"])


def test_a_quoted_name_with_semicolons_and_quotes_keeps_its_fields():
    pb = pabulib.parse((PABULIB / "France_Toulouse_2024.pb").read_bytes())

    [project] = [project for project in pb.projects if project["project_id"] == "308"]

    assert project["name"].startswith('Avenue de la Gloire côté mur du cimetière : redonner "vie"')
    assert project["category"] == "Nature en ville et biodiversité"


def test_the_cumulative_file_reads_but_is_not_counted():
    pb = pabulib.parse(D10.read_bytes())

    with pytest.raises(PabulibError) as caught:
        pabulib.to_election(pb)

    assert pb.vote_type == "cumulative"
    assert "cumulative" in str(caught.value)
    assert str(caught.value).startswith("line 10:")


# Malformed files: every error names the line


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "empty"),
        ("\ufeff \n\n", 1, "empty"),
        (SMALL.split("VOTES")[0], 13, "VOTES section is missing"),
        ("PROJECTS\n" + SMALL, 1, "expected the META section"),
        ("budget;100\n" + SMALL, 1, "must begin with the META section"),
        (replaced("project_id;cost;name", "id;cost;name"), 9, "no column 'project_id'"),
        (replaced("project_id;cost;name", "project_id;price;name"), 9, "no column 'cost'"),
        (replaced("voter_id;vote;age", "voter;vote;age"), 14, "no column 'voter_id'"),
        (replaced("voter_id;vote;age", "voter_id;votes;age"), 14, "no column 'vote'"),
        (replaced("project_id;cost;name", "project_id;cost;cost"), 9, "'cost' twice"),
        (replaced("2;40;Bikes", "2;forty;Bikes"), 11, "cost of project 2 is not a number"),
        (replaced("2;40;Bikes", "2;1/3;Bikes"), 11, "cost of project 2 is not a number"),
        (replaced("2;40;Bikes", "2;-40;Bikes"), 11, "cost of project 2 is negative"),
        (replaced("budget;100\n", ""), 1, "META has no budget"),
        (replaced("budget;100", "budget;a lot"), 6, "budget is not a number"),
        (replaced("budget;100", "budget;-1"), 6, "budget must not be negative"),
        (replaced("b;2,10;40", "b;2,11;40"), 16, "voter b votes for unknown project 11"),
        (replaced("2;40;Bikes", "1;40;Bikes"), 11, "project 1 appears twice"),
        (replaced("c;1;", "a;1;"), 17, "voter a appears twice"),
        (replaced("b;2,10;40", "b;2,2;40"), 16, "names a project twice"),
        (replaced("2;40;Bikes", "2;40;Bikes;extra"), 11, "expected 3 fields"),
        (replaced("c;1;", "c;1"), 17, "expected 3 fields"),
        (replaced("description;Test", "description;Test;more"), 3, "expected 2 fields"),
        (replaced("num_votes;4", "num_votes;5"), 5, "num_votes says 5, but the file has 4"),
        (replaced("num_projects;3", "num_projects;4"), 4, "num_projects says 4"),
        (replaced("a;1,2;30", "a;1,2;30;x"), 15, "3 fields (voter_id;vote;age), found 4"),
        (SMALL + "PROJECTS\nproject_id;cost\n", 19, "PROJECTS section appears twice"),
        (replaced("2;40;", "2;;"), 11, "cost of project 2 is not a number"),
        (replaced("2;40;", ";40;"), 11, "a project without a project_id"),
        (SMALL.replace("VOTES\nvoter_id;vote;age", "VOTES"), 14, "no column 'voter_id'"),
    ],
)
def test_malformed_file_is_refused_naming_the_line(text, line, words):
    error = error_of(text)

    assert error.line == line
    assert words in str(error)
    assert str(error).startswith(f"line {line}: ")


def test_a_file_that_is_not_utf8_is_refused_naming_the_line():
    data = replaced("Bikes", "Fahrräder").encode("latin-1")

    error = error_of(data)

    assert (error.line, error.message) == (11, "the file is not UTF-8 text")


# Counting


@pytest.mark.parametrize("rule", RULES)
def test_assen_counts_as_pabutools_does(rule):
    election = pabulib.to_election(pabulib.parse(ASSEN.read_bytes()))

    outcome = tally.count(election, rule)

    expected = EXPECTED["Netherlands_Assen_2024.pb"][rule]
    assert list(outcome.funded) == expected["funded"]
    assert outcome.cost == expected["cost"]


# Writing


def test_written_file_reads_back_unchanged():
    pb = pabulib.parse(SMALL)

    text = pabulib.write(pb.meta, pb.projects, pb.votes)
    again = pabulib.parse(text)

    assert again.meta == pb.meta
    assert again.projects == pb.projects
    assert again.votes == pb.votes


def test_write_quotes_semicolons_and_flattens_line_breaks():
    text = pabulib.write(
        {"budget": 10, "description": "Zwei\nZeilen"},
        [{"project_id": 1, "cost": Fraction(5, 2), "name": "A; B", "selected": True}],
        [{"voter_id": "x", "vote": [1]}],
    )

    pb = pabulib.parse(text)

    assert pb.meta["description"] == "Zwei Zeilen"
    assert pb.meta["num_projects"] == "1" and pb.meta["num_votes"] == "1"
    assert pb.meta["vote_type"] == "approval"
    assert pb.projects == [{"project_id": "1", "cost": "2.5", "name": "A; B", "selected": "1"}]
    assert pb.costs == {"1": Fraction(5, 2)}


def test_write_refuses_a_cost_without_an_exact_decimal():
    with pytest.raises(ValueError, match="exact decimal"):
        pabulib.write({"budget": 10}, [{"project_id": 1, "cost": Fraction(1, 3)}], [])


@pytest.mark.parametrize("name", ["Netherlands_Assen_2024.pb", "Switzerland_Zurich_SN.pb"])
def test_pabutools_reads_our_written_file_as_the_original(tmp_path, name):
    pb = pabulib.parse((PABULIB / name).read_bytes())
    written = tmp_path / name
    written.write_text(pabulib.write(pb.meta, pb.projects, pb.votes), encoding="utf-8")

    instance, profile = parse_pabulib(str(written))
    original, original_profile = parse_pabulib(str(PABULIB / name))

    assert len(instance) == len(original) == len(pb.projects)
    assert len(profile) == len(original_profile) == len(pb.votes)
    assert instance.budget_limit == original.budget_limit
    funded = greedy_utilitarian_welfare(instance, profile, sat_class=Cost_Sat)
    assert sorted(p.name for p in funded) == sorted(EXPECTED[name]["greedy"]["funded"])


# flask pb tally: no database


@pytest.fixture
def runner():
    """An app whose database cannot even be opened: `pb tally` must not need it."""
    app = make_app("sqlite:////nonexistent-directory/no.db")
    return app.test_cli_runner()


@pytest.mark.parametrize("rule", RULES)
def test_pb_tally_prints_the_funded_ids_of_assen_in_order(runner, rule):
    result = runner.invoke(args=["pb", "tally", str(ASSEN), "--rule", rule])

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == EXPECTED["Netherlands_Assen_2024.pb"][rule]["funded"]
    cost = EXPECTED["Netherlands_Assen_2024.pb"][rule]["cost"]
    assert f"total cost {cost} EUR of the budget 100000 EUR" in result.stderr


def small_file(tmp_path, text: str = SMALL):
    """Approvals: 1 -> 2, 2 -> 2, 10 -> 1; a budget of 130 funds all three."""
    path = tmp_path / "small.pb"
    path.write_text(replaced("budget;100", "budget;130", text))
    return path


def test_pb_tally_reports_the_files_threshold_without_applying_it(runner, tmp_path):
    text = replaced("vote_type;approval", "vote_type;approval\nmin_project_score_threshold;2")

    result = runner.invoke(
        args=["pb", "tally", str(small_file(tmp_path, text)), "--rule", "greedy"]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["1", "2", "10"]
    assert "min_project_score_threshold=2; it was not applied" in result.stderr


def test_pb_tally_applies_min_approvals_when_asked(runner, tmp_path):
    result = runner.invoke(
        args=["pb", "tally", str(small_file(tmp_path)), "--rule", "greedy", "--min-approvals", "2"]
    )

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == ["1", "2"]
    assert "total cost 90 of the budget 130 (4 ballots)" in result.stderr
    assert "at least 2 approvals" in result.stderr


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (replaced("2;40;Bikes", "2;forty;Bikes"), "line 11: the cost of project 2 is not a number"),
        (replaced("b;2,10;40", "b;2,11;40"), "line 16: voter b votes for unknown project 11"),
        ("", "line 1: the file is empty"),
    ],
)
def test_pb_tally_of_a_malformed_file_names_the_line_without_a_traceback(
    runner, tmp_path, text, words
):
    path = tmp_path / "broken.pb"
    path.write_text(text)

    result = runner.invoke(args=["pb", "tally", str(path), "--rule", "greedy"])

    assert result.exit_code == 1
    assert words in result.stderr
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_pb_tally_refuses_cumulative_ballots_by_name(runner):
    result = runner.invoke(args=["pb", "tally", str(D10), "--rule", "equal_shares"])

    assert result.exit_code == 1
    assert "'cumulative': only approval ballots can be counted" in result.stderr
    assert "Traceback" not in result.output
