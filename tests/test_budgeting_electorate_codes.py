"""The moderators' side of voting codes (services.budgeting.electorate): announcing the
electorate, issuing codes for letters, revoking and replacing the code of a lost letter, the
counts per district, and that the database never holds a code a person could use."""

from __future__ import annotations

import csv
import io
import logging
import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import inspect, select

from participation import logs
from participation.extensions import db
from participation.models import (
    AuditEvent,
    Ballot,
    BallotChannel,
    Consultation,
    Electorate,
    PaperEntry,
    Phase,
    VotingCode,
    VotingMethod,
)
from participation.services import consultations
from participation.services.budgeting import electorate
from participation.services.consultations import ConsultationSettings
from participation.services.errors import DomainError, NotAllowed, ValidationFailed
from tests.helpers import attached

CODE_FORM = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
BASE_URL = "https://beteiligung.example.org/"


@pytest.fixture
def budget(factory, ctx) -> Consultation:
    """A budget consultation in voting whose residents vote with the codes of letters."""
    consultation = factory.consultation(
        Phase.VOTING,
        voting_method=VotingMethod.BUDGET,
        budget=100_000,
        electorate=Electorate.VOTING_CODES,
    )
    return attached(Consultation, consultation)


def _codes_of(consultation) -> list[VotingCode]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(VotingCode)
            .where(VotingCode.consultation_id == consultation.id)
            .order_by(VotingCode.id)
        )
    )


def _audit(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def _settings(consultation: Consultation, **changes) -> ConsultationSettings:
    values = {
        "title": consultation.title,
        "budget": consultation.budget,
        "voting_method": consultation.voting_method,
        "electorate": consultation.electorate,
        "min_voting_age": consultation.min_voting_age,
    }
    return ConsultationSettings(**(values | changes))


# Issuing codes


def test_issued_codes_are_unique_printed_codes_with_their_check_character(budget, moderator):
    printed = electorate.issue_codes(budget, moderator, 500, district="Altstadt")
    assert len(printed) == len(set(printed)) == 500
    for code in printed:
        assert CODE_FORM.match(code)
        compact = code.replace("-", "")
        assert electorate.check_character(compact[:-1]) == compact[-1]
    stored = _codes_of(budget)
    assert len(stored) == 500
    assert {row.district for row in stored} == {"Altstadt"}
    assert {row.code_hash for row in stored} == {
        electorate.code_hash(electorate.parse_code(code)) for code in printed
    }
    assert electorate.find_code(budget, printed[0]).consultation_id == budget.id
    (event,) = _audit("electorate.codes_issued")
    assert event.actor_id == moderator.id
    assert event.details == {"count": 500, "district": "Altstadt"}


def test_fifty_thousand_codes_take_seconds(budget, moderator):
    started = time.monotonic()
    printed = electorate.issue_codes(budget, moderator, 50_000)
    elapsed = time.monotonic() - started
    assert len(set(printed)) == 50_000
    assert db.session.scalar(select(db.func.count(VotingCode.id))) == 50_000
    assert elapsed < 30, f"{elapsed:.1f} s"


def test_a_hash_that_exists_already_is_drawn_again(budget, moderator, monkeypatch):
    (taken,) = electorate.issue_codes(budget, moderator, 1)
    drawn = iter([taken, taken, electorate.generate_code(), electorate.generate_code()])
    monkeypatch.setattr(electorate, "generate_code", lambda: next(drawn))
    printed = electorate.issue_codes(budget, moderator, 2)
    assert taken not in printed
    assert len(set(printed)) == 2
    assert len(_codes_of(budget)) == 3


@pytest.mark.parametrize("count", [0, -1, electorate.MAX_CODES_PER_CALL + 1])
def test_a_count_out_of_range_is_refused(budget, moderator, count):
    with pytest.raises(ValidationFailed) as refused:
        electorate.issue_codes(budget, moderator, count)
    assert "count" in refused.value.errors
    assert _codes_of(budget) == []


def test_a_too_long_district_is_refused_and_nothing_is_stored(budget, moderator):
    with pytest.raises(ValidationFailed) as refused:
        electorate.issue_codes(budget, moderator, 3, district="x" * 81)
    assert "district" in refused.value.errors
    assert _codes_of(budget) == [] and _audit("electorate.codes_issued") == []


def test_only_moderators_issue_codes(budget, citizen):
    with pytest.raises(NotAllowed):
        electorate.issue_codes(budget, citizen, 3)
    assert _codes_of(budget) == []


def test_codes_are_issued_before_voting_but_not_once_voting_ended(factory, moderator):
    for phase, allowed in [
        (Phase.DRAFT, True),
        (Phase.COLLECTING, True),
        (Phase.VOTING, True),
        (Phase.EVALUATING, False),
        (Phase.CLOSED, False),
    ]:
        consultation = attached(
            Consultation,
            factory.consultation(
                phase,
                voting_method=VotingMethod.BUDGET,
                budget=1000,
                electorate=Electorate.VOTING_CODES,
            ),
        )
        if allowed:
            assert len(electorate.issue_codes(consultation, moderator, 2)) == 2
        else:
            with pytest.raises(DomainError) as refused:
                electorate.issue_codes(consultation, moderator, 2)
            assert refused.value.message == electorate.VOTING_ENDED
            assert _codes_of(consultation) == []


def test_codes_are_refused_for_an_open_electorate_and_for_support_consultations(factory, moderator):
    open_budget = factory.consultation(Phase.VOTING, voting_method=VotingMethod.BUDGET, budget=1000)
    support = factory.consultation(Phase.VOTING, electorate=Electorate.VOTING_CODES)
    for consultation in (open_budget, support):
        with pytest.raises(DomainError) as refused:
            electorate.issue_codes(attached(Consultation, consultation), moderator, 2)
        assert refused.value.message == electorate.NOT_FOR_CODES
    assert db.session.scalar(select(db.func.count(VotingCode.id))) == 0


def test_the_command_line_issues_codes_without_an_account(budget):
    assert len(electorate.issue_codes(budget, None, 2)) == 2
    (event,) = _audit("electorate.codes_issued")
    assert event.actor_id is None


# The electorate in the consultation's settings


def test_the_electorate_is_chosen_and_changed_before_voting(factory, moderator):
    consultation = attached(
        Consultation,
        factory.consultation(Phase.COLLECTING, voting_method=VotingMethod.BUDGET, budget=1000),
    )
    consultations.update(
        consultation, _settings(consultation, electorate=Electorate.VOTING_CODES), moderator
    )
    assert consultation.electorate is Electorate.VOTING_CODES
    consultations.update(
        consultation,
        _settings(consultation, electorate=Electorate.REGISTER, min_voting_age=16),
        moderator,
    )
    db.session.expire_all()
    assert consultation.electorate is Electorate.REGISTER
    assert consultation.min_voting_age == 16


@pytest.mark.parametrize("phase", [Phase.VOTING, Phase.EVALUATING, Phase.CLOSED])
def test_the_electorate_cannot_change_once_voting_opened(factory, moderator, phase):
    consultation = attached(
        Consultation,
        factory.consultation(phase, voting_method=VotingMethod.BUDGET, budget=1000),
    )
    for change in (
        {"electorate": Electorate.VOTING_CODES},
        {"electorate": Electorate.REGISTER},
    ):
        with pytest.raises(ValidationFailed) as refused:
            consultations.update(consultation, _settings(consultation, **change), moderator)
        assert "announced before voting opens" in str(refused.value.errors["electorate"])
        db.session.expire_all()
        assert consultation.electorate is Electorate.OPEN


def test_the_minimum_age_cannot_change_once_voting_opened(factory, moderator):
    consultation = attached(
        Consultation,
        factory.consultation(Phase.VOTING, electorate=Electorate.REGISTER, min_voting_age=16),
    )
    with pytest.raises(ValidationFailed) as refused:
        consultations.update(consultation, _settings(consultation, min_voting_age=18), moderator)
    assert "min_voting_age" in refused.value.errors
    db.session.expire_all()
    assert consultation.min_voting_age == 16


def test_a_support_consultation_may_not_use_voting_codes(factory, moderator):
    consultation = attached(Consultation, factory.consultation(Phase.COLLECTING))
    with pytest.raises(ValidationFailed) as refused:
        consultations.update(
            consultation, _settings(consultation, electorate=Electorate.VOTING_CODES), moderator
        )
    assert refused.value.errors["electorate"] == electorate.CODES_ONLY_FOR_BUDGETS
    consultations.update(
        consultation, _settings(consultation, electorate=Electorate.REGISTER), moderator
    )
    assert consultation.electorate is Electorate.REGISTER


def test_a_minimum_age_belongs_to_the_register_only(factory, moderator):
    consultation = attached(Consultation, factory.consultation(Phase.COLLECTING))
    with pytest.raises(ValidationFailed) as refused:
        consultations.update(consultation, _settings(consultation, min_voting_age=16), moderator)
    assert "min_voting_age" in refused.value.errors


def test_who_may_vote_is_said_in_plain_words(factory, ctx):
    cases = [
        ({}, "Everyone with a confirmed account"),
        (
            {"electorate": Electorate.VOTING_CODES, "voting_method": VotingMethod.BUDGET},
            "Every resident who received a letter with a voting code may vote; no account needed.",
        ),
        ({"electorate": Electorate.REGISTER}, "Residents on the voter register may vote"),
        (
            {"electorate": Electorate.REGISTER, "min_voting_age": 16},
            "aged 16 or over on the day voting opens",
        ),
    ]
    for fields, expected in cases:
        assert expected in electorate.who_may_vote(factory.consultation(**fields))


# Revoking and replacing the code of a lost letter


def test_a_revoked_code_votes_no_more_and_its_online_ballot_is_removed(budget, moderator, factory):
    first, second = electorate.issue_codes(budget, moderator, 2, district="Nord")
    code = electorate.find_code(budget, first)
    factory.ballot(budget, None, voting_code_id=code.id)
    revoked = electorate.revoke_code(budget, moderator, first.lower())
    assert revoked.is_revoked and revoked.revoked_at is not None
    assert db.session.scalar(select(db.func.count(Ballot.id))) == 0
    with pytest.raises(DomainError) as refused:
        electorate.find_code(budget, first)
    assert refused.value.message == electorate.REVOKED_CODE
    assert electorate.find_code(budget, second)  # the other letter still votes
    (event,) = _audit("electorate.code_revoked")
    assert event.subject_id == code.id and event.actor_id == moderator.id
    assert event.details == {"district": "Nord", "ballot_removed": True}


def test_a_code_is_revoked_once(budget, moderator):
    (printed,) = electorate.issue_codes(budget, moderator, 1)
    electorate.revoke_code(budget, moderator, printed)
    with pytest.raises(ValidationFailed) as refused:
        electorate.revoke_code(budget, moderator, printed)
    assert refused.value.errors["code"] == electorate.ALREADY_REVOKED
    assert len(_audit("electorate.code_revoked")) == 1


def test_a_code_used_on_paper_is_not_revoked(budget, moderator, factory):
    on_paper, entered = electorate.issue_codes(budget, moderator, 2)
    factory.ballot(
        budget,
        None,
        voting_code_id=electorate.find_code(budget, on_paper).id,
        channel=BallotChannel.PAPER,
    )
    with factory.app.app_context():
        db.session.add(
            PaperEntry(
                consultation_id=budget.id,
                sheet_key="sheet-1",
                voting_code_id=electorate.find_code(budget, entered).id,
                choice_ids="",
                entered_by_id=moderator.id,
            )
        )
        db.session.commit()
    for printed in (on_paper, entered):
        with pytest.raises(ValidationFailed) as refused:
            electorate.revoke_code(budget, moderator, printed)
        assert refused.value.errors["code"] == electorate.USED_ON_PAPER
        with pytest.raises(ValidationFailed):
            electorate.reissue_code(budget, moderator, printed)
    assert not any(code.is_revoked for code in _codes_of(budget))
    assert db.session.scalar(select(db.func.count(Ballot.id))) == 1
    assert _audit("electorate.code_revoked") == _audit("electorate.code_reissued") == []


def test_a_code_of_another_consultation_or_none_at_all_is_refused(budget, moderator, factory):
    other = attached(
        Consultation,
        factory.consultation(
            Phase.VOTING,
            voting_method=VotingMethod.BUDGET,
            budget=1,
            electorate=Electorate.VOTING_CODES,
        ),
    )
    (foreign,) = electorate.issue_codes(other, moderator, 1)
    for typed, message in [
        (foreign, electorate.OTHER_CONSULTATION),
        (electorate.generate_code(), electorate.UNKNOWN_CODE),
        ("K7QF-M2XD", electorate.NOT_A_CODE),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            electorate.revoke_code(budget, moderator, typed)
        assert refused.value.errors["code"] == message
    assert not any(code.is_revoked for code in _codes_of(other))


def test_codes_are_not_revoked_once_voting_ended(budget, moderator):
    (printed,) = electorate.issue_codes(budget, moderator, 1)
    budget.phase = Phase.EVALUATING
    db.session.commit()
    with pytest.raises(DomainError) as refused:
        electorate.revoke_code(budget, moderator, printed)
    assert refused.value.message == electorate.VOTING_ENDED
    assert not _codes_of(budget)[0].is_revoked


def test_only_moderators_revoke_codes(budget, moderator, citizen):
    (printed,) = electorate.issue_codes(budget, moderator, 1)
    with pytest.raises(NotAllowed):
        electorate.revoke_code(budget, citizen, printed)
    with pytest.raises(NotAllowed):
        electorate.reissue_code(budget, citizen, printed)
    assert not _codes_of(budget)[0].is_revoked


def test_a_new_code_replaces_a_lost_one_in_the_same_district(budget, moderator, factory):
    (lost,) = electorate.issue_codes(budget, moderator, 1, district="Süd")
    old = electorate.find_code(budget, lost)
    factory.ballot(budget, None, voting_code_id=old.id)
    new = electorate.reissue_code(budget, moderator, lost)
    assert CODE_FORM.match(new) and new != lost
    replacement = electorate.find_code(budget, new)
    assert replacement.district == "Süd"
    assert replacement.replaces_id == old.id
    with pytest.raises(DomainError):
        electorate.find_code(budget, lost)
    assert db.session.scalar(select(db.func.count(Ballot.id))) == 0
    (event,) = _audit("electorate.code_reissued")
    assert event.subject_id == replacement.id
    assert event.details == {"district": "Süd", "replaces_id": old.id, "ballot_removed": True}


# Counts


def test_counts_per_district_say_issued_used_and_revoked(budget, moderator, factory):
    nord = electorate.issue_codes(budget, moderator, 3, district="Nord")
    electorate.issue_codes(budget, moderator, 2)
    factory.ballot(budget, None, voting_code_id=electorate.find_code(budget, nord[0]).id)
    factory.ballot(budget, None, voting_code_id=electorate.find_code(budget, nord[1]).id)
    electorate.revoke_code(budget, moderator, nord[1])
    electorate.reissue_code(budget, moderator, nord[2])
    assert electorate.code_counts(budget) == [
        electorate.DistrictCount(None, issued=2, used=0, revoked=0),
        electorate.DistrictCount("Nord", issued=4, used=1, revoked=2),
    ]


# What is kept of a code


def _dump(engine) -> str:
    """Every column of every row of every table, as text."""
    parts: list[str] = []
    with engine.connect() as connection:
        for table in inspect(engine).get_table_names():
            reflected = db.Table(table, db.MetaData(), autoload_with=connection)
            for row in connection.execute(reflected.select()):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def test_the_database_holds_no_code_it_generated(budget, moderator, factory, operations):
    printed = electorate.issue_codes(budget, moderator, 200, district="Mitte")
    factory.ballot(budget, None, voting_code_id=electorate.find_code(budget, printed[0]).id)
    electorate.revoke_code(budget, moderator, printed[1])
    printed.append(electorate.reissue_code(budget, moderator, printed[2]))
    dump = _dump(db.engine).upper()
    assert "VOTING_CODES" in dump.replace("-", "_")  # the dump reads the tables
    assert len(dump) > 200 * 64
    logged = "\n".join(record.getMessage() for record in operations.records).upper()
    for code in printed:
        compact = code.replace("-", "")
        for form in (code, compact, compact[:-1]):
            assert form not in dump
            assert form not in logged


@pytest.fixture
def operations(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=logs.ROOT_LOGGER)
    return caplog


def test_the_services_log_one_line_each_without_codes(budget, moderator, operations):
    (printed,) = electorate.issue_codes(budget, moderator, 1)
    electorate.reissue_code(budget, moderator, printed)
    actions = [r.action for r in operations.records if hasattr(r, "action")]
    assert actions == ["electorate.codes_issued", "electorate.code_reissued"]


# The letters


def test_the_letters_hold_code_district_voting_address_and_qr_code(budget, moderator):
    printed = electorate.issue_codes(budget, moderator, 3, district="Altstadt")
    text = "".join(electorate.letters_csv(budget, printed, BASE_URL, district="Altstadt"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["code", "district", "voting_address", "qr_code"]
    assert [row["code"] for row in rows] == printed
    for row in rows:
        assert row["district"] == "Altstadt"
        address = urlsplit(row["voting_address"])
        assert f"{address.scheme}://{address.netloc}/" == BASE_URL
        assert address.path == f"/consultations/{budget.slug}/vote"
        assert parse_qs(address.query) == {"code": [row["code"]]}
        assert row["qr_code"].startswith("data:image/svg+xml")
