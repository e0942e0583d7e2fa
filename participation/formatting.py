"""Dates, numbers and money in the reader's locale (Babel through Flask-Babel)."""

from __future__ import annotations

from datetime import date as date_type
from datetime import datetime as datetime_type
from decimal import Decimal

from babel.numbers import format_currency
from flask_babel import format_date, format_datetime, format_decimal, get_locale, get_translations
from jinja2 import pass_context
from markupsafe import Markup

# Each language by its own name (never translated: a reader looks for their language in it).
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


def date(value: date_type | None, fmt: str = "long") -> str:
    return format_date(value, fmt) if value else ""


def datetime(value: datetime_type | None, fmt: str = "medium") -> str:
    return format_datetime(value, fmt) if value else ""


def number(value: int | float | None) -> str:
    return format_decimal(value) if value is not None else ""


def money(value: int | None, currency: str = "EUR") -> str:
    """Whole currency units, the way budgets are announced: 50.000 € / €50,000."""
    if value is None:
        return ""
    locale = get_locale()
    pattern = locale.currency_formats["standard"].pattern.split(";")[0].replace(".00", "")
    return format_currency(value, currency, format=pattern, locale=locale, currency_digits=False)


def money_cents(cents: int | None, currency: str = "EUR") -> str:
    """An amount in cents, with them shown: 16,67 € / €16.67 (what one supporter paid)."""
    if cents is None:
        return ""
    return format_currency(Decimal(cents) / 100, currency, locale=get_locale())


@pass_context
def template_ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
    """`ngettext` in templates, with the count written the reader's way: "1.234 Unterstützungen",
    "1,234 supports" (Jinja's own would print 1234). The form is still chosen by the number."""
    variables.setdefault("num", number(num))
    text = get_translations().ungettext(singular, plural, num).replace("%(num)d", "%(num)s")
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables
