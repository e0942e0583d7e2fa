from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session
from flask_login import current_user

from participation.blueprints.access import safe_next_url
from participation.services import accounts, consultations

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    visible = consultations.list_visible(current_user)
    return render_template("main/index.html", consultations=visible)


@bp.post("/language")
def set_language():
    language = request.form.get("language", "")
    if language in current_app.config["LANGUAGES"]:
        session["lang"] = language
        if current_user.is_authenticated:
            accounts.set_locale(current_user, language)
    return redirect(safe_next_url())


@bp.get("/healthz")
def health():
    return {"status": "ok"}
