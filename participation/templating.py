"""What every template may use besides the view's own values: filters that format numbers, money,
dates and Markdown in the reader's language, the phase labels and the current language."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import get_locale

from participation import formatting
from participation.models import Phase
from participation.services import markup
from participation.services.consultations import phases

FILTERS = {
    "markdown": markup.render_markdown,
    "plaintext": markup.render_plaintext,
    "phase_label": lambda value: phases.PHASE_LABELS[Phase(value)],
    "date": formatting.date,
    "datetime": formatting.datetime,
    "number": formatting.number,
    "money": formatting.money,
    "money_cents": formatting.money_cents,
}


def _current_locale() -> dict[str, Any]:
    return {"current_locale": str(get_locale())}


def install(app: Flask) -> None:
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.globals.update(
        phase_labels=phases.PHASE_LABELS, languages=formatting.LANGUAGE_NAMES
    )
    app.jinja_env.filters.update(FILTERS)
    # Replaces the one Flask-Babel installs, so that counts are formatted like other numbers.
    app.jinja_env.globals["ngettext"] = formatting.template_ngettext
    app.context_processor(_current_locale)
