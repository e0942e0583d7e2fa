"""The budget ballot: a checkbox per project, and two buttons (check, submit)."""

from __future__ import annotations

from wtforms import SelectMultipleField, StringField

from participation.forms import Form

CHECK = "check"
SUBMIT = "submit"


class BallotForm(Form):
    # Checked by budgeting.ballots, which says what is wrong with a project that is not on the
    # ballot (withdrawn, hidden); the template draws the checkboxes grouped by category.
    projects = SelectMultipleField(validate_choice=False)
    # The button that sent the form: "check" only adds up, "submit" stores the ballot.
    action = StringField(default=SUBMIT)

    @property
    def only_checking(self) -> bool:
        return self.action.data == CHECK
