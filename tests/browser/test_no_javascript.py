"""The citizen journey with JavaScript switched off: every step is a plain form or link, and the
server answers with a redirect or a page. JavaScript only enhances (supporting in place, the
live ballot total); nothing depends on it."""

from __future__ import annotations

import pytest

from tests.browser import journeys_support as journey
from tests.browser.demo import DemoIds


@pytest.fixture
def page(page_as):
    return page_as("visitor", java_script_enabled=False)


def follow(page, target) -> None:
    """Click a link or a form's button and wait for the page the server answers with."""
    with page.expect_navigation():
        target.click()


def register(page, app, citizen: journey.Citizen) -> None:
    page.get_by_label("E-Mail-Adresse").fill(citizen.email)
    page.get_by_label("Anzeigename").fill(citizen.name)
    page.get_by_label("Passwort", exact=True).fill(journey.PASSWORD)
    page.get_by_label("Passwort wiederholen").fill(journey.PASSWORD)
    follow(page, page.get_by_role("button", name="Konto anlegen"))
    journey.registered(page, app, citizen)


def log_in_after_confirming(page) -> None:
    """The address is filled in already; the password completes the login."""
    page.get_by_label("Passwort").fill(journey.PASSWORD)
    follow(page, page.locator("main").get_by_role("button", name="Anmelden"))
    assert "Sie sind angemeldet." in journey.flash(page).inner_text()


def test_register_log_in_propose_comment_and_support_without_javascript(
    page, live_app, demo_ids: DemoIds
):
    citizen = journey.fresh_citizen("nojs")
    idea = journey.fresh_proposal("nojs")
    page.goto("/")

    follow(page, journey.header_link(page, "Registrieren"))
    register(page, live_app, citizen)
    journey.confirm_email(page, live_app, citizen)
    log_in_after_confirming(page)

    follow(page, page.get_by_role("link", name="Ideen für eine lebendige Innenstadt"))
    follow(page, page.get_by_role("link", name="Vorschlag einreichen").first)
    page.get_by_label("Titel").fill(idea.title)
    page.get_by_label("Beschreibung").fill(idea.body)
    page.get_by_label("Kategorie").select_option(label=idea.category)
    follow(page, page.get_by_role("button", name="Vorschlag veröffentlichen"))
    assert page.get_by_role("heading", level=1).inner_text() == idea.title
    assert page.locator(".user-content").first.inner_text().split() == idea.body.split()

    comment_text = "Ohne JavaScript kommentiert: das geht auch."
    page.get_by_label("Ihr Kommentar").fill(comment_text)
    follow(page, page.get_by_role("button", name="Kommentar veröffentlichen"))
    comment = page.locator("#comments article.comment").filter(has_text=comment_text)
    assert comment.count() == 1
    assert citizen.name in comment.locator(".comment-author").inner_text()

    # Supporting posts the form; the server redirects back to the proposal with a message.
    follow(page, journey.header_link(page, "Beteiligungsverfahren"))
    follow(page, page.get_by_role("link", name="Sicherer Schulweg"))
    follow(page, page.locator(f"main a[href='/proposals/{demo_ids.voting_proposal}']"))
    count = page.locator(f"p[data-support-count='{demo_ids.voting_proposal}']")
    before = journey.support_count(count.inner_text())
    button = page.locator(f"#support-{demo_ids.voting_proposal} button[type=submit]")
    assert button.get_attribute("aria-pressed") == "false"
    follow(page, button)
    assert page.url.endswith(f"/proposals/{demo_ids.voting_proposal}")
    assert "Vielen Dank! Sie unterstützen diesen Vorschlag." in journey.flash(page).inner_text()
    assert button.get_attribute("aria-pressed") == "true"
    assert button.inner_text().strip().endswith(journey.SUPPORT_BUTTON_NAME), "its name stays"
    state = page.locator(f"#support-state-{demo_ids.voting_proposal}")
    assert state.inner_text().strip() == journey.supported_text(live_app)
    assert journey.support_count(count.inner_text()) == before + 1


def test_vote_with_a_voting_code_check_and_submit_without_javascript(page, live_app):
    code = journey.new_voting_code(live_app)
    page.goto(journey.consultation_path(journey.BUDGET_VOTING))
    follow(page, page.get_by_role("link", name="Mit Abstimmungscode abstimmen"))
    page.get_by_label("Abstimmungscode").fill(code)
    follow(page, page.get_by_role("button", name="Meinen Stimmzettel anzeigen"))

    used = page.locator("[data-ballot-used]")
    for title in journey.BALLOT_PROJECTS:
        page.get_by_role("checkbox", name=title).check()
    assert used.inner_text() == "0\u00a0€", "no script adds up the ticked boxes here"

    # "Check my ballot" lets the server add them up, keeping the boxes ticked and the code.
    follow(page, page.get_by_role("button", name="Meinen Stimmzettel prüfen"))
    assert "Ihre Auswahl passt" in page.locator("main [role=status]").inner_text()
    assert used.inner_text() == journey.BALLOT_TOTAL
    assert page.locator("[data-ballot-count]").inner_text() == "2"
    for title in journey.BALLOT_PROJECTS:
        assert page.get_by_role("checkbox", name=title).is_checked()
    assert page.locator("#ballot-receipt").count() == 0, "checking stores nothing"

    follow(page, page.get_by_role("button", name="Stimmzettel abgeben"))
    receipt = page.locator("#ballot-receipt")
    assert "Ihr Stimmzettel wurde erfasst" in receipt.inner_text()
    assert receipt.locator("[data-ballot-code]").inner_text().strip()
    assert "Vielen Dank! Ihr Stimmzettel wurde erfasst." in journey.flash(page).inner_text()
    for title in journey.BALLOT_PROJECTS:
        assert page.get_by_role("checkbox", name=title).is_checked()
    assert used.inner_text() == journey.BALLOT_TOTAL
