"""Entering paper ballots with the keyboard alone: a moderator and an administrator each enter
the same sheet (the voting code printed on it, as the demo's budget consultation in voting votes
with codes, and the ballot's checkboxes), and it counts once both agree; a second entry that
differs is listed side by side and discarded with the keyboard."""

from __future__ import annotations

from tests.browser import journeys_support as journey
from tests.browser.demo import new_voting_code
from tests.browser.test_keyboard_journey import press_and_follow, tab_to

PAPER = journey.consultation_path(journey.BUDGET_VOTING) + "/paper"


def enter_sheet(page, code: str, projects: tuple[str, ...]) -> str:
    """Type the sheet's voting code, tick the projects, store; the flashed message."""
    page.goto(PAPER)
    code_field = page.get_by_label("Abstimmungscode auf dem Bogen", exact=True)
    tab_to(page, code_field, "the voting code field", limit=80)
    page.keyboard.type(code)
    for title in projects:
        box = page.get_by_role("checkbox", name=title)
        tab_to(page, box, f"the box for “{title}”")
        page.keyboard.press("Space")
        assert box.is_checked()
    tab_to(page, page.get_by_role("button", name="Erfassung speichern"), "the store button")
    press_and_follow(page)
    return journey.flash(page).inner_text()


def test_two_staff_members_enter_a_sheet_with_the_keyboard_and_it_counts(page_as, live_app):
    code = new_voting_code(live_app)
    first = enter_sheet(page_as("moderator"), code, journey.BALLOT_PROJECTS)
    assert "wurde erfasst" in first
    second = page_as("admin")
    message = enter_sheet(second, code, journey.BALLOT_PROJECTS)
    assert "Beide Erfassungen stimmen überein" in message
    assert int(second.locator("[data-paper-counted]").inner_text()) >= 1


def test_a_differing_entry_is_discarded_with_the_keyboard(page_as, live_app):
    code = new_voting_code(live_app)
    enter_sheet(page_as("moderator"), code, journey.BALLOT_PROJECTS[:1])
    page = page_as("admin")
    before = page.locator("article.paper-mismatch").count()
    message = enter_sheet(page, code, journey.BALLOT_PROJECTS[1:])
    assert "weicht von der ersten ab" in message
    mismatches = page.locator("article.paper-mismatch")
    assert mismatches.count() == before + 1
    mismatch = mismatches.last
    assert mismatch.locator("h4").count() == 2
    button = mismatch.get_by_role("button", name="Diese Erfassung verwerfen").last
    tab_to(page, button, "the discard button of the second entry", limit=160)
    press_and_follow(page)
    assert "Die Erfassung wurde verworfen" in journey.flash(page).inner_text()
    assert page.locator("article.paper-mismatch").count() == before
