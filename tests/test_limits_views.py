"""Bad input through HTTP: ids no column can hold, pages past the end, file parts and JSON where
a form is expected, control characters in forms, addresses and query strings. Each is a clear
answer (404, 400, 422 or the nearest page), never a server error, and nothing is stored."""

from __future__ import annotations

import re

import pytest

from participation.models import Phase
from participation.services.limits import MAX_ID
from tests.routes import build_path, methods, placeholders, rule_key, throwaway_rules

ENGLISH = {"Accept-Language": "en"}
CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# Ids

ID_RULES = [
    rule
    for rule in throwaway_rules()
    if any(converter == "int" for _name, converter in placeholders(rule))
]


@pytest.mark.parametrize("number", [MAX_ID + 1, 2**63, 10**20], ids=["2to31", "2to63", "10to20"])
@pytest.mark.parametrize("rule", ID_RULES, ids=rule_key)
def test_an_id_no_integer_column_can_hold_is_not_found(client, auth, factory, rule, number):
    """On every route with an id, for every method; other parts of the address are real."""
    consultation = factory.consultation(phase=Phase.EVALUATING)
    auth.login(factory.admin().email)
    path = build_path(
        rule,
        lambda name, converter: str(number) if converter == "int" else consultation.slug,
    )
    assert {method: client.open(path, method=method).status_code for method in methods(rule)} == {
        method: 404 for method in methods(rule)
    }


def test_the_largest_id_is_still_looked_up(client, factory):
    assert client.get(f"/proposals/{MAX_ID}").status_code == 404


def test_ids_still_lead_to_their_pages(client, factory):
    proposal = factory.proposal(factory.consultation(), factory.user())
    assert client.get(f"/proposals/{proposal.id}").status_code == 200
