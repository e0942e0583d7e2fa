from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from participation.forms import Form
from participation.services.comments import MAX_BODY_LENGTH


class CommentForm(Form):
    """A comment or a reply; the replies of one page use a prefix each, so ids stay unique."""

    body = TextAreaField(
        _l("Your comment"),
        description=_l(
            "Plain text, at most %(count)d characters. Links starting with https:// "
            "become clickable.",
            count=MAX_BODY_LENGTH,
        ),
        validators=[
            DataRequired(_l("Please write a comment.")),
            Length(
                max=MAX_BODY_LENGTH,
                message=_l(
                    "A comment may have at most %(count)d characters.", count=MAX_BODY_LENGTH
                ),
            ),
        ],
        render_kw={"rows": 4, "maxlength": MAX_BODY_LENGTH},
    )


class ReplyForm(CommentForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.body.label.text = _l("Your reply")


class DeleteCommentForm(Form):
    """Deleting is a POST with a CSRF token."""
