"""Notifications: the bell in the header, the page that lists them, marking them as read, the
choice of e-mails, and the one-click unsubscribe link of the mails."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.blueprints.access import login_required
from participation.blueprints.limits import paginated, requested_page
from participation.extensions import csrf
from participation.forms.moderation import ActionForm
from participation.forms.notifications import EmailFrequencyForm
from participation.models import EmailFrequency, Notification
from participation.services import notifications
from participation.services.errors import InvalidLink

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def bell() -> dict[str, Any]:
    def unread_notifications() -> int:
        """One count per request, only on pages that show the bell; none for a visitor."""
        if not current_user.is_authenticated:
            return 0
        if "unread_notifications" not in g:
            g.unread_notifications = notifications.unread_count(current_user)
        return g.unread_notifications

    return {"unread_notifications": unread_notifications}


def _entry(notification: Notification) -> dict[str, Any]:
    description = notifications.describe(notification, notifications.Reader.of(current_user))
    return {
        "notification": notification,
        "text": description.text,
        "has_link": bool(description.link),
    }


def _back() -> str:
    page = requested_page(request.form)
    return url_for(".index", page=page if page > 1 else None)


@bp.get("/notifications")
@login_required
def index():
    page = paginated(lambda number: notifications.page_for(current_user, page=number, per_page=20))
    return render_template(
        "notifications/index.html",
        page=page,
        entries=[_entry(notification) for notification in page.items],
        action_form=ActionForm(),
        email_frequency=notifications.email_frequency(current_user),
        frequencies=EmailFrequency,
    )


@bp.get("/notifications/<int:notification_id>")
@login_required
def show(notification_id: int):
    """Following a notification's link marks it as read."""
    notification = notifications.mark_read(current_user, notification_id)
    link = notifications.describe(notification, notifications.Reader.of(current_user)).link
    if link is None:
        return redirect(url_for(".index"))
    return redirect(url_for(link.endpoint, **link.values, _anchor=link.anchor))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def mark_read(notification_id: int):
    notifications.mark_read(current_user, notification_id)
    flash(_("The notification is marked as read."), "success")
    return redirect(_back())


@bp.post("/notifications/read")
@login_required
def mark_all_read():
    notifications.mark_all_read(current_user)
    flash(_("All notifications are marked as read."), "success")
    return redirect(_back())


@bp.route("/account/settings/notifications", methods=["GET", "POST"])
@login_required
def settings():
    # The stored choice fills the form only when it is shown: a form sent without any choice
    # is refused, not taken as "keep what was stored".
    current = {
        "email_frequency": notifications.email_frequency(current_user).value,
        "report_mails": notifications.mails_on_report(current_user),
    }
    form = EmailFrequencyForm(data=None if request.method == "POST" else current)
    if form.validate_on_submit():
        notifications.set_email_frequency(current_user, EmailFrequency(form.email_frequency.data))
        if current_user.is_moderator:
            notifications.set_mails_on_report(current_user, bool(form.report_mails.data))
        flash(_("Your choice of e-mails is saved."), "success")
        return redirect(url_for(".settings"))
    status = 422 if form.is_submitted() else 200
    return render_template(
        "notifications/settings.html", form=form, section="notifications"
    ), status


def _private(page: str, status: int = 200):
    """The token is in the address: not to be cached, nor sent on to another site."""
    return page, status, {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # mail programs POST here with one click (RFC 8058); the signed token is the key
def unsubscribe(token: str):
    """GET asks (a link scanner must not unsubscribe anybody), POST turns the mails off."""
    try:
        if request.method == "POST":
            notifications.unsubscribe(token)
            return _private(render_template("notifications/unsubscribed.html"))
        notifications.account_for_unsubscribe(token)
    except InvalidLink as error:
        return _private(
            render_template("notifications/invalid_link.html", message=str(error.message)), 400
        )
    return _private(render_template("notifications/unsubscribe.html", token=token))
