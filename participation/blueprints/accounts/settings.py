"""A person's own account: settings, password, e-mail address, their data and deleting the
account; and the administrators' deletion of an account on its owner's request.

Changing the password or the address, and deleting the account, ask for the current password;
these requests are rate-limited like logins, per account.
"""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_user, logout_user

from participation.blueprints import no_store
from participation.blueprints.access import admin_required, login_required
from participation.blueprints.accounts import bp, login_limit
from participation.extensions import limiter
from participation.forms import show_errors
from participation.forms.accounts import (
    DeleteAccountForm,
    DeleteOnRequestForm,
    EmailForm,
    PasswordForm,
    ProfileForm,
)
from participation.forms.moderation import ActionForm
from participation.services import accounts, moderation
from participation.services.accounts import login_sessions, personal_data
from participation.services.errors import DomainError, ValidationFailed


def _per_account() -> str:
    return f"account:{current_user.id}"


def _status(form) -> int:
    return 422 if form.is_submitted() else 200


# Settings


@bp.route("/account/settings", methods=["GET", "POST"])
@login_required
def settings():
    form = ProfileForm(
        data={"display_name": current_user.display_name, "locale": current_user.locale or ""}
    )
    if not form.is_submitted() and not current_user.locale:
        form.locale.data = current_app.config["BABEL_DEFAULT_LOCALE"]
    if form.validate_on_submit():
        try:
            accounts.settings.update_profile(
                current_user,
                accounts.settings.ProfileSettings(
                    display_name=form.display_name.data, locale=form.locale.data
                ),
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            refresh()  # the page answers in the language just chosen, whatever read it before
            flash(_("Your settings are saved."), "success")
            return redirect(url_for(".settings"))
    return render_template("accounts/settings.html", form=form, section="profile"), _status(form)


@bp.route("/account/settings/password", methods=["GET", "POST"])
@login_required
@limiter.limit(login_limit, methods=["POST"], key_func=_per_account)
def password():
    form = PasswordForm()
    if form.validate_on_submit():
        # The account itself, not the proxy: login_user below stores what it is given.
        user = current_user._get_current_object()
        try:
            accounts.settings.change_password(user, form.current_password.data, form.password.data)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            # Every login ended with the old password; this device goes on in the new one.
            remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
            login_user(user, remember=remembered in request.cookies)
            flash(
                _("Your password is changed. You are logged out on every other device."),
                "success",
            )
            return redirect(url_for(".settings"))
    page = render_template("accounts/password.html", form=form, section="password")
    return no_store(page, _status(form))


@bp.route("/account/settings/email", methods=["GET", "POST"])
@login_required
@limiter.limit(login_limit, methods=["POST"], key_func=_per_account)
def email():
    form = EmailForm()
    if form.validate_on_submit():
        try:
            accounts.settings.request_email_change(
                current_user, form.email.data, form.current_password.data
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            flash(
                _(
                    "We have sent a link to %(email)s. Your address changes when you open it.",
                    email=current_user.pending_email,
                ),
                "success",
            )
            return redirect(url_for(".email"))
    page = render_template(
        "accounts/email.html", form=form, cancel_form=ActionForm(), section="email"
    )
    return no_store(page, _status(form))


@bp.post("/account/settings/email/cancel")
@login_required
def cancel_email_change():
    if ActionForm().validate_on_submit():
        accounts.settings.cancel_email_change(current_user)
        flash(_("The change of your e-mail address is cancelled."), "info")
    return redirect(url_for(".email"))


@bp.get("/account/email/confirm/<token>")
def confirm_email_change(token: str):
    try:
        accounts.settings.confirm_email_change(token)
    except DomainError as error:  # an invalid link, or the address was taken meanwhile
        page = render_template("accounts/invalid_email_link.html", message=str(error.message))
        return no_store(page, 400)
    flash(_("Thank you! Your new e-mail address is confirmed."), "success")
    if current_user.is_authenticated:
        return redirect(url_for(".email"))
    return redirect(url_for("accounts.login"))


# Where one is logged in


@bp.get("/account/settings/sessions")
@login_required
def sessions():
    return render_template(
        "accounts/sessions.html",
        form=ActionForm(),
        logins=login_sessions.count(current_user),
        section="sessions",
    )


@bp.post("/account/settings/sessions/end")
@login_required
def log_out_everywhere():
    if not ActionForm().validate_on_submit():
        abort(400)
    login_sessions.log_out_everywhere(current_user)
    logout_user()
    flash(_("You are logged out on every device. Please log in again."), "info")
    return redirect(url_for("accounts.login"))


# Own data


@bp.get("/account/data")
@login_required
def data():
    return render_template("accounts/data.html", section="data")


@bp.get("/account/data/download")
@login_required
def download():
    return Response(
        personal_data.export_json(current_user),
        mimetype="application/json",
        headers={
            "Content-Disposition": (
                f'attachment; filename="{personal_data.export_filename(current_user)}"'
            ),
            "Cache-Control": "no-store",
        },
    )


@bp.route("/account/delete", methods=["GET", "POST"])
@login_required
@limiter.limit(login_limit, methods=["POST"], key_func=_per_account)
def delete():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            personal_data.delete_own_account(current_user, form.password.data)
        except ValidationFailed as error:
            show_errors(form, error)
        except DomainError as error:
            form.form_errors.append(str(error.message))
        else:
            logout_user()
            flash(_("Your account is deleted. Thank you for taking part."), "info")
            return redirect(url_for("main.index"))
    page = render_template("accounts/delete.html", form=form, section="delete")
    return no_store(page, _status(form))


# Administrators: deleting an account on request


@bp.route("/moderation/users/<int:user_id>/delete", methods=["GET", "POST"])
@admin_required
def delete_on_request(user_id: int):
    person = moderation.get_user(user_id)
    form = DeleteOnRequestForm()
    if form.validate_on_submit():
        try:
            personal_data.delete_on_request(current_user, person, form.reason.data)
        except ValidationFailed as error:
            show_errors(form, error)
        except DomainError as error:
            form.form_errors.append(str(error.message))
        else:
            flash(_("The account is deleted."), "success")
            return redirect(url_for("moderation.users"))
    page = render_template("accounts/delete_on_request.html", form=form, person=person)
    return page, _status(form)
