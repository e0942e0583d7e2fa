"""Bad input through HTTP: ids no column can hold, pages past the end, file parts and JSON where
a form is expected, control characters in forms, addresses and query strings. Each is a clear
answer (404, 400, 422 or the nearest page), never a server error, and nothing is stored."""

from __future__ import annotations

import importlib
import io
import pkgutil
import re
from typing import NamedTuple

import pytest
from flask_wtf import FlaskForm

from participation.extensions import db
from participation.forms import Form
from participation.models import Comment, Consultation, Phase, Proposal, User
from participation.services.limits import MAX_ID
from tests.budget_data import extreme_consultation
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


# Forms: a file part or JSON where a form is expected


def stored_rows(app, model) -> list:
    with app.app_context():
        return list(db.session.scalars(db.select(model)))


@pytest.fixture
def collecting(factory, auth):
    """A consultation collecting proposals, and a confirmed citizen logged in."""
    auth.login(factory.user().email)
    return factory.consultation(phase=Phase.COLLECTING)


def test_a_file_sent_for_a_text_field_counts_as_missing(app, client, collecting):
    response = client.post(
        f"/consultations/{collecting.slug}/proposals/new",
        data={"title": (io.BytesIO(b"Benches"), "title.txt"), "body": "More benches."},
        content_type="multipart/form-data",
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert "Please enter a title." in response.get_data(as_text=True)
    assert stored_rows(app, Proposal) == []


def test_a_file_sent_for_a_comment_counts_as_missing(app, client, factory):
    author = factory.user()
    proposal = factory.proposal(factory.consultation(), author)
    AuthActions(client).login(author.email)
    response = client.post(
        f"/proposals/{proposal.id}/comments",
        data={"comment-body": (io.BytesIO(b"\x00\xff binary"), "comment.bin")},
        content_type="multipart/form-data",
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert "Please write a comment." in response.get_data(as_text=True)
    assert stored_rows(app, Comment) == []


def test_files_for_every_field_of_the_login_are_refused_as_missing(client, factory):
    user = factory.user()
    response = client.post(
        "/account/login",
        data={
            "email": (io.BytesIO(user.email.encode()), "email.txt"),
            "password": (io.BytesIO(b"correct horse battery"), "password.txt"),
        },
        content_type="multipart/form-data",
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert "Please enter your e-mail address." in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "body",
    [[1, 2], "a proposal", 12, None, {"title": 12, "body": ["More", "benches"]}, {"title": {}}],
    ids=["array", "string", "number", "null", "numbers-and-lists", "object"],
)
def test_json_that_is_no_object_of_texts_counts_as_an_empty_form(app, client, collecting, body):
    response = client.post(
        f"/consultations/{collecting.slug}/proposals/new", json=body, headers=ENGLISH
    )
    assert response.status_code == 422
    assert "Please enter a title." in response.get_data(as_text=True)
    assert stored_rows(app, Proposal) == []


def test_malformed_json_counts_as_an_empty_form(app, client, collecting):
    response = client.post(
        f"/consultations/{collecting.slug}/proposals/new",
        data=b'{"title": "Benches", ',
        content_type="application/json",
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert stored_rows(app, Proposal) == []


def test_a_json_object_of_texts_is_read_like_a_form(app, client, collecting):
    """Flask-WTF reads JSON objects; the texts of one still make a proposal."""
    response = client.post(
        f"/consultations/{collecting.slug}/proposals/new",
        json={"title": "Benches in the park", "body": "More benches."},
    )
    assert response.status_code == 302
    assert [proposal.title for proposal in stored_rows(app, Proposal)] == ["Benches in the park"]


def test_every_form_of_the_project_is_built_on_the_project_form():
    """It keeps file parts, odd JSON and control characters away from the fields."""
    import participation.forms

    modules = [
        importlib.import_module(f"participation.forms.{module.name}")
        for module in pkgutil.iter_modules(participation.forms.__path__)
    ]
    forms = {
        value
        for module in [participation.forms, *modules]
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, FlaskForm) and value is not FlaskForm
    }
    assert forms
    assert {form.__name__ for form in forms if not issubclass(form, Form)} == set()


# Forms: control characters


def submit_proposal(client, consultation, **fields):
    data = {"title": "Benches in the park", "body": "More benches."} | fields
    return client.post(
        f"/consultations/{consultation.slug}/proposals/new", data=data, headers=ENGLISH
    )


@pytest.mark.parametrize("title", ["Benches\x00", "\x1b[31mBenches", "Ben\nches", "Ben\x7fches"])
def test_a_title_with_control_characters_is_refused_next_to_the_field(
    app, client, collecting, title
):
    response = submit_proposal(client, collecting, title=title)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="title-error">[^<]*<span[^>]*>⚠</span> This text contains control', html)
    assert stored_rows(app, Proposal) == []


def test_the_refused_text_is_shown_again_without_its_control_characters(client, collecting):
    html = submit_proposal(client, collecting, title="Ben\x00ches\x07").get_data(as_text=True)
    assert 'value="Benches"' in html
    assert not CONTROL_CHARACTER.search(html)


def test_the_refusal_is_in_german_by_default(client, collecting):
    response = client.post(
        f"/consultations/{collecting.slug}/proposals/new",
        data={"title": "Bänke\x00", "body": "Mehr Bänke."},
    )
    assert "Dieser Text enthält Steuerzeichen" in response.get_data(as_text=True)


@pytest.mark.parametrize("body", ["More\x00 benches.", "More\x0bbenches.", "\x1b[2J"])
def test_a_text_of_several_lines_with_control_characters_is_refused(app, client, collecting, body):
    assert submit_proposal(client, collecting, body=body).status_code == 422
    assert stored_rows(app, Proposal) == []


def test_tabs_and_line_breaks_are_kept_in_a_text_of_several_lines(app, client, collecting):
    assert submit_proposal(client, collecting, body="One\r\n\ttwo\nthree").status_code == 302
    [proposal] = stored_rows(app, Proposal)
    assert "\ttwo\nthree" in proposal.body


def test_a_comment_with_a_nul_is_refused(app, client, factory):
    author = factory.user()
    proposal = factory.proposal(factory.consultation(), author)
    AuthActions(client).login(author.email)
    response = client.post(
        f"/proposals/{proposal.id}/comments", data={"comment-body": "Yes\x00!"}, headers=ENGLISH
    )
    assert response.status_code == 422
    assert "This text contains control characters" in response.get_data(as_text=True)
    assert stored_rows(app, Comment) == []


def test_a_display_name_with_a_nul_is_refused_at_registration(app, client):
    response = client.post(
        "/account/register",
        data={
            "email": "new@example.org",
            "display_name": "New\x00comer",
            "account_type": "person",
            "password": "correct horse battery",
            "password_repeat": "correct horse battery",
        },
        headers=ENGLISH,
    )
    assert response.status_code == 422
    assert "This text contains control characters" in response.get_data(as_text=True)
    assert stored_rows(app, User) == []


def test_a_hidden_field_with_control_characters_is_refused_above_the_form(app, client, factory):
    proposal = factory.proposal(factory.consultation(), factory.user())
    AuthActions(client).login(factory.moderator().email)
    response = client.post(
        f"/moderation/proposals/{proposal.id}/hide",
        data={"reason": "Spam.", "next": "/\x00"},
        headers=ENGLISH,
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="error-summary".*<li>This text contains control', html, re.DOTALL)
    assert not CONTROL_CHARACTER.search(html)
    assert stored_rows(app, Proposal)[0].is_published


# Addresses and query strings: control characters


@pytest.mark.parametrize(
    "path",
    [
        "/consultations/{slug}?q=Bench%00es",
        "/consultations/{slug}?sort=%1B[31m",
        "/initiatives?consultation=%00",
        "/moderation/users?q=%07",
        "/?%00=1",
    ],
)
def test_a_query_string_with_control_characters_is_refused_with_a_message(client, factory, path):
    consultation = factory.consultation()
    AuthActions(client).login(factory.admin().email)
    response = client.get(path.format(slug=consultation.slug), headers=ENGLISH)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "The address contains control characters" in html
    assert not CONTROL_CHARACTER.search(html)


@pytest.mark.parametrize(
    "path", ["/consultations/Park%00s", "/account/confirm/%1B", "/no%00where", "/people/1%00"]
)
def test_an_address_with_control_characters_is_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert not CONTROL_CHARACTER.search(response.get_data(as_text=True))


def test_bytes_of_a_query_string_that_are_no_utf8_are_never_written_into_the_page(client):
    """The language switch of every page returns to the address it was sent from."""
    response = client.get("/", environ_overrides={"QUERY_STRING": "q=\xff&r=\x01"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert not CONTROL_CHARACTER.search(html)
    assert "\xff" not in html


def test_the_page_returns_to_its_address_with_odd_characters_percent_encoded(client):
    response = client.get("/", environ_overrides={"QUERY_STRING": "q=\xff"})
    assert response.status_code == 200
    assert '<input type="hidden" name="next" value="/?q=%FF">' in response.get_data(as_text=True)


@pytest.mark.parametrize("target", ["/\r\nSet-Cookie: x=1", "/proposals\x00", "/\x1b"])
def test_a_next_address_with_control_characters_goes_to_the_default_page(client, target):
    response = client.post("/language", data={"language": "en", "next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# Numbers and dates a column holds


def consultation_form(**fields) -> dict:
    data = {"title": "Old town", "summary": "", "description": "", "categories": ""}
    return data | {"voting_method": "budget", "budget": "1000", "tally_rule": "greedy"} | fields


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"budget": "99999999999999999999"}, "budget"),
        ({"budget": str(2**31)}, "budget"),
        ({"budget": "9" * 5000}, "budget"),
        ({"max_supports": str(2**63)}, "max_supports"),
        ({"min_approvals": "-99999999999999999999"}, "min_approvals"),
        ({"voting_ends_on": "99999-01-01"}, "voting_ends_on"),
        ({"results_on": "0000-00-00"}, "results_on"),
    ],
    ids=["10to20", "2to31", "5000-digits", "2to63", "negative", "year-99999", "year-0"],
)
def test_a_number_or_date_no_column_holds_is_refused_next_to_its_field(
    app, client, auth, factory, fields, field
):
    auth.login(factory.moderator().email)
    response = client.post("/consultations/new", data=consultation_form(**fields))
    assert response.status_code == 422
    assert f'id="{field}-error"' in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Consultation)) == 0


def test_a_cost_no_column_holds_is_refused_next_to_the_field(app, client, collecting):
    response = submit_proposal(client, collecting, estimated_cost="99999999999999999999")
    assert response.status_code == 422
    assert "Please enter a cost between 0 and 2,000,000,000." in response.get_data(as_text=True)
    assert stored_rows(app, Proposal) == []


def test_the_widest_dates_and_largest_amounts_are_shown(client, factory):
    consultation = extreme_consultation(factory, factory.user())
    assert client.get(f"/consultations/{consultation.slug}").status_code == 200
    assert client.get("/consultations/").status_code == 200


def test_the_page_returns_to_an_address_whose_path_has_a_percent_sign(client, factory):
    """The path is decoded: its "%" and "?" are encoded again, the query string stays."""
    factory.consultation(slug="100%-green?")
    response = client.get("/consultations/100%25-green%3F?sort=newest")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="next" value="/consultations/100%25-green%3F?sort=newest"' in html
