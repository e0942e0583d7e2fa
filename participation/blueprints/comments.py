"""Comments and replies on a proposal page. The rules live in services.comments; visitors are
sent to log in and come back to the proposal's comments."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user

from participation.forms import show_errors
from participation.forms.comments import CommentForm, DeleteCommentForm, ReplyForm
from participation.models import Comment, Proposal
from participation.services import comments, proposals
from participation.services.errors import DomainError, NotAllowed, NotFound, ValidationFailed

bp = Blueprint("comments", __name__)


def _proposal_url(proposal_id: int, comment_id: int | None = None) -> str:
    anchor = f"comment-{comment_id}" if comment_id else "comments"
    return url_for("proposals.show", proposal_id=proposal_id, _anchor=anchor)


def citizen_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Visitors log in first and then return to the proposal (a POST address cannot be
    returned to with GET, so `next` is the proposal page, not this view)."""

    @wraps(view)
    def wrapped(**kwargs: Any) -> Any:
        if current_user.is_authenticated:
            return view(**kwargs)
        if "proposal_id" in kwargs:
            proposal_id = proposals.get_visible(kwargs["proposal_id"], None).id
        else:
            proposal_id = comments.get(kwargs["comment_id"], None).proposal_id
        flash(_("Please log in to comment."), "info")
        return redirect(url_for("accounts.login", next=_proposal_url(proposal_id)))

    return wrapped


NEW_COMMENT_PREFIX = "comment"  # field ids of their own on a page that has other forms


def new_comment_form() -> CommentForm:
    return CommentForm(formdata=None, prefix=NEW_COMMENT_PREFIX)


def reply_form(comment: Comment) -> ReplyForm:
    return ReplyForm(formdata=None, prefix=_reply_prefix(comment.id))


def _reply_prefix(comment_id: int) -> str:
    """One reply form per top-level comment on a page, so each needs its own field ids."""
    return f"reply-{comment_id}"


@bp.app_context_processor
def comment_form_factories() -> dict[str, Any]:
    """Empty forms for the thread on the proposal page, created only where they are shown."""
    return {"new_comment_form": new_comment_form, "reply_form": reply_form}


def _write(
    form: CommentForm,
    save: Callable[[str], Comment],
    proposal: Proposal,
    done: str,
    page: Callable[[], str],
) -> ResponseReturnValue:
    """Validate, hand the text to the service, and land on the stored comment."""
    if form.validate_on_submit():
        try:
            comment = save(form.body.data or "")
        except ValidationFailed as error:
            show_errors(form, error)
        except (NotAllowed, NotFound):
            raise
        except DomainError as error:
            flash(str(error.message), "danger")
            return redirect(_proposal_url(proposal.id))
        else:
            flash(done, "success")
            return redirect(_proposal_url(proposal.id, comment.id))
    return page(), 422


def _add(form, proposal, reply_to, action: str, done: str):
    """Publish a comment (or a reply to `reply_to`) from the form posted to `action`."""
    return _write(
        form,
        lambda body: comments.add(proposal, current_user, body, reply_to=reply_to),
        proposal,
        done,
        lambda: render_template(
            "comments/new.html",
            form=form,
            proposal=proposal,
            consultation=proposal.consultation,
            reply_to=reply_to,
            action=action,
        ),
    )


@bp.post("/proposals/<int:proposal_id>/comments")
@citizen_required
def create(proposal_id: int):
    proposal = proposals.get_visible(proposal_id, current_user)
    return _add(
        CommentForm(prefix=NEW_COMMENT_PREFIX),
        proposal,
        None,
        url_for(".create", proposal_id=proposal.id),
        _("Thank you! Your comment has been published."),
    )


@bp.post("/comments/<int:comment_id>/replies")
@citizen_required
def reply(comment_id: int):
    parent = comments.get(comment_id, current_user)
    return _add(
        ReplyForm(prefix=_reply_prefix(parent.id)),
        parent.proposal,
        parent,
        url_for(".reply", comment_id=parent.id),
        _("Thank you! Your reply has been published."),
    )


@bp.route("/comments/<int:comment_id>/edit", methods=["GET", "POST"])
@citizen_required
def edit(comment_id: int):
    comment = comments.get(comment_id, current_user)
    proposal = comment.proposal
    try:
        comments.check_editable(comment, current_user)
    except (NotAllowed, NotFound):
        raise
    except DomainError as error:
        flash(str(error.message), "warning")
        return redirect(_proposal_url(proposal.id, comment.id))
    form = CommentForm(data={"body": comment.body})
    if not form.is_submitted():
        return _render_edit(form, comment)
    return _write(
        form,
        lambda body: comments.edit(comment, current_user, body),
        proposal,
        _("Your changes have been saved."),
        lambda: _render_edit(form, comment),
    )


def _render_edit(form: CommentForm, comment: Comment) -> str:
    return render_template(
        "comments/edit.html",
        form=form,
        comment=comment,
        proposal=comment.proposal,
        consultation=comment.proposal.consultation,
        edit_minutes=comments.EDIT_MINUTES,
    )


@bp.post("/comments/<int:comment_id>/delete")
@citizen_required
def delete(comment_id: int):
    comment = comments.get(comment_id, current_user)
    proposal_id = comment.proposal_id
    if DeleteCommentForm().validate_on_submit():
        try:
            comments.delete(comment, current_user)
        except (NotAllowed, NotFound):
            raise
        except DomainError as error:
            flash(str(error.message), "danger")
        else:
            flash(_("Your comment has been deleted."), "info")
    return redirect(_proposal_url(proposal_id))
