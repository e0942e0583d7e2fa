"""Paper ballots for moderators: entering a sheet, the counts, and the mismatches to resolve.
The rules live in budgeting.paper; the checkboxes are the online ballot's."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.blueprints.access import moderator_required
from participation.blueprints.ballots import project_groups
from participation.forms import show_errors
from participation.forms.paper import DiscardForm, PaperEntryForm
from participation.services.budgeting import ballots, paper, results
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

bp = Blueprint("paper", __name__)


@bp.app_context_processor
def paper_helpers() -> dict[str, Any]:
    return {"paper_can_enter": paper.can_enter}


def _render(
    consultation,
    form: PaperEntryForm,
    status: int = 200,
    *,
    errors: tuple[str, ...] = (),
    message: str | None = None,
):
    page = render_template(
        "paper/show.html",
        consultation=consultation,
        form=form,
        discard_form=DiscardForm(formdata=None),
        can_enter=paper.can_enter(consultation, current_user),
        takes_paper=paper.takes_paper(consultation),
        uses_codes=paper.uses_codes(consultation),
        groups=project_groups(ballots.ballot_projects(consultation)),
        checked={int(value) for value in form.projects.data or [] if str(value).isdigit()},
        overview=paper.overview(consultation),
        tally=results.tally_of(consultation),
        errors=errors,
        message=message,
    )
    return page, status


def _entered(outcome: paper.EntryOutcome) -> None:
    if outcome.counted:
        flash(
            _(
                "%(sheet)s: both entries agree, so the sheet now counts as a paper ballot.",
                sheet=outcome.sheet,
            ),
            "success",
        )
    elif outcome.mismatch:
        flash(
            _(
                "%(sheet)s: this entry differs from the first one, so the sheet does not count. "
                "It is listed under “Entries that differ” for a moderator to resolve.",
                sheet=outcome.sheet,
            ),
            "warning",
        )
    else:
        flash(
            _(
                "%(sheet)s was entered. It counts once another staff member has entered it "
                "with the same choices.",
                sheet=outcome.sheet,
            ),
            "success",
        )


@bp.route("/consultations/<slug>/paper", methods=["GET", "POST"])
@moderator_required
def show(slug: str):
    consultation = paper.get_consultation(slug, current_user)
    form = PaperEntryForm()
    if not form.is_submitted():
        return _render(consultation, form)
    if not form.validate():
        if "csrf_token" in form.errors:
            abort(400)
        return _render(consultation, form, 422)
    try:
        outcome = paper.enter(
            consultation,
            current_user,
            form.projects.data or [],
            code_text=form.code.data,
            batch=form.batch.data,
            sheet=form.sheet.data,
        )
    except ballots.BallotRefused as error:
        return _render(consultation, form, 422, errors=error.errors)
    except ValidationFailed as error:
        show_errors(form, error)
        return _render(consultation, form, 422)
    except (NotAllowed, NotFound):
        raise
    except DomainError as error:
        # What happened to this sheet (a code used online, a second entry of the same clerk):
        # shown with the entry as it was typed, nothing stored.
        return _render(consultation, form, 422, message=str(error.message))
    _entered(outcome)
    return redirect(url_for(".show", slug=consultation.slug, _anchor="paper-entry"))


@bp.post("/consultations/<slug>/paper/entries/<int:entry_id>/discard")
@moderator_required
def discard(slug: str, entry_id: int):
    consultation = paper.get_consultation(slug, current_user)
    if not DiscardForm().validate_on_submit():
        abort(400)
    try:
        paper.discard(consultation, current_user, entry_id)
    except (NotAllowed, NotFound):
        raise
    except DomainError as error:
        flash(str(error.message), "danger")
    else:
        flash(
            _("The entry was discarded. Another staff member can now enter the sheet again."),
            "success",
        )
    return redirect(url_for(".show", slug=consultation.slug, _anchor="paper-mismatches"))
