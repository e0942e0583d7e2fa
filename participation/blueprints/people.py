"""Public profiles: a participant's name, badge, proposals and comments."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from participation.services import budget_results, profiles

bp = Blueprint("people", __name__, url_prefix="/people")


def _page() -> int:
    return request.args.get("page", 1, type=int) or 1


def _render(user_id: int, tab: str, page):
    person = profiles.get_profile_owner(user_id)
    shown = page(person)
    return render_template(
        "people/show.html",
        person=person,
        counts=profiles.counts(person),
        tab=tab,
        page=shown,
        approvals=budget_results.published_approvals(shown.items) if tab == "proposals" else {},
    )


@bp.get("/<int:user_id>")
def show(user_id: int):
    return _render(user_id, "proposals", lambda person: profiles.proposals(person, _page()))


@bp.get("/<int:user_id>/comments")
def comments(user_id: int):
    return _render(user_id, "comments", lambda person: profiles.comments(person, _page()))
