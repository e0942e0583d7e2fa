"""The voter register (services.budgeting.electorate): the town's file imported as keyed hashes
only, residents claiming their entry once, the minimum age on the day voting opens, and the one
rule of who may vote with an account, asked by ballots and supports."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select, text

from participation.extensions import db
from participation.models import (
    AuditEvent,
    Ballot,
    Consultation,
    Electorate,
    Phase,
    RegisterEntry,
    Support,
    User,
    VotingMethod,
)
from participation.services import votes
from participation.services.budgeting import ballots, electorate
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed
from tests.helpers import at_the_same_moment, attached

HEADER = ["identifier", "date_of_birth", "district"]
RESIDENTS = [
    ["AB-1001", "1990-05-17", "Altstadt"],
    ["ab 1002", "03.11.1975", "Nordviertel"],
    ["AB1003", "2008-02-29", ""],
]


def rows(*lines: list[str], header: list[str] = HEADER) -> list[list[str]]:
    return [header, *lines]


def register_consultation(factory, phase: Phase = Phase.VOTING, **fields) -> Consultation:
    values = {
        "voting_method": VotingMethod.BUDGET,
        "budget": 1000,
        "electorate": Electorate.REGISTER,
    } | fields
    return attached(Consultation, factory.consultation(phase=phase, **values))


def entries(consultation: Consultation) -> list[RegisterEntry]:
    return list(
        db.session.scalars(
            select(RegisterEntry)
            .where(RegisterEntry.consultation_id == consultation.id)
            .order_by(RegisterEntry.id)
        )
    )


def imported(factory, *lines: list[str], **fields) -> Consultation:
    consultation = register_consultation(factory, **fields)
    electorate.import_register(consultation, rows(*(lines or RESIDENTS)))
    return consultation


# Importing the town's file


def test_a_good_file_is_stored_as_one_entry_per_resident_with_its_district(factory, ctx):
    consultation = register_consultation(factory)
    moderator = attached(User, factory.moderator())
    report = electorate.import_register(consultation, rows(*RESIDENTS), actor=moderator)
    assert (report.added, report.already_there) == (3, 0)
    stored = entries(consultation)
    assert [entry.district for entry in stored] == ["Altstadt", "Nordviertel", None]
    assert {entry.entry_hash for entry in stored} == {
        electorate.register_hash("AB1001", date(1990, 5, 17)),
        electorate.register_hash("AB1002", date(1975, 11, 3)),
        electorate.register_hash("AB1003", date(2008, 2, 29)),
    }
    assert all(entry.claimed_by_id is None for entry in stored)
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "register.imported")
    ).all()
    assert event.actor_id == moderator.id
    assert event.consultation_id == consultation.id
    assert event.details == {"added": 3, "already_there": 0, "via": "web"}


def test_the_columns_may_come_in_any_order_and_the_district_may_be_left_out(factory, ctx):
    consultation = register_consultation(factory)
    report = electorate.import_register(
        consultation,
        [["\ufeffDate_of_Birth ", " Identifier"], ["17.05.1990", "X-1"], ["", ""]],
    )
    assert report.added == 1
    [entry] = entries(consultation)
    assert entry.entry_hash == electorate.register_hash("x1", date(1990, 5, 17))
    assert entry.district is None


def test_importing_the_same_file_again_adds_nothing_twice(factory, ctx):
    consultation = imported(factory)
    again = electorate.import_register(consultation, rows(*RESIDENTS))
    assert (again.added, again.already_there) == (0, 3)
    longer = electorate.import_register(
        consultation, rows(*RESIDENTS, ["AB1004", "1960-01-01", "Altstadt"])
    )
    assert (longer.added, longer.already_there) == (1, 3)
    assert len(entries(consultation)) == 4


def test_a_file_with_bad_rows_is_refused_whole_with_each_line_and_stores_nothing(factory, ctx):
    consultation = register_consultation(factory)
    bad = rows(
        ["AB1001", "1990-05-17", "Altstadt"],
        ["", "1990-05-17", ""],
        ["AB1002", "17/05/1990", ""],
        ["AB1003", "2999-01-01", ""],
        ["ab-1001", "1980-01-01", ""],
        ["AB1005", "1990-05-17", "x" * 81],
        ["AB1006", "1990-02-30", ""],
        ["AB1007", "1990-05-17", "", "extra"],
    )
    with pytest.raises(electorate.RegisterRefused) as refused:
        electorate.import_register(consultation, bad)
    problems = refused.value.problems
    assert [problem.split(":")[0] for problem in problems] == [
        f"Line {n}" for n in (3, 4, 5, 6, 7, 8, 9)
    ]
    assert "identifier is missing" in problems[0]
    assert "17.05.1990" in problems[1]
    assert "future" in problems[2]
    assert "already on line 2" in problems[3]
    assert "district is longer than 80" in problems[4]
    assert "not a date" in problems[5]
    assert "more cells" in problems[6]
    assert entries(consultation) == []
    assert db.session.scalars(select(AuditEvent)).all() == []


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (["identifier", "district"], "lacks the column(s) date_of_birth"),
        (["identifier", "birthday", "date_of_birth"], "unknown column(s) birthday"),
        (["identifier", "date_of_birth", "identifier"], "identifier appear twice"),
    ],
)
def test_a_file_without_the_right_header_is_refused(factory, ctx, header, says):
    consultation = register_consultation(factory)
    with pytest.raises(electorate.RegisterRefused) as refused:
        electorate.import_register(consultation, [header, ["AB1", "1990-01-01", "x"]])
    assert says in refused.value.message
    assert entries(consultation) == []


def test_an_empty_file_is_refused(factory, ctx):
    with pytest.raises(electorate.RegisterRefused):
        electorate.import_register(register_consultation(factory), [])


def test_only_a_consultation_with_a_register_before_voting_ended_takes_one(factory, ctx):
    open_one = register_consultation(factory, electorate=Electorate.OPEN)
    with pytest.raises(NotFound):
        electorate.import_register(open_one, rows(*RESIDENTS))
    ended = register_consultation(factory, phase=Phase.EVALUATING)
    with pytest.raises(DomainError, match="Voting has closed"):
        electorate.import_register(ended, rows(*RESIDENTS))
    assert db.session.scalars(select(RegisterEntry)).all() == []


def test_the_database_holds_no_identifier_and_no_date_of_birth(factory, ctx):
    consultation = imported(factory)
    user = attached(User, factory.user())
    electorate.claim_entry(consultation, user, "AB-1001", date(1990, 5, 17))
    table = RegisterEntry.__table__
    dumped = " ".join(
        " ".join("" if value is None else str(value) for value in row)
        for row in db.session.execute(select(table)).all()
    ).upper()
    assert dumped  # the rows are there
    for identifier, born, _district in RESIDENTS:
        assert electorate.normalise_identifier(identifier) not in dumped
        assert identifier.upper() not in dumped
        parsed = electorate.parse_birth_date(born)
        for written in (born, parsed.isoformat(), parsed.strftime("%d.%m.%Y")):
            assert written not in dumped
        assert parsed.strftime("%Y%m%d") not in dumped


# Claiming an entry


def test_a_resident_claims_their_entry_with_any_spelling_of_the_identifier(factory, ctx):
    consultation = imported(factory)
    user = attached(User, factory.user())
    assert not electorate.may_vote(consultation, user)
    entry = electorate.claim_entry(consultation, user, " ab 1001 ", date(1990, 5, 17))
    assert entry.claimed_by_id == user.id
    assert entry.claimed_at is not None
    assert electorate.claimed_entry(consultation, user).id == entry.id
    assert electorate.may_vote(consultation, user)
    again = electorate.claim_entry(consultation, user, "AB1001", date(1990, 5, 17))
    assert again.id == entry.id


@pytest.mark.parametrize(
    ("identifier", "born"),
    [("AB1001", date(1990, 5, 18)), ("AB1009", date(1990, 5, 17)), ("AB1002", date(1990, 5, 17))],
    ids=["wrong date", "wrong identifier", "another resident's date"],
)
def test_details_not_on_the_register_are_refused_with_one_message(factory, ctx, identifier, born):
    consultation = imported(factory)
    user = attached(User, factory.user())
    with pytest.raises(ValidationFailed) as refused:
        electorate.claim_entry(consultation, user, identifier, born)
    assert refused.value.errors == {"identifier": electorate.NOT_ON_REGISTER}
    assert str(refused.value.message) == (
        "We could not find these details on the voter register. Please check them with your "
        "letter from the town."
    )
    assert all(entry.claimed_by_id is None for entry in entries(consultation))


def test_an_entry_of_another_consultation_is_not_on_this_register(factory, ctx):
    other = imported(factory)
    consultation = register_consultation(factory)
    user = attached(User, factory.user())
    with pytest.raises(ValidationFailed) as refused:
        electorate.claim_entry(consultation, user, "AB1001", date(1990, 5, 17))
    assert refused.value.errors == {"identifier": electorate.NOT_ON_REGISTER}
    assert entries(other)[0].claimed_by_id is None


def test_details_another_account_used_are_refused(factory, ctx):
    consultation = imported(factory)
    first, second = attached(User, factory.user()), attached(User, factory.user())
    electorate.claim_entry(consultation, first, "AB1001", date(1990, 5, 17))
    with pytest.raises(ValidationFailed) as refused:
        electorate.claim_entry(consultation, second, "AB1001", date(1990, 5, 17))
    assert str(refused.value.errors["identifier"]) == (
        "These details have already been used by another account."
    )
    assert not electorate.may_vote(consultation, second)


def test_an_account_claims_one_entry_per_consultation(factory, ctx):
    consultation = imported(factory)
    user = attached(User, factory.user())
    electorate.claim_entry(consultation, user, "AB1001", date(1990, 5, 17))
    with pytest.raises(ValidationFailed) as refused:
        electorate.claim_entry(consultation, user, "AB1002", date(1975, 11, 3))
    assert refused.value.errors == {"identifier": electorate.CLAIMED_OTHER_ENTRY}
    assert [entry.claimed_by_id for entry in entries(consultation)] == [user.id, None, None]
    # In another consultation the same account claims an entry of its own.
    other = imported(factory)
    electorate.claim_entry(other, user, "AB1002", date(1975, 11, 3))


@pytest.mark.parametrize(
    ("identifier", "born", "field"),
    [
        ("", date(1990, 5, 17), "identifier"),
        (" - ", date(1990, 5, 17), "identifier"),
        ("AB1001", None, "date_of_birth"),
    ],
)
def test_missing_details_are_refused_next_to_their_field(factory, ctx, identifier, born, field):
    consultation = imported(factory)
    with pytest.raises(ValidationFailed) as refused:
        electorate.claim_entry(consultation, attached(User, factory.user()), identifier, born)
    assert list(refused.value.errors) == [field]


def test_claims_need_a_confirmed_account_a_register_and_open_voting(factory, ctx):
    consultation = imported(factory)
    unconfirmed = attached(User, factory.user(email_confirmed_at=None))
    with pytest.raises(NotAllowed):
        electorate.claim_entry(consultation, unconfirmed, "AB1001", date(1990, 5, 17))
    with pytest.raises(NotAllowed):
        electorate.claim_entry(consultation, None, "AB1001", date(1990, 5, 17))
    user = attached(User, factory.user())
    open_one = register_consultation(factory, electorate=Electorate.OPEN)
    with pytest.raises(NotFound):
        electorate.claim_entry(open_one, user, "AB1001", date(1990, 5, 17))
    consultation.phase = Phase.CLOSED
    db.session.commit()
    with pytest.raises(DomainError, match="Voting has closed"):
        electorate.claim_entry(consultation, user, "AB1001", date(1990, 5, 17))
    assert all(entry.claimed_by_id is None for entry in entries(consultation))


def test_a_resident_can_claim_before_voting_opens(factory, ctx):
    consultation = imported(factory, phase=Phase.COLLECTING)
    user = attached(User, factory.user())
    electorate.claim_entry(consultation, user, "AB1001", date(1990, 5, 17))
    assert electorate.may_vote(consultation, user)


# The minimum age on the day voting opens


@pytest.mark.parametrize(
    ("born", "allowed"),
    [(date(2010, 6, 2), False), (date(2010, 6, 1), True), (date(2010, 5, 31), True)],
    ids=["birthday the day after", "birthday on the day", "birthday the day before"],
)
def test_the_minimum_age_is_reached_on_the_day_voting_opens(factory, ctx, born, allowed):
    consultation = imported(
        factory,
        ["R1", born.isoformat(), ""],
        phase=Phase.COLLECTING,
        min_voting_age=16,
        voting_starts_on=date(2026, 6, 1),
    )
    user = attached(User, factory.user())
    if allowed:
        electorate.claim_entry(consultation, user, "R1", born, today=date(2026, 1, 1))
        assert electorate.may_vote(consultation, user)
        return
    with pytest.raises(ValidationFailed) as refused:
        electorate.claim_entry(consultation, user, "R1", born, today=date(2026, 1, 1))
    assert refused.value.errors["date_of_birth"] == (
        "You are not yet 16 years old on the day voting opens (June 1, 2026)."
    )
    assert entries(consultation)[0].claimed_by_id is None


@pytest.mark.parametrize(
    ("opens_on", "allowed"), [(date(2026, 2, 28), False), (date(2026, 3, 1), True)]
)
def test_someone_born_on_29_february_is_a_year_older_on_1_march(factory, ctx, opens_on, allowed):
    consultation = imported(
        factory,
        ["L29", "29.02.2008", ""],
        phase=Phase.COLLECTING,
        min_voting_age=18,
        voting_starts_on=opens_on,
    )
    user = attached(User, factory.user())
    if allowed:
        electorate.claim_entry(consultation, user, "L29", date(2008, 2, 29))
    else:
        with pytest.raises(ValidationFailed, match="not yet 18 years old"):
            electorate.claim_entry(consultation, user, "L29", date(2008, 2, 29))


def test_without_a_planned_day_the_age_is_checked_on_today(factory, ctx):
    consultation = imported(factory, ["R2", "2010-06-02", ""], min_voting_age=16)
    assert consultation.voting_starts_on is None
    user = attached(User, factory.user())
    with pytest.raises(ValidationFailed, match="June 1, 2026"):
        electorate.claim_entry(consultation, user, "R2", date(2010, 6, 2), today=date(2026, 6, 1))
    electorate.claim_entry(consultation, user, "R2", date(2010, 6, 2), today=date(2026, 6, 2))


# At the same moment


def claim_at_the_same_moment(app, consultation_id: int, attempts: list[tuple]) -> list[object]:
    def load(user_id: int, identifier: str, born: date) -> tuple:
        return (
            db.session.get(Consultation, consultation_id),
            db.session.get(User, user_id),
            identifier,
            born,
        )

    def claim(consultation, user, identifier, born) -> int:
        return electorate.claim_entry(consultation, user, identifier, born).claimed_by_id

    return at_the_same_moment(app, load, claim, attempts)


def test_two_accounts_claiming_one_entry_at_once_leave_one_claim(app, threaded_app, factory):
    with app.app_context():
        consultation = imported(factory)
        consultation_id = consultation.id
    for _round in range(3):
        users = [factory.user().id for _ in range(3)]
        outcomes = claim_at_the_same_moment(
            threaded_app,
            consultation_id,
            [(user_id, "AB1001", date(1990, 5, 17)) for user_id in users],
        )
        with app.app_context():
            [entry] = db.session.scalars(
                select(RegisterEntry).where(RegisterEntry.claimed_by_id.is_not(None))
            ).all()
            assert entry.claimed_by_id in users
            winners = [outcome for outcome in outcomes if not isinstance(outcome, Exception)]
            assert winners == [entry.claimed_by_id]
            losers = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
            assert len(losers) == 2
            for loser in losers:
                assert isinstance(loser, ValidationFailed)
                assert loser.errors == {"identifier": electorate.CLAIMED_BY_ANOTHER}
            entry.claimed_by_id = entry.claimed_at = None
            db.session.commit()


def test_one_account_claiming_two_entries_at_once_keeps_one(app, threaded_app, factory):
    with app.app_context():
        consultation = imported(factory)
        consultation_id = consultation.id
    for _round in range(3):
        user_id = factory.user().id
        outcomes = claim_at_the_same_moment(
            threaded_app,
            consultation_id,
            [(user_id, "AB1001", date(1990, 5, 17)), (user_id, "AB1002", date(1975, 11, 3))],
        )
        with app.app_context():
            claimed = db.session.scalars(
                select(RegisterEntry).where(RegisterEntry.claimed_by_id == user_id)
            ).all()
            assert len(claimed) == 1
            assert sum(not isinstance(outcome, Exception) for outcome in outcomes) == 1
            for outcome in outcomes:
                if isinstance(outcome, Exception):
                    assert isinstance(outcome, ValidationFailed)
                    assert outcome.errors == {"identifier": electorate.CLAIMED_OTHER_ENTRY}
            db.session.execute(
                RegisterEntry.__table__.update().values(claimed_by_id=None, claimed_at=None)
            )
            db.session.commit()


# Who may vote with an account: ballots and supports


def test_a_ballot_in_a_register_consultation_needs_a_claimed_entry(factory, ctx):
    consultation = imported(factory)
    project = factory.proposal(consultation, factory.user(), estimated_cost=100)
    user = attached(User, factory.user())
    with pytest.raises(NotAllowed) as refused:
        ballots.submit_ballot(consultation, user, [project.id])
    assert str(refused.value.message) == "Please first confirm that you are on the voter register."
    assert db.session.scalars(select(Ballot)).all() == []
    electorate.claim_entry(consultation, user, "AB1001", date(1990, 5, 17))
    ballot = ballots.submit_ballot(consultation, user, [project.id])
    assert ballot.user_id == user.id


def test_an_account_cannot_vote_where_the_letter_carries_a_voting_code(factory, ctx):
    consultation = register_consultation(factory, electorate=Electorate.VOTING_CODES)
    project = factory.proposal(consultation, factory.user(), estimated_cost=100)
    user = attached(User, factory.user())
    with pytest.raises(NotAllowed, match="voting code from your letter"):
        ballots.submit_ballot(consultation, user, [project.id])
    assert db.session.scalars(select(Ballot)).all() == []


def test_an_open_consultation_lets_every_confirmed_account_vote(factory, ctx):
    consultation = register_consultation(factory, electorate=Electorate.OPEN)
    project = factory.proposal(consultation, factory.user(), estimated_cost=100)
    user = attached(User, factory.user())
    assert electorate.may_vote(consultation, user)
    ballots.submit_ballot(consultation, user, [project.id])


@pytest.mark.parametrize("kind", [Electorate.REGISTER, Electorate.VOTING_CODES])
def test_supports_in_a_consultation_with_an_electorate_follow_the_same_rule(factory, ctx, kind):
    consultation = register_consultation(
        factory, voting_method=VotingMethod.SUPPORT, budget=None, electorate=kind
    )
    if kind is Electorate.REGISTER:
        electorate.import_register(consultation, rows(*RESIDENTS))
    proposal = factory.proposal(consultation, factory.user())
    user = attached(User, factory.user())
    with pytest.raises(NotAllowed):
        votes.support(attached(type(proposal), proposal), user)
    assert db.session.scalars(select(Support)).all() == []
    if kind is Electorate.REGISTER:
        electorate.claim_entry(consultation, user, "AB1001", date(1990, 5, 17))
        state = votes.support(attached(type(proposal), proposal), user)
        assert state.supported


def test_the_import_command_reads_commas_semicolons_and_german_dates(app, factory, tmp_path):
    with app.app_context():
        slug = register_consultation(factory).slug
    semicolons = tmp_path / "register.csv"
    semicolons.write_bytes(
        "\ufeffidentifier;date_of_birth;district\nAB1001;17.05.1990;Altstadt\n".encode()
    )
    runner = app.test_cli_runner()
    result = runner.invoke(args=["voters", "import", slug, str(semicolons)])
    assert result.exit_code == 0, result.output
    assert "1 new entries, 0 already on the register" in result.output
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows(*RESIDENTS))
    commas = tmp_path / "register2.csv"
    commas.write_text(buffer.getvalue())
    result = runner.invoke(args=["voters", "import", slug, str(commas)])
    assert "2 new entries, 1 already on the register" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("identifier,date_of_birth\nAB2000,1990-05-17\nAB2001,gestern\n")
    result = runner.invoke(args=["voters", "import", slug, str(bad)])
    assert result.exit_code == 1
    assert "3" in result.output and "nothing was imported" in result.output
    with app.app_context():
        assert db.session.scalar(text("SELECT COUNT(*) FROM register_entries")) == 3
    result = runner.invoke(args=["voters", "import", "no-such-slug", str(commas)])
    assert result.exit_code == 1


@pytest.mark.parametrize("method", [VotingMethod.BUDGET, VotingMethod.SUPPORT])
def test_the_guidance_box_sends_an_unconfirmed_resident_to_the_register(factory, ctx, method):
    from participation.services.consultations import guidance
    from participation.services.consultations.guidance import Action

    consultation = imported(factory, voting_method=method)
    user = attached(User, factory.user())
    box = guidance.for_consultation(consultation, user)
    assert box.can_do == ("Please first confirm that you are on the voter register.",)
    assert box.links[0].action is Action.CONFIRM_REGISTER
    electorate.claim_entry(consultation, user, "AB1001", date(1990, 5, 17))
    box = guidance.for_consultation(consultation, user)
    assert all(link.action is not Action.CONFIRM_REGISTER for link in box.links)
    assert "voter register" not in " ".join(box.can_do)


def test_a_deleted_account_keeps_its_entry_claimed_and_exports_it_without_the_hash(factory, ctx):
    from participation.services.accounts import personal_data
    from tests.factories import Factory

    consultation = imported(factory)
    user = attached(User, factory.user())
    entry = electorate.claim_entry(consultation, user, "AB1001", date(1990, 5, 17))
    [exported] = personal_data.export(user)["register_entries"]
    assert exported["id"] == entry.id and exported["district"] == "Altstadt"
    assert entry.entry_hash not in str(personal_data.export(user))
    personal_data.delete_own_account(user, Factory.PASSWORD)
    assert db.session.get(RegisterEntry, entry.id).claimed_by_id == user.id
    newcomer = attached(User, factory.user())
    with pytest.raises(ValidationFailed) as refused:
        electorate.claim_entry(consultation, newcomer, "AB1001", date(1990, 5, 17))
    assert refused.value.errors == {"identifier": electorate.CLAIMED_BY_ANOTHER}
