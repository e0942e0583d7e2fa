"""The application's routes as the tests that walk them see them: read at collection time from a
throwaway app (no database is opened), so that a new route is covered without editing a test."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from urllib.parse import quote

from werkzeug.routing import Rule

from participation import create_app

# The placeholders of a rule: <name>, <converter:name>, <converter(arguments):name>.
PLACEHOLDER = re.compile(
    r"<(?:(?P<converter>[a-zA-Z_][a-zA-Z0-9_]*)(?:\((?P<arguments>.*?)\))?:)?"
    r"(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)>"
)
IGNORED_METHODS = {"HEAD", "OPTIONS"}  # answered by Flask itself for every rule


@cache
def throwaway_rules() -> tuple[Rule, ...]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return tuple(sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)))


def rule_key(rule: Rule) -> str:
    """How a test names a rule: its endpoint and its pattern (an endpoint may have several)."""
    return f"{rule.endpoint} {rule.rule}"


def methods(rule: Rule) -> list[str]:
    return sorted(rule.methods - IGNORED_METHODS)


def placeholders(rule: Rule) -> list[tuple[str, str]]:
    """(name, converter) of each placeholder in the rule's pattern; "default" when none is named."""
    return [
        (match["name"], match["converter"] or "default")
        for match in PLACEHOLDER.finditer(rule.rule)
    ]


def build_path(rule: Rule, value_of: Callable[[str, str], str]) -> str:
    """The rule's pattern with each placeholder replaced by `value_of(name, converter)`, quoted
    as a browser would send it."""

    def replace(match: re.Match[str]) -> str:
        value = value_of(match["name"], match["converter"] or "default")
        safe = "/" if match["converter"] == "path" else ""
        return quote(value, safe=safe)

    return PLACEHOLDER.sub(replace, rule.rule)
