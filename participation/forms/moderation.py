from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, RadioField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from participation.forms import Form
from participation.models import Answer, ReportReason
from participation.services.moderation import (
    MAX_HIDDEN_REASON_LENGTH,
    MAX_REPORT_TEXT_LENGTH,
    REASON_LABELS,
    answers,
)


class ReportForm(Form):
    reason = RadioField(
        _l("What is wrong with it?"),
        choices=[SelectChoice(reason.value, label) for reason, label in REASON_LABELS.items()],
        validators=[DataRequired(_l("Please choose a reason."))],
    )
    text = TextAreaField(
        _l("Explanation"),
        description=_l("Optional, unless you chose “Something else”. Only the moderators read it."),
        validators=[Length(max=MAX_REPORT_TEXT_LENGTH)],
        render_kw={"rows": 4, "maxlength": MAX_REPORT_TEXT_LENGTH},
    )


class HideForm(Form):
    reason = TextAreaField(
        _l("Public reason"),
        description=_l("Shown to everyone in place of the content: “Hidden by moderation: …”."),
        validators=[
            DataRequired(_l("Please give a reason. It is shown in place of the content.")),
            Length(max=MAX_HIDDEN_REASON_LENGTH),
        ],
        render_kw={"rows": 3, "maxlength": MAX_HIDDEN_REASON_LENGTH},
    )
    next = HiddenField()


class ActionForm(Form):
    """A button that changes something (restore, dismiss, block): a POST with a CSRF token."""

    next = HiddenField()


class AnswerForm(Form):
    answer = RadioField(
        _l("Answer"),
        choices=[
            SelectChoice(answer.value, label) for answer, label in answers.ANSWER_LABELS.items()
        ],
        validators=[DataRequired(_l("Please choose an answer."))],
    )
    text = TextAreaField(
        _l("Public explanation"),
        description=_l(
            "Required unless the proposal is not answered yet. Everybody can read it on the "
            "proposal page."
        ),
        validators=[Length(max=answers.MAX_ANSWER_TEXT_LENGTH)],
        render_kw={"rows": 6, "maxlength": answers.MAX_ANSWER_TEXT_LENGTH},
    )


def answer_of(form: AnswerForm) -> Answer:
    return Answer(form.answer.data)


def reason_of(form: ReportForm) -> ReportReason:
    return ReportReason(form.reason.data)
