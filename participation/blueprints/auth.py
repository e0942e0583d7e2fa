from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from participation.blueprints.access import login_required, safe_next_url
from participation.extensions import limiter
from participation.forms import show_errors
from participation.forms.auth import LoginForm, LogoutForm, RegisterForm
from participation.models import AccountType
from participation.services import accounts
from participation.services.errors import ValidationFailed

bp = Blueprint("auth", __name__, url_prefix="/account")


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            user = accounts.register(
                email=form.email.data,
                display_name=form.display_name.data,
                password=form.password.data,
                account_type=AccountType(form.account_type.data),
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            login_user(user)
            flash(
                _("Welcome, %(name)s! Your account has been created.", name=user.display_name),
                "success",
            )
            return redirect(safe_next_url())
    status = 422 if form.is_submitted() else 200
    return render_template("auth/register.html", form=form), status


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(safe_next_url())
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user, remember=form.remember.data)
            flash(_("You are logged in."), "success")
            return redirect(safe_next_url())
        form.form_errors.append(_("The e-mail address or the password is not right."))
    status = 422 if form.is_submitted() else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        logout_user()
        flash(_("You are logged out."), "info")
    return redirect(url_for("main.index"))
