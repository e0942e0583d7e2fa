"""Reports by citizens, the moderators' queue, hiding and restoring content, answers to
proposals, and blocking accounts.

Who may enter is decided by the decorators: reporting needs a login, everything else the
moderator role, and the accounts pages the admin role.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from participation.blueprints.access import (
    admin_required,
    login_required,
    moderator_required,
    safe_next_url,
)
from participation.blueprints.limits import paginated
from participation.forms import show_errors
from participation.forms.moderation import (
    ActionForm,
    AnswerForm,
    HideForm,
    ReportForm,
    answer_of,
    reason_of,
)
from participation.models import Comment, Proposal
from participation.services import comments, consultations, moderation, proposals
from participation.services.errors import DomainError, ValidationFailed
from participation.services.moderation import answers

bp = Blueprint("moderation", __name__)


@bp.record_once
def _template_helpers(state) -> None:
    state.app.jinja_env.globals.update(
        answer_labels=answers.ANSWER_LABELS,
        report_reason_labels=moderation.REASON_LABELS,
        open_report_count=moderation.open_report_count,
        open_reports_for=moderation.open_reports_for,
        can_answer=answers.can_answer,
    )


def _back(default: str) -> str:
    """Where the moderator came from (a safe `next`), or the page of the subject."""
    return safe_next_url() if request.values.get("next") else default


def _proposal_url(proposal_id: int) -> str:
    return url_for("proposals.show", proposal_id=proposal_id)


def _comment_url(comment: Comment) -> str:
    return url_for(
        "proposals.show", proposal_id=comment.proposal_id, _anchor=f"comment-{comment.id}"
    )


# Reporting (any logged-in citizen)


def _report(
    back_url: str, proposal: Proposal | None = None, comment: Comment | None = None
) -> ResponseReturnValue:
    try:
        moderation.check_reportable(current_user, proposal=proposal, comment=comment)
    except DomainError as error:
        flash(str(error.message), "info")
        return redirect(back_url)
    form = ReportForm()
    if form.validate_on_submit():
        try:
            moderation.report(
                current_user,
                proposal=proposal,
                comment=comment,
                reason=reason_of(form),
                text=form.text.data or "",
            )
        except ValidationFailed as error:
            show_errors(form, error)
        except DomainError as error:
            flash(str(error.message), "info")
            return redirect(back_url)
        else:
            flash(_("Thank you. The moderators will look at your report."), "success")
            return redirect(back_url)
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "moderation/report.html",
        form=form,
        proposal=proposal or comment.proposal,
        comment=comment,
        back_url=back_url,
    )
    return page, status


@bp.route("/proposals/<int:proposal_id>/report", methods=["GET", "POST"])
@login_required
def report_proposal(proposal_id: int):
    proposal = proposals.get_visible(proposal_id, current_user)
    return _report(_proposal_url(proposal.id), proposal=proposal)


@bp.route("/comments/<int:comment_id>/report", methods=["GET", "POST"])
@login_required
def report_comment(comment_id: int):
    comment = comments.get(comment_id, current_user)
    return _report(_comment_url(comment), comment=comment)


# The moderators' queue


@bp.get("/moderation/reports")
@moderator_required
def reports():
    slug = request.args.get("consultation", "")
    consultation = consultations.get_visible(slug, current_user) if slug else None
    queue = paginated(lambda number: moderation.open_reports(consultation, page=number))
    return render_template(
        "moderation/reports.html",
        consultation=consultation,
        queue=queue,
        hide_form=HideForm(),
        action_form=ActionForm(),
    )


@bp.post("/moderation/reports/<int:report_id>/dismiss")
@moderator_required
def dismiss(report_id: int):
    report = moderation.get_report(report_id)
    form = ActionForm()
    if form.validate_on_submit():
        try:
            dismissed = moderation.dismiss_report(report, current_user)
        except DomainError as error:
            flash(str(error.message), "warning")
        else:
            flash(
                ngettext(
                    "%(num)d report dismissed. The content stays as it is.",
                    "%(num)d reports dismissed. The content stays as it is.",
                    dismissed,
                ),
                "success",
            )
    return redirect(_back(url_for(".reports")))


# Hiding and restoring


def _hide(form: HideForm, hide, back_url: str, done: str) -> ResponseReturnValue | None:
    if not form.validate_on_submit():
        return None
    try:
        hide(form.reason.data or "")
    except ValidationFailed as error:
        show_errors(form, error)
        return None
    except DomainError as error:
        flash(str(error.message), "warning")
    else:
        flash(done, "success")
    return redirect(back_url)


def _render_hide(form: HideForm, proposal: Proposal, comment: Comment | None):
    status = 422 if form.is_submitted() else 200
    page = render_template("moderation/hide.html", form=form, proposal=proposal, comment=comment)
    return page, status


@bp.route("/moderation/proposals/<int:proposal_id>/hide", methods=["GET", "POST"])
@moderator_required
def hide_proposal(proposal_id: int):
    proposal = proposals.get_visible(proposal_id, current_user)
    form = HideForm()
    done = _hide(
        form,
        lambda reason: moderation.hide_proposal(proposal, current_user, reason),
        _back(_proposal_url(proposal.id)),
        _("The proposal is hidden. Its page now shows the reason."),
    )
    return done or _render_hide(form, proposal, None)


@bp.post("/moderation/proposals/<int:proposal_id>/restore")
@moderator_required
def restore_proposal(proposal_id: int):
    proposal = proposals.get_visible(proposal_id, current_user)
    if ActionForm().validate_on_submit():
        try:
            moderation.restore_proposal(proposal, current_user)
        except DomainError as error:
            flash(str(error.message), "warning")
        else:
            flash(_("The proposal is published again."), "success")
    return redirect(_back(_proposal_url(proposal.id)))


@bp.route("/moderation/comments/<int:comment_id>/hide", methods=["GET", "POST"])
@moderator_required
def hide_comment(comment_id: int):
    comment = comments.get(comment_id, current_user)
    form = HideForm()
    done = _hide(
        form,
        lambda reason: moderation.hide_comment(comment, current_user, reason),
        _back(_comment_url(comment)),
        _("The comment is hidden. The reason is shown in its place."),
    )
    return done or _render_hide(form, comment.proposal, comment)


@bp.post("/moderation/comments/<int:comment_id>/restore")
@moderator_required
def restore_comment(comment_id: int):
    comment = comments.get(comment_id, current_user)
    if ActionForm().validate_on_submit():
        try:
            moderation.restore_comment(comment, current_user)
        except DomainError as error:
            flash(str(error.message), "warning")
        else:
            flash(_("The comment is published again."), "success")
    return redirect(_back(_comment_url(comment)))


# Answers


@bp.route("/moderation/proposals/<int:proposal_id>/answer", methods=["GET", "POST"])
@moderator_required
def answer(proposal_id: int):
    proposal = proposals.get_visible(proposal_id, current_user)
    try:
        answers.check_answerable(proposal, current_user)
    except DomainError as error:
        flash(str(error.message), "warning")
        return redirect(_proposal_url(proposal.id))
    form = AnswerForm(data={"answer": proposal.answer.value, "text": proposal.answer_text or ""})
    if form.validate_on_submit():
        try:
            answers.answer_proposal(proposal, current_user, answer_of(form), form.text.data or "")
        except ValidationFailed as error:
            show_errors(form, error)
        except DomainError as error:
            flash(str(error.message), "warning")
            return redirect(_proposal_url(proposal.id))
        else:
            flash(_("The answer is published on the proposal."), "success")
            return redirect(_proposal_url(proposal.id))
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "moderation/answer.html", form=form, proposal=proposal, consultation=proposal.consultation
    )
    return page, status


# Accounts (admins)


@bp.get("/moderation/users")
@admin_required
def users():
    text = request.args.get("q", "")[:100]
    page = paginated(lambda number: moderation.find_users(text, page=number))
    return render_template("moderation/users.html", page=page, text=text, action_form=ActionForm())


def _change_blocked(user, change, done: str) -> ResponseReturnValue:
    if ActionForm().validate_on_submit():
        try:
            change(current_user, user)
        except DomainError as error:
            flash(str(error.message), "warning")
        else:
            flash(done, "success")
    return redirect(_back(url_for(".users")))


@bp.post("/moderation/users/<int:user_id>/block")
@admin_required
def block(user_id: int):
    user = moderation.get_user(user_id)
    return _change_blocked(
        user,
        moderation.block_user,
        _("%(name)s is blocked and can no longer log in.", name=user.display_name),
    )


@bp.post("/moderation/users/<int:user_id>/unblock")
@admin_required
def unblock(user_id: int):
    user = moderation.get_user(user_id)
    return _change_blocked(
        user, moderation.unblock_user, _("%(name)s can log in again.", name=user.display_name)
    )
