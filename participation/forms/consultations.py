from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from participation.forms import Form, optional_number
from participation.models import Electorate, TallyRule, VotingMethod
from participation.services import budgeting
from participation.services.consultations import MAX_BALLOT_PROJECTS


def _projects_on_a_ballot(label: LazyString, description: LazyString):
    """An optional bound on the number of projects a budget ballot holds."""
    return optional_number(
        label,
        description=description,
        minimum=1,
        maximum=MAX_BALLOT_PROJECTS,
        message=_l("Please enter a number between 1 and %(max)d.", max=MAX_BALLOT_PROJECTS),
    )


class ConsultationForm(Form):
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Please enter a title.")), Length(max=160)]
    )
    summary = TextAreaField(
        _l("Summary"),
        description=_l("One or two sentences shown in the list of consultations."),
        validators=[Length(max=500)],
        render_kw={"rows": 2},
    )
    description = TextAreaField(
        _l("Description"),
        description=_l(
            "What is this consultation about, who decides, what happens with the results? "
            "You can use Markdown: **bold**, *italic*, lists and links."
        ),
        validators=[Length(max=20000)],
        render_kw={"rows": 8},
    )
    categories = TextAreaField(
        _l("Categories"),
        description=_l("One category per line, for example “Mobility” or “Green spaces”."),
        render_kw={"rows": 4},
    )
    voting_method = RadioField(
        _l("Voting method"),
        choices=[
            SelectChoice(
                VotingMethod.SUPPORT.value, _l("Support: citizens support the proposals they like")
            ),
            SelectChoice(
                VotingMethod.BUDGET.value,
                _l("Budget: citizens choose projects that together fit the budget"),
            ),
        ],
        default=VotingMethod.SUPPORT.value,
        validators=[DataRequired()],
    )
    budget = optional_number(
        _l("Budget (optional)"),
        description=_l("In whole euros. Required for the budget voting method."),
        minimum=1,
        maximum=2_000_000_000,
        message=_l("The budget must be a positive amount."),
    )
    max_supports = optional_number(
        _l("At most this many supports per person"),
        description=_l(
            "Optional, for the support voting method: how many proposals each person may "
            "support. Leave empty for no limit."
        ),
        minimum=1,
        maximum=10_000,
        message=_l("Please enter a number between 1 and 10,000."),
    )
    # Budget ballots (the budget voting method only); frozen once voting opens.
    ballot_min_projects = _projects_on_a_ballot(
        _l("At least this many projects on a ballot"),
        _l("Optional. Leave empty if a ballot may hold a single project."),
    )
    ballot_max_projects = _projects_on_a_ballot(
        _l("At most this many projects on a ballot"),
        _l("Optional. Leave empty for no limit other than the budget."),
    )
    ballot_max_share = optional_number(
        _l("Share of the budget one ballot may use, in percent"),
        description=_l(
            "Optional, from 1 to 100. Leave empty to let every ballot use the whole budget."
        ),
        minimum=1,
        maximum=100,
        message=_l("Please enter a percentage between 1 and 100."),
    )
    tally_rule = SelectField(
        _l("Counting rule"),
        description=_l(
            "How the ballots decide which projects are funded. Citizens see the rule, "
            "explained in plain words, on the consultation page."
        ),
        choices=[
            SelectChoice(rule.value, budgeting.results.RULE_LABELS[rule]) for rule in TallyRule
        ],
        default=TallyRule.GREEDY.value,
        validators=[DataRequired()],
    )
    min_approvals = optional_number(
        _l("Approvals a project needs at least to be funded"),
        description=_l("Optional. Projects chosen on fewer ballots are not funded by any rule."),
        minimum=1,
        maximum=10_000_000,
        message=_l("Please enter a number of at least 1."),
    )
    # Who may vote; frozen once voting opens.
    electorate = RadioField(
        _l("Who may vote"),
        description=_l(
            "Announced on the consultation page; it can only be changed before voting opens. "
            "Moderators print the voting codes for the letters on the page “Voting codes”."
        ),
        choices=[
            SelectChoice(Electorate.OPEN.value, _l("Everyone with a confirmed account")),
            SelectChoice(
                Electorate.VOTING_CODES.value,
                _l(
                    "Residents with a voting code from a letter, no account needed "
                    "(budget voting method only)"
                ),
            ),
            SelectChoice(
                Electorate.REGISTER.value,
                _l("Residents on the voter register, with a confirmed account"),
            ),
        ],
        default=Electorate.OPEN.value,
        validators=[DataRequired()],
    )
    min_voting_age = optional_number(
        _l("Minimum age on the day voting opens"),
        description=_l("Optional, for the voter register only, for example 16."),
        minimum=1,
        maximum=120,
        message=_l("Please enter an age between 1 and 120."),
    )
    collecting_starts_on = DateField(_l("Collecting proposals from"), validators=[Optional()])
    voting_starts_on = DateField(_l("Voting from"), validators=[Optional()])
    voting_ends_on = DateField(_l("Voting until"), validators=[Optional()])
    results_on = DateField(_l("Results expected on"), validators=[Optional()])


CONFIRMED = "yes"


class PhaseForm(Form):
    """Move to `to_phase`; only the confirmation page sends `confirmed`, so a move is never
    one click away from the consultation page."""

    to_phase = HiddenField(validators=[DataRequired()])
    confirmed = HiddenField()
