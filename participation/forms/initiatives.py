from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from participation.forms import Form, optional_number
from participation.models import InitiativeStatus
from participation.services.initiatives import MAX_BUDGET, STATUS_LABELS

PROGRESS_RANGE = NumberRange(
    min=0, max=100, message=_l("The progress must be between 0 and 100 percent.")
)


def status_choices() -> list[SelectChoice]:
    return [SelectChoice(status.value, STATUS_LABELS[status]) for status in InitiativeStatus]


class InitiativeForm(Form):
    title = StringField(
        _l("Title"),
        description=_l("Leave empty to use the title of the proposal."),
        validators=[Optional(), Length(max=160)],
    )
    allocated_budget = optional_number(
        _l("Allocated budget in euros (optional)"),
        description=_l("Leave empty while the budget is not decided yet."),
        minimum=0,
        maximum=MAX_BUDGET,
        message=_l("Please enter a budget between 0 and 2,000,000,000."),
    )
    responsible_body = StringField(
        _l("Responsible body"),
        description=_l("The department or organisation that carries out the initiative."),
        validators=[DataRequired(_l("Please name the responsible body.")), Length(max=200)],
    )
    status = SelectField(
        _l("Status"), choices=status_choices(), default=InitiativeStatus.PLANNED.value
    )
    progress_percent = IntegerField(
        _l("Progress in percent"),
        description=_l("From 0 to 100. A completed initiative is at 100."),
        default=0,
        validators=[InputRequired(_l("Please enter the progress in percent.")), PROGRESS_RANGE],
        render_kw={"inputmode": "numeric", "min": 0, "max": 100},
    )


class InitiativeUpdateForm(Form):
    happened_on = DateField(
        _l("Date"), default=date.today, validators=[InputRequired(_l("Please enter the date."))]
    )
    body = TextAreaField(
        _l("What happened"),
        validators=[DataRequired(_l("Please describe what happened.")), Length(max=5000)],
        render_kw={"rows": 5},
    )
    status = SelectField(
        _l("New status (optional)"),
        choices=[SelectChoice("", _l("– unchanged –")), *status_choices()],
        default="",
    )
    progress_percent = IntegerField(
        _l("New progress in percent (optional)"),
        description=_l("Leave empty to keep the progress as it is."),
        validators=[Optional(), PROGRESS_RANGE],
        render_kw={"inputmode": "numeric", "min": 0, "max": 100},
    )
