"""The results page of a closed budget consultation in a real browser: anybody finds a ballot
by the code printed on their receipt, typed however they like, and a wrong code is said next
to the field as every form says its errors."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select

from participation.extensions import db
from participation.models import Ballot
from participation.services.budgeting import ballots
from tests.browser import demo
from tests.browser.demo import DemoIds

RESULTS = demo.consultation(demo.BUDGET_CLOSED, "/results")
CODE_FIELD = "Stimmzettel-Code"
SHOW = "Stimmzettel anzeigen"


def projects_on_ballot(app: Flask, code: str) -> list[str]:
    with app.app_context():
        ballot = db.session.scalar(select(Ballot).filter_by(code=code))
        return [line.project.title for line in ballots.content_of(ballot, True).lines]


def look_up(page, typed: str) -> int:
    """Type a code into the results page's field and send it; the answer's status."""
    page.goto(RESULTS)
    page.get_by_label(CODE_FIELD).fill(typed)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=SHOW).click()
    return navigation.value.status


def test_a_ballot_code_typed_in_lower_case_without_dashes_finds_the_ballot(
    tab_as, live_app: Flask, demo_ids: DemoIds
):
    code = demo_ids.budget_ballot_code
    page = tab_as("visitor")
    assert look_up(page, code.replace("-", "").lower()) == 200
    found = page.locator("#found-ballot")
    assert found.get_by_role("heading").inner_text() == f"Stimmzettel {code}"
    lines = found.locator(".ballot-line").all_inner_texts()
    titles = projects_on_ballot(live_app, code)
    assert titles and len(lines) == len(titles)
    for line, title in zip(lines, titles, strict=True):
        assert title in line
        assert "gefördert" in line, "each project says whether it was funded"
    assert page.locator("#code-error").count() == 0


def test_a_wrong_ballot_code_is_said_next_to_the_field(tab_as, demo_ids: DemoIds):
    page = tab_as("visitor")
    unknown = "ZZZZ-ZZZZ-ZZZZ"
    assert unknown != demo_ids.budget_ballot_code
    assert look_up(page, unknown) == 404
    assert page.locator("#found-ballot").count() == 0
    field = page.get_by_label(CODE_FIELD)
    assert field.input_value() == unknown, "what was typed stays, to be corrected"
    assert field.get_attribute("aria-invalid") == "true"
    assert "code-error" in field.get_attribute("aria-describedby").split()
    error = page.locator("#code-error")
    assert "Kein Stimmzettel dieses Verfahrens hat diesen Code" in error.inner_text()
    error_box, field_box = error.bounding_box(), field.bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40, "right below it"
    summary = page.locator("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary", "focus is on it"
    summary.get_by_role("link").click()
    assert field.evaluate("field => field === document.activeElement")
