"""Flask-WTF forms, one module per area, each built on `Form`."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import FileField, HiddenField, IntegerField, TextAreaField
from wtforms.validators import NumberRange, Optional

from participation.services.errors import ValidationFailed
from participation.services.limits import (
    CONTROL_CHARACTERS_MESSAGE,
    has_control_characters,
    without_control_characters,
)


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


class Form(FlaskForm):
    """The base of every form of the project: a new form must inherit from it, not from
    FlaskForm.

    From a request it reads only what a field can hold: the form's texts, a file part only for a
    file field (a file sent for a text field is a missing field), and a JSON body only if it is
    an object of texts (anything else is an empty form). Control characters (services.limits)
    are refused in every field, next to the field or, for a hidden one, above the form; the
    text is shown again without them, so that no NUL is ever written into a page.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form: FlaskForm, formdata: Any) -> Any:
            # Anything but a multidict (or None) is Flask-WTF's "read the request" default.
            if formdata is None or hasattr(formdata, "getlist") or hasattr(formdata, "getall"):
                return super().wrap_formdata(form, formdata)
            return _sent_fields(form) if form.is_submitted() else None

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        return self._refuse_control_characters() and valid

    def _refuse_control_characters(self) -> bool:
        """Whether every field is free of them; refused fields get the message and lose them."""
        clean = True
        message = str(CONTROL_CHARACTERS_MESSAGE)
        for field in self:
            if field.name == self.meta.csrf_field_name:
                continue  # a wrong token is refused as such
            multiline = isinstance(field, TextAreaField)
            sent = [
                value for value in getattr(field, "raw_data", None) or () if isinstance(value, str)
            ]
            if not any(has_control_characters(value, multiline=multiline) for value in sent):
                continue
            clean = False
            field.raw_data = [
                without_control_characters(value, multiline=multiline) for value in sent
            ]
            if isinstance(field.data, str):
                field.data = without_control_characters(field.data, multiline=multiline)
            if not isinstance(field, HiddenField):
                field.errors = [*field.errors, message]
            elif message not in self.form_errors:
                self.form_errors.append(message)
        return clean


def _sent_fields(form: FlaskForm) -> MultiDict[str, Any] | None:
    """The fields a request sent for `form`; None when it sent none (as Flask-WTF does)."""
    fields = MultiDict(request.form)
    for field in form:
        if isinstance(field, FileField) and field.name in request.files:
            fields.setlist(field.name, request.files.getlist(field.name))
    if not fields and request.is_json:
        fields = _json_texts(request.get_json(silent=True))
    return fields or None


def _json_texts(body: Any) -> MultiDict[str, str]:
    """The members of a JSON object whose values are texts or lists of texts."""
    texts: MultiDict[str, str] = MultiDict()
    if isinstance(body, dict):
        for name, value in body.items():
            values = value if isinstance(value, list) else [value]
            if values and all(isinstance(item, str) for item in values):
                texts.setlist(name, values)
    return texts
