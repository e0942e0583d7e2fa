"""Who may vote: the voting codes of the town's letters and the voter register.

A voting code looks like `K7QF-M2XD-9P4T-W3R8`: 15 random characters of Crockford's alphabet
(75 bits from `secrets`; no I, L, O or U, and O, I and L typed are read as 0 and 1), grouped by
four for reading aloud, and a check character (Luhn mod 32) last, so that a mistyped or
swapped character is caught before the database is asked. The database holds only a keyed hash
of a code (HMAC-SHA256 with VOTER_SECRET, by default derived from SECRET_KEY), and of a register
entry: a copy of it gives nobody a usable code nor a resident's details. Keep the key: with
another key no code and no register entry is recognised any more.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote, urlencode, urlsplit

import segno
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, delete, insert
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


def check_character(characters: str) -> str:
    """The Luhn mod 32 check character of `characters` (all of CODE_ALPHABET): it changes when
    any one character is changed, and when two neighbours are swapped."""
    base = len(CODE_ALPHABET)
    total, factor = 0, 2
    for char in reversed(characters):
        addend = factor * CODE_ALPHABET.index(char)
        total += addend // base + addend % base
        factor = 1 if factor == 2 else 2
    return CODE_ALPHABET[(base - total % base) % base]


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
        for _ in range(wanted):
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
