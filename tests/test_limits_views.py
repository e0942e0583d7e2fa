"""Bad input through HTTP: ids no column can hold, pages past the end, file parts and JSON where
a form is expected, control characters in forms, addresses and query strings. Each is a clear
answer (404, 400, 422 or the nearest page), never a server error, and nothing is stored."""

from __future__ import annotations

import re
from typing import NamedTuple

import pytest

from participation.models import Phase
from participation.services.limits import MAX_ID
from tests.conftest import AuthActions
from tests.helpers import add_comment_notifications
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


# Pages: a page past the end is the last page, one before the first (or no number) the first

CURRENT_PAGE = re.compile(
    r'aria-current="page">\s*<span class="visually-hidden">[^<]*</span>\s*(\d+)'
)


class TwoPages(NamedTuple):
    path: str
    email: str | None  # who looks at the list; None: a visitor


def _proposal_list(factory) -> TwoPages:
    consultation = factory.consultation()
    author = factory.user()
    for _ in range(6):  # five per page in the tests
        factory.proposal(consultation, author)
    return TwoPages(f"/consultations/{consultation.slug}", None)


def _report_queue(factory) -> TwoPages:
    consultation = factory.consultation()
    author, reporter = factory.user(), factory.user()
    for _ in range(21):
        factory.report(reporter, proposal=factory.proposal(consultation, author))
    return TwoPages("/moderation/reports", factory.moderator().email)


def _user_list(factory) -> TwoPages:
    for _ in range(25):
        factory.user()
    return TwoPages("/moderation/users", factory.admin().email)


def _initiative_list(factory) -> TwoPages:
    consultation = factory.consultation(phase=Phase.CLOSED)
    author = factory.user()
    for _ in range(21):
        factory.initiative(factory.proposal(consultation, author))
    return TwoPages("/initiatives", None)


def _profile_proposals(factory) -> TwoPages:
    consultation = factory.consultation()
    author = factory.user()
    for _ in range(11):
        factory.proposal(consultation, author)
    return TwoPages(f"/people/{author.id}", None)


def _profile_comments(factory) -> TwoPages:
    author = factory.user()
    proposal = factory.proposal(factory.consultation(), author)
    for _ in range(11):
        factory.comment(proposal, author)
    return TwoPages(f"/people/{author.id}/comments", None)


def _notification_list(factory) -> TwoPages:
    recipient, author = factory.user(), factory.user()
    proposal = factory.proposal(factory.consultation(), author)
    comment = factory.comment(proposal, author)
    with factory.app.app_context():
        add_comment_notifications(recipient.id, proposal, comment.id, 21)
    return TwoPages("/notifications", recipient.email)


LISTS = {
    "proposals": _proposal_list,
    "reports": _report_queue,
    "users": _user_list,
    "initiatives": _initiative_list,
    "profile-proposals": _profile_proposals,
    "profile-comments": _profile_comments,
    "notifications": _notification_list,
}


@pytest.fixture(params=LISTS)
def two_pages(request, factory, auth) -> TwoPages:
    """Every paginated list of the site, filled with two pages."""
    listed = LISTS[request.param](factory)
    if listed.email:
        auth.login(listed.email)
    return listed


def current_page(client, path: str, page: str | None) -> int:
    response = client.get(path, query_string=None if page is None else {"page": page})
    assert response.status_code == 200
    [number] = CURRENT_PAGE.findall(response.get_data(as_text=True))
    return int(number)


def test_the_second_page_of_every_list_is_the_second(client, two_pages):
    assert current_page(client, two_pages.path, "2") == 2


@pytest.mark.parametrize(
    "page",
    ["3", "99999999999999999999", str(MAX_ID + 1), "9" * 5000],
    ids=["3", "10to20", "2to31", "5000-digits"],
)
def test_a_page_past_the_end_of_every_list_is_its_last_page(client, two_pages, page):
    assert current_page(client, two_pages.path, page) == 2


@pytest.mark.parametrize("page", ["0", "-1", "-99999999999999999999", "two", "", "2.5"])
def test_a_page_before_the_first_or_not_a_number_is_the_first(client, two_pages, page):
    assert current_page(client, two_pages.path, page) == 1


def test_the_page_a_notification_form_returns_to_is_a_page_of_the_list(client, factory):
    listed = _notification_list(factory)
    AuthActions(client).login(listed.email)
    response = client.post("/notifications/read", data={"page": "99999999999999999999"})
    assert response.status_code == 302
    assert current_page(client, response.headers["Location"], None) == 2
