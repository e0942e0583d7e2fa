"""What a request may bring before a view sees it, for every route at once (installed by
create_app): ids in the address that an id column can hold, page numbers within bounds, no
control characters in the address or the query string. The bounds are services.limits'."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, request
from flask_sqlalchemy.pagination import Pagination
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, Map

from participation.services.limits import MAX_ID, page_number


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
