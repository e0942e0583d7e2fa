"""What moderators do in a real browser, and what the others then see: a comment hidden with a
reason keeps its place as a placeholder, a moderator restores it from there, the audit log
leads to it; moving a phase is asked for first; the header counts the open reports."""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import select

from participation.extensions import db
from participation.models import Consultation, Phase
from participation.services import moderation
from tests.browser import demo
from tests.browser import journeys_support as journey
from tests.browser.demo import DemoIds

HIDE = "Kommentar ausblenden"
RESTORE = "Kommentar wiederherstellen"
MODERATORS_ONLY = "Ausgeblendet – nur das Moderationsteam sieht diesen Text"


def placeholder(reason: str) -> str:
    return f"Von der Moderation ausgeblendet: {reason}"


def comment_on(page, comment_id: int):
    return page.locator(f"article#comment-{comment_id}")


def follow(page, target) -> None:
    with page.expect_navigation():
        target.click()


# The page has scrolled to the comment, its :target: the comment's top is where its scroll
# margin puts it, or as near as the end of the page lets it come. Bootstrap scrolls smoothly,
# so the test waits for this rather than looking once.
LANDED_ON = """article => {
  const top = article.getBoundingClientRect().top;
  const margin = parseFloat(getComputedStyle(article).scrollMarginTop) || 0;
  const root = document.documentElement;
  const atEnd = Math.ceil(window.scrollY + window.innerHeight) >= root.scrollHeight;
  return article.matches(":target") && top >= 0 && top < window.innerHeight
    && (Math.abs(top - margin) <= 1 || atEnd);
}"""
WHERE = """article => ({target: article.matches(":target"), scrollY: window.scrollY,
  top: article.getBoundingClientRect().top, innerHeight: window.innerHeight})"""


def assert_landed_on(page, article) -> None:
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError  # as the fixtures do

    try:
        page.wait_for_function(LANDED_ON, arg=article.element_handle(), timeout=5_000)
    except PlaywrightTimeoutError:
        raise AssertionError(f"the page did not scroll to it: {article.evaluate(WHERE)}") from None


def test_a_hidden_comment_is_a_placeholder_for_all_and_a_moderator_restores_it(
    page_as, live_app: Flask, demo_ids: DemoIds
):
    proposal = f"/proposals/{demo_ids.discussed_proposal}"
    token = uuid.uuid4().hex[:8]
    text = f"Das ist ein Kommentar, der gleich ausgeblendet wird ({token})."
    reason = f"Beleidigt andere Teilnehmende ({token})."
    comment_id = demo.add_comment(live_app, demo_ids.discussed_proposal, demo.NEIGHBOUR, text)

    # The moderator hides it with a reason and comes back to it on the proposal page.
    moderator = page_as("moderator")
    moderator.goto(proposal)
    comment = comment_on(moderator, comment_id)
    assert text in comment.inner_text()
    follow(moderator, comment.get_by_role("link", name=HIDE))
    moderator.get_by_label("Öffentlich angezeigter Grund").fill(reason)
    follow(moderator, moderator.locator("main").get_by_role("button", name=HIDE))
    assert moderator.url.endswith(f"{proposal}#comment-{comment_id}")
    assert_landed_on(moderator, comment)
    assert placeholder(reason) in comment.inner_text()
    assert MODERATORS_ONLY in comment.inner_text()
    assert text in comment.inner_text(), "moderators still read what was hidden"

    # Visitors and citizens see the reason in its place, neither its text nor the button.
    for role in ("visitor", "citizen"):
        page = page_as(role)
        page.goto(proposal)
        seen = comment_on(page, comment_id)
        assert placeholder(reason) in seen.inner_text(), role
        assert text not in page.content(), role
        assert MODERATORS_ONLY not in seen.inner_text(), role
        assert seen.get_by_role("button", name=RESTORE).count() == 0, role

    # The moderator restores it: it is an ordinary comment again, for everybody.
    follow(moderator, comment.get_by_role("button", name=RESTORE))
    assert "Der Kommentar ist wieder veröffentlicht." in journey.flash(moderator).inner_text()
    assert moderator.url.endswith(f"#comment-{comment_id}")
    assert text in comment.inner_text()
    assert placeholder(reason) not in comment.inner_text()
    assert comment.get_by_role("button", name=RESTORE).count() == 0
    visitor = page_as("visitor")
    visitor.goto(proposal)
    assert text in comment_on(visitor, comment_id).inner_text()


def test_the_audit_log_link_lands_on_the_hidden_comment(tab_as, demo_ids: DemoIds):
    page = tab_as("moderator")
    page.goto(demo.consultation(demo.COLLECTING, "/audit"))
    anchor = f"#comment-{demo_ids.hidden_comment}"
    link = page.locator(f"main a[href$='{anchor}']").first
    assert link.inner_text().startswith("Kommentar zu „")
    follow(page, link)
    assert page.url.endswith(f"/proposals/{demo_ids.discussed_proposal}{anchor}")
    comment = comment_on(page, demo_ids.hidden_comment)
    assert comment.count() == 1, f"the proposal page has no {anchor}"
    assert_landed_on(page, comment)
    assert placeholder(demo.HIDDEN_REASON) in comment.inner_text()
    assert comment.get_by_role("button", name=RESTORE).is_visible()


def _phase(app: Flask, slug: str) -> Phase:
    with app.app_context():
        return db.session.scalar(select(Consultation.phase).filter_by(slug=slug))


def test_a_phase_move_is_asked_for_first_and_cancelling_changes_nothing(tab_as, live_app: Flask):
    page = tab_as("moderator")
    page.goto(demo.consultation(demo.COLLECTING))
    follow(page, page.get_by_role("link", name="In die Phase „Abstimmung“ wechseln …"))
    assert page.url.endswith(demo.consultation(demo.COLLECTING, "/phase"))
    assert page.get_by_role("heading", level=1).inner_text() == (
        "In die Phase „Abstimmung“ wechseln?"
    )
    consequences = page.get_by_role("region", name="Was der Wechsel bewirkt").locator("li")
    assert consequences.count() >= 2
    assert "Vorschläge werden eingefroren" in consequences.first.inner_text()
    assert page.get_by_role(
        "button", name="Ja, jetzt in die Phase „Abstimmung“ wechseln"
    ).is_visible()

    follow(page, page.locator("main").get_by_role("link", name="Abbrechen"))
    assert page.url.endswith(demo.consultation(demo.COLLECTING))
    assert _phase(live_app, demo.COLLECTING) is Phase.COLLECTING
    assert page.locator(".flash-messages").count() == 0, "nothing to report: nothing happened"


def _open_reports(app: Flask) -> int:
    with app.app_context():
        return moderation.open_report_count()


def test_the_header_counts_the_open_reports_for_moderators(tab_as, phone, live_app: Flask):
    open_reports = _open_reports(live_app)
    assert open_reports >= 2, "demo.prepare reports a proposal and a comment"
    page = tab_as("moderator")
    page.goto("/")
    reports = journey.header_link(page, f"Meldungen ({open_reports} offen)")
    assert reports.is_visible()
    assert reports.locator(".notification-count").inner_text() == str(open_reports)

    citizen = tab_as("citizen")
    citizen.goto("/")
    assert citizen.locator(".site-header").get_by_text("Meldungen").count() == 0

    # On a phone the menu button carries the count, and says what it counts.
    small = phone("moderator")
    small.goto("/")
    button = small.locator("details.site-menu > summary")
    assert f"Offene Meldungen: {open_reports}" in button.inner_text()
