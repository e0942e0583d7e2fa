"""Who may enter a view: checked here, in one place, by decorators on the views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import abort, request, url_for
from flask_login import current_user, login_required

from participation.services.limits import has_control_characters

__all__ = ["admin_required", "login_required", "moderator_required", "safe_next_url"]


def moderator_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_moderator:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """Managing accounts (blocking, roles) is for admins only, not for every moderator."""

    @wraps(view)
    @login_required
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def safe_next_url(default_endpoint: str = "main.index") -> str:
    """The `next` target if it stays on this site (and has no control characters, which no
    header may carry), otherwise the default page."""
    target = request.values.get("next", "")
    parts = urlsplit(target)
    local = target.startswith("/") and not target.startswith("//") and "\\" not in target
    local = local and not has_control_characters(target)
    if local and not parts.netloc and not parts.scheme:
        return target
    return url_for(default_endpoint)
