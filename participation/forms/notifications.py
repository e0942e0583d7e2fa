from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from participation.forms import Form
from participation.services.notifications import EMAIL_FREQUENCY_LABELS


class EmailFrequencyForm(Form):
    email_frequency = RadioField(
        _l("E-mails about your notifications"),
        choices=[
            SelectChoice(frequency.value, label)
            for frequency, label in EMAIL_FREQUENCY_LABELS.items()
        ],
        validators=[DataRequired(_l("Please choose how often you want an e-mail."))],
    )
    # Shown to moderators only (and only taken from them).
    report_mails = BooleanField(
        _l("E-mail me right away whenever somebody reports a proposal or comment"),
        description=_l("The mail names the consultation and the reason, with a link to the queue."),
    )
