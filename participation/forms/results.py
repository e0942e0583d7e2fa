from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length

from participation.forms import Form, optional_number
from participation.services import budgeting
from participation.services.initiatives import MAX_RESPONSIBLE_BODY_LENGTH
from participation.services.results import MAX_RULE_VALUE, RULE_LABELS, WinnerRule


class WinnersForm(Form):
    rule = RadioField(
        _l("Rule"),
        validators=[DataRequired(_l("Please choose a rule."))],
        default=WinnerRule.TOP_N.value,
    )
    value = optional_number(
        _l("Number N"),
        description=_l(
            "How many proposals (top N), or how many supports at least (threshold). "
            "Not needed for the budget rule."
        ),
        minimum=0,
        maximum=MAX_RULE_VALUE,
        message=_l("Please enter a whole number from 0 to 1,000,000,000."),
    )

    def set_consultation(self, consultation) -> None:
        """The budget rule is offered only when there is a budget to fill."""
        rules = [WinnerRule.TOP_N, WinnerRule.THRESHOLD]
        if consultation.budget is not None:
            rules.append(WinnerRule.BUDGET_GREEDY)
        self.rule.choices = [SelectChoice(rule.value, RULE_LABELS[rule]) for rule in rules]


class SelectionForm(Form):
    """Add one proposal to the winners (selected=1) or take it out (selected=0); against the
    applied rule with a public reason, checked by services.results."""

    selected = HiddenField(validators=[AnyOf(("0", "1"))])
    reason = TextAreaField(
        _l("Public reason"),
        description=_l("Shown on the results page next to the proposal."),
        render_kw={"rows": 2, "maxlength": budgeting.results.MAX_REASON_LENGTH},
    )


class BudgetActionForm(Form):
    """A button on the budget results (compute, clear an override): a POST with a CSRF token."""


class OverrideForm(Form):
    """Fund a project the rule left out (fund=1) or drop one it chose (fund=0), with a reason.

    The reason's length is checked by services.budgeting.results, next to the rule it belongs to.
    """

    fund = HiddenField(validators=[AnyOf(("0", "1"))])
    reason = TextAreaField(
        _l("Public reason"),
        description=_l("Shown on the results page next to the rule's own outcome."),
        render_kw={"rows": 2, "maxlength": budgeting.results.MAX_REASON_LENGTH},
    )


class PromoteFundedForm(Form):
    responsible_body = StringField(
        _l("Responsible organisation or department"),
        description=_l(
            "Optional: the same for every new initiative; you can change it on each initiative "
            "later."
        ),
        render_kw={"maxlength": MAX_RESPONSIBLE_BODY_LENGTH},
    )


class BallotCodeForm(Form):
    """A ballot code typed by anybody, to see that ballot (budgeting.ballots.find_by_code)."""

    code = StringField(
        _l("Ballot code"),
        description=_l("12 letters and digits, such as K7QF-M2XD-9P4T; dashes are optional."),
        validators=[DataRequired(_l("Please enter a ballot code.")), Length(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"},
    )
