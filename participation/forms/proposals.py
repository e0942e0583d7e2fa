from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from participation.forms import Form, optional_number


class ProposalForm(Form):
    title = StringField(
        _l("Title"),
        description=_l("A short name for your idea."),
        validators=[DataRequired(_l("Please enter a title.")), Length(max=160)],
    )
    body = TextAreaField(
        _l("Description"),
        description=_l(
            "What should be done, where, and why? You can use Markdown: **bold**, *italic*, "
            "lists and links."
        ),
        validators=[DataRequired(_l("Please describe your proposal.")), Length(max=20000)],
        render_kw={"rows": 10},
    )
    category_id = SelectField(_l("Category"), coerce=lambda v: int(v) if v else None)
    estimated_cost = optional_number(
        _l("Estimated cost in euros"),
        minimum=0,
        maximum=2_000_000_000,
        message=_l("Please enter a cost between 0 and 2,000,000,000."),
    )

    def set_consultation(self, consultation) -> None:
        self.category_id.choices = [SelectChoice("", _l("– choose a category –"))] + [
            SelectChoice(str(category.id), category.name) for category in consultation.categories
        ]
        if not consultation.categories:
            self.category_id.render_kw = {"disabled": True}
        if consultation.needs_cost:
            self.estimated_cost.label.text = _l("Estimated cost in euros (required)")
            self.estimated_cost.flags.required = True


class WithdrawForm(Form):
    """Withdrawing is a POST with a CSRF token."""
