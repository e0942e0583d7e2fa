"""Forms of a person's own account: settings, password, e-mail address, deleting the account;
and the administrators' form for deleting an account on request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from participation.formatting import LANGUAGE_NAMES
from participation.forms import Form
from participation.forms.fields import email_address, new_password, repeated_password
from participation.services.accounts import MAX_DISPLAY_NAME_LENGTH
from participation.services.personal_data import MAX_REASON_LENGTH


def _current_password() -> PasswordField:
    return PasswordField(
        _l("Current password"),
        description=_l("For your security we ask for it again."),
        validators=[DataRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(Form):
    display_name = StringField(
        _l("Display name"),
        description=_l("Shown next to your proposals and comments and on your public profile."),
        validators=[
            DataRequired(_l("Please enter a display name.")),
            Length(max=MAX_DISPLAY_NAME_LENGTH),
        ],
        render_kw={"autocomplete": "nickname"},
    )
    locale = SelectField(
        _l("Language"),
        description=_l("The language of the pages and of the e-mails we send you."),
        choices=[
            SelectChoice(code, name, render_kw={"lang": code})
            for code, name in LANGUAGE_NAMES.items()
        ],
        validators=[DataRequired(_l("Please choose one of the languages."))],
    )


class PasswordForm(Form):
    current_password = _current_password()
    password = new_password(_l("New password"))
    password_repeat = repeated_password()


class EmailForm(Form):
    email = email_address(
        _l("New e-mail address"),
        _l("We send a link to it. Your current address stays valid until you open the link."),
    )
    current_password = _current_password()


class DeleteAccountForm(Form):
    password = PasswordField(
        _l("Your password"),
        description=_l("To confirm that it is you who deletes the account."),
        validators=[DataRequired(_l("Please enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class DeleteOnRequestForm(Form):
    reason = TextAreaField(
        _l("Reason"),
        description=_l(
            "Kept in the audit log, for example “Request by letter of 3 March, file 2026-17”. "
            "Please write no name or address here."
        ),
        validators=[
            DataRequired(_l("Please give the reason for the deletion.")),
            Length(max=MAX_REASON_LENGTH),
        ],
        render_kw={"rows": 3, "maxlength": MAX_REASON_LENGTH},
    )
