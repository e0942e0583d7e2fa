"""What a request may bring before a view sees it, for every route at once (installed by
create_app): ids in the address that an id column can hold, page numbers within bounds, no
control characters in the address or the query string. The bounds are services.limits'."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import flask
from flask import Flask, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_sqlalchemy.pagination import Pagination
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, Map

from participation.services.limits import (
    CONTROL_CHARACTERS_IN_ADDRESS_MESSAGE,
    MAX_ID,
    has_control_characters,
    page_number,
)

# What a query string keeps unencoded: RFC 3986's characters of a query, and the "%" of the
# encodings it already has. The path is decoded, so a "%", "?" or "#" in it is encoded.
_QUERY_CHARACTERS = "/?@!$&'()*+,;=:%"
_PATH_CHARACTERS = "/@!$&'()*+,;=:"


class IdConverter(IntegerConverter):
    """`<int:…>` of every rule: a number no id column can hold matches no rule, so it is a 404
    like any unknown id instead of an overflow in the database."""

    def __init__(
        self,
        map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = MAX_ID,
        signed: bool = False,
    ) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


class Request(flask.Request):
    """Werkzeug's request, with an address that is always safe to read and to write into a
    page."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Raw bytes of the query string that a browser would have percent-encoded (no UTF-8,
        # control characters) are encoded here: Werkzeug decodes it as strict UTF-8.
        self.query_string = quote(self.query_string, safe=_QUERY_CHARACTERS).encode("ascii")

    @property
    def full_path(self) -> str:
        """The path and query string as they go into a link or a hidden field of a page (the
        language switch of every page returns there): percent-encoded, so that control
        characters are never written raw into HTML."""
        path = quote(self.path, safe=_PATH_CHARACTERS)
        return f"{path}?{self.query_string.decode('ascii')}"


def refuse_control_characters() -> ResponseReturnValue | None:
    """Before every view: an address with control characters names no page (404); a query
    string with them is refused with a message (400) before any filter or search reads it."""
    if has_control_characters(request.path):
        abort(404)
    arguments = request.args.items(multi=True)
    if any(has_control_characters(name + value) for name, value in arguments):
        page = render_template(
            "errors/error.html", code=400, message=CONTROL_CHARACTERS_IN_ADDRESS_MESSAGE
        )
        return page, 400
    return None


def requested_page(values: MultiDict[str, str] | None = None) -> int:
    """The page number that the query string (or `values`, a posted form) asks for."""
    return page_number((request.args if values is None else values).get("page"))


def paginated(fetch: Callable[[int], Pagination]) -> Pagination:
    """The page of a list that the query string asks for, by `fetch(number)`: the last page for
    one past the end (the list may have shrunk since the link was made), the first page for one
    before the first or no number at all. Every list of the site is read through this."""
    page = fetch(requested_page())
    if page.pages and page.page > page.pages:
        page = fetch(page.pages)
    return page


def install(app: Flask) -> None:
    """Before the blueprints are registered: their rules take the converter when they are
    added."""
    app.url_map.converters["int"] = IdConverter
    app.request_class = Request
    app.before_request(refuse_control_characters)
