"""participation: a web application for digital participation."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, has_request_context, render_template, request, session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from config import CONFIGS, ProductionConfig
from participation import formatting, logs
from participation.blueprints import limits
from participation.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate

ERROR_CODES = (400, 403, 404, 405, 413, 422, 429, 500)
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH", os.path.join(PROJECT_ROOT, "instance")),
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "static"),
    )
    env = os.environ.get("APP_ENV", "development")
    if env not in CONFIGS:
        raise RuntimeError(f"APP_ENV must be one of {', '.join(CONFIGS)}, not {env!r}.")
    app.config.from_object(CONFIGS[env])
    if test_config:
        app.config.update(test_config)
    if env == "production":
        ProductionConfig.check(app.config)
    os.makedirs(app.instance_path, exist_ok=True)

    _init_extensions(app)
    limits.install(app)
    _register_blueprints(app)
    _register_error_pages(app)
    _register_template_helpers(app)

    from participation.cli import register_commands

    register_commands(app)
    app.after_request(_security_headers)
    _deliver_mail_in_process(app)
    logs.configure(app)
    return app


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


def _security_headers(response):
    """Everything is served from this site, so the browser may refuse anything else."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    return response


def _deliver_mail_in_process(app: Flask) -> None:
    """In development the serving process delivers the outbox itself (services.mail), started
    by the first request so that `flask db upgrade`, `flask seed` and other commands do not."""
    if not app.config.get("MAIL_SEND_IN_PROCESS_SECONDS"):
        return
    from participation.services.mail import start_sender

    @app.before_request
    def start_mail_sender() -> None:
        start_sender(app)


def select_locale() -> str:
    """The user's own setting, then the language a visitor chose in this session, then the best
    match of the browser's Accept-Language, then the default language (German).

    Outside a request (flask commands, services called from scripts) the default language.
    """
    from flask import current_app

    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    languages = current_app.config["LANGUAGES"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    if session.get("lang") in languages:
        return session["lang"]
    return (
        request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def _init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(PROJECT_ROOT, "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(PROJECT_ROOT, "translations"),
    )
    bootstrap.init_app(app)
    limiter.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to continue.")
    login_manager.login_message_category = "info"

    from participation.services.accounts import login_sessions

    # The cookies hold the account id and the token of a login session (User.get_id): a
    # blocked or deleted account, or a login that was ended, is a visitor at its next request.
    login_manager.user_loader(login_sessions.user_for)

    @app.before_request
    def load_the_login_first() -> None:
        """Load the account before the view works, so the loader's note of the visit is
        committed alone, never halfway through a view's changes."""
        if request.endpoint != "static":
            current_user._get_current_object()


def _register_blueprints(app: Flask) -> None:
    from participation.blueprints import (
        accounts,
        ballots,
        comments,
        consultations,
        exports,
        follows,
        initiatives,
        main,
        moderation,
        notifications,
        profiles,
        proposals,
        results,
        votes,
    )

    for area in (
        main, accounts, consultations, proposals, comments, votes, ballots, moderation, results,
        initiatives, exports, profiles, follows, notifications,
    ):  # fmt: skip
        app.register_blueprint(area.bp)


def _register_error_pages(app: Flask) -> None:
    from participation.services.errors import NotAllowed, NotFound

    def render_error(code: int, message: str | None = None):
        return render_template("errors/error.html", code=code, message=message), code

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code in ERROR_CODES:
            return render_error(error.code)
        return error

    @app.errorhandler(NotFound)
    def domain_not_found(error: NotFound):
        return render_error(404, str(error.message))

    @app.errorhandler(NotAllowed)
    def domain_not_allowed(error: NotAllowed):
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return render_error(403, str(error.message))

    @app.errorhandler(500)
    def server_error(error: Exception):
        db.session.rollback()
        return render_error(500)

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400, str(_l("The form has expired. Please reload the page and try again."))
        )


def _register_template_helpers(app: Flask) -> None:
    from participation.models import Phase
    from participation.services.consultations import phases
    from participation.services.markup import render_markdown, render_plaintext

    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(
        phase_labels=phases.PHASE_LABELS, languages=formatting.LANGUAGE_NAMES
    )
    app.jinja_env.filters["markdown"] = render_markdown
    app.jinja_env.filters["plaintext"] = render_plaintext
    app.jinja_env.filters["phase_label"] = lambda value: phases.PHASE_LABELS[Phase(value)]
    app.jinja_env.filters["date"] = formatting.date
    app.jinja_env.filters["datetime"] = formatting.datetime
    app.jinja_env.filters["number"] = formatting.number
    app.jinja_env.filters["money"] = formatting.money
    app.jinja_env.filters["money_cents"] = formatting.money_cents
    # Replaces the one Flask-Babel installs, so that counts are formatted like other numbers.
    app.jinja_env.globals["ngettext"] = formatting.template_ngettext

    @app.context_processor
    def inject_globals() -> dict[str, Any]:
        from flask_babel import get_locale

        return {"current_locale": str(get_locale())}
