"""The budget ballot: a checkbox per project, and two buttons (check, submit); the voting code
of the town's letter, and the ballot that carries it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length

from participation.forms import Form

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
