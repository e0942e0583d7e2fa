"""CSV downloads of a consultation's data, for moderators."""

from __future__ import annotations

from flask import Blueprint, Response, abort, request, stream_with_context
from flask_login import current_user

from participation.blueprints.access import moderator_required
from participation.services import consultations, exports
from participation.services.exports import Dialect, ExportKind

bp = Blueprint("exports", __name__)


@bp.route("/consultations/<slug>/export/<kind>.csv")
@moderator_required
def download(slug: str, kind: str) -> Response:
    try:
        export_kind = ExportKind(kind)
    except ValueError:
        abort(404)
    try:
        dialect = Dialect(request.args.get("dialect", Dialect.COMMA.value))
    except ValueError:
        abort(400)
    consultation = consultations.get_visible(slug, current_user)
    name = exports.filename(consultation, export_kind)
    chunks = exports.export(consultation, export_kind, dialect, current_user)
    return Response(
        stream_with_context(chunks),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
