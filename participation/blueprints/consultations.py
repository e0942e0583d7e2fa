from __future__ import annotations

from dataclasses import replace

from flask import (
    Blueprint,
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
from flask_login import current_user

from participation.blueprints.access import moderator_required
from participation.blueprints.limits import paginated
from participation.forms import show_errors
from participation.forms.consultations import CONFIRMED, ConsultationForm, PhaseForm
from participation.models import Answer, Electorate, Phase, TallyRule, VotingMethod
from participation.services import audit, budgeting, consultations, proposals, results
from participation.services.budgeting import ballots
from participation.services.consultations import ConsultationSettings, guidance, phases
from participation.services.errors import DomainError, ValidationFailed
from participation.services.limits import parse_id

bp = Blueprint("consultations", __name__, url_prefix="/consultations")


def _settings(form: ConsultationForm) -> ConsultationSettings:
    return ConsultationSettings(
        title=form.title.data or "",
        summary=form.summary.data or "",
        description=form.description.data or "",
        categories=consultations.parse_categories(form.categories.data or ""),
        budget=form.budget.data,
        voting_method=VotingMethod(form.voting_method.data),
        max_supports=form.max_supports.data,
        ballot_min_projects=form.ballot_min_projects.data,
        ballot_max_projects=form.ballot_max_projects.data,
        ballot_max_share=form.ballot_max_share.data,
        tally_rule=TallyRule(form.tally_rule.data),
        min_approvals=form.min_approvals.data,
        electorate=Electorate(form.electorate.data),
        min_voting_age=form.min_voting_age.data,
        collecting_starts_on=form.collecting_starts_on.data,
        voting_starts_on=form.voting_starts_on.data,
        voting_ends_on=form.voting_ends_on.data,
        results_on=form.results_on.data,
    )


def _form_data(consultation) -> dict:
    """The stored settings as form values (categories as lines of text, enums as values)."""
    fields = ("title", "summary", "description", "budget", "max_supports", "collecting_starts_on")
    fields += ("voting_starts_on", "voting_ends_on", "results_on", "ballot_min_projects")
    fields += ("ballot_max_projects", "ballot_max_share", "min_approvals", "min_voting_age")
    data = {name: getattr(consultation, name) for name in fields}
    data["categories"] = "\n".join(category.name for category in consultation.categories)
    data["voting_method"] = consultation.voting_method.value
    data["tally_rule"] = consultation.tally_rule.value
    data["electorate"] = consultation.electorate.value
    return data


@bp.get("/")
def index():
    return render_template(
        "consultations/index.html", consultations=consultations.list_visible(current_user)
    )


def _proposal_query(consultation) -> proposals.ProposalQuery:
    """Read the list's filters from the query string; anything malformed falls back quietly."""
    args = request.args
    sort = proposals.sort_for(consultation, args.get("sort"))
    category_id = parse_id(args.get("category"))
    if category_id not in {category.id for category in consultation.categories}:
        category_id = None
    try:
        answer = Answer(args["answer"]) if args.get("answer") else None
    except ValueError:
        answer = None
    if "proposal_seed" not in session:
        session["proposal_seed"] = proposals.new_random_seed()
    return proposals.ProposalQuery(
        sort=sort,
        category_id=category_id,
        text=args.get("q", "")[:200],
        answer=answer,
        per_page=current_app.config["PROPOSALS_PER_PAGE"],
        seed=int(session["proposal_seed"]),
    )


@bp.get("/<slug>")
def show(slug: str):
    consultation = consultations.get_visible(slug, current_user)
    query = _proposal_query(consultation)
    page = paginated(lambda number: proposals.search(consultation, replace(query, page=number)))
    return render_template(
        "consultations/show.html",
        consultation=consultation,
        guidance=guidance.for_consultation(consultation, current_user),
        page=page,
        query=query,
        sorts=proposals.sorts_for(consultation),
        sort_labels=proposals.SORT_LABELS,
        approvals=budgeting.results.published_approvals(page.items),
        next_phase=phases.allowed_next(consultation),
        who_may_vote=budgeting.electorate.who_may_vote(consultation),
        own_ballot=ballots.own_content(
            consultation,
            current_user,
            with_outcome=results.visibility(consultation, current_user) is not None,
        ),
    )


@bp.route("/new", methods=["GET", "POST"])
@moderator_required
def create():
    form = ConsultationForm()
    if form.validate_on_submit():
        try:
            consultation = consultations.create(_settings(form), current_user)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            flash(
                _("The consultation was created as a draft. Only moderators can see it."), "success"
            )
            return redirect(url_for(".show", slug=consultation.slug))
    status = 422 if form.is_submitted() else 200
    return render_template("consultations/form.html", form=form, consultation=None), status


@bp.route("/<slug>/edit", methods=["GET", "POST"])
@moderator_required
def edit(slug: str):
    consultation = consultations.get_visible(slug, current_user)
    form = ConsultationForm(data=_form_data(consultation))
    if form.validate_on_submit():
        try:
            consultations.update(consultation, _settings(form), current_user)
        except ValidationFailed as error:
            show_errors(form, error)
        else:
            flash(_("The consultation was saved."), "success")
            return redirect(url_for(".show", slug=consultation.slug))
    status = 422 if form.is_submitted() else 200
    return render_template("consultations/form.html", form=form, consultation=consultation), status


@bp.route("/<slug>/phase", methods=["GET", "POST"])
@moderator_required
def change_phase(slug: str):
    """A move cannot be undone, so the consultation page links here first: this page says what
    the move freezes, and only its button moves the consultation."""
    consultation = consultations.get_visible(slug, current_user)
    form = PhaseForm()
    if request.method == "GET":
        return _render_phase_change(consultation, form)
    if not form.validate_on_submit():
        abort(400)
    try:
        target = Phase(form.to_phase.data)
    except ValueError:
        abort(400)
    if form.confirmed.data != CONFIRMED:
        return redirect(url_for(".change_phase", slug=consultation.slug), 303)
    try:
        phases.change_phase(consultation, target, current_user)
    except DomainError as error:
        flash(str(error.message), "danger")
    else:
        flash(
            _(
                "The consultation is now in the phase “%(phase)s”.",
                phase=phases.phase_label(target),
            ),
            "success",
        )
    return redirect(url_for(".show", slug=consultation.slug))


def _render_phase_change(consultation, form: PhaseForm):
    target = phases.allowed_next(consultation)
    if target is None:
        flash(_("This consultation is closed: there is no further phase."), "info")
        return redirect(url_for(".show", slug=consultation.slug))
    try:
        phases.check_move(consultation, target)
    except DomainError as error:
        refusal = str(error.message)
    else:
        refusal = None
    return render_template(
        "consultations/phase.html",
        consultation=consultation,
        form=form,
        target=target,
        consequences=phases.consequences(consultation, target),
        refusal=refusal,
        confirmed=CONFIRMED,
    )


@bp.get("/<slug>/audit")
@moderator_required
def audit_log(slug: str):
    consultation = consultations.get_visible(slug, current_user)
    return render_template(
        "consultations/audit.html", consultation=consultation, events=audit.events_for(consultation)
    )
