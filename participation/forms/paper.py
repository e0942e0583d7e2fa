"""Entering one paper ballot: the sheet's voting code, or its batch and number, and a checkbox
per project as on the online ballot; discarding an entry of a mismatch."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectMultipleField, StringField

from participation.forms import Form, optional_number
from participation.services.budgeting import paper


class PaperEntryForm(Form):
    # Only one of code and batch+sheet is shown: the consultation's electorate decides; the
    # service says what is missing or wrong, next to the field.
    code = StringField(
        _l("Voting code on the sheet"),
        description=_l("As printed on the sheet, such as K7QF-M2XD-9P4T-W3R8."),
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
    batch = StringField(
        _l("Batch"),
        description=_l("The batch of sheets as written on its cover, up to 40 characters."),
        render_kw={"autocomplete": "off", "maxlength": paper.BATCH_MAX_LENGTH},
    )
    sheet = optional_number(
        _l("Sheet number"),
        description=_l("The number of the sheet within its batch."),
        minimum=1,
        maximum=paper.SHEET_MAX,
        message=_l("A sheet's number is a whole number from 1 to 1,000,000."),
    )
    # Checked by budgeting.paper like an online ballot (budgeting.ballots.summary).
    projects = SelectMultipleField(_l("Projects"), validate_choice=False)


class DiscardForm(Form):
    """Discard one staff member's entry of a sheet (the CSRF token only)."""
