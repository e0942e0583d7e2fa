"""Entering paper ballots with the keyboard alone: a moderator and an administrator each enter
the same sheet (batch, number, the ballot's checkboxes), and it counts once both agree; a
second entry that differs is listed side by side and discarded with the keyboard."""

from __future__ import annotations

import uuid

from tests.browser import journeys_support as journey
from tests.browser.test_keyboard_journey import next_field, press_and_follow, tab_to

PAPER = journey.consultation_path(journey.BUDGET_VOTING) + "/paper"


def enter_sheet(page, batch: str, projects: tuple[str, ...]) -> str:
    """Type the sheet's batch and number 1, tick the projects, store; the flashed message."""
    page.goto(PAPER)
    batch_field = page.get_by_label("Stapel", exact=True)
    tab_to(page, batch_field, "the batch field", limit=80)
    page.keyboard.type(batch)
    next_field(page, page.get_by_label("Bogennummer"), "the sheet number after the batch")
    page.keyboard.type("1")
    for title in projects:
        box = page.get_by_role("checkbox", name=title)
        tab_to(page, box, f"the box for “{title}”")
        page.keyboard.press("Space")
        assert box.is_checked()
    tab_to(page, page.get_by_role("button", name="Erfassung speichern"), "the store button")
    press_and_follow(page)
    return journey.flash(page).inner_text()


def test_two_staff_members_enter_a_sheet_with_the_keyboard_and_it_counts(page_as):
    batch = f"Tastatur {uuid.uuid4().hex[:6]}"
    first = enter_sheet(page_as("moderator"), batch, journey.BALLOT_PROJECTS)
    assert f"Stapel {batch}, Bogen 1 wurde erfasst" in first
    second = page_as("admin")
    message = enter_sheet(second, batch, journey.BALLOT_PROJECTS)
    assert "Beide Erfassungen stimmen überein" in message
    assert int(second.locator("[data-paper-counted]").inner_text()) >= 1


def test_a_differing_entry_is_discarded_with_the_keyboard(page_as):
    batch = f"Abweichung {uuid.uuid4().hex[:6]}"
    enter_sheet(page_as("moderator"), batch, journey.BALLOT_PROJECTS[:1])
    page = page_as("admin")
    message = enter_sheet(page, batch, journey.BALLOT_PROJECTS[1:])
    assert "weicht von der ersten ab" in message
    mismatch = page.locator("article.paper-mismatch", has_text=f"Stapel {batch}, Bogen 1")
    assert mismatch.locator("h4").count() == 2
    button = mismatch.get_by_role("button", name="Diese Erfassung verwerfen").last
    tab_to(page, button, "the discard button of the second entry", limit=120)
    press_and_follow(page)
    assert "Die Erfassung wurde verworfen" in journey.flash(page).inner_text()
    assert page.locator("article.paper-mismatch", has_text=f"Stapel {batch}, Bogen 1").count() == 0
