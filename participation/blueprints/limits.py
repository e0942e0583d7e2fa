"""What a request may bring before a view sees it, for every route at once (installed by
create_app): ids in the address that an id column can hold, page numbers within bounds, no
control characters in the address or the query string. The bounds are services.limits'."""

from __future__ import annotations

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from participation.services.limits import MAX_ID


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


def install(app: Flask) -> None:
    """Before the blueprints are registered: their rules take the converter when they are
    added."""
    app.url_map.converters["int"] = IdConverter
