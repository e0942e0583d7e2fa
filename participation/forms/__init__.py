"""Flask-WTF forms, one module per area."""

from __future__ import annotations

from flask_wtf import FlaskForm

from participation.services.errors import ValidationFailed


def show_errors(form: FlaskForm, error: ValidationFailed) -> None:
    """Put a service's refusals next to the fields they concern."""
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, str(message)]
        else:
            form.form_errors.append(str(message))
