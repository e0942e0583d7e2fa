"""The main pages on a small phone (360 by 740 CSS pixels, touch): nothing scrolls sideways,
and every tap target is at least 44 by 44 CSS pixels (WCAG 2.5.5).

The one exception WCAG allows and this test allows: a link inside a sentence or a line of text
(its paragraph, list item, cell or other text block holds text outside links as well). A checkbox or
radio button counts through its label when the label's box covers it, since a tap on the label
ticks it; a link stretched over its card (Bootstrap's .stretched-link) counts with the card.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser import demo
from tests.browser import journeys_support as journey
from tests.browser.conftest import PHONE
from tests.browser.demo import DemoIds, Visit, consultation

MINIMUM = 44

# Every visible tap target smaller than MINIMUM, described so that a reader finds it.
SMALL_TAP_TARGETS = """minimum => {
  const targets = "a[href], button, input:not([type=hidden]), select, textarea, summary, label";
  const rendered = element => {
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    // Zero-sized, or clipped to a pixel like .visually-hidden(-focusable) while not focused.
    if (box.width <= 1 || box.height <= 1 || style.visibility === "hidden") return false;
    // The content of a closed <details> keeps its boxes in Chromium, but cannot be tapped.
    const closed = element.closest("details:not([open])");
    return !closed || element === closed.querySelector(":scope > summary");
  };
  // Bootstrap's .stretched-link spreads the link over its card with an ::after box.
  const tapBox = element => {
    const after = getComputedStyle(element, "::after");
    if (after.content !== "none" && after.position === "absolute" && element.offsetParent) {
      return element.offsetParent.getBoundingClientRect();
    }
    return element.getBoundingClientRect();
  };
  const covers = (outer, inner) => outer.left <= inner.left + 0.5
    && outer.right >= inner.right - 0.5
    && outer.top <= inner.top + 0.5 && outer.bottom >= inner.bottom - 0.5;
  const toggles = element => element.tagName === "INPUT"
    && ["checkbox", "radio"].includes(element.type);
  // A link in a line of text (WCAG's inline exception): its nearest block, reached through
  // inline wrappers such as <strong>, lays out text, and holds text outside any link or button.
  const TEXT_BLOCKS = ["block", "list-item", "table-cell", "flow-root"];
  const otherText = (block, link) => {
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    let text = "";
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (!link.contains(node) && !node.parentElement.closest("a, button")) text += node.data;
    }
    return text.trim().length > 0;
  };
  const inSentence = element => {
    if (element.tagName !== "A") return false;
    let block = element.parentElement;
    while (block && getComputedStyle(block).display === "inline") block = block.parentElement;
    return Boolean(block) && TEXT_BLOCKS.includes(getComputedStyle(block).display)
      && otherText(block, element);
  };
  const describe = (element, box) => {
    let selector = element.tagName.toLowerCase();
    if (element.id) selector += "#" + element.id;
    selector += Array.from(element.classList).map(name => "." + name).join("");
    if (element.getAttribute("href")) selector += `[href="${element.getAttribute("href")}"]`;
    const text = (element.innerText || element.value || element.getAttribute("aria-label") || "")
      .trim().replace(/\\s+/g, " ").slice(0, 50);
    return `${selector} “${text}”: ${Math.round(box.width)}×${Math.round(box.height)}`;
  };
  const small = [];
  for (const element of document.querySelectorAll(targets)) {
    if (!rendered(element)) continue;
    if (element.tagName === "LABEL" && !(element.control && toggles(element.control))) continue;
    const box = tapBox(element);
    if (toggles(element)) {
      const label = Array.from(element.labels || []).find(
        label => rendered(label) && covers(label.getBoundingClientRect(), box));
      if (label) continue;  // measured as the label
    }
    if (box.width >= minimum && box.height >= minimum) continue;
    if (inSentence(element)) continue;
    small.push(describe(element, box));
  }
  return small;
}"""

# A phone zooms out a page wider than its screen, which widens window.innerWidth with it:
# the page must keep both the scroll width and innerWidth at the screen's width.
# The elements that reach past the screen are listed, first those that stretch the page
# itself: outside any scroll box, or positioned (which escapes a scroll box that is not).
SIDEWAYS = """width => {
  const scrolls = element => {
    for (let parent = element.parentElement; parent; parent = parent.parentElement) {
      if (["auto", "scroll", "hidden"].includes(getComputedStyle(parent).overflowX)) return true;
    }
    return false;
  };
  const positioned = element => ["absolute", "fixed"].includes(getComputedStyle(element).position);
  const describe = element => `${element.tagName.toLowerCase()}`
    + Array.from(element.classList).map(name => "." + name).join("")
    + ` right=${Math.round(element.getBoundingClientRect().right)}`;
  const beyond = Array.from(document.querySelectorAll("body *"))
    .filter(element => element.getBoundingClientRect().right > width + 0.5);
  const culprits = beyond.filter(element => positioned(element) || !scrolls(element));
  return {
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    innerWidth: window.innerWidth,
    beyond: (culprits.length ? culprits : beyond).slice(0, 8).map(describe),
  };
}"""


def enter_voting_code(code: str) -> Callable:
    def action(page) -> None:
        page.locator("#code").fill(code)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert page.locator("form.ballot-form").is_visible()

    return action


def find_ballot(code: str) -> Callable:
    def action(page) -> None:
        page.locator("#code").fill(code)
        with page.expect_navigation():
            page.locator("#find-ballot button[type=submit]").click()
        assert page.locator("#found-ballot").is_visible()

    return action


VISITS = [
    Visit("home", "visitor", "/"),
    Visit("consultation list", "visitor", "/consultations/"),
    Visit("consultation collecting", "visitor", consultation(demo.COLLECTING)),
    Visit("consultation voting", "citizen", consultation(demo.SUPPORT_VOTING)),
    Visit("consultation budget", "visitor", consultation(demo.BUDGET_VOTING)),
    Visit(
        "proposal list with filters and pages",
        "visitor",
        consultation(demo.BUDGET_CLOSED, "?sort=supported&page=2"),
    ),
    Visit("proposal with comments", "citizen", lambda ids: f"/proposals/{ids.discussed_proposal}"),
    Visit("proposal in voting", "citizen", lambda ids: f"/proposals/{ids.voting_proposal}"),
    Visit("own proposal", "citizen", lambda ids: f"/proposals/{ids.own_proposal}"),
    Visit("submit form", "citizen", consultation(demo.COLLECTING, "/proposals/new")),
    Visit("login", "visitor", "/account/login"),
    Visit("register", "visitor", "/account/register"),
    Visit("voting code", "visitor", consultation(demo.BUDGET_VOTING, "/vote")),
    Visit(
        "ballot with a voting code",
        "visitor",
        consultation(demo.BUDGET_VOTING, "/vote"),
        action_for=lambda ids: enter_voting_code(ids.voting_code),
    ),
    Visit("results budget", "visitor", consultation(demo.BUDGET_CLOSED, "/results")),
    Visit("results budget as moderator", "moderator", consultation(demo.BUDGET_CLOSED, "/results")),
    Visit("paper ballots", "moderator", consultation(demo.BUDGET_VOTING, "/paper")),
    Visit("voting codes", "moderator", consultation(demo.BUDGET_VOTING, "/voting-codes")),
    Visit("ballot look-up", "visitor", consultation(demo.BUDGET_CLOSED, "/results/ballot")),
    Visit(
        "ballot found",
        "visitor",
        consultation(demo.BUDGET_CLOSED, "/results"),
        action_for=lambda ids: find_ballot(ids.budget_ballot_code),
    ),
    Visit("results support", "visitor", consultation(demo.SUPPORT_CLOSED, "/results")),
    Visit("initiative list", "visitor", "/initiatives"),
    Visit("initiative", "visitor", lambda ids: f"/initiatives/{ids.initiative}"),
    Visit("profile", "visitor", lambda ids: f"/people/{ids.author}"),
    Visit("own profile", "citizen", lambda ids: f"/people/{ids.citizen}"),
    Visit("account settings", "citizen", "/account/settings"),
    Visit("notification settings", "citizen", "/account/settings/notifications"),
    Visit("notifications", "citizen", "/notifications"),
    Visit("phase confirmation", "moderator", consultation(demo.COLLECTING, "/phase")),
    Visit("notification settings as moderator", "moderator", "/account/settings/notifications"),
    Visit("home unconfirmed", "unconfirmed", "/"),
]


def assert_no_sideways_scrolling(page) -> None:
    width = PHONE["viewport"]["width"]
    sideways = page.evaluate(SIDEWAYS, width)
    fits = (
        sideways["innerWidth"] == width
        and sideways["scrollWidth"] <= width
        and sideways["scrollWidth"] <= sideways["clientWidth"]
    )
    assert fits, f"{page.url} is wider than the phone's {width} pixels: {sideways}"


@pytest.mark.parametrize("visit", VISITS, ids=[visit.name for visit in VISITS])
def test_the_page_fits_a_phone_and_its_tap_targets_are_big_enough(
    visit: Visit, phone, demo_ids: DemoIds
):
    page = phone(visit.role)
    response = page.goto(visit.url(demo_ids))
    assert response.status == 200
    if action := visit.action_on(demo_ids):
        action(page)
    assert_no_sideways_scrolling(page)
    small = page.evaluate(SMALL_TAP_TARGETS, MINIMUM)
    assert not small, f"{page.url}: tap targets under {MINIMUM}×{MINIMUM}:\n  " + "\n  ".join(small)


def test_the_skip_link_is_big_enough_when_it_shows(phone):
    page = phone("visitor")
    page.goto("/")
    page.keyboard.press("Tab")
    box = page.locator(":focus").bounding_box()
    assert box["width"] >= MINIMUM and box["height"] >= MINIMUM, box


def test_the_submit_form_with_its_errors_fits_a_phone(phone):
    page = phone("citizen")
    page.goto(consultation(demo.COLLECTING, "/proposals/new"))
    with page.expect_navigation():
        page.get_by_role("button", name="Vorschlag veröffentlichen").click()
    assert page.locator("#error-summary").is_visible()
    assert_no_sideways_scrolling(page)
    small = page.evaluate(SMALL_TAP_TARGETS, MINIMUM)
    assert not small, "tap targets under 44×44:\n  " + "\n  ".join(small)


def test_the_measure_finds_small_targets_and_spares_links_in_sentences(phone):
    page = phone("visitor")
    page.set_content(
        "<main><p>Read <a href='#rules'>the rules</a> first.</p>"
        "<p><strong>By <a href='#author'>Anna</a></strong> · 23.11.2026</p>"
        "<p><a href='#alone'>A link alone</a></p>"
        "<button style='height: 30px'>Small button</button>"
        "<input type='checkbox' id='tick'><label for='tick'>Tick</label>"
        "<a href='#big' style='display: inline-block; padding: 20px'>Big enough</a></main>"
    )
    small = "\n".join(page.evaluate(SMALL_TAP_TARGETS, MINIMUM))
    assert "A link alone" in small
    assert "Small button" in small
    assert "input#tick" in small, "a box its label does not cover counts on its own"
    assert "the rules" not in small and "Anna" not in small, "links in a line of text are spared"
    assert "Big enough" not in small


# Results on a phone: the cells a reader compares, each inside the screen's width, for every
# row of the results table (a row is a card there).
CELLS_BEYOND = """([width, selectors]) => {
  const rows = Array.from(document.querySelectorAll("main table.results-table tbody tr"));
  const beyond = [];
  for (const row of rows) {
    for (const selector of selectors) {
      const cell = row.querySelector(selector);
      if (!cell) {
        beyond.push(`${row.id}: no ${selector}`);
        continue;
      }
      const box = cell.getBoundingClientRect();
      if (box.width === 0 || box.left < 0 || box.right > width + 0.5) {
        beyond.push(`${row.id} ${selector}: ${Math.round(box.left)}..${Math.round(box.right)}`);
      }
    }
  }
  return {rows: rows.length, beyond};
}"""

FONT_SIZES = """selector => Array.from(document.querySelectorAll(selector))
  .map(element => parseFloat(getComputedStyle(element).fontSize))"""


def _labelled(app, *msgids: str) -> list[str]:
    """Cell selectors by their German data-label (what a stacked cell says it is)."""
    return [f'td[data-label="{journey.in_german(app, msgid)}"]' for msgid in msgids]


def assert_cells_fit(page, selectors: list[str]) -> None:
    width = PHONE["viewport"]["width"]
    cells = page.evaluate(CELLS_BEYOND, [width, selectors])
    assert cells["rows"] > 0, "the results table has rows"
    assert not cells["beyond"], f"cells beyond {width} px:\n  " + "\n  ".join(cells["beyond"])


def test_the_budget_results_show_each_project_within_a_phone_screen(phone, live_app):
    page = phone("visitor")
    page.goto(consultation(demo.BUDGET_CLOSED, "/results"))
    assert_no_sideways_scrolling(page)
    assert_cells_fit(page, ["th[scope=row]", *_labelled(live_app, "Cost", "Approvals", "Funded")])


def test_the_budget_chart_text_is_body_size_on_a_phone(phone):
    page = phone("visitor")
    page.goto(consultation(demo.BUDGET_CLOSED, "/results"))
    body = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert body >= 12
    for selector in (".budget-chart-label", ".budget-chart-figures"):
        sizes = page.evaluate(FONT_SIZES, selector)
        assert sizes, f"the chart has {selector}"
        assert set(sizes) == {body}, f"{selector}: {sorted(set(sizes))} px, body text {body} px"


def test_the_support_ranking_shows_each_proposal_within_a_phone_screen(phone, live_app):
    page = phone("visitor")
    page.goto(consultation(demo.SUPPORT_CLOSED, "/results"))
    assert_no_sideways_scrolling(page)
    cells = _labelled(live_app, "Rank", "Supports", "Estimated cost", "Result")
    assert_cells_fit(page, ["th[scope=row]", *cells])
