"""Who may vote, the moderators' side: the voting codes of a consultation's letters. Issuing
codes answers with the letters as a CSV file for a mail merge, the only time the codes are
seen; the rules live in budgeting.electorate."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from participation.blueprints import no_store
from participation.blueprints.access import moderator_required
from participation.forms import show_errors
from participation.forms.electorate import CodeForm, IssueCodesForm
from participation.services.budgeting import electorate
from participation.services.errors import DomainError, ValidationFailed

bp = Blueprint("electorate", __name__, url_prefix="/consultations/<slug>/voting-codes")


def _base_url() -> str:
    """Where the letters send residents: PUBLIC_URL, or the address the moderator uses."""
    return current_app.config.get("PUBLIC_URL") or request.url_root


def _page(consultation, status: int = 200, **forms):
    forms = {
        "issue_form": IssueCodesForm(formdata=None),
        "revoke_form": CodeForm(formdata=None, prefix="revoke"),
        "reissue_form": CodeForm(formdata=None, prefix="reissue"),
    } | forms
    page = render_template(
        "electorate/codes.html",
        consultation=consultation,
        counts=electorate.code_counts(consultation),
        **forms,
    )
    return no_store(page, status)


def _refused(form, error: DomainError) -> None:
    if isinstance(error, ValidationFailed):
        show_errors(form, error)
    else:
        form.form_errors.append(str(error.message))


@bp.get("")
@moderator_required
def codes(slug: str):
    return _page(electorate.get_for_codes(slug, current_user))


@bp.post("")
@moderator_required
def issue(slug: str):
    consultation = electorate.get_for_codes(slug, current_user)
    form = IssueCodesForm()
    if form.validate():
        try:
            printed = electorate.issue_codes(
                consultation, current_user, form.count.data, form.district.data
            )
        except DomainError as error:
            _refused(form, error)
        else:
            lines = electorate.letters_csv(
                consultation, printed, _base_url(), district=form.district.data
            )
            name = f"voting-codes-{consultation.slug}.csv"
            return Response(
                stream_with_context(line.encode() for line in lines),
                content_type="text/csv; charset=utf-8",
                headers={
                    "Content-Disposition": f'attachment; filename="{name}"',
                    "Cache-Control": "no-store",
                },
            )
    return _page(consultation, 422, issue_form=form)


@bp.post("/revoke")
@moderator_required
def revoke(slug: str):
    consultation = electorate.get_for_codes(slug, current_user)
    form = CodeForm(prefix="revoke")
    if form.validate():
        try:
            electorate.revoke_code(consultation, current_user, form.code.data)
        except DomainError as error:
            _refused(form, error)
        else:
            flash(_("The voting code was revoked: it can no longer vote."), "success")
            return redirect(url_for(".codes", slug=consultation.slug))
    return _page(consultation, 422, revoke_form=form)


@bp.post("/reissue")
@moderator_required
def reissue(slug: str):
    consultation = electorate.get_for_codes(slug, current_user)
    form = CodeForm(prefix="reissue")
    if form.validate():
        try:
            printed = electorate.reissue_code(consultation, current_user, form.code.data)
        except DomainError as error:
            _refused(form, error)
        else:
            letter = electorate.letter(consultation, printed, _base_url())
            page = render_template(
                "electorate/reissued.html", consultation=consultation, letter=letter
            )
            return no_store(page)
    return _page(consultation, 422, reissue_form=form)
