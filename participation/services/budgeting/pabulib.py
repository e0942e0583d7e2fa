"""The pabulib file format (https://pabulib.org/format): reading, writing, import and export.

A `.pb` file has three sections, in this order, each a line with its name and then a header
line: META (`key;value` pairs), PROJECTS (one project a line; columns `project_id` and `cost`
required, any others kept) and VOTES (one ballot a line; columns `voter_id` and `vote`, the
approved project ids separated by commas, any others kept). Fields are separated by `;` and
quoted as in CSV (`"a ""quoted"" name; with a semicolon"`); the text is UTF-8, a byte order
mark is tolerated, line ends may be LF or CRLF, blank lines are skipped. Numbers may use a
decimal point (or a decimal comma, which pabutools accepts too). Values are stripped.

The format functions know nothing of the database:

    pb = parse(path.read_text())          # PabulibFile, or PabulibError(line, message)
    election = to_election(pb)            # tally.Election; approval ballots only
    text = write(meta, projects, votes)   # a file that parse() and pabutools read back

`parse` checks what would make a count wrong and names the line: a missing section or header
column, a malformed number, a negative cost, a missing or invalid budget, a wrong number of
fields, a duplicate project or voter, a vote for an unknown project, and META's `num_projects`
/ `num_votes` when they disagree with the sections (a truncated download). It accepts every
vote type (the cumulative Zürich file parses); `to_election` refuses all but `approval`.

The database side (`election_data`, `export_text`, `import_file`) turns a budget consultation
into a file and back:

- Exported project ids are the proposal ids; voters are identified by their random ballot code
  only, never by account or ballot id, and listed in the order of their codes, never in the
  order they voted (an imported election keeps the voter ids of its file). Rule names in META:
  greedy -> `greedy`, equal_shares -> `equalshares/add1`, equal_shares_greedy ->
  `equalshares/add1-greedy` (the last is not a pabulib name; pabulib has no name for the
  combination). `min_project_score_threshold` is the consultation's
  `min_approvals`, `max_sum_cost` its ballot limit when a ballot may use only a share of the
  budget, `selected` the final outcome (overrides included) once a tally exists.
- An import creates a closed budget consultation with one published proposal per project and
  one anonymous ballot per vote. The original project id is kept as the last line of the
  proposal's body: `pabulib project_id: 7` (`ORIGINAL_ID_MARK`). The new proposal ids are
  handed out so that their order *as strings* is the order of the original ids as strings:
  ties are broken by the id compared as a string (pabutools' rule), so counting the imported
  consultation, or its re-export, funds exactly the projects the original file funds.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from fractions import Fraction
from pathlib import Path
from typing import IO, Any

from flask_babel import gettext as _
from sqlalchemy import insert

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Ballot,
    BallotChoice,
    Category,
    Consultation,
    Phase,
    Proposal,
    ProposalState,
    TallyRule,
    VotingMethod,
)
from participation.models.base import utcnow
from participation.services import audit
from participation.services.budgeting import results, tally
from participation.services.budgeting.ballots import generate_code

SECTIONS = ("meta", "projects", "votes")
APPROVAL = "approval"
BYTE_ORDER_MARK = "\ufeff"
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

# pabulib's names of the rules (META `rule`), both ways.
RULE_NAMES = {
    TallyRule.GREEDY: "greedy",
    TallyRule.EQUAL_SHARES: "equalshares/add1",
    TallyRule.EQUAL_SHARES_GREEDY: "equalshares/add1-greedy",
}
RULES_BY_NAME = {name: rule for rule, name in RULE_NAMES.items()} | {
    "greedy-threshold": TallyRule.GREEDY,  # Warsaw: greedy with min_project_score_threshold
}

log = logging.getLogger(__name__)

ORIGINAL_ID_MARK = "pabulib project_id:"
MAX_INTEGER = 2**31 - 1  # the database's INTEGER columns (budget, estimated_cost)
MAX_CODE_LENGTH = 32
IMPORT_BATCH = 5000


class PabulibError(ValueError):
    """The file cannot be read or used; `line` (1-based) says where, when one line is to blame."""

    def __init__(self, line: int | None, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message

    def __str__(self) -> str:
        return self.message if self.line is None else f"line {self.line}: {self.message}"


@dataclass
class PabulibFile:
    """A parsed file: every value a stripped string, except each vote's `vote` (a list of
    project ids); `costs` and `budget` are the parsed numbers (int when whole, else Fraction)."""

    meta: dict[str, str]
    projects: list[dict[str, str]]
    votes: list[dict[str, Any]]
    project_columns: list[str]
    vote_columns: list[str]
    costs: dict[str, tally.Money]
    budget: tally.Money
    # The line of each META key, so that later refusals can point at it.
    meta_lines: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def vote_type(self) -> str:
        """META `vote_type`; a file without one is read as approval ballots."""
        return self.meta.get("vote_type", APPROVAL).strip().lower() or APPROVAL

    @property
    def min_project_score_threshold(self) -> int | None:
        value = self.meta.get("min_project_score_threshold", "")
        try:
            number = parse_number(value)
        except ValueError:
            return None
        return int(number) if number.denominator == 1 and number > 0 else None


# Numbers


def parse_number(text: str) -> Fraction:
    """A decimal number, exactly: `100000.0`, `12,5` (decimal comma), `1e5`; no fractions."""
    cleaned = text.strip().replace(",", ".")
    if not NUMBER.fullmatch(cleaned):
        raise ValueError(f"not a number: {text!r}")
    return Fraction(cleaned)


def as_money(number: Fraction) -> tally.Money:
    return number.numerator if number.denominator == 1 else number


def format_number(value: int | Fraction) -> str:
    """A whole number as digits, another as an exact decimal; refuses e.g. 1/3."""
    number = Fraction(value)
    if number.denominator == 1:
        return str(number.numerator)
    denominator, places = number.denominator, 0
    while denominator % 10 == 0:
        denominator, places = denominator // 10, places + 1
    for factor in (2, 5):
        while denominator % factor == 0:
            denominator, places = denominator // factor, places + 1
    if denominator != 1:
        raise ValueError(f"{value} has no exact decimal representation")
    scaled = abs(number) * 10**places
    digits = str(scaled.numerator).rjust(places + 1, "0")
    sign = "-" if number < 0 else ""
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


# Reading


def _text_of(source: str | bytes | IO[str] | IO[bytes]) -> str:
    if not isinstance(source, str | bytes):
        source = source.read()
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as error:
            line = source[: error.start].count(b"\n") + 1
            raise PabulibError(line, "the file is not UTF-8 text") from error
    return source.removeprefix(BYTE_ORDER_MARK)


def _blank(row: list[str]) -> bool:
    return all(not cell.strip() for cell in row)


def _section_name(row: list[str]) -> str | None:
    name = row[0].strip().lower() if row else ""
    if name in SECTIONS and all(not cell.strip() for cell in row[1:]):
        return name
    return None


def _header(row: list[str] | None, line: int, section: str, required: tuple[str, ...]):
    if row is None or _blank(row) or _section_name(row):
        raise PabulibError(line, f"the {section.upper()} section has no header line")
    columns = [cell.strip() for cell in row]
    for column in required:
        if column not in columns:
            raise PabulibError(
                line, f"the {section.upper()} header has no column {column!r} ({';'.join(columns)})"
            )
    seen = set()
    for column in columns:
        if column in seen:
            raise PabulibError(line, f"the {section.upper()} header names {column!r} twice")
        seen.add(column)
    return columns


def _fields(row: list[str], columns: list[str], line: int) -> list[str]:
    if len(row) != len(columns):
        raise PabulibError(
            line,
            f"expected {len(columns)} fields ({';'.join(columns)}), found {len(row)}"
            " (a name with a ';' must be in double quotes)",
        )
    return [cell.strip() for cell in row]


def parse(source: str | bytes | IO[str] | IO[bytes]) -> PabulibFile:
    """Read a pabulib file from its text, its bytes or an open file."""
    text = _text_of(source)
    if not text.strip():
        raise PabulibError(1, "the file is empty")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";")
    meta: dict[str, str] = {}
    meta_lines: dict[str, int] = {}
    projects: list[dict[str, str]] = []
    costs: dict[str, tally.Money] = {}
    votes: list[dict[str, Any]] = []
    voters: set[str] = set()
    project_columns: list[str] = []
    vote_columns: list[str] = []
    section: str | None = None
    section_lines: dict[str, int] = {}
    budget: tally.Money | None = None
    line = 0

    try:
        for row in reader:
            line = reader.line_num
            if _blank(row):
                continue
            name = _section_name(row)
            if name is not None:
                expected = SECTIONS[len(section_lines)] if len(section_lines) < 3 else None
                if name in section_lines:
                    raise PabulibError(line, f"the {name.upper()} section appears twice")
                if name != expected:
                    raise PabulibError(
                        line, f"expected the {expected.upper()} section, found {name.upper()}"
                    )
                if name == "projects":
                    budget = _budget(meta, meta_lines, section_lines["meta"])
                section, section_lines[name] = name, line
                header = next(reader, None)
                header_line = reader.line_num if header is not None else line + 1
                if name == "meta":
                    _header(header, header_line, name, ())
                    if len(header) < 2:
                        raise PabulibError(header_line, "the META header must be key;value")
                elif name == "projects":
                    project_columns = _header(header, header_line, name, ("project_id", "cost"))
                else:
                    vote_columns = _header(header, header_line, name, ("voter_id", "vote"))
                continue
            if section is None:
                raise PabulibError(line, "the file must begin with the META section")
            if section == "meta":
                key, value = _fields(row, ["key", "value"], line)
                if not key:
                    raise PabulibError(line, "a META line without a key")
                if key in meta:
                    raise PabulibError(line, f"the META key {key!r} appears twice")
                meta[key], meta_lines[key] = value, line
            elif section == "projects":
                values = _fields(row, project_columns, line)
                project = dict(zip(project_columns, values, strict=True))
                _add_project(project, line, projects, costs)
            else:
                vote = dict(zip(vote_columns, _fields(row, vote_columns, line), strict=True))
                _add_vote(vote, line, votes, voters, costs)
    except csv.Error as error:
        message = f"not readable as ;-separated values: {error}"
        raise PabulibError(reader.line_num or line, message) from error

    for name in SECTIONS:
        if name not in section_lines:
            raise PabulibError(line + 1, f"the {name.upper()} section is missing")
    _check_count(meta, meta_lines, "num_projects", len(projects), "projects")
    _check_count(meta, meta_lines, "num_votes", len(votes), "votes")
    return PabulibFile(
        meta=meta,
        projects=projects,
        votes=votes,
        project_columns=project_columns,
        vote_columns=vote_columns,
        costs=costs,
        budget=budget,
        meta_lines=meta_lines,
    )


def _budget(meta: dict[str, str], meta_lines: dict[str, int], meta_line: int) -> tally.Money:
    if "budget" not in meta:
        raise PabulibError(meta_line, "META has no budget")
    try:
        budget = parse_number(meta["budget"])
    except ValueError:
        raise PabulibError(
            meta_lines["budget"], f"the budget is not a number: {meta['budget']!r}"
        ) from None
    if budget < 0:
        raise PabulibError(meta_lines["budget"], "the budget must not be negative")
    return as_money(budget)


def _add_project(project: dict[str, str], line: int, projects: list, costs: dict) -> None:
    project_id = project["project_id"]
    if not project_id:
        raise PabulibError(line, "a project without a project_id")
    if project_id in costs:
        raise PabulibError(line, f"project {project_id} appears twice")
    try:
        cost = parse_number(project["cost"])
    except ValueError:
        raise PabulibError(
            line, f"the cost of project {project_id} is not a number: {project['cost']!r}"
        ) from None
    if cost < 0:
        raise PabulibError(line, f"the cost of project {project_id} is negative")
    costs[project_id] = as_money(cost)
    projects.append(project)


def _add_vote(vote: dict[str, Any], line: int, votes: list, voters: set, costs: dict) -> None:
    voter_id = vote["voter_id"]
    if not voter_id:
        raise PabulibError(line, "a vote without a voter_id")
    if voter_id in voters:
        raise PabulibError(line, f"voter {voter_id} appears twice")
    chosen = [project.strip() for project in vote["vote"].split(",") if project.strip()]
    for project in chosen:
        if project not in costs:
            raise PabulibError(line, f"voter {voter_id} votes for unknown project {project}")
    if len(set(chosen)) != len(chosen):
        raise PabulibError(line, f"voter {voter_id} names a project twice")
    vote["vote"] = chosen
    voters.add(voter_id)
    votes.append(vote)


def _check_count(meta, meta_lines, key: str, actual: int, what: str) -> None:
    if key not in meta:
        return
    try:
        stated = parse_number(meta[key])
    except ValueError:
        raise PabulibError(meta_lines[key], f"{key} is not a number: {meta[key]!r}") from None
    if stated != actual:
        raise PabulibError(
            meta_lines[key],
            f"{key} says {meta[key]}, but the file has {actual} {what} (is it complete?)",
        )


def to_election(pb: PabulibFile) -> tally.Election:
    """The election the counting rules see; refuses every vote type but approval."""
    if pb.vote_type != APPROVAL:
        raise PabulibError(
            pb.meta_lines.get("vote_type"),
            f"the vote type is {pb.vote_type!r}: only approval ballots can be counted",
        )
    try:
        return tally.Election.build(pb.budget, pb.costs, (vote["vote"] for vote in pb.votes))
    except tally.ElectionError as error:  # parse() checks the same; kept as a safety net
        raise PabulibError(None, str(error)) from error


# Writing


def _value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int | Fraction):
        return format_number(value)
    if isinstance(value, date | datetime):
        return value.strftime("%d.%m.%Y")
    if isinstance(value, list | tuple):
        return ",".join(_value(item) for item in value)
    # One record a line: pabutools splits the text into lines before reading the fields.
    return " ".join(str(value).split("\n")).replace("\r", " ").strip()


def write(
    meta: Mapping[str, Any],
    projects: Iterable[Mapping[str, Any]],
    votes: Iterable[Mapping[str, Any]],
) -> str:
    """A pabulib file: META as given (num_projects and num_votes set from the sections,
    vote_type approval unless given), PROJECTS with project_id and cost first, VOTES with
    voter_id and vote first. Values: numbers exact, dates as dd.mm.yyyy, booleans 1/0,
    lists comma-separated, line breaks in texts replaced by spaces."""
    projects, votes = list(projects), list(votes)
    if "budget" not in meta:
        raise ValueError("META needs a budget")
    meta_out = dict(meta)
    meta_out.setdefault("vote_type", APPROVAL)
    meta_out["num_projects"], meta_out["num_votes"] = len(projects), len(votes)

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(["META"])
    writer.writerow(["key", "value"])
    writer.writerows([key, _value(value)] for key, value in meta_out.items())
    for name, rows, first in (
        ("PROJECTS", projects, ["project_id", "cost"]),
        ("VOTES", votes, ["voter_id", "vote"]),
    ):
        columns = list(first)
        for row in rows:
            columns.extend(column for column in row if column not in columns)
        writer.writerow([name])
        writer.writerow(columns)
        writer.writerows([_value(row.get(column)) for column in columns] for row in rows)
    return buffer.getvalue()


# Export of a stored consultation


def election_data(consultation: Consultation) -> tuple[dict, list[dict], list[dict]]:
    """META, PROJECTS and VOTES of a budget consultation, ready for `write`.

    The projects and ballots are those the count sees, in the order it reads them
    (services.budgeting.results): published proposals with a cost; a ballot's choices of other
    proposals are left out, the ballot itself stays (an empty ballot is a voter too). The
    ballots are listed by code, never in the order they were cast.
    """
    from participation.services.budgeting import results

    projects = results.projects_of(consultation)
    ballots = results.ballots_of(consultation, projects)
    approvals = dict.fromkeys((proposal.id for proposal in projects), 0)
    for _code, chosen in ballots:
        for proposal_id in chosen:
            approvals[proposal_id] += 1

    tally_row = results.tally_of(consultation)
    funded = (
        {entry.proposal_id: entry.funded for entry in tally_row.entries}
        if tally_row is not None
        else None
    )
    with_category = any(proposal.category_id is not None for proposal in projects)
    project_rows = []
    for proposal in projects:
        row: dict[str, Any] = {
            "project_id": proposal.id,
            "cost": proposal.estimated_cost,
            "votes": approvals[proposal.id],
            "name": proposal.title,
        }
        if with_category:
            row["category"] = proposal.category.name if proposal.category else ""
        if funded is not None:
            row["selected"] = funded.get(proposal.id, False)
        project_rows.append(row)
    vote_rows = [{"voter_id": code, "vote": chosen} for code, chosen in ballots]
    return _meta_of(consultation), project_rows, vote_rows


def _meta_of(consultation: Consultation) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "description": consultation.title,
        "num_projects": 0,  # set by write()
        "num_votes": 0,
        "budget": consultation.budget or 0,
        "vote_type": APPROVAL,
        "rule": RULE_NAMES[consultation.tally_rule],
        "currency": consultation.currency,
    }
    optional = {
        "min_length": consultation.ballot_min_projects,
        "max_length": consultation.ballot_max_projects,
        "max_sum_cost": consultation.ballot_limit if consultation.ballot_max_share else None,
        "min_project_score_threshold": consultation.min_approvals,
        "date_begin": consultation.voting_starts_on,
        "date_end": consultation.voting_ends_on,
    }
    meta.update({key: value for key, value in optional.items() if value is not None})
    return meta


def export_text(consultation: Consultation) -> str:
    return write(*election_data(consultation))


def filename(consultation: Consultation) -> str:
    return f"{consultation.slug}.pb"


# Import into a new consultation


@dataclass(frozen=True)
class ImportReport:
    consultation: Consultation
    projects: int
    ballots: int
    notes: list[str]


def _whole(number: tally.Money, what: str, line: int | None) -> int:
    if isinstance(number, Fraction):
        raise PabulibError(
            line, f"{what} is {format_number(number)}: only whole currency units can be imported"
        )
    if number > MAX_INTEGER:
        raise PabulibError(line, f"{what} is {number}, more than {MAX_INTEGER} can be stored")
    return number


def _optional_count(pb: PabulibFile, key: str) -> int | None:
    try:
        number = parse_number(pb.meta.get(key, ""))
    except ValueError:
        return None
    return int(number) if number.denominator == 1 and 0 < number <= MAX_INTEGER else None


def _date(text: str | None) -> date | None:
    for pattern in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime((text or "").strip(), pattern).date()
        except ValueError:
            continue
    return None


def _title_of(pb: PabulibFile, source_name: str | None) -> str:
    parts = [pb.meta.get(key, "") for key in ("unit", "subunit", "instance")]
    title = (
        pb.meta.get("description")
        or " ".join(part for part in parts if part)
        or (Path(source_name).stem if source_name else "")
        or "pabulib"
    )
    return _shorten(title, 160)


def _shorten(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def _unique_slug(title: str) -> str:
    from participation.services.consultations import slugify

    base = slugify(title)
    slug, suffix = base, 2
    while db.session.scalar(db.select(Consultation.id).where(Consultation.slug == slug)):
        slug, suffix = f"{base}-{suffix}", suffix + 1
    return slug


def _check_slug(slug: str) -> str:
    from participation.services.consultations import slugify

    if slugify(slug) != slug or len(slug) > 80:
        raise PabulibError(None, f"{slug!r} is not a valid slug (lower-case letters, digits, -)")
    if db.session.scalar(db.select(Consultation.id).where(Consultation.slug == slug)):
        raise PabulibError(None, f"a consultation with the slug {slug!r} exists already")
    return slug


def _first_category(project: dict[str, str]) -> str | None:
    text = project.get("category") or project.get("categories") or ""
    first = text.split(",")[0].strip()
    return _shorten(first, 80) if first and first.lower() != "none" else None


def _body_of(project: dict[str, str], name: str, title: str) -> str:
    parts = []
    if title != name:  # the title had to be shortened: keep the whole name
        parts.append(name)
    description = project.get("description", "")
    if description and description.lower() != "none":
        parts.append(description)
    elif title == name:
        parts.append(name)
    parts.append(f"{ORIGINAL_ID_MARK} {project['project_id']}")
    return "\n\n".join(parts)


def original_id(proposal: Proposal) -> str | None:
    """The pabulib project id an imported proposal came from (the last line of its body)."""
    last = proposal.body.rsplit("\n", 1)[-1]
    if not last.startswith(ORIGINAL_ID_MARK):
        return None
    return last.removeprefix(ORIGINAL_ID_MARK).strip()


def import_file(
    pb: PabulibFile, *, slug: str | None = None, source_name: str | None = None
) -> ImportReport:
    """A closed budget consultation from the file, in one transaction: nothing is stored
    when anything is refused."""
    notes: list[str] = []
    try:
        report = _import(pb, slug, source_name, notes)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    operation(
        log,
        "consultation.imported",
        actor=None,
        subject=report.consultation,
        projects=report.projects,
        ballots=report.ballots,
    )
    return report


def _import(pb: PabulibFile, slug: str | None, source_name: str | None, notes: list[str]):
    election = to_election(pb)  # refuses other vote types, by name
    budget = _whole(election.budget, "the budget", pb.meta_lines.get("budget"))
    if budget <= 0:
        raise PabulibError(pb.meta_lines.get("budget"), "the budget must be more than 0")
    for project_id, cost in pb.costs.items():
        _whole(cost, f"the cost of project {project_id}", None)

    title = _title_of(pb, source_name)
    consultation = Consultation(
        slug=_check_slug(slug) if slug else _unique_slug(title),
        title=title,
        summary=_shorten(_("Imported from the pabulib file %(name)s.", name=source_name or ""), 500)
        if source_name
        else _("Imported from a pabulib file."),
        description="\n".join(f"- **{key}**: {value}" for key, value in pb.meta.items()),
        phase=Phase.CLOSED,
        voting_method=VotingMethod.BUDGET,
        budget=budget,
        currency=_currency(pb, notes),
        voting_starts_on=_date(pb.meta.get("date_begin")),
        voting_ends_on=_date(pb.meta.get("date_end")),
        min_approvals=_optional_count(pb, "min_project_score_threshold"),
        tally_rule=_rule(pb, notes),
    )
    _ballot_bounds(pb, consultation, budget, notes)
    db.session.add(consultation)
    db.session.flush()

    categories = _categories(pb, consultation)
    proposal_ids = _proposals(pb, consultation, categories)
    ballots = _ballots(pb, consultation, proposal_ids)
    # A past election: count it with its own rule and publish the result, so that its
    # results page, ballots and file are there for everybody, as they were in the city.
    results.count_imported(consultation)
    consultation.results_published_at = utcnow()
    audit.record(
        actor=None,
        action="consultation.imported",
        subject_type="consultation",
        subject_id=consultation.id,
        consultation=consultation,
        details={
            "source": source_name,
            "projects": len(proposal_ids),
            "ballots": ballots,
            "rule": pb.meta.get("rule"),
            "project_ids": {original: new for original, new in proposal_ids.items()},
        },
    )
    return ImportReport(consultation, len(proposal_ids), ballots, notes)


def _currency(pb: PabulibFile, notes: list[str]) -> str:
    currency = pb.meta.get("currency", "").strip().upper()
    if len(currency) == 3 and currency.isalpha():
        return currency
    notes.append(f"No usable currency in META ({currency or 'none'}); using EUR.")
    return "EUR"


def _rule(pb: PabulibFile, notes: list[str]) -> TallyRule:
    name = pb.meta.get("rule", "").strip()
    if name in RULES_BY_NAME:
        return RULES_BY_NAME[name]
    notes.append(f"The rule {name or '(none)'!r} has no counterpart here; tally rule: greedy.")
    return TallyRule.GREEDY


def _ballot_bounds(pb: PabulibFile, consultation: Consultation, budget: int, notes) -> None:
    low, high = _optional_count(pb, "min_length"), _optional_count(pb, "max_length")
    if low is not None and high is not None and low > high:
        notes.append(f"min_length {low} is above max_length {high}; both left out.")
        low = high = None
    consultation.ballot_min_projects, consultation.ballot_max_projects = low, high
    limit = _optional_count(pb, "max_sum_cost")
    if limit is not None and limit < budget:
        share = -(-limit * 100 // budget)  # the smallest percentage that allows the limit
        if 1 <= share <= 100 and budget * share // 100 == limit:
            consultation.ballot_max_share = share
        else:
            notes.append(f"max_sum_cost {limit} is not a whole percentage of the budget; left out.")


def _categories(pb: PabulibFile, consultation: Consultation) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for project in pb.projects:
        name = _first_category(project)
        if name is not None and name not in categories:
            categories[name] = Category(
                consultation=consultation, name=name, position=len(categories)
            )
    db.session.add_all(categories.values())
    db.session.flush()
    return categories


def _proposals(pb: PabulibFile, consultation: Consultation, categories) -> dict[str, int]:
    """One proposal per project; returns original id -> proposal id.

    The new ids are handed out so that sorting them as strings gives the original ids sorted
    as strings: the counting rules break ties by the id as a string, so the outcome stays the
    same whatever ids the database hands out.
    """
    rows = [
        Proposal(consultation=consultation, title="…", body="…", state=ProposalState.PUBLISHED)
        for _project in pb.projects
    ]
    db.session.add_all(rows)
    db.session.flush()
    by_string = sorted(rows, key=lambda proposal: str(proposal.id))
    originals = sorted(pb.projects, key=lambda project: project["project_id"])
    mapping = {}
    for proposal, project in zip(by_string, originals, strict=True):
        project_id = project["project_id"]
        name = project.get("name", "")
        name = name if name and name.lower() != "none" else f"Project {project_id}"
        proposal.title = _shorten(name, 160)
        proposal.body = _body_of(project, name, proposal.title)
        proposal.estimated_cost = pb.costs[project_id]
        category = _first_category(project)
        proposal.category = categories[category] if category else None
        mapping[project_id] = proposal.id
    db.session.flush()
    return {project["project_id"]: mapping[project["project_id"]] for project in pb.projects}


def _usable_code(voter_id: str) -> bool:
    return 0 < len(voter_id) <= MAX_CODE_LENGTH and voter_id.isprintable()


def _ballots(pb: PabulibFile, consultation: Consultation, proposal_ids: dict[str, int]) -> int:
    codes = [vote["voter_id"] for vote in pb.votes]
    used = {code for code in codes if _usable_code(code)}
    if len(used) != len(codes):
        for index, code in enumerate(codes):
            if not _usable_code(code):
                new = generate_code()
                while new in used:
                    new = generate_code()
                used.add(new)
                codes[index] = new
    for start in range(0, len(pb.votes), IMPORT_BATCH):
        end = start + IMPORT_BATCH
        batch = list(zip(codes[start:end], pb.votes[start:end], strict=True))
        ids = dict(
            db.session.execute(
                insert(Ballot).returning(Ballot.code, Ballot.id),
                [{"consultation_id": consultation.id, "code": code} for code, _vote in batch],
            ).all()
        )
        choices = [
            {"ballot_id": ids[code], "proposal_id": proposal_ids[project]}
            for code, vote in batch
            for project in vote["vote"]
        ]
        if choices:
            db.session.execute(insert(BallotChoice), choices)
    return len(codes)
