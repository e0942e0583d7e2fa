"""Operational logs: one line for every write a service makes, naming the action, who did it
and what it was done to, by id only (docs/architecture.md, "Logs": no password, token, code or
e-mail address in a log line; logs travel further than the database).

Each service module logs through `log = logging.getLogger(__name__)`, so the area packages give
one logger name per area (`participation.services.accounts`, `participation.services.budgeting`
…), all below Flask's own `participation` logger, which `configure` sets up: plain text in
development and testing, one JSON object per line in production (LOG_FORMAT), at LOG_LEVEL.
"""

from __future__ import annotations

import enum
import functools
import logging
import sys
import traceback
from typing import IO, Any, Protocol

from flask import Flask, request
from flask.logging import default_handler
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import inspect
from sqlalchemy.exc import DBAPIError, NoInspectionAvailable

ROOT_LOGGER = "participation"
FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# The keys every JSON line has, besides "time" (ISO 8601, UTC); the fields of an operation
# (action, actor_id, subject_id …) follow.
JSON_FIELDS = ("levelname", "name", "message")
JSON_NAMES = {"levelname": "level", "name": "logger"}


class _Handler(logging.StreamHandler):
    """The handler `configure` installs; writes to the stream it was given or, without one, to
    whatever sys.stderr is when a record comes (servers and test runners replace it)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(stream)
        self._given = stream

    @property
    def stream(self) -> IO[str]:
        return self._given if self._given is not None else sys.stderr

    @stream.setter
    def stream(self, value: IO[str]) -> None:
        """StreamHandler sets it in __init__; the stream given there is kept in `_given`."""


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter(
            list(JSON_FIELDS), rename_fields=JSON_NAMES, timestamp="time", json_ensure_ascii=False
        )
    if log_format == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise RuntimeError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {log_format!r}.")


def configure(app: Flask, stream: IO[str] | None = None) -> logging.Logger:
    """Set up the `participation` logger for the app: one handler, to stderr (or `stream`), in
    the app's LOG_FORMAT, and no copy of each line through the root logger. Run again (the
    factory runs once per app), it replaces what it installed before.

    In testing the records go on to the root logger, where pytest's caplog sees them, and no
    handler of its own is added unless a stream is given.

    Other libraries log through the root logger; outside testing it gets the same handler if
    nothing else set it up (as logging.basicConfig would), so that their lines have the format too.
    """
    handler = _Handler(stream)
    handler.setFormatter(formatter(app.config["LOG_FORMAT"]))
    level = logging.getLevelName(str(app.config["LOG_LEVEL"]).upper())
    if not isinstance(level, int):
        raise RuntimeError(f"LOG_LEVEL must be a level of Python's logging, not {level!r}.")
    logger = logging.getLogger(ROOT_LOGGER)
    for installed in [*logger.handlers]:
        if isinstance(installed, _Handler) or installed is default_handler:
            logger.removeHandler(installed)
    logger.setLevel(level)
    logger.propagate = app.testing
    if stream is not None or not app.testing:
        logger.addHandler(handler)
    if not app.testing:
        _configure_root(handler.formatter, level, stream)
    app.log_exception = functools.partial(_log_exception, app)
    return logger


def _log_exception(app: Flask, exc_info) -> None:
    """Flask's line for an error in a view, naming the endpoint where Flask names the path: a
    path may hold a token (a confirmation or reset link).

    A database error is told by its kind and where it happened, without its text: the
    database's own message may quote the row (PostgreSQL: `Key (email)=(…) already exists`).
    """
    where = f"Exception on {request.endpoint} [{request.method}]"
    error = exc_info[1]
    if isinstance(error, DBAPIError):
        frames = "".join(traceback.format_tb(exc_info[2]))
        kind = f"{type(error).__name__} ({type(error.orig).__name__})"
        app.logger.error("%s: %s\nTraceback (most recent call last):\n%s", where, kind, frames)
        return
    app.logger.error("%s", where, exc_info=exc_info)


def _configure_root(line_format: logging.Formatter, level: int, stream: IO[str] | None) -> None:
    """Unless something else (a server, a test runner) set up the root logger."""
    root = logging.getLogger()
    for installed in [*root.handlers]:
        if isinstance(installed, _Handler):
            root.removeHandler(installed)
    if not root.handlers:
        handler = _Handler(stream)
        handler.setFormatter(line_format)
        root.addHandler(handler)
        root.setLevel(level)


class _HasId(Protocol):
    id: int | None


Reference = int | _HasId | None


def _id(value: Reference, what: str) -> int | None:
    """An id, from an id or from a model; anything else (an address, a name) is refused, so that
    no caller can put one in a log line by mistake."""
    if value is not None and not isinstance(value, int):
        value = _model_id(value)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise TypeError(f"{what} must be an id or a model with an id, not {type(value).__name__}")


def _model_id(value: Any) -> Any:
    """A model's id without loading it: after a commit its columns are expired, and reading `id`
    would cost a query for every line."""
    try:
        identity = inspect(value).identity
    except NoInspectionAvailable:
        identity = None
    if identity is not None and len(identity) == 1:
        return identity[0]
    return getattr(value, "id", value)


def _detail(name: str, value: Any) -> int | bool | str | None:
    """An id, count, flag or enum's value; strings are refused (an address is a string)."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, enum.Enum) and isinstance(value.value, (str, int)):
        return value.value
    if not isinstance(value, (str, bytes)) and hasattr(value, "id"):
        return _id(value, name)
    raise TypeError(f"{name} must be an id, a count, a flag or an enum, not {type(value).__name__}")


def operation(
    log: logging.Logger,
    action: str,
    *,
    actor: Reference,
    subject: Reference,
    level: int = logging.INFO,
    **details: Any,
) -> None:
    """Log that `actor` (None: a visitor, the command line or the system) did `action` to
    `subject`, after the write succeeded: `proposal.submitted actor=12 subject=34
    consultation=5`. The fields are also the record's `action`, `actor_id`, `subject_id` and
    the details' names, which the JSON format writes as keys."""
    fields: dict[str, Any] = {
        "action": action,
        "actor_id": _id(actor, "actor"),
        "subject_id": _id(subject, "subject"),
    }
    for name, value in details.items():
        fields[name] = _detail(name, value)
    shown = [("actor", fields["actor_id"]), ("subject", fields["subject_id"])]
    shown += [(name, fields[name]) for name in details]
    text = " ".join(f"{name}={'-' if value is None else value}" for name, value in shown)
    log.log(level, "%s %s", action, text, extra=fields)
