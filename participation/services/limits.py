"""What a value from outside (an address, a query string, a form) must be before it reaches the
database: ids and page numbers the columns can hold, text without control characters.

Every id column is an INTEGER, 32 bits on PostgreSQL (64 on SQLite): a larger number names no
row, so it is "not found" like any unknown id, never an overflow in the database. Control
characters (NUL, escape sequences, …) belong in no title or comment: PostgreSQL cannot store NUL,
browsers show them as nothing or as boxes, and they come from pasting or from scripts, not from
typing. Tab is the exception, since a browser lets people paste it into any field (the services
turn it into a space where they collapse whitespace), and line feed and carriage return in text
of several lines; a browser sends no line break from a field of one line, and one there could end
up in the header of an e-mail.
"""

from __future__ import annotations

import re

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from participation.services.errors import ValidationFailed

MAX_ID = 2**31 - 1  # the largest value of an INTEGER column on PostgreSQL
# Pages are counted like ids; an offset of MAX_PAGE pages still fits a 64-bit OFFSET.
MAX_PAGE = MAX_ID

_MAX_DIGITS = len(str(MAX_ID))
_CONTROL_CHARACTERS_BUT_TAB = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_CONTROL_CHARACTERS_BUT_TAB_AND_LINES = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

CONTROL_CHARACTERS_MESSAGE = _l(
    "This text contains control characters (invisible characters such as NUL) that cannot be "
    "stored. We have removed them: please check the text and send it again."
)
CONTROL_CHARACTERS_IN_ADDRESS_MESSAGE = _l(
    "The address contains control characters (invisible characters such as NUL). Please check "
    "the link or type the address again."
)


def parse_id(text: str | None) -> int | None:
    """The id that `text` names, or None when it is no whole number from 1 to MAX_ID (written
    with the digits 0-9: other scripts' digits never come from a link of ours)."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit() or len(text.lstrip("0")) > _MAX_DIGITS:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def page_number(text: str | None) -> int:
    """The page a list is asked for: the first for anything that is not a whole number or is
    below 1, at most MAX_PAGE (the caller shows the last page for one past the end)."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdigit():
        return 1
    if len(text.lstrip("0")) > _MAX_DIGITS:
        return MAX_PAGE
    return min(max(int(text), 1), MAX_PAGE)


def _pattern(multiline: bool) -> re.Pattern[str]:
    return _CONTROL_CHARACTERS_BUT_TAB_AND_LINES if multiline else _CONTROL_CHARACTERS_BUT_TAB


def has_control_characters(text: str, *, multiline: bool = False) -> bool:
    """Whether `text` holds a control character other than tab; in `multiline` text line feed
    and carriage return are allowed too."""
    return _pattern(multiline).search(text) is not None


def without_control_characters(text: str, *, multiline: bool = False) -> str:
    """`text` with its control characters taken out, to show it again for correcting."""
    return _pattern(multiline).sub("", text)


def check_length(field: str, text: str, maximum: int, too_long: LazyString) -> None:
    """Refuse `text` for `field` when it has more than `maximum` characters, with the message in
    the field's own words (`_l("The reason may have at most %(count)d characters.", count=…)`)."""
    if len(text) > maximum:
        raise ValidationFailed({field: too_long})
