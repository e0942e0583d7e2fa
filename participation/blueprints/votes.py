"""Supporting proposals and withdrawing supports. The rules live in services.votes; visitors
are sent to log in and come back to the proposal. A request that asks for JSON (the small
script in static/js) gets the new state instead of a redirect."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, flash, g, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from participation.blueprints.access import safe_next_url
from participation.models import Proposal
from participation.services import proposals, votes
from participation.services.errors import DomainError, NotAllowed
from participation.services.votes import SupportState

bp = Blueprint("votes", __name__)


def citizen_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Visitors log in first and then return to the proposal page (a POST address cannot be
    returned to with GET, so `next` is the proposal, not this view)."""

    @wraps(view)
    def wrapped(proposal_id: int) -> Any:
        if current_user.is_authenticated:
            return view(proposal_id)
        proposal = proposals.get_visible(proposal_id, None)
        flash(_("Please log in to support proposals."), "info")
        return redirect(
            url_for("accounts.login", next=url_for("proposals.show", proposal_id=proposal.id))
        )

    return wrapped


@bp.app_context_processor
def support_helpers() -> dict[str, Any]:
    return {"support_state": support_state, "supports_open": votes.is_open_for_supports}


def support_state(proposal: Proposal) -> SupportState:
    """The proposal's supports as the current user sees them; one query per consultation and
    request, however many proposals a list shows."""
    known: dict[int, frozenset[int]] = g.setdefault("supported_proposal_ids", {})
    if proposal.consultation_id not in known:
        known[proposal.consultation_id] = votes.supported_ids(proposal.consultation, current_user)
    return votes.state(proposal, current_user, known[proposal.consultation_id])


def _wants_json() -> bool:
    """Only when JSON is asked for by name: `*/*` (curl, old browsers) gets the page."""
    accepted = request.accept_mimetypes
    return accepted.best_match(["text/html", "application/json"]) == "application/json"


def _back_to(proposal: Proposal) -> str:
    """A safe `next` (so that supporting from the list returns to the list), else the proposal."""
    if request.values.get("next"):
        return safe_next_url()
    return url_for("proposals.show", proposal_id=proposal.id)


def _remaining_text(state: SupportState) -> str:
    if state.remaining is None:
        return ""
    return ngettext(
        "You have %(num)d support left.", "You have %(num)d supports left.", state.remaining
    )


def _message(state: SupportState) -> str:
    if state.supported:
        done = _("Thank you! You support this proposal.")
    else:
        done = _("You no longer support this proposal.")
    return f"{done} {_remaining_text(state)}".strip()


def _act(proposal_id: int, action: Callable[[Proposal, Any], SupportState]) -> ResponseReturnValue:
    proposal = proposals.get_visible(proposal_id, current_user)
    try:
        state = action(proposal, current_user)
    except NotAllowed as error:
        # Blocked, or the address is not confirmed: the page explains (and offers a new
        # confirmation link); the script shows the message.
        if _wants_json():
            return jsonify(message=str(error.message)), 403
        raise
    except DomainError as error:
        if _wants_json():
            return jsonify(message=str(error.message)), 409
        flash(str(error.message), "danger")
        return redirect(_back_to(proposal))
    message = _message(state)
    if _wants_json():
        return jsonify(
            proposal_id=proposal.id,
            supported=state.supported,
            count=state.count,
            remaining=state.remaining,
            message=message,
            state_text=_("You support this proposal.") if state.supported else "",
            count_text=ngettext("%(num)d support", "%(num)d supports", state.count),
            remaining_text=_remaining_text(state),
            action=url_for(".withdraw" if state.supported else ".support", proposal_id=proposal.id),
        )
    flash(message, "success")
    return redirect(_back_to(proposal))


@bp.post("/proposals/<int:proposal_id>/support")
@citizen_required
def support(proposal_id: int):
    return _act(proposal_id, votes.support)


@bp.post("/proposals/<int:proposal_id>/support/withdraw")
@citizen_required
def withdraw(proposal_id: int):
    return _act(proposal_id, votes.withdraw_support)
