"""The moderators' forms for voting codes: issuing a batch of letters, revoking the code of a
lost letter, and issuing a new letter in its place."""

from __future__ import annotations

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from participation.formatting import number
from participation.forms import Form
from participation.services import budgeting

MAX_CODES = budgeting.electorate.MAX_CODES_PER_CALL


class IssueCodesForm(Form):
    count = IntegerField(
        _l("Number of letters"),
        description=_l("From 1 to %(max)s codes at a time.", max=LazyString(number, MAX_CODES)),
        validators=[
            InputRequired(_l("Please enter how many codes to issue.")),
            NumberRange(
                min=1,
                max=MAX_CODES,
                message=_l("Please enter a number between 1 and %(max)d.", max=MAX_CODES),
            ),
        ],
        render_kw={"inputmode": "numeric", "min": 1},
    )
    district = StringField(
        _l("District (optional)"),
        description=_l("Printed on the letters and counted separately, for example “Altstadt”."),
        validators=[Optional(), Length(max=budgeting.electorate.MAX_DISTRICT_LENGTH)],
    )


class CodeForm(Form):
    """The code of a lost letter, as the moderator reads it from the resident."""

    code = StringField(
        _l("Voting code"),
        description=_l("As printed on the letter, for example K7QF-M2XD-9P4T-W3R8."),
        validators=[DataRequired(_l("Please enter the voting code."))],
        render_kw={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"},
    )
