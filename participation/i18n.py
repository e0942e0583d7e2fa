"""Languages: which one a page is in (German by default, English first-class), and where the
catalogs are."""

from __future__ import annotations

import os

from flask import Flask, current_app, has_request_context, request, session
from flask_login import current_user

from participation.extensions import babel


def select_locale() -> str:
    """The user's own setting, then the language a visitor chose in this session, then the best
    match of the browser's Accept-Language, then the default language (German).

    Outside a request (flask commands, services called from scripts) the default language.
    """
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


def install(app: Flask, project_root: str) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(project_root, "translations"),
    )
