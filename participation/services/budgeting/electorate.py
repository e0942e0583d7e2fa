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

import hashlib
import hmac
import secrets
from datetime import date

from flask import current_app
from flask_babel import lazy_gettext as _l

from participation.extensions import db
from participation.models import Consultation, VotingCode
from participation.services.errors import DomainError, NotFound, ValidationFailed

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
