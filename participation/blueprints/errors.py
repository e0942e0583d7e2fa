"""Error pages, for every area in one place: HTTP errors, the domain errors the services raise
(NotFound, NotAllowed: services/errors.py), an expired form and a server error."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from participation.extensions import db, login_manager
from participation.services.errors import NotAllowed, NotFound

ERROR_CODES = (400, 403, 404, 405, 413, 422, 429, 500)

bp = Blueprint("errors", __name__)


def render_error(code: int, message: str | None = None):
    return render_template("errors/error.html", code=code, message=message), code


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException):
    if error.response is not None:  # the page was made already (a limit's on_breach)
        return error.response
    if error.code in ERROR_CODES:
        return render_error(error.code)
    return error


@bp.app_errorhandler(NotFound)
def domain_not_found(error: NotFound):
    return render_error(404, str(error.message))


@bp.app_errorhandler(NotAllowed)
def domain_not_allowed(error: NotAllowed):
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    return render_error(403, str(error.message))


@bp.app_errorhandler(500)
def server_error(error: Exception):
    db.session.rollback()
    return render_error(500)


@bp.app_errorhandler(CSRFError)
def csrf_error(error: CSRFError):
    return render_error(400, str(_l("The form has expired. Please reload the page and try again.")))
