"""The citizen journey with the keyboard alone: Tab and Shift+Tab to move, Enter and Space to
act, typing into the focused field. No click, no mouse, no `fill()` on a field without focus.

`tab_to` is the check that everything on the way is reachable: it presses Tab until the
element has focus, and fails naming what could not be reached.
"""

from __future__ import annotations

import pytest

from tests.browser import journeys_support as journey
from tests.browser.demo import DemoIds

DESCRIBE_FOCUS = """() => {
  const element = document.activeElement;
  if (!element || element === document.body) return "the page itself";
  const name = (element.getAttribute("aria-label") || element.innerText || element.value || "");
  return `<${element.tagName.toLowerCase()}${element.id ? "#" + element.id : ""}> `
    + name.trim().replace(/\\s+/g, " ").slice(0, 60);
}"""


def tab_to(page, target, what: str, *, limit: int = 40, backwards: bool = False) -> None:
    """Press Tab (or Shift+Tab) until `target` has focus; at most `limit` times."""
    key = "Shift+Tab" if backwards else "Tab"
    element = target.element_handle()
    for _ in range(limit):
        page.keyboard.press(key)
        if element.evaluate("element => element === document.activeElement"):
            assert element.is_visible(), f"{what} has focus but cannot be seen"
            return
    pytest.fail(
        f"{what} cannot be reached with {key}: {limit} presses and the focus is on "
        f"{page.evaluate(DESCRIBE_FOCUS)}",
        pytrace=False,
    )


def next_field(page, target, what: str) -> None:
    """The next Tab stop is `target`: the form's order is the order it is read in."""
    tab_to(page, target, what, limit=1)


def choose_option(page, select, text: str) -> None:
    """Move through a focused select's options with the arrow key until `text` is chosen."""
    chosen = "select => select.selectedOptions[0].text"
    for _ in range(select.locator("option").count()):
        if select.evaluate(chosen) == text:
            return
        page.keyboard.press("ArrowDown")
    assert select.evaluate(chosen) == text, f"“{text}” cannot be chosen with the arrow keys"


def press_and_follow(page, key: str = "Enter") -> None:
    """Press a key on a link or a form's button and wait for the page it leads to."""
    with page.expect_navigation():
        page.keyboard.press(key)


def register(page, app, citizen: journey.Citizen) -> None:
    """Fill the registration form (focus anywhere before it) and send it with Enter."""
    tab_to(page, page.get_by_label("E-Mail-Adresse"), "the e-mail field")
    page.keyboard.type(citizen.email)
    next_field(page, page.get_by_label("Anzeigename"), "the display name")
    page.keyboard.type(citizen.name)
    person = page.get_by_role("radio", name="Privatperson")
    next_field(page, person, "the account type (“Privatperson”, chosen already)")
    assert person.is_checked()
    next_field(page, page.get_by_label("Passwort", exact=True), "the password")
    page.keyboard.type(journey.PASSWORD)
    next_field(page, page.get_by_label("Passwort wiederholen"), "the repeated password")
    page.keyboard.type(journey.PASSWORD)
    next_field(page, page.get_by_role("button", name="Konto anlegen"), "the register button")
    press_and_follow(page, "Enter")
    journey.registered(page, app, citizen)


def log_in_after_confirming(page) -> None:
    """The confirmation link filled in the address: type the password and press Enter."""
    tab_to(page, page.get_by_label("Passwort"), "the password field of the log-in form")
    page.keyboard.type(journey.PASSWORD)
    press_and_follow(page, "Enter")  # Enter in a field sends its form
    assert "Sie sind angemeldet." in journey.flash(page).inner_text()
    assert page.get_by_role("button", name="Abmelden").is_visible()


def test_register_log_in_propose_comment_and_support_with_the_keyboard_alone(
    page_as, live_app, demo_ids: DemoIds
):
    citizen = journey.fresh_citizen("keyboard")
    idea = journey.fresh_proposal("keyboard")
    page = page_as("visitor")
    page.goto("/")

    # Register, confirm the address through the mailed link, and log in.
    tab_to(page, journey.header_link(page, "Registrieren"), "the header's register link")
    press_and_follow(page)
    register(page, live_app, citizen)
    journey.confirm_email(page, live_app, citizen)
    log_in_after_confirming(page)

    # Log out and in again.
    log_out = page.get_by_role("button", name="Abmelden")
    tab_to(page, log_out, "the log-out button")
    press_and_follow(page, "Space")
    tab_to(page, journey.header_link(page, "Anmelden"), "the header's log-in link")
    press_and_follow(page)
    tab_to(page, page.get_by_label("E-Mail-Adresse"), "the e-mail field of the log-in form")
    page.keyboard.type(citizen.email)
    next_field(page, page.get_by_label("Passwort"), "the password field")
    page.keyboard.type(journey.PASSWORD)
    press_and_follow(page, "Enter")  # Enter in a field sends its form
    assert "Sie sind angemeldet." in journey.flash(page).inner_text()

    # Open the consultation that is collecting proposals, from the home page.
    tab_to(
        page,
        page.get_by_role("link", name="Ideen für eine lebendige Innenstadt"),
        "the collecting consultation on the home page",
    )
    press_and_follow(page)
    assert page.url.endswith(journey.consultation_path(journey.COLLECTING))

    # Submit a proposal.
    tab_to(
        page,
        page.get_by_role("link", name="Vorschlag einreichen").first,
        "the link to submit a proposal",
    )
    press_and_follow(page)
    tab_to(page, page.get_by_label("Titel"), "the title field")
    page.keyboard.type(idea.title)
    next_field(page, page.get_by_label("Beschreibung"), "the description")
    page.keyboard.type(idea.body)
    category = page.get_by_label("Kategorie")
    next_field(page, category, "the category")
    choose_option(page, category, idea.category)
    tab_to(page, page.get_by_role("button", name="Vorschlag veröffentlichen"), "publish")
    press_and_follow(page, "Space")
    assert page.get_by_role("heading", level=1).inner_text() == idea.title
    shown_body = page.locator(".user-content").first.inner_text()
    assert shown_body.split() == idea.body.split()
    assert page.locator(".category-badge").first.inner_text() == idea.category

    # Comment on it.
    comment_text = "Gute Idee, und bitte mit Bänken im Schatten."
    tab_to(page, page.get_by_label("Ihr Kommentar"), "the comment field")
    page.keyboard.type(comment_text)
    next_field(page, page.get_by_role("button", name="Kommentar veröffentlichen"), "publish")
    press_and_follow(page)
    comment = page.locator("#comments article.comment").filter(has_text=comment_text)
    assert comment.count() == 1, "the new comment is shown under the proposal"
    assert citizen.name in comment.locator(".comment-author").inner_text()

    # Support a proposal of the consultation in its support-voting phase: back up to the
    # main navigation, on to the consultation and the proposal.
    tab_to(
        page,
        journey.header_link(page, "Beteiligungsverfahren"),
        "the main navigation",
        backwards=True,
    )
    press_and_follow(page)
    tab_to(page, page.get_by_role("link", name="Sicherer Schulweg"), "the voting consultation")
    press_and_follow(page)
    tab_to(
        page,
        page.locator(f"main a[href='/proposals/{demo_ids.voting_proposal}']"),
        "the proposal in the list",
    )
    press_and_follow(page)
    count = page.locator(f"p[data-support-count='{demo_ids.voting_proposal}']")
    before = journey.support_count(count.inner_text())
    button = page.locator(f"#support-{demo_ids.voting_proposal} button[type=submit]")
    assert button.get_attribute("aria-pressed") == "false"
    tab_to(page, button, "the support button")
    page.keyboard.press("Space")  # JavaScript sends it in the background
    page.wait_for_function(
        "button => button.getAttribute('aria-pressed') === 'true'", arg=button.element_handle()
    )
    assert button.inner_text().strip().endswith(journey.SUPPORT_BUTTON_NAME), "its name stays"
    state = page.locator(f"#support-state-{demo_ids.voting_proposal}")
    assert state.inner_text().strip() == journey.supported_text(live_app)
    assert journey.support_count(count.inner_text()) == before + 1
    assert "Vielen Dank" in page.locator("[data-support-message]").inner_text()
    assert button.evaluate("button => button === document.activeElement"), (
        "the focus stays on the button after supporting"
    )


def test_vote_with_a_voting_code_on_a_phone_with_the_keyboard_alone(phone, live_app):
    """A visitor without an account, on a 360 px phone: the consultation's link to the code,
    the letter's code typed in, two projects ticked, the ballot submitted, the receipt."""
    code = journey.new_voting_code(live_app)
    page = phone("visitor")
    page.goto(journey.consultation_path(journey.BUDGET_VOTING))

    tab_to(page, page.get_by_role("link", name="Mit Abstimmungscode abstimmen"), "the code link")
    press_and_follow(page)
    assert page.url.endswith(journey.consultation_path(journey.BUDGET_VOTING) + "/vote")
    tab_to(page, page.get_by_label("Abstimmungscode"), "the code field")
    page.keyboard.type(code.lower().replace("-", " "))  # as people type it
    next_field(page, page.get_by_role("button", name="Meinen Stimmzettel anzeigen"), "show")
    press_and_follow(page)

    used = page.locator("[data-ballot-used]")
    for title in journey.BALLOT_PROJECTS_IN_PAGE_ORDER:
        box = page.get_by_role("checkbox", name=title)
        tab_to(page, box, f"the ballot's box for “{title}”")
        page.keyboard.press("Space")
        assert box.is_checked()
    assert used.inner_text() == journey.BALLOT_TOTAL, "the live total adds up the ticked boxes"
    assert page.locator("[data-ballot-count]").inner_text() == "2"
    tab_to(page, page.get_by_role("button", name="Stimmzettel abgeben"), "the submit button")
    press_and_follow(page)

    receipt = page.locator("#ballot-receipt")
    assert "Ihr Stimmzettel wurde erfasst" in receipt.inner_text()
    assert len(receipt.locator("[data-ballot-code]").inner_text().strip()) == 14
    assert "Vielen Dank! Ihr Stimmzettel wurde erfasst." in journey.flash(page).inner_text()
    for title in journey.BALLOT_PROJECTS:
        assert page.get_by_role("checkbox", name=title).is_checked()
    assert used.inner_text() == journey.BALLOT_TOTAL
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, "the ballot fits the phone"
