"""The budget ballot of a consultation: filling it in, checking it without JavaScript, and the
receipt with the ballot code. The rules live in budgeting.ballots; visitors are sent to log in
and come back to the ballot."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.forms.ballots import BallotForm
from participation.models import Ballot, Consultation, Proposal
from participation.services import budgeting
from participation.services.budgeting import ballots
from participation.services.errors import DomainError, NotAllowed

bp = Blueprint("ballots", __name__)


@bp.app_context_processor
def ballot_helpers() -> dict[str, Any]:
    return {
        "rule_explanation": ballots.rule_explanation,
        "tally_rule_labels": budgeting.results.RULE_LABELS,
        "ballots_open": ballots.is_open_for_ballots,
    }


def project_groups(projects: list[Proposal]) -> list[tuple[str | None, list[Proposal]]]:
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
        groups=project_groups(projects),
        stored_projects=[project for project in projects if project.id in stored],
        summary=checked,
        checked=set(checked.chosen),
        errors=errors,
        checked_only=checked_only,
        message=message,
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
