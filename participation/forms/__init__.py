"""Flask-WTF forms, one module per area."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional

from participation.services.errors import ValidationFailed


def show_errors(form: FlaskForm, error: ValidationFailed) -> None:
    """Put a service's refusals next to the fields they concern."""
    for name, message in error.errors.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, str(message)]
        else:
            form.form_errors.append(str(message))


def optional_number(label, *, minimum: int, maximum: int, message, description="") -> IntegerField:
    """A whole number that may be left empty, from `minimum` to `maximum`, typed on a
    numeric keypad; `message` when it is out of range."""
    return IntegerField(
        label,
        description=description,
        validators=[Optional(), NumberRange(min=minimum, max=maximum, message=message)],
        render_kw={"inputmode": "numeric", "min": minimum},
    )
