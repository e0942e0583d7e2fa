"""The budget ballot: a checkbox per project, and two buttons (check, submit); the voting code
of the town's letter, and the ballot that carries it."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SelectMultipleField, StringField, ValidationError
from wtforms.validators import DataRequired, Length

from participation.forms import Form
from participation.services.budgeting import electorate

CHECK = "check"
SUBMIT = "submit"
# A voting code is 19 characters with its dashes; room for spaces people type around it.
MAX_CODE_LENGTH = 60


class BallotForm(Form):
    # Checked by budgeting.ballots, which says what is wrong with a project that is not on the
    # ballot (withdrawn, hidden); the template draws the checkboxes grouped by category.
    projects = SelectMultipleField(validate_choice=False)
    # The button that sent the form: "check" only adds up, "submit" stores the ballot.
    action = StringField(default=SUBMIT)

    @property
    def only_checking(self) -> bool:
        return self.action.data == CHECK


class VotingCodeForm(Form):
    """The voting code of the town's letter (budgeting.ballots.ballot_for_code says what is
    wrong with it)."""

    code = StringField(
        _l("Voting code"),
        description=_l(
            "16 letters and digits from your letter, such as K7QF-M2XD-9P4T-W3R8; dashes and "
            "spaces are optional."
        ),
        validators=[
            DataRequired(_l("Please enter the voting code from your letter.")),
            Length(max=MAX_CODE_LENGTH),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )


class CodeBallotForm(BallotForm):
    """The ballot of a voting code: the code travels with the form, in a hidden field (never in
    the session or a cookie)."""

    code = HiddenField(validators=[Length(max=MAX_CODE_LENGTH)])


class RegisterClaimForm(Form):
    """The details of the town's letter that show a resident is on the voter register."""

    identifier = StringField(
        _l("Identifier"),
        description=_l("As it is printed in your letter from the town."),
        validators=[
            DataRequired(_l("Please enter the identifier from your letter.")),
            Length(max=electorate.MAX_IDENTIFIER_LENGTH),
        ],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    date_of_birth = StringField(
        _l("Date of birth"),
        description=_l("For example 17.05.1990."),
        validators=[DataRequired(_l("Please enter your date of birth."))],
        render_kw={"autocomplete": "bday"},
    )

    def validate_date_of_birth(self, field: StringField) -> None:
        if electorate.parse_birth_date(field.data) is None:
            raise ValidationError(
                _l("Please enter your date of birth as day, month and year, such as 17.05.1990.")
            )

    @property
    def birth_date(self) -> date | None:
        return electorate.parse_birth_date(self.date_of_birth.data)


class RegisterImportForm(Form):
    """The town's voter register as a CSV file, for moderators."""

    file = FileField(
        _l("CSV file of the voter register"),
        description=_l(
            "A header row with the columns identifier, date_of_birth (1990-05-17 or "
            "17.05.1990) and district (optional); separated by commas or semicolons, UTF-8."
        ),
        validators=[FileRequired(_l("Please choose the file of the voter register."))],
        render_kw={"accept": ".csv,text/csv"},
    )
