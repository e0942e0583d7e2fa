"""Public profiles: a participant's name, badge, proposals and comments."""

from __future__ import annotations

from flask import Blueprint, render_template

from participation.blueprints.limits import paginated
from participation.services import budgeting, profiles

bp = Blueprint("profiles", __name__, url_prefix="/people")


def _render(user_id: int, tab: str, listing):
    person = profiles.get_profile_owner(user_id)
    shown = paginated(lambda number: listing(person, number))
    return render_template(
        "profiles/show.html",
        person=person,
        counts=profiles.counts(person),
        tab=tab,
        page=shown,
        approvals=budgeting.results.published_approvals(shown.items) if tab == "proposals" else {},
    )


@bp.get("/<int:user_id>")
def show(user_id: int):
    return _render(user_id, "proposals", profiles.proposals)


@bp.get("/<int:user_id>/comments")
def comments(user_id: int):
    return _render(user_id, "comments", profiles.comments)
