"""Who may vote: the voting codes of the town's letters and the voter register.

A voting code looks like `K7QF-M2XD-9P4T-W3R8`: 15 random characters of Crockford's alphabet
(75 bits from `secrets`; no I, L, O or U, and O, I and L typed are read as 0 and 1), grouped by
four for reading aloud, and a check character (a weighted sum in GF(32)) last, so that a
mistyped or swapped character is caught before the database is asked. The database holds only a
keyed hash of a code (HMAC-SHA256 with VOTER_SECRET, by default derived from SECRET_KEY), and of
a register entry: a copy of it gives nobody a usable code nor a resident's details. Keep the
key: with another key no code and no register entry is recognised any more.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import secrets
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, urlencode, urlsplit

import segno
from flask import current_app
from flask_babel import format_date, to_user_timezone
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from participation.extensions import db
from participation.logs import operation
from participation.models import (
    Ballot,
    BallotChannel,
    BallotChoice,
    Consultation,
    Electorate,
    PaperEntry,
    RegisterEntry,
    User,
    VotingCode,
    VotingCodeState,
)
from participation.models.base import utcnow
from participation.services import audit
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

log = logging.getLogger(__name__)

CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U
CODE_LOOK_ALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
CODE_RANDOM_LENGTH = 15  # 75 bits
CODE_GROUP_LENGTH = 4

NOT_A_CODE = _l(
    "This is not a voting code. A voting code has 16 letters and digits, such as "
    "K7QF-M2XD-9P4T-W3R8: please check what you typed."
)
MISTYPED_CODE = _l(
    "This voting code has a typo: one of its characters is wrong or two are swapped. Please "
    "compare it with your letter."
)
UNKNOWN_CODE = _l("There is no such voting code. Please compare it with your letter.")
OTHER_CONSULTATION = _l("This voting code belongs to another consultation.")
REVOKED_CODE = _l(
    "This voting code has been revoked, for example because its letter was reported lost. "
    "If you received a new letter, please use the code in it."
)


def _times_alpha(value: int) -> int:
    """`value` times the generator g of GF(32), built on the primitive polynomial x^5 + x^2 + 1."""
    value <<= 1
    return value ^ 0b100101 if value & 0b100000 else value


def check_character(characters: str) -> str:
    """The check character of `characters` (all of CODE_ALPHABET): the sum, in the field GF(32),
    of each character's value times g to the power of its position (1, 2, …).

    Every power of g is different and none is 0 or 1, so the check character changes when any
    one character is changed (the error times a power of g is never 0), when any two
    characters are swapped ((a + b)(g^i + g^j) is never 0 for a != b), and when the last
    character is swapped with the check character itself. (Luhn mod 32 misses a swap of 0 and
    Z, as Luhn misses 09 and 90.)"""
    total, weight = 0, 1
    for char in characters:
        weight = _times_alpha(weight)
        product, factor, value = 0, weight, CODE_ALPHABET.index(char)
        while value:  # carry-less multiplication in GF(32)
            if value & 1:
                product ^= factor
            factor, value = _times_alpha(factor), value >> 1
        total ^= product
    return CODE_ALPHABET[total]


def generate_code() -> str:
    """A new voting code in its printed form, `K7QF-M2XD-9P4T-W3R8`."""
    random = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_RANDOM_LENGTH))
    return format_code(random + check_character(random))


def format_code(compact: str) -> str:
    return "-".join(
        compact[start : start + CODE_GROUP_LENGTH]
        for start in range(0, len(compact), CODE_GROUP_LENGTH)
    )


def parse_code(text: str | None) -> str:
    """The code's 15 random characters from what a person typed (any case, with or without
    dashes and spaces, O for 0 and I or L for 1); ValidationFailed (field `code`) if it cannot
    be a code or its check character does not match."""
    compact = "".join((text or "").split()).replace("-", "").upper().translate(CODE_LOOK_ALIKES)
    if len(compact) != CODE_RANDOM_LENGTH + 1 or any(c not in CODE_ALPHABET for c in compact):
        raise ValidationFailed({"code": NOT_A_CODE})
    random, check = compact[:-1], compact[-1]
    if check_character(random) != check:
        raise ValidationFailed({"code": MISTYPED_CODE})
    return random


def _key() -> bytes:
    secret = current_app.config.get("VOTER_SECRET")
    if secret:
        return secret.encode()
    return hmac.new(current_app.config["SECRET_KEY"].encode(), b"voter secret", "sha256").digest()


def keyed_hash(*parts: str) -> str:
    """HMAC-SHA256 of the parts (joined by a separator no part holds), as 64 hex digits."""
    return hmac.new(_key(), "\x1f".join(parts).encode(), hashlib.sha256).hexdigest()


def code_hash(random: str) -> str:
    return keyed_hash("voting code", random)


def find_code(consultation: Consultation, text: str | None) -> VotingCode:
    """The voting code a person typed, if it may vote in this consultation; otherwise why not:
    ValidationFailed (not a code, a typo), NotFound (no such code), DomainError (another
    consultation's, revoked)."""
    code = db.session.scalar(
        db.select(VotingCode).where(VotingCode.code_hash == code_hash(parse_code(text)))
    )
    if code is None:
        raise NotFound(UNKNOWN_CODE)
    if code.consultation_id != consultation.id:
        raise DomainError(OTHER_CONSULTATION)
    if code.is_revoked:
        raise DomainError(REVOKED_CODE)
    return code


def normalise_identifier(identifier: str) -> str:
    """A register identifier as the town's file and a resident may write it: case, spaces and
    dashes do not matter."""
    return "".join(identifier.split()).replace("-", "").upper()


def register_hash(identifier: str, birth_date: date) -> str:
    return keyed_hash("register entry", normalise_identifier(identifier), birth_date.isoformat())


def age_on(birth_date: date, day: date) -> int:
    """Whole years of life on `day` (someone born on 29 February is a year older on 1 March)."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# The voter register: the town's file, residents claiming their entry, who may vote


NO_REGISTER = _l("This consultation has no voter register.")
NOT_ON_REGISTER = _l(
    "We could not find these details on the voter register. Please check them with your letter "
    "from the town."
)
CLAIMED_BY_ANOTHER = _l("These details have already been used by another account.")
CLAIMED_OTHER_ENTRY = _l(
    "Your account has already been confirmed on this voter register with other details."
)
REGISTER_CLOSED = _l("Voting has closed, so the voter register can no longer be changed.")
CLAIM_FIRST = _l("Please first confirm that you are on the voter register.")
VOTE_WITH_CODE = _l("In this consultation you vote with the voting code from your letter.")

REGISTER_COLUMNS = ("identifier", "date_of_birth", "district")
REQUIRED_COLUMNS = ("identifier", "date_of_birth")
MAX_IDENTIFIER_LENGTH = 100
MAX_DISTRICT_LENGTH = 80  # RegisterEntry.district
BIRTH_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")  # ISO, and as German towns write it


class RegisterRefused(DomainError):
    """The town's file has bad rows; `problems` says each one with its line, nothing is stored."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(" ".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class RegisterImport:
    """What an import did: entries new in the register, and entries it already held."""

    added: int
    already_there: int


def parse_birth_date(text: str | None) -> date | None:
    """A date of birth as `1990-05-17` or `17.05.1990`; None if it is neither."""
    text = (text or "").strip()
    for form in BIRTH_DATE_FORMATS:
        try:
            return datetime.strptime(text, form).date()
        except ValueError:
            continue
    return None


def _today() -> date:
    """The town's date (the default time zone's)."""
    return to_user_timezone(datetime.now(UTC)).date()


def _column_positions(header: Sequence[str]) -> dict[str, int]:
    names = [name.strip().lstrip("\ufeff").casefold() for name in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in names]
    unknown = [name for name in names if name and name not in REGISTER_COLUMNS]
    repeated = sorted({name for name in names if name and names.count(name) > 1})
    problems = []
    if missing:
        problems.append(
            _("Line 1: the header lacks the column(s) %(columns)s.", columns=", ".join(missing))
        )
    if unknown:
        problems.append(
            _(
                "Line 1: unknown column(s) %(columns)s; the columns are identifier, "
                "date_of_birth and district (optional).",
                columns=", ".join(unknown),
            )
        )
    if repeated:
        problems.append(
            _("Line 1: the column(s) %(columns)s appear twice.", columns=", ".join(repeated))
        )
    if problems:
        raise RegisterRefused(problems)
    return {name: position for position, name in enumerate(names) if name}


def _checked_rows(rows: Iterable[Sequence[str]]) -> list[tuple[str, str | None]]:
    """(entry hash, district) for every row, or RegisterRefused with every bad line."""
    lines = iter(rows)
    header = next(lines, None)
    if header is None:
        raise RegisterRefused(
            [_("The file is empty: it needs a header row and one row per resident.")]
        )
    positions = _column_positions(header)
    today = _today()
    checked: list[tuple[str, str | None]] = []
    problems: list[str] = []
    first_line: dict[str, int] = {}
    for number, row in enumerate(lines, start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line, as spreadsheets leave at the end

        def cell(name: str, row: Sequence[str] = row) -> str:
            position = positions.get(name)
            return row[position].strip() if position is not None and position < len(row) else ""

        identifier = normalise_identifier(cell("identifier"))
        birth_text = cell("date_of_birth")
        birth = parse_birth_date(birth_text)
        district = cell("district") or None
        wrong: list[str] = []
        if len(row) > len(header):
            wrong.append(_("more cells than the header has columns"))
        if not identifier:
            wrong.append(_("the identifier is missing"))
        elif len(identifier) > MAX_IDENTIFIER_LENGTH:
            wrong.append(
                _("the identifier is longer than %(max)d characters", max=MAX_IDENTIFIER_LENGTH)
            )
        elif identifier in first_line:
            wrong.append(
                _("the identifier is already on line %(line)d", line=first_line[identifier])
            )
        if birth is None:
            wrong.append(_("the date of birth is not a date like 1990-05-17 or 17.05.1990"))
        elif birth > today:
            wrong.append(_("the date of birth is in the future"))
        if district and len(district) > MAX_DISTRICT_LENGTH:
            wrong.append(
                _("the district is longer than %(max)d characters", max=MAX_DISTRICT_LENGTH)
            )
        if wrong:
            problems.append(
                _("Line %(line)d: %(problems)s.", line=number, problems="; ".join(wrong))
            )
            continue
        first_line[identifier] = number
        checked.append((register_hash(identifier, birth), district))
    if problems:
        raise RegisterRefused(problems)
    return checked


MAX_REGISTER_FILE_BYTES = 50 * 1024 * 1024  # a city of a million residents fits well


def read_register_file(data: bytes) -> list[list[str]]:
    """The cells of a register file: UTF-8 (with or without the BOM Excel writes), cells
    separated by commas or, as German spreadsheets write them, by semicolons."""
    if len(data) > MAX_REGISTER_FILE_BYTES:
        raise RegisterRefused(
            [_("The file is larger than %(max)d MB.", max=MAX_REGISTER_FILE_BYTES // 2**20)]
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RegisterRefused(
            [_("The file is not UTF-8 text. Please save it as CSV UTF-8.")]
        ) from error
    first = text.partition("\n")[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as error:
        raise RegisterRefused([_("The file is not a CSV file.")]) from error


@dataclass(frozen=True)
class RegisterCounts:
    entries: int
    claimed: int


def register_counts(consultation: Consultation) -> RegisterCounts:
    """How many residents the register holds, and how many of them confirmed their entry."""
    entries, claimed = db.session.execute(
        select(func.count(RegisterEntry.id), func.count(RegisterEntry.claimed_by_id)).where(
            RegisterEntry.consultation_id == consultation.id
        )
    ).one()
    return RegisterCounts(entries=entries, claimed=claimed)


def require_register(consultation: Consultation) -> None:
    """Only a consultation whose electorate is the voter register has one."""
    if not consultation.has_voter_register:
        raise NotFound(NO_REGISTER)


def import_register(
    consultation: Consultation, rows: Iterable[Sequence[str]], actor: User | None = None
) -> RegisterImport:
    """Add the town's voter register to the consultation: `rows` are the cells of a CSV file,
    its header first (identifier, date_of_birth, district optional, in any order).

    Every row is checked first: one bad row refuses the whole file, each bad line said with
    its number, and nothing is stored. Only the keyed hash of identifier and date of birth is
    stored, never either of them. An entry the register already holds is left as it is, so
    importing the same file again (or a longer one later) adds only the new residents.
    """
    require_register(consultation)
    if consultation.voting_has_ended:
        raise DomainError(REGISTER_CLOSED)
    checked = _checked_rows(rows)
    consultation_id = consultation.id
    try:
        known = set(
            db.session.scalars(
                select(RegisterEntry.entry_hash).where(
                    RegisterEntry.consultation_id == consultation_id
                )
            )
        )
        new = [
            {"consultation_id": consultation_id, "entry_hash": entry_hash, "district": district}
            for entry_hash, district in checked
            if entry_hash not in known
        ]
        if new:
            db.session.execute(insert(RegisterEntry), new)
        report = RegisterImport(added=len(new), already_there=len(checked) - len(new))
        audit.record(
            actor=actor,
            action="register.imported",
            subject_type="consultation",
            subject_id=consultation_id,
            consultation=consultation,
            details={
                "added": report.added,
                "already_there": report.already_there,
                "via": "web" if actor is not None else "command line",
            },
        )
        db.session.commit()
    except IntegrityError as error:
        # The same file imported at the same moment by somebody else: nothing of this one is
        # stored; importing it again adds what the other import did not.
        db.session.rollback()
        raise DomainError(
            _l("The register was changed at the same moment. Please import the file again.")
        ) from error
    operation(
        log,
        "register.imported",
        actor=actor,
        subject=consultation_id,
        added=report.added,
        already_there=report.already_there,
    )
    return report


def claimed_entry(consultation: Consultation, user: User | None) -> RegisterEntry | None:
    """The register entry the user has claimed in the consultation, or None."""
    if user is None or not user.is_authenticated:
        return None
    return db.session.scalar(
        select(RegisterEntry).where(
            RegisterEntry.consultation_id == consultation.id,
            RegisterEntry.claimed_by_id == user.id,
        )
    )


def voting_opens_on(consultation: Consultation, today: date | None = None) -> date:
    """The day the minimum age is checked on: the planned first day of voting; without one,
    today (the day voting opened, or the earliest it can still open)."""
    return consultation.voting_starts_on or today or _today()


def _require_claimant(user: User | None) -> User:
    from participation.services import accounts

    if getattr(user, "is_blocked", False):
        raise NotAllowed(_l("Your account is blocked, so you cannot vote."))
    if user is None or not user.is_authenticated:
        raise NotAllowed(_l("Please log in to confirm that you are on the voter register."))
    return accounts.require_confirmed(user)


def claim_entry(
    consultation: Consultation,
    user: User | None,
    identifier: str | None,
    birth_date: date | None,
    *,
    today: date | None = None,
) -> RegisterEntry:
    """The resident proves with their identifier and date of birth that they are on the
    consultation's register; from then on their account may vote in it.

    One entry is claimed by one account, and one account claims one entry per consultation:
    the claim is one UPDATE that only takes an unclaimed entry, and the database refuses a
    second entry for the account (unique constraint), so two claims at the same moment leave
    one. Claiming one's own entry again changes nothing. Refused with ValidationFailed (the
    message next to the field): details not on the register (the same message whichever one
    is wrong), details another account used, other details than the account already used,
    and an age below the minimum on the day voting opens (voting_opens_on).
    """
    user = _require_claimant(user)
    require_register(consultation)
    if consultation.voting_has_ended:
        raise DomainError(REGISTER_CLOSED)
    missing: dict = {}
    if not normalise_identifier(identifier or ""):
        missing["identifier"] = _l("Please enter the identifier from your letter.")
    if birth_date is None:
        missing["date_of_birth"] = _l("Please enter your date of birth.")
    if missing:
        raise ValidationFailed(missing)
    consultation_id, user_id = consultation.id, user.id
    wanted = register_hash(identifier, birth_date)
    try:
        mine = claimed_entry(consultation, user)
        if mine is not None:
            if mine.entry_hash == wanted:
                db.session.rollback()
                return mine
            raise ValidationFailed({"identifier": CLAIMED_OTHER_ENTRY})
        entry = db.session.scalar(
            select(RegisterEntry).where(
                RegisterEntry.consultation_id == consultation_id,
                RegisterEntry.entry_hash == wanted,
            )
        )
        if entry is None:
            raise ValidationFailed({"identifier": NOT_ON_REGISTER})
        if entry.claimed_by_id is not None:
            raise ValidationFailed({"identifier": CLAIMED_BY_ANOTHER})
        minimum = consultation.min_voting_age
        opens_on = voting_opens_on(consultation, today)
        if minimum and age_on(birth_date, opens_on) < minimum:
            raise ValidationFailed(
                {
                    "date_of_birth": _(
                        "You are not yet %(age)d years old on the day voting opens (%(date)s).",
                        age=minimum,
                        date=format_date(opens_on, "long"),
                    )
                }
            )
        taken = db.session.execute(
            update(RegisterEntry)
            .where(RegisterEntry.id == entry.id, RegisterEntry.claimed_by_id.is_(None))
            .values(claimed_by_id=user_id, claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not taken:
            # Another account claimed the entry after we read it.
            raise ValidationFailed({"identifier": CLAIMED_BY_ANOTHER})
        db.session.commit()
    except IntegrityError as error:
        # The same account claimed another entry at the same moment, and that claim won.
        db.session.rollback()
        raise ValidationFailed({"identifier": CLAIMED_OTHER_ENTRY}) from error
    except DomainError:
        db.session.rollback()
        raise
    db.session.refresh(entry)
    operation(
        log, "register_entry.claimed", actor=user_id, subject=entry, consultation=consultation_id
    )
    return entry


def may_vote(consultation: Consultation, user: User | None) -> bool:
    """Whether the user's account may vote in the consultation (require_may_vote says why
    not). Being logged in, confirmed and the phase are asked by the voting services."""
    try:
        require_may_vote(consultation, user)
    except DomainError:
        return False
    return True


def require_may_vote(consultation: Consultation, user: User | None) -> None:
    """The one rule of who may vote with an account, by the consultation's electorate: open,
    every confirmed account; voter register, an account that has claimed an entry of this
    consultation's register; voting codes, no account (the code from the letter votes).
    NotAllowed says why."""
    if consultation.electorate is Electorate.OPEN:
        return
    if consultation.electorate is Electorate.VOTING_CODES:
        raise NotAllowed(VOTE_WITH_CODE)
    if claimed_entry(consultation, user) is None:
        raise NotAllowed(CLAIM_FIRST)


# The moderators' side: announcing the electorate, issuing, revoking and counting codes

MAX_CODES_PER_CALL = 100_000
CODE_BATCH = 2000  # codes a statement inserts; 50,000 codes are 25 statements
MAX_DISTRICT_LENGTH = 80
LETTER_COLUMNS = ("code", "district", "voting_address", "qr_code")

WHO_MAY_VOTE_OPEN = _l("Everyone with a confirmed account on this platform may vote.")
WHO_MAY_VOTE_CODES = _l(
    "Every resident who received a letter with a voting code may vote; no account needed."
)
WHO_MAY_VOTE_REGISTER = _l(
    "Residents on the voter register may vote, with a confirmed account: they confirm once "
    "that they are on the register."
)
WHO_MAY_VOTE_REGISTER_AGE = _l(
    "Residents on the voter register, aged %(age)d or over on the day voting opens, may vote, "
    "with a confirmed account: they confirm once that they are on the register."
)
NOT_FOR_CODES = _l(
    "This consultation does not use voting codes: choose “Voting codes” as its electorate "
    "in the consultation's settings first."
)
CODES_ONLY_FOR_BUDGETS = _l(
    "Voting codes are for budget ballots. A support consultation is open to every confirmed "
    "account or to the voter register."
)
VOTING_ENDED = _l("Voting has ended: the ballots are frozen, and codes can no longer change.")
ALREADY_REVOKED = _l("This voting code has already been revoked.")
USED_ON_PAPER = _l(
    "This voting code was used on a paper ballot, which was entered already: it cannot be "
    "revoked. The paper ballot counts."
)
COUNT_RANGE = _l("Please enter a number between 1 and %(max)d.", max=MAX_CODES_PER_CALL)
DISTRICT_TOO_LONG = _l(
    "A district name may have at most %(max)d characters.", max=MAX_DISTRICT_LENGTH
)
ONLY_MODERATORS = _l("Only moderators can manage voting codes.")


def who_may_vote(consultation: Consultation) -> str:
    """The announcement of the consultation's page, in plain words."""
    if consultation.electorate is Electorate.VOTING_CODES:
        return str(WHO_MAY_VOTE_CODES)
    if consultation.electorate is Electorate.REGISTER:
        if consultation.min_voting_age:
            return str(WHO_MAY_VOTE_REGISTER_AGE % {"age": consultation.min_voting_age})
        return str(WHO_MAY_VOTE_REGISTER)
    return str(WHO_MAY_VOTE_OPEN)


def check_settings(
    electorate: Electorate,
    min_voting_age: int | None,
    uses_ballots: bool,
    consultation: Consultation | None,
    errors: dict,
) -> None:
    """The electorate a moderator chose (consultations.configuration asks this): voting codes
    for budget ballots only, a minimum age for the register only, and both changed only before
    voting opens, since they are announced."""
    if electorate is Electorate.VOTING_CODES and not uses_ballots:
        errors["electorate"] = CODES_ONLY_FOR_BUDGETS
    if min_voting_age is not None:
        if not 1 <= min_voting_age <= 120:
            errors["min_voting_age"] = _l("Please enter an age between 1 and 120.")
        elif electorate is not Electorate.REGISTER:
            errors["min_voting_age"] = _l("A minimum age only applies to the voter register.")
    if consultation is None or consultation.is_before_voting:
        return
    reason = _l(
        "This can no longer be changed: who may vote is announced before voting opens and "
        "stays as announced."
    )
    if electorate is not consultation.electorate:
        errors["electorate"] = reason
    if min_voting_age != consultation.min_voting_age:
        errors["min_voting_age"] = reason


def _require_moderator(actor: User | None) -> None:
    if actor is None or not actor.is_authenticated or not actor.is_moderator:
        raise NotAllowed(ONLY_MODERATORS)


def _require_codes(consultation: Consultation) -> None:
    if not consultation.uses_voting_codes:
        raise DomainError(NOT_FOR_CODES)
    if consultation.voting_has_ended:
        raise DomainError(VOTING_ENDED)


def _clean_district(district: str | None) -> str | None:
    name = " ".join((district or "").split())
    if len(name) > MAX_DISTRICT_LENGTH:
        raise ValidationFailed({"district": DISTRICT_TOO_LONG})
    return name or None


def _new_codes(count: int) -> dict[str, str]:
    """`count` new printed codes by their hashes, none of which the database holds yet."""
    codes: dict[str, str] = {}
    while len(codes) < count:
        wanted = count - len(codes)
        fresh = {}
        for _number in range(wanted):
            code = generate_code()
            fresh[code_hash(parse_code(code))] = code
        taken = set(
            db.session.scalars(
                db.select(VotingCode.code_hash).where(VotingCode.code_hash.in_(list(fresh)))
            )
        )
        codes.update((digest, code) for digest, code in fresh.items() if digest not in taken)
    return codes


def _insert_codes(consultation: Consultation, district: str | None, count: int, **fields):
    """Inserts `count` codes in batches and returns their printed forms with their hashes. A
    hash that another transaction inserted at the same moment fails its batch's savepoint, and
    the batch is drawn again."""
    issued: list[tuple[str, str]] = []
    now = utcnow()
    while len(issued) < count:
        size = min(CODE_BATCH, count - len(issued))
        batch = _new_codes(size)
        rows = [
            {
                "consultation_id": consultation.id,
                "code_hash": digest,
                "district": district,
                "state": VotingCodeState.ISSUED,
                "created_at": now,
                **fields,
            }
            for digest in batch
        ]
        try:
            with db.session.begin_nested():
                db.session.execute(insert(VotingCode), rows)
        except IntegrityError:
            continue
        issued.extend((code, digest) for digest, code in batch.items())
    return issued


def issue_codes(
    consultation: Consultation, moderator: User | None, count: int, district: str | None = None
) -> list[str]:
    """`count` new voting codes for the consultation (and district), in their printed form:
    the only time anyone sees them, since the database keeps their keyed hashes only.
    `moderator` None is the command line (`flask voters codes`)."""
    try:
        if moderator is not None:
            _require_moderator(moderator)
        _require_codes(consultation)
        if not 1 <= count <= MAX_CODES_PER_CALL:
            raise ValidationFailed({"count": COUNT_RANGE})
        district = _clean_district(district)
        issued = _insert_codes(consultation, district, count)
        audit.record(
            actor=moderator,
            action="electorate.codes_issued",
            subject_type="consultation",
            subject_id=consultation.id,
            consultation=consultation,
            to_value=str(count),
            details={"count": count, "district": district},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    operation(log, "electorate.codes_issued", actor=moderator, subject=consultation, count=count)
    return [code for code, _ in issued]


def _code_for_change(consultation: Consultation, text: str | None) -> VotingCode:
    """The code a moderator typed, locked, if it may be revoked: the refusals are shown next to
    the field."""
    digest = code_hash(parse_code(text))
    code = db.session.scalar(
        db.select(VotingCode).where(VotingCode.code_hash == digest).with_for_update()
    )
    if code is None:
        raise ValidationFailed({"code": UNKNOWN_CODE})
    if code.consultation_id != consultation.id:
        raise ValidationFailed({"code": OTHER_CONSULTATION})
    if code.is_revoked:
        raise ValidationFailed({"code": ALREADY_REVOKED})
    on_paper = db.session.scalar(
        db.select(db.func.count(Ballot.id)).where(
            Ballot.voting_code_id == code.id, Ballot.channel == BallotChannel.PAPER
        )
    ) or db.session.scalar(
        db.select(db.func.count(PaperEntry.id)).where(PaperEntry.voting_code_id == code.id)
    )
    if on_paper:
        raise ValidationFailed({"code": USED_ON_PAPER})
    return code


def _revoke(consultation: Consultation, code: VotingCode) -> bool:
    """Revokes the code; its online ballot, if any, is removed (voting is open then): the
    resident votes again with the code of a new letter. Whether a ballot was removed."""
    code.state = VotingCodeState.REVOKED
    code.revoked_at = utcnow()
    ballot_id = db.session.scalar(db.select(Ballot.id).where(Ballot.voting_code_id == code.id))
    if ballot_id is not None:
        db.session.execute(delete(BallotChoice).where(BallotChoice.ballot_id == ballot_id))
        db.session.execute(delete(Ballot).where(Ballot.id == ballot_id))
    return ballot_id is not None


def revoke_code(consultation: Consultation, moderator: User, text: str | None) -> VotingCode:
    """Revokes the code of a lost letter: it votes no more, and its online ballot is removed.
    A code used on paper is refused: its paper ballot counts."""
    try:
        _require_moderator(moderator)
        _require_codes(consultation)
        code = _code_for_change(consultation, text)
        removed = _revoke(consultation, code)
        audit.record(
            actor=moderator,
            action="electorate.code_revoked",
            subject_type="voting_code",
            subject_id=code.id,
            consultation=consultation,
            details={"district": code.district, "ballot_removed": removed},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    operation(
        log,
        "electorate.code_revoked",
        actor=moderator,
        subject=code,
        consultation=consultation,
        ballot_removed=removed,
    )
    return code


def reissue_code(consultation: Consultation, moderator: User, text: str | None) -> str:
    """Revokes the code of a lost letter and issues a new one for the same district, in its
    place (`replaces_id`); the new code in its printed form, shown this once."""
    try:
        _require_moderator(moderator)
        _require_codes(consultation)
        old = _code_for_change(consultation, text)
        removed = _revoke(consultation, old)
        ((printed, digest),) = _insert_codes(consultation, old.district, 1, replaces_id=old.id)
        new_id = db.session.scalar(db.select(VotingCode.id).where(VotingCode.code_hash == digest))
        audit.record(
            actor=moderator,
            action="electorate.code_reissued",
            subject_type="voting_code",
            subject_id=new_id,
            consultation=consultation,
            details={"district": old.district, "replaces_id": old.id, "ballot_removed": removed},
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    operation(
        log,
        "electorate.code_reissued",
        actor=moderator,
        subject=new_id,
        consultation=consultation,
        replaces=old.id,
        ballot_removed=removed,
    )
    return printed


@dataclass(frozen=True)
class DistrictCount:
    district: str | None
    issued: int
    used: int
    revoked: int


def code_counts(consultation: Consultation) -> list[DistrictCount]:
    """Per district (no district first, then by name): codes issued (revoked ones included),
    used (a ballot names them) and revoked."""
    rows = db.session.execute(
        db.select(
            VotingCode.district,
            db.func.count(VotingCode.id),
            db.func.count(Ballot.id),
            db.func.count(case((VotingCode.state == VotingCodeState.REVOKED, 1))),
        )
        .outerjoin(Ballot, Ballot.voting_code_id == VotingCode.id)
        .where(VotingCode.consultation_id == consultation.id)
        .group_by(VotingCode.district)
    ).all()
    counts = [
        DistrictCount(district, issued, used, revoked) for district, issued, used, revoked in rows
    ]
    return sorted(counts, key=lambda count: (count.district is not None, count.district or ""))


# The letters

VOTE_PATH = "/consultations/{slug}/vote"
CODE_ENTRY_ENDPOINTS = ("ballots.code_entry", "ballots.vote_with_code")


def voting_address(consultation: Consultation, code: str, base_url: str) -> str:
    """The link on a letter: the code-entry page under `base_url` (PUBLIC_URL, or the host the
    moderator uses), with the code filled in."""
    parts = urlsplit(base_url)
    endpoint = next(
        (name for name in CODE_ENTRY_ENDPOINTS if name in current_app.view_functions), None
    )
    if endpoint is None:
        path = VOTE_PATH.format(slug=quote(consultation.slug))
        return f"{base_url.rstrip('/')}{path}?{urlencode({'code': code})}"
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path.rstrip("/") or "/", url_scheme=parts.scheme or "https"
    )
    return adapter.build(endpoint, {"slug": consultation.slug, "code": code}, force_external=True)


@dataclass(frozen=True)
class Letter:
    code: str
    district: str | None
    voting_address: str
    qr_code: str  # the voting address as a QR code, an SVG data URI


def letter(
    consultation: Consultation, code: str, base_url: str, district: str | None = None
) -> Letter:
    address = voting_address(consultation, code, base_url)
    qr_code = segno.make(address, micro=False).svg_data_uri()
    return Letter(code, district, address, qr_code)


def letters_csv(
    consultation: Consultation, codes: list[str], base_url: str, district: str | None = None
) -> Iterator[str]:
    """A CSV for a mail merge, line by line: the code, its district, the voting address with
    the code as a link, and that link as a QR code (an SVG data URI; about 6 ms a letter)."""
    district = _clean_district(district)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(row) -> str:
        writer.writerow(row)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield line(LETTER_COLUMNS)
    for code in codes:
        one = letter(consultation, code, base_url, district)
        yield line((one.code, one.district or "", one.voting_address, one.qr_code))


def get_for_codes(slug: str, viewer: User | None) -> Consultation:
    """The consultation whose voting codes a moderator manages: NotAllowed for anyone else,
    NotFound if there is none or it does not use voting codes."""
    _require_moderator(viewer)
    consultation = db.session.scalar(db.select(Consultation).where(Consultation.slug == slug))
    if consultation is None:
        raise NotFound(_l("This consultation does not exist."))
    if not consultation.uses_voting_codes:
        raise NotFound(NOT_FOR_CODES)
    return consultation
