"""The results of a consultation: public once published, a preview and the winner selection for
moderators while evaluating. Who sees the page is decided by services.results.visibility."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from participation.blueprints import no_store
from participation.blueprints.access import moderator_required
from participation.extensions import limiter
from participation.forms import show_errors
from participation.forms.results import (
    BallotCodeForm,
    BudgetActionForm,
    OverrideForm,
    PromoteFundedForm,
    SelectionForm,
    WinnersForm,
)
from participation.services import budgeting, initiatives, proposals, results
from participation.services.budgeting import ballots
from participation.services.errors import DomainError, NotFound, ValidationFailed
from participation.services.results import Visibility, WinnerRule

bp = Blueprint("results", __name__)


def _render(
    consultation,
    seen_as: Visibility,
    form: WinnersForm,
    status: int = 200,
    *,
    override_form: OverrideForm | None = None,
    override_of: int | None = None,
    promote_form: PromoteFundedForm | None = None,
):
    uses_ranking = results.uses_ranking(consultation)
    rows = results.ranking(consultation) if uses_ranking else []
    winners = [row for row in rows if row.selected]
    changed = results.changed_by_hand(rows)
    page = render_template(
        "results/show.html",
        consultation=consultation,
        preview=seen_as is Visibility.PREVIEW,
        uses_ranking=uses_ranking,
        rows=rows,
        winners=winners,
        changed_by_hand=changed,
        winners_cost=sum(row.proposal.estimated_cost or 0 for row in winners),
        applied_rule=results.applied_rule(consultation, rows) if uses_ranking else None,
        rule_labels=results.RULE_LABELS,
        winner_rules=WinnerRule,
        initiatives=initiatives.initiatives_by_proposal(consultation),
        can_select=results.can_select(consultation, current_user),
        form=form,
        selection_form=SelectionForm(),
        **({} if uses_ranking else _budget_context(consultation)),
        override_form=override_form,
        override_of=override_of,
        promote_form=promote_form or PromoteFundedForm(),
    )
    return page, status


def _budget_context(consultation) -> dict:
    return {
        "own_ballot": ballots.own_content(consultation, current_user, with_outcome=True),
        "ballot_code_form": BallotCodeForm(formdata=None),
        "budget_result": budgeting.results.view(consultation),
        "budget_rule_labels": budgeting.results.RULE_LABELS,
        "rule_explanations": ballots.RULE_EXPLANATIONS,
        "ballot_count": budgeting.results.ballot_count(consultation),
        "paper_count": budgeting.results.paper_ballots(consultation),
        "can_compute": budgeting.results.can_compute(consultation, current_user),
        "can_promote_funded": initiatives.can_promote_funded(consultation, current_user),
        "action_form": BudgetActionForm(),
    }


def _winners_form(consultation) -> WinnersForm:
    form = WinnersForm()
    form.set_consultation(consultation)
    return form


@bp.get("/consultations/<slug>/results")
def show(slug: str):
    consultation, seen_as = results.get_visible(slug, current_user)
    return _render(consultation, seen_as, _winners_form(consultation))


@bp.post("/consultations/<slug>/results/winners")
@moderator_required
def select_winners(slug: str):
    consultation, seen_as = results.get_visible(slug, current_user)
    form = _winners_form(consultation)
    if form.validate_on_submit():
        try:
            chosen = results.select_winners(
                consultation, current_user, WinnerRule(form.rule.data), form.value.data
            )
        except ValidationFailed as error:
            show_errors(form, error)
        except DomainError as error:
            flash(str(error.message), "danger")
            return redirect(url_for(".show", slug=slug))
        else:
            flash(
                ngettext(
                    "%(num)d proposal is now marked as a winner.",
                    "%(num)d proposals are now marked as winners.",
                    len(chosen),
                ),
                "success",
            )
            return redirect(url_for(".show", slug=slug))
    return _render(consultation, seen_as, form, 422)


@bp.post("/consultations/<slug>/results/proposals/<int:proposal_id>/selection")
@moderator_required
def set_selection(slug: str, proposal_id: int):
    form = SelectionForm()
    consultation, seen_as, proposal = _posted_for_proposal(slug, proposal_id, form)
    selected = form.selected.data == "1"
    try:
        results.set_selected(proposal, current_user, selected, form.reason.data)
    except ValidationFailed as error:
        return _refused_reason(consultation, seen_as, form, proposal, error)
    except DomainError as error:
        flash(str(error.message), "danger")
    else:
        message = (
            _("“%(title)s” is now a winner.", title=proposal.title)
            if selected
            else _("“%(title)s” is no longer a winner.", title=proposal.title)
        )
        flash(message, "success")
    return redirect(url_for(".show", slug=slug, _anchor=f"rank-{proposal.id}"))


def _refused_reason(consultation, seen_as, form, proposal, error: ValidationFailed):
    """The page again with the row's form open and the refusal next to its reason (422)."""
    show_errors(form, error)
    return _render(
        consultation,
        seen_as,
        _winners_form(consultation),
        422,
        override_form=form,
        override_of=proposal.id,
    )


def _posted_for_proposal(slug: str, proposal_id: int, form):
    """The consultation, how it is seen and the proposal a moderator's form acts on: 404 when
    either is not visible, then 400 when the form does not validate (a missing CSRF token)."""
    consultation, seen_as = results.get_visible(slug, current_user)
    proposal = proposals.get_visible(proposal_id, current_user, consultation=consultation)
    if not form.validate_on_submit():
        abort(400)
    return consultation, seen_as, proposal


# Budget consultations: counting the ballots, overrides, promoting the funded projects


@bp.post("/consultations/<slug>/results/budget/compute")
@moderator_required
def compute_budget(slug: str):
    consultation, _seen_as = results.get_visible(slug, current_user)
    if not BudgetActionForm().validate_on_submit():
        abort(400)
    try:
        budgeting.results.compute(consultation, current_user)
    except DomainError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("The ballots were counted; the result below is up to date."), "success")
    return redirect(url_for(".show", slug=slug, _anchor="budget-result"))


@bp.post("/consultations/<slug>/results/budget/projects/<int:proposal_id>/override")
@moderator_required
def override(slug: str, proposal_id: int):
    form = OverrideForm()
    consultation, seen_as, proposal = _posted_for_proposal(slug, proposal_id, form)
    fund = form.fund.data == "1"
    try:
        budgeting.results.override(consultation, current_user, proposal, fund, form.reason.data)
    except ValidationFailed as error:
        return _refused_reason(consultation, seen_as, form, proposal, error)
    except DomainError as error:
        flash(str(error.message), "danger")
    else:
        message = (
            _("“%(title)s” is now funded by a moderators' decision.", title=proposal.title)
            if fund
            else _("“%(title)s” is now dropped by a moderators' decision.", title=proposal.title)
        )
        flash(message, "success")
    return redirect(url_for(".show", slug=slug, _anchor=f"project-{proposal.id}"))


@bp.post("/consultations/<slug>/results/budget/projects/<int:proposal_id>/override/clear")
@moderator_required
def clear_override(slug: str, proposal_id: int):
    consultation, _seen_as, proposal = _posted_for_proposal(slug, proposal_id, BudgetActionForm())
    try:
        budgeting.results.clear_override(consultation, current_user, proposal)
    except DomainError as error:
        flash(str(error.message), "danger")
    else:
        flash(_("“%(title)s” follows the rule again.", title=proposal.title), "success")
    return redirect(url_for(".show", slug=slug, _anchor=f"project-{proposal.id}"))


@bp.post("/consultations/<slug>/results/budget/promote")
@moderator_required
def promote_funded(slug: str):
    consultation, seen_as = results.get_visible(slug, current_user)
    form = PromoteFundedForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        created = initiatives.promote_funded(
            consultation, current_user, form.responsible_body.data or ""
        )
    except ValidationFailed as error:
        show_errors(form, error)
        return _render(consultation, seen_as, _winners_form(consultation), 422, promote_form=form)
    except DomainError as error:
        flash(str(error.message), "danger")
    else:
        flash(
            ngettext(
                "%(num)d funded project is now an initiative.",
                "%(num)d funded projects are now initiatives.",
                len(created),
            )
            if created
            else _("Every funded project is an initiative already."),
            "success",
        )
    return redirect(url_for(".show", slug=slug))


# Finding a ballot by its code


def _lookup_limit() -> str:
    return current_app.config["BALLOT_LOOKUP_RATE_LIMIT"]


@bp.route("/consultations/<slug>/results/ballot", methods=["GET", "POST"])
@limiter.limit(
    _lookup_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 404
)
def find_ballot(slug: str):
    """Anybody enters a ballot code and sees that ballot's projects and whether they were
    funded, nothing about the person. The code travels in the body, not in the address, so it
    stays out of logs and the browser's history."""
    consultation, _seen_as = results.get_visible(slug, current_user)
    ballots.require_ballots(consultation)
    form = BallotCodeForm()
    found, status = None, 200
    if form.validate_on_submit():
        try:
            ballot = ballots.find_by_code(consultation, form.code.data)
        except ValidationFailed as error:
            show_errors(form, error)
            status = 422
        except NotFound as error:
            form.code.errors = [*form.code.errors, str(error.message)]
            status = 404
        except DomainError as error:
            form.code.errors = [*form.code.errors, str(error.message)]
            status = 409
        else:
            found = ballots.content_of(ballot, with_outcome=True)
    elif form.is_submitted():
        status = 422
    page = render_template("results/ballot.html", consultation=consultation, form=form, found=found)
    return no_store(page, status)
