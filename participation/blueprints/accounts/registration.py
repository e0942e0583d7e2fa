"""Becoming a participant and getting in: registering, confirming the e-mail address, logging
in and out, and a new password for a forgotten one."""

from __future__ import annotations

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from participation.blueprints import no_store
from participation.blueprints.access import login_required, safe_next_url
from participation.blueprints.accounts import bp, login_limit
from participation.extensions import limiter
from participation.forms import show_errors
from participation.forms.accounts import (
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    RegisterForm,
    ResendConfirmationForm,
    ResetPasswordForm,
)
from participation.models import AccountType
from participation.services import accounts
from participation.services.accounts import login_sessions
from participation.services.errors import InvalidLink, ValidationFailed


def _account_mail_limit() -> str:
    return current_app.config["ACCOUNT_MAIL_RATE_LIMIT"]


def _entered_email() -> str:
    """Limits per address as well as per IP: nobody fills another's mailbox from many hosts."""
    return "address:" + request.form.get("email", "").strip().lower()


def _form_accepted(response) -> bool:
    """Only a registration that mails something counts: a mistyped form does not lock out."""
    return response.status_code == 302


# Registering


@bp.route("/account/register", methods=["GET", "POST"])
@limiter.limit(_account_mail_limit, methods=["POST"], deduct_when=_form_accepted)
@limiter.limit(
    _account_mail_limit, methods=["POST"], key_func=_entered_email, deduct_when=_form_accepted
)
def register():
    """Answers the same whether the address has an account or not (accounts.sign_up), and so
    logs nobody in: the person logs in once the mail has come."""
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            email = accounts.sign_up(
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
                account_type=AccountType(form.account_type.data),
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            # In the session, not the URL: an address must not land in an access log.
            session["registered_email"] = email
            if request.values.get("next"):
                session["next_after_confirming"] = safe_next_url()
            return redirect(url_for(".registered"))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/register.html", form=form), status


@bp.get("/account/register/sent")
def registered():
    return render_template(
        "accounts/register_sent.html",
        email=session.pop("registered_email", None),
        next=session.get("next_after_confirming"),
    )


@bp.route("/account/login", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next_url())
    form = LoginForm()
    if not form.is_submitted() and "login_email" in session:
        form.email.data = session.pop("login_email")  # once, after confirming the address
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_sessions.start(user)
            login_user(user, remember=form.remember.data)
            flash(_("You are logged in."), "success")
            return redirect(safe_next_url())
        form.form_errors.append(_("The e-mail address or the password is not right."))
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/login.html", form=form), status


@bp.post("/account/logout")
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        login_sessions.end(current_user)
        logout_user()
        flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))


def _invalid_link(error: InvalidLink):
    page = render_template("accounts/invalid_link.html", message=str(error.message))
    return no_store(page, 400)


# Confirming the e-mail address


@bp.get("/account/confirm/<token>")
def confirm_email(token: str):
    try:
        user = accounts.confirm_email(token)
    except InvalidLink as error:
        return _invalid_link(error)
    if current_user.is_authenticated:
        flash(_("Thank you! Your e-mail address is confirmed."), "success")
        return redirect(url_for("main.index"))
    # The link came to this address, so the login form may offer it (once, from the session).
    session["login_email"] = user.email
    flash(_("Thank you! Your e-mail address is confirmed. You can log in now."), "success")
    return redirect(url_for(".login", next=session.pop("next_after_confirming", None)))


@bp.post("/account/confirm/resend")
@login_required
@limiter.limit(_account_mail_limit)
@limiter.limit(_account_mail_limit, key_func=lambda: f"user:{current_user.id}")
def resend_confirmation():
    form = ResendConfirmationForm()
    if not form.validate_on_submit():
        abort(400)
    if current_user.is_confirmed:
        flash(_("Your e-mail address is already confirmed."), "info")
    else:
        accounts.resend_confirmation(current_user)
        flash(
            _(
                "We have sent a new link to %(email)s. It can take a few minutes to arrive; "
                "please also look in your spam folder.",
                email=current_user.email,
            ),
            "success",
        )
    return redirect(safe_next_url())


# Resetting a forgotten password


@bp.route("/account/password/forgot", methods=["GET", "POST"])
@limiter.limit(_account_mail_limit, methods=["POST"])
@limiter.limit(_account_mail_limit, methods=["POST"], key_func=_entered_email)
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        accounts.request_password_reset(form.email.data)
        return render_template("accounts/forgot_password_sent.html")
    status = 422 if form.is_submitted() else 200
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/account/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def reset_password(token: str):
    try:
        accounts.account_for_reset(token)
    except InvalidLink as error:
        return _invalid_link(error)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except InvalidLink as error:
            return _invalid_link(error)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            flash(_("Your new password is set. Please log in with it."), "success")
            return redirect(url_for(".login"))
    status = 422 if form.is_submitted() else 200
    return no_store(render_template("accounts/reset_password.html", form=form), status)
