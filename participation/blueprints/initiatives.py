"""Funded initiatives: the public list and pages, and the moderators' forms to promote a
proposal, edit an initiative and post progress updates (moderator_required on each)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.blueprints.access import moderator_required
from participation.blueprints.limits import paginated
from participation.forms import show_errors
from participation.forms.initiatives import InitiativeForm, InitiativeUpdateForm
from participation.models import InitiativeStatus
from participation.services import budgeting, initiatives, proposals
from participation.services.errors import DomainError, ValidationFailed

bp = Blueprint("initiatives", __name__)


@bp.record_once
def _template_helpers(state) -> None:
    """For templates and their macros: status names, and for the partials on the proposal page
    its initiative and whether to offer promotion."""
    state.app.jinja_env.globals.update(
        initiative_status_labels=initiatives.STATUS_LABELS,
        initiative_for=initiatives.initiative_for,
        can_promote=initiatives.can_promote,
    )


def _query() -> initiatives.InitiativeQuery:
    """The list's filters from the query string; anything unknown falls back quietly."""
    args = request.args
    try:
        status = InitiativeStatus(args.get("status", ""))
    except ValueError:
        status = None
    return initiatives.InitiativeQuery(
        consultation_slug=args.get("consultation", "")[:80] or None,
        status=status,
        per_page=current_app.config.get("INITIATIVES_PER_PAGE", 20),
    )


@bp.get("/initiatives")
def index():
    query = _query()
    return render_template(
        "initiatives/index.html",
        page=paginated(lambda number: initiatives.search(replace(query, page=number))),
        query=query,
        consultations=initiatives.consultations_with_initiatives(),
        statuses=list(InitiativeStatus),
    )


@bp.get("/initiatives/<int:initiative_id>")
def show(initiative_id: int):
    initiative = initiatives.get(initiative_id)
    return render_template(
        "initiatives/show.html",
        initiative=initiative,
        consultation=initiative.consultation,
        proposal=initiative.proposal,
        proposal_visible=proposals.can_see(initiative.proposal, current_user),
        approvals=budgeting.results.published_approvals([initiative.proposal]),
    )


def _settings(form: InitiativeForm) -> dict:
    return {
        "allocated_budget": form.allocated_budget.data,
        "responsible_body": form.responsible_body.data or "",
        "status": InitiativeStatus(form.status.data),
        "progress_percent": form.progress_percent.data,
        "title": form.title.data or None,
    }


def _page(template: str, form, **context):
    """A moderator's form page: 422 after a refused submission, 200 when first shown."""
    return render_template(template, form=form, **context), (422 if form.is_submitted() else 200)


def _form_page(form: InitiativeForm, proposal, initiative):
    return _page(
        "initiatives/form.html",
        form,
        proposal=proposal,
        consultation=proposal.consultation,
        initiative=initiative,
    )


@bp.route("/proposals/<int:proposal_id>/promote", methods=["GET", "POST"])
@moderator_required
def promote(proposal_id: int):
    proposal = proposals.get_visible(proposal_id, current_user)
    existing = initiatives.initiative_for(proposal)
    if existing is not None:
        flash(_("This proposal is already an initiative."), "info")
        return redirect(url_for(".show", initiative_id=existing.id))
    form = InitiativeForm()
    if form.validate_on_submit():
        try:
            initiative = initiatives.promote(proposal, current_user, **_settings(form))
        except ValidationFailed as error:
            show_errors(form, error)
        except DomainError as error:
            flash(str(error.message), "danger")
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
        else:
            flash(_("The proposal is now an initiative."), "success")
            return redirect(url_for(".show", initiative_id=initiative.id))
    elif not form.is_submitted():
        problem = initiatives.promotion_problem(proposal)
        if problem:
            flash(str(problem), "warning")
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
    return _form_page(form, proposal, None)


@bp.route("/initiatives/<int:initiative_id>/edit", methods=["GET", "POST"])
@moderator_required
def edit(initiative_id: int):
    initiative = initiatives.get(initiative_id)
    form = InitiativeForm(
        data={
            "title": initiative.title,
            "allocated_budget": initiative.allocated_budget,
            "responsible_body": initiative.responsible_body,
            "status": initiative.status.value,
            "progress_percent": initiative.progress_percent,
        }
    )
    if form.validate_on_submit():
        try:
            initiatives.update_initiative(initiative, current_user, **_settings(form))
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            flash(_("The initiative was saved."), "success")
            return redirect(url_for(".show", initiative_id=initiative.id))
    return _form_page(form, initiative.proposal, initiative)


@bp.route("/initiatives/<int:initiative_id>/updates/new", methods=["GET", "POST"])
@moderator_required
def post_update(initiative_id: int):
    initiative = initiatives.get(initiative_id)
    form = InitiativeUpdateForm()
    if form.validate_on_submit():
        try:
            initiatives.post_update(
                initiative,
                current_user,
                happened_on=form.happened_on.data,
                body=form.body.data or "",
                status=InitiativeStatus(form.status.data) if form.status.data else None,
                progress_percent=form.progress_percent.data,
            )
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            flash(_("The progress update was published."), "success")
            return redirect(url_for(".show", initiative_id=initiative.id, _anchor="updates-title"))
    return _page(
        "initiatives/update_form.html",
        form,
        initiative=initiative,
        consultation=initiative.consultation,
    )
