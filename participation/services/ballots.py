"""Budget ballots: citizens choose projects within the budget while a budget consultation votes."""

from __future__ import annotations

import secrets

# Crockford's alphabet without the letters people confuse (I, L, O, U).
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_GROUPS = 3
CODE_GROUP_LENGTH = 4


def generate_code() -> str:
    """A random ballot code such as `K7QF-M2XD-9P4T`: 60 bits from `secrets`, never derived
    from the user, so the anonymised ballots cannot be linked back to accounts."""
    return "-".join(
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
