"""Fields that several forms share: a new password with its repetition and an e-mail address.

Each call makes a new field, so a form class lists them in its body like any other field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

MAX_EMAIL_LENGTH = 254


def new_password(label: LazyString) -> PasswordField:
    """A password the person chooses, with the advice how long it must be."""
    return PasswordField(
        label,
        description=_l("At least 12 characters. A sentence you can remember works well."),
        validators=[DataRequired(_l("Please choose a password."))],
        render_kw={"autocomplete": "new-password"},
    )


def repeated_password() -> PasswordField:
    """The new password once more; it must equal the field `password`."""
    return PasswordField(
        _l("Repeat the password"),
        validators=[
            DataRequired(_l("Please repeat the password.")),
            EqualTo("password", _l("The two passwords are not the same.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


def email_address(label: LazyString, description: LazyString | str = "") -> EmailField:
    """An e-mail address the person enters to be written to or stored."""
    return EmailField(
        label,
        description=description,
        validators=[
            DataRequired(_l("Please enter your e-mail address.")),
            Length(max=MAX_EMAIL_LENGTH),
        ],
        render_kw={"autocomplete": "email"},
    )
