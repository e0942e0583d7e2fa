from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from participation.blueprints.access import login_required
from participation.forms import show_errors
from participation.forms.proposals import ProposalForm, WithdrawForm
from participation.models import Proposal
from participation.services import budgeting, comments, consultations, proposals
from participation.services.errors import DomainError, ValidationFailed
from participation.services.proposals import ProposalText

bp = Blueprint("proposals", __name__)


def _text(form: ProposalForm) -> ProposalText:
    return ProposalText(
        title=form.title.data or "",
        body=form.body.data or "",
        category_id=form.category_id.data,
        estimated_cost=form.estimated_cost.data,
    )


def _save(
    form: ProposalForm, save: Callable[[ProposalText], Proposal], done: str
) -> ResponseReturnValue | None:
    """Validate, hand the text to the service, and go to the proposal once it is stored."""
    if not form.validate_on_submit():
        return None
    try:
        proposal = save(_text(form))
    except ValidationFailed as error:
        show_errors(form, error)
    except DomainError as error:
        flash(str(error.message), "danger")
    else:
        flash(done, "success")
        return redirect(url_for(".show", proposal_id=proposal.id))
    return None


def _render_form(form: ProposalForm, consultation, proposal: Proposal | None):
    status = 422 if form.is_submitted() else 200
    page = render_template(
        "proposals/form.html", form=form, consultation=consultation, proposal=proposal
    )
    return page, status


@bp.route("/consultations/<slug>/proposals/new", methods=["GET", "POST"])
@login_required
def create(slug: str):
    consultation = consultations.get_visible(slug, current_user)
    if not consultation.accepts_proposals:
        flash(
            _(
                "This consultation is not collecting proposals at the moment, "
                "so no proposal can be submitted."
            ),
            "warning",
        )
        status = 409 if request.method == "POST" else 200
        if request.method == "POST":
            return render_template("proposals/closed.html", consultation=consultation), status
        return redirect(url_for("consultations.show", slug=slug))
    form = ProposalForm()
    form.set_consultation(consultation)
    saved = _save(
        form,
        lambda text: proposals.submit(consultation, current_user, text),
        _("Thank you! Your proposal has been published."),
    )
    return saved or _render_form(form, consultation, None)


@bp.get("/proposals/<int:proposal_id>")
def show(proposal_id: int):
    proposal = proposals.get_visible(proposal_id, current_user)
    return render_template(
        "proposals/show.html",
        proposal=proposal,
        consultation=proposal.consultation,
        can_edit=proposals.can_edit(proposal, current_user),
        withdraw_form=WithdrawForm(),
        thread=comments.thread_for(proposal, current_user),
        approvals=budgeting.results.published_approvals([proposal]),
    )


@bp.route("/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    proposal = proposals.get_visible(proposal_id, current_user, for_change=True)
    if not proposals.can_edit(proposal, current_user):
        flash(
            _("This proposal can no longer be changed: proposals are frozen once voting opens."),
            "warning",
        )
        return redirect(url_for(".show", proposal_id=proposal.id))
    form = ProposalForm(obj=proposal)
    form.set_consultation(proposal.consultation)
    saved = _save(
        form,
        lambda text: proposals.edit(proposal, current_user, text),
        _("Your changes have been saved."),
    )
    return saved or _render_form(form, proposal.consultation, proposal)


@bp.post("/proposals/<int:proposal_id>/withdraw")
@login_required
def withdraw(proposal_id: int):
    proposal = proposals.get_visible(proposal_id, current_user)
    form = WithdrawForm()
    if form.validate_on_submit():
        try:
            proposals.withdraw(proposal, current_user)
        except DomainError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Your proposal has been withdrawn."), "info")
    return redirect(url_for(".show", proposal_id=proposal.id))
