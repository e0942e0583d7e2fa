from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from participation.forms import Form
from participation.forms.fields import email_address, new_password, repeated_password
from participation.models import AccountType


class RegisterForm(Form):
    email = email_address(_l("E-mail address"))
    display_name = StringField(
        _l("Display name"),
        description=_l("Shown next to your proposals and comments."),
        validators=[DataRequired(_l("Please enter a display name.")), Length(max=80)],
        render_kw={"autocomplete": "nickname"},
    )
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
