"""The budget ballot of a consultation: filling it in, checking it without JavaScript, and the
receipt with the ballot code; and the page where a resident confirms they are on the voter
register, before they vote in a consultation with one. The rules live in budgeting.ballots and
budgeting.electorate; visitors are sent to log in and come back to the ballot."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.blueprints.access import login_required, moderator_required
from participation.extensions import limiter
from participation.forms import show_errors
from participation.forms.ballots import BallotForm, RegisterClaimForm, RegisterImportForm
from participation.models import Ballot, Consultation, Proposal
from participation.services import budgeting, consultations
from participation.services.budgeting import ballots, electorate
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

bp = Blueprint("ballots", __name__)


@bp.app_context_processor
def ballot_helpers() -> dict[str, Any]:
    return {
        "rule_explanation": ballots.rule_explanation,
        "tally_rule_labels": budgeting.results.RULE_LABELS,
        "ballots_open": ballots.is_open_for_ballots,
        "may_vote": _may_vote,
    }


def _may_vote(consultation: Consultation) -> bool:
    """Whether the current user's account may vote in the consultation (electorate.may_vote),
    asked once per request and consultation: a list of proposals asks for every card."""
    known = g.setdefault("may_vote", {})
    if consultation.id not in known:
        known[consultation.id] = electorate.may_vote(consultation, current_user)
    return known[consultation.id]


def _groups(projects: list[Proposal]) -> list[tuple[str | None, list[Proposal]]]:
    """The projects by category, in the order ballot_projects gives them."""
    return [
        (category.name if category else None, list(members))
        for category, members in groupby(projects, key=lambda project: project.category)
    ]


def _render(
    consultation: Consultation,
    form: BallotForm,
    ballot: Ballot | None,
    checked: ballots.BallotSummary,
    status: int = 200,
    *,
    errors: tuple[str, ...] = (),
    checked_only: bool = False,
    message: str | None = None,
):
    projects = ballots.ballot_projects(consultation)
    stored = ballots.chosen_ids(ballot)
    page = render_template(
        "ballots/show.html",
        consultation=consultation,
        form=form,
        ballot=ballot,
        open=ballots.is_open_for_ballots(consultation),
        groups=_groups(projects),
        stored_projects=[project for project in projects if project.id in stored],
        summary=checked,
        checked=set(checked.chosen),
        errors=errors,
        checked_only=checked_only,
        message=message,
        may_vote=_may_vote(consultation),
    )
    return page, status


@bp.route("/consultations/<slug>/ballot", methods=["GET", "POST"])
def show(slug: str):
    consultation = ballots.get_consultation(slug, current_user)
    if not current_user.is_authenticated:
        flash(_("Please log in to fill in your ballot."), "info")
        return redirect(url_for("accounts.login", next=url_for(".show", slug=consultation.slug)))
    form = BallotForm()
    ballot = ballots.get_ballot(consultation, current_user)
    if not form.is_submitted():
        return _render(consultation, form, ballot, ballots.summary(consultation, _stored(ballot)))
    if not form.validate():
        abort(400)
    chosen = form.projects.data or []
    if form.only_checking and ballots.is_open_for_ballots(consultation):
        # Without JavaScript: add up the choices and say what is wrong; nothing is stored.
        checked = ballots.summary(consultation, chosen)
        return _render(
            consultation, form, ballot, checked, errors=checked.errors, checked_only=True
        )
    try:
        ballots.submit_ballot(consultation, current_user, chosen)
    except ballots.BallotRefused as error:
        checked = ballots.summary(consultation, chosen)
        return _render(consultation, form, ballot, checked, 422, errors=error.errors)
    except NotAllowed:
        raise
    except DomainError as error:
        # Not voting (any more): the stored ballot, if any, is shown as it is.
        ballot = ballots.get_ballot(consultation, current_user)
        checked = ballots.summary(consultation, _stored(ballot))
        return _render(consultation, form, ballot, checked, 409, message=str(error.message))
    flash(_("Thank you! Your ballot was recorded."), "success")
    return redirect(url_for(".show", slug=consultation.slug, _anchor="ballot-receipt"))


def _stored(ballot: Ballot | None) -> list[int]:
    return sorted(ballots.chosen_ids(ballot))


# Confirming that one is on the voter register


def _register_limit() -> str:
    return current_app.config["VOTER_REGISTER_RATE_LIMIT"]


@bp.route("/consultations/<slug>/register", methods=["GET", "POST"])
@login_required
@limiter.limit(
    _register_limit, methods=["POST"], deduct_when=lambda response: response.status_code == 422
)
def register(slug: str):
    """A logged-in resident enters the identifier and date of birth of the town's letter, once
    per consultation; only wrong tries count towards the rate limit."""
    consultation = consultations.get_visible(slug, current_user)
    electorate.require_register(consultation)
    form = RegisterClaimForm()
    entry = electorate.claimed_entry(consultation, current_user)
    status, message = 200, None
    if entry is None and form.is_submitted():
        if not form.validate():
            status = 422
        else:
            try:
                electorate.claim_entry(
                    consultation, current_user, form.identifier.data, form.birth_date
                )
            except ValidationFailed as error:
                show_errors(form, error)
                status = 422
            except NotAllowed:
                raise
            except DomainError as error:
                status, message = 409, str(error.message)
            else:
                flash(
                    _("Thank you! You are confirmed on the voter register and can vote."), "success"
                )
                return redirect(_vote_url(consultation))
    page = render_template(
        "ballots/register.html",
        consultation=consultation,
        form=form,
        entry=entry,
        vote_url=_vote_url(consultation),
        message=message,
    )
    return page, status


def _vote_url(consultation: Consultation) -> str:
    if consultation.uses_ballots:
        return url_for(".show", slug=consultation.slug)
    return url_for("consultations.show", slug=consultation.slug)


@bp.route("/consultations/<slug>/register/import", methods=["GET", "POST"])
@moderator_required
def import_register(slug: str):
    """Moderators upload the town's voter register (the same as `flask voters import`)."""
    consultation = consultations.get_visible(slug, current_user)
    electorate.require_register(consultation)
    form = RegisterImportForm()
    status, problems, message, report = 200, (), None, None
    if form.is_submitted():
        if not form.validate():
            status = 422
        else:
            try:
                data = form.file.data.stream.read(electorate.MAX_REGISTER_FILE_BYTES + 1)
                rows = electorate.read_register_file(data)
                report = electorate.import_register(consultation, rows, actor=current_user)
            except electorate.RegisterRefused as error:
                status, problems = 422, error.problems
            except NotFound:
                raise
            except DomainError as error:
                status, message = 409, str(error.message)
    page = render_template(
        "ballots/register_import.html",
        consultation=consultation,
        form=form,
        problems=problems,
        message=message,
        report=report,
        counts=electorate.register_counts(consultation),
    )
    return page, status
