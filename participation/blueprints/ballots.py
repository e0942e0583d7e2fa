"""The budget ballot of a consultation: filling it in, checking it without JavaScript, and the
receipt with the ballot code; and the page where a resident confirms they are on the voter
register, before they vote in a consultation with one. The rules live in budgeting.ballots and
budgeting.electorate; visitors are sent to log in and come back to the ballot.

Where the electorate is voting codes, residents vote on /vote with the code of the town's letter
instead, no account needed: the code travels in the form (a hidden field once it was checked),
never in the session or a cookie, and its pages are kept out of caches. Wrong codes are
rate-limited per IP address (VOTING_CODE_RATE_LIMIT); right ones do not count."""

from __future__ import annotations

from itertools import groupby
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from participation.blueprints import no_store
from participation.blueprints.access import login_required, moderator_required
from participation.blueprints.errors import render_error
from participation.extensions import limiter
from participation.forms import show_errors
from participation.forms.ballots import (
    MAX_CODE_LENGTH,
    BallotForm,
    CodeBallotForm,
    RegisterClaimForm,
    RegisterImportForm,
    VotingCodeForm,
)
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
        "votes_with_codes": ballots.votes_with_codes,
        "may_vote": _may_vote,
    }


def _may_vote(consultation: Consultation) -> bool:
    """Whether the current user's account may vote in the consultation (electorate.may_vote),
    asked once per request and consultation: a list of proposals asks for every card."""
    known = g.setdefault("may_vote", {})
    if consultation.id not in known:
        known[consultation.id] = electorate.may_vote(consultation, current_user)
    return known[consultation.id]


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
    voting_code: bool = False,
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
        voting_code=voting_code,
        form_action=url_for(".code_ballot" if voting_code else ".show", slug=consultation.slug),
        may_vote=voting_code or _may_vote(consultation),
    )
    return page, status


@bp.route("/consultations/<slug>/ballot", methods=["GET", "POST"])
def show(slug: str):
    consultation = ballots.get_consultation(slug, current_user)
    if ballots.votes_with_codes(consultation):
        flash(str(electorate.VOTE_WITH_CODE), "info")
        return redirect(url_for(".vote", slug=consultation.slug))
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


# Voting with the code of the town's letter, no account needed


def _code_limit() -> str:
    return current_app.config["VOTING_CODE_RATE_LIMIT"]


def _wrong_code_sent(response) -> bool:
    """Only wrong codes count towards the limit: not a code, a typo, no such code."""
    return g.get("wrong_voting_code", False)


def _too_many_codes(_limit):
    page, status = render_error(
        429,
        _(
            "Too many wrong voting codes were entered from your connection. Please wait a "
            "quarter of an hour, then enter the code exactly as it is printed on your letter."
        ),
    )
    return current_app.make_response(no_store(page, status))


code_limit = limiter.shared_limit(
    _code_limit,
    scope="voting-code",
    methods=["POST"],
    deduct_when=_wrong_code_sent,
    on_breach=_too_many_codes,
)


def _code_consultation(slug: str) -> Consultation | None:
    """The budget consultation whose residents vote with codes; None where they vote with an
    account (the caller sends them to the account's ballot)."""
    consultation = ballots.get_consultation(slug, current_user)
    return consultation if ballots.votes_with_codes(consultation) else None


def _refuse_code(form, error: DomainError) -> int:
    """The code's refusal next to its field; the status, and whether it counts as wrong."""
    if isinstance(error, ValidationFailed):
        show_errors(form, error)
        g.wrong_voting_code = True
        return 422
    form.code.errors = [*form.code.errors, str(error.message)]
    if isinstance(error, NotFound):
        g.wrong_voting_code = True
        return 404
    return 409


def _code_page(consultation: Consultation, form: VotingCodeForm, status: int = 200):
    page = render_template("ballots/code.html", consultation=consultation, form=form)
    return no_store(page, status)


@bp.route("/consultations/<slug>/vote", methods=["GET", "POST"])
@code_limit
def vote(slug: str):
    """Enter the voting code (prefilled from the letter's link, `?code=`), then the ballot."""
    consultation = _code_consultation(slug)
    if consultation is None:
        return redirect(url_for(".show", slug=slug))
    if request.method == "GET":
        typed = request.args.get("code", "")[:MAX_CODE_LENGTH]
        return _code_page(consultation, VotingCodeForm(formdata=None, code=typed))
    form = VotingCodeForm()
    if not form.validate():
        g.wrong_voting_code = True
        return _code_page(consultation, form, 422)
    try:
        ballot = ballots.ballot_for_code(consultation, form.code.data)
    except DomainError as error:
        return _code_page(consultation, form, _refuse_code(form, error))
    ballot_form = CodeBallotForm(formdata=None, code=form.code.data)
    checked = ballots.summary(consultation, _stored(ballot))
    return no_store(*_render(consultation, ballot_form, ballot, checked, voting_code=True))


@bp.post("/consultations/<slug>/vote/ballot")
@code_limit
def code_ballot(slug: str):
    """Check or submit the ballot of the voting code the form carries."""
    consultation = _code_consultation(slug)
    if consultation is None:
        return redirect(url_for(".show", slug=slug))
    form = CodeBallotForm()
    if not form.validate():
        abort(400)
    code_form = VotingCodeForm(formdata=None, code=form.code.data)
    try:
        ballot = ballots.ballot_for_code(consultation, form.code.data)
    except DomainError as error:
        return _code_page(consultation, code_form, _refuse_code(code_form, error))
    chosen = form.projects.data or []
    if form.only_checking and ballots.is_open_for_ballots(consultation):
        checked = ballots.summary(consultation, chosen)
        return no_store(
            *_render(
                consultation,
                form,
                ballot,
                checked,
                errors=checked.errors,
                checked_only=True,
                voting_code=True,
            )
        )
    try:
        ballot = ballots.submit_ballot_with_code(consultation, form.code.data, chosen)
    except ballots.BallotRefused as error:
        checked = ballots.summary(consultation, chosen)
        return no_store(
            *_render(
                consultation, form, ballot, checked, 422, errors=error.errors, voting_code=True
            )
        )
    except DomainError as error:
        # Not voting any more, or the code was used on paper meanwhile: shown as it is.
        checked = ballots.summary(consultation, _stored(ballot))
        return no_store(
            *_render(
                consultation,
                form,
                ballot,
                checked,
                409,
                message=str(error.message),
                voting_code=True,
            )
        )
    # Shown on this very page (no redirect: the code is not kept for a next request).
    flash(_("Thank you! Your ballot was recorded."), "success")
    checked = ballots.summary(consultation, _stored(ballot))
    return no_store(*_render(consultation, form, ballot, checked, voting_code=True))


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
