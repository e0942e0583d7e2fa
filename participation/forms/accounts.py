"""Forms of the accounts area: registering, logging in, confirming and a new password; a
person's own settings, password, e-mail address and deleting the account; and the
administrators' form for deleting an account on request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from participation.formatting import LANGUAGE_NAMES
from participation.forms import Form
from participation.forms.fields import email_address, new_password, repeated_password
from participation.models import AccountType
from participation.services.accounts import MAX_DISPLAY_NAME_LENGTH, personal_data


def _display_name(description) -> StringField:
    return StringField(
        _l("Display name"),
        description=description,
        validators=[
            DataRequired(_l("Please enter a display name.")),
            Length(max=MAX_DISPLAY_NAME_LENGTH),
        ],
        render_kw={"autocomplete": "nickname"},
    )


class RegisterForm(Form):
    email = email_address(_l("E-mail address"))
    display_name = _display_name(_l("Shown next to your proposals and comments."))
    account_type = RadioField(
        _l("I register as"),
        choices=[
            SelectChoice(AccountType.PERSON.value, _l("a person")),
            SelectChoice(
                AccountType.ORGANISATION.value, _l("an organisation (association, company, …)")
            ),
        ],
        default=AccountType.PERSON.value,
        validators=[DataRequired()],
    )
    password = new_password(_l("Password"))
    password_repeat = repeated_password()


class LoginForm(Form):
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(_l("Please enter your e-mail address."))],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Stay logged in on this device"))


class LogoutForm(Form):
    """Logging out is a POST with a CSRF token, so no other site can log people out."""


class ResendConfirmationForm(Form):
    """A new confirmation link: a POST with a CSRF token, like every action."""


class ForgotPasswordForm(Form):
    email = email_address(_l("E-mail address"), _l("The address you registered with."))


class ResetPasswordForm(Form):
    password = new_password(_l("New password"))
    password_repeat = repeated_password()


def _current_password() -> PasswordField:
    return PasswordField(
        _l("Current password"),
        description=_l("For your security we ask for it again."),
        validators=[DataRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(Form):
    display_name = _display_name(
        _l("Shown next to your proposals and comments and on your public profile.")
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
            Length(max=personal_data.MAX_REASON_LENGTH),
        ],
        render_kw={"rows": 3, "maxlength": personal_data.MAX_REASON_LENGTH},
    )
