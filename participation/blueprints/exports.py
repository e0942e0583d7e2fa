"""Downloads of a consultation's data: the CSV exports for moderators, and for budget
consultations the ballots, the counted results and the pabulib file, public once the results
are published (services.exports.get_downloadable decides, and services.exports.audience_for
whether the file may hold hidden content)."""

from __future__ import annotations

from collections.abc import Iterator

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user

from participation.services import exports
from participation.services.errors import DomainError
from participation.services.exports import Dialect, ExportKind

bp = Blueprint("exports", __name__)


def _viewer():
    return current_user if current_user.is_authenticated else None


def _attachment(chunks: Iterator[bytes], name: str, content_type: str) -> Response:
    return Response(
        stream_with_context(chunks),
        content_type=content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def _refused(consultation, error: DomainError) -> Response:
    flash(str(error.message), "warning")
    return redirect(url_for("consultations.show", slug=consultation.slug))


@bp.route("/consultations/<slug>/export/<kind>.csv")
def download(slug: str, kind: str) -> Response:
    try:
        export_kind = ExportKind(kind)
    except ValueError:
        abort(404)
    try:
        dialect = Dialect(request.args.get("dialect", Dialect.COMMA.value))
    except ValueError:
        abort(400)
    consultation = exports.get_downloadable(slug, export_kind, current_user)
    try:
        chunks = exports.export(
            consultation,
            export_kind,
            dialect,
            _viewer(),
            via="web",
            audience=exports.audience_for(current_user),
        )
    except DomainError as error:
        return _refused(consultation, error)
    return _attachment(
        chunks, exports.filename(consultation, export_kind, dialect), "text/csv; charset=utf-8"
    )


@bp.route("/consultations/<slug>/export/election.pb")
def download_pabulib(slug: str) -> Response:
    consultation = exports.get_downloadable(slug, None, current_user)
    try:
        chunks = exports.export_pabulib(consultation, _viewer(), via="web")
    except DomainError as error:
        return _refused(consultation, error)
    return _attachment(chunks, exports.pabulib_filename(consultation), "text/plain; charset=utf-8")
