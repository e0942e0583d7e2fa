"""Following and no longer following proposals and consultations. The buttons are forms, so they
work without JavaScript; visitors are sent to log in and come back to the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from participation.models import Consultation, Proposal
from participation.services import consultations, follows, proposals

bp = Blueprint("follows", __name__)


@bp.app_context_processor
def follow_helpers() -> dict[str, Any]:
    return {"is_following": lambda subject: follows.is_following(current_user, subject)}


def _act(subject: Proposal | Consultation, page: str, action: Callable, message: str):
    if not current_user.is_authenticated:
        flash(_("Please log in to follow proposals and consultations."), "info")
        return redirect(url_for("accounts.login", next=page))
    action(current_user, subject)
    flash(message, "success")
    return redirect(page)


def _proposal(proposal_id: int) -> tuple[Proposal, str]:
    proposal = proposals.get_visible(proposal_id, current_user)
    return proposal, url_for("proposals.show", proposal_id=proposal.id)


def _consultation(slug: str) -> tuple[Consultation, str]:
    consultation = consultations.get_visible(slug, current_user)
    return consultation, url_for("consultations.show", slug=consultation.slug)


@bp.post("/proposals/<int:proposal_id>/follow")
def follow_proposal(proposal_id: int):
    return _act(
        *_proposal(proposal_id),
        follows.follow,
        _("You follow this proposal now: you get a notification when something happens to it."),
    )


@bp.post("/proposals/<int:proposal_id>/unfollow")
def unfollow_proposal(proposal_id: int):
    return _act(*_proposal(proposal_id), follows.unfollow, _("You no longer follow this proposal."))


@bp.post("/consultations/<slug>/follow")
def follow_consultation(slug: str):
    return _act(
        *_consultation(slug),
        follows.follow,
        _("You follow this consultation now: you get a notification when its phase changes."),
    )


@bp.post("/consultations/<slug>/unfollow")
def unfollow_consultation(slug: str):
    return _act(
        *_consultation(slug), follows.unfollow, _("You no longer follow this consultation.")
    )
