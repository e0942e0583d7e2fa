"""Domain errors that views turn into messages in the user's language."""

from __future__ import annotations

from flask_babel import LazyString


class DomainError(Exception):
    """A rule refused the action; `message` says why, `field` names the form field if any."""

    def __init__(self, message: str | LazyString, field: str | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.field = field


class ValidationFailed(DomainError):
    """Several fields were refused at once; `errors` maps field names to messages."""

    def __init__(self, errors: dict[str, str | LazyString]) -> None:
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, first_field)
        self.errors = errors


class NotAllowed(DomainError):
    """The actor may not do this (turned into 403)."""


class NotFound(DomainError):
    """The subject does not exist or is not visible to the actor (turned into 404)."""


class NotConfirmed(NotAllowed):
    """The actor has not confirmed their e-mail address yet (403, with a way to a new link)."""


class InvalidLink(DomainError):
    """A link from an e-mail that is forged, expired or already used (400)."""
