"""WCAG 2.1 AA in a real browser: axe-core finds nothing on any page a visitor, citizen,
moderator or admin can reach, and the things axe cannot judge work as a person needs them
(skip link, announced form errors, the support button's state, visible focus)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.browser import demo
from tests.browser import journeys_support as journey
from tests.browser.demo import DemoIds, Visit, consultation

# The WCAG 2.1 A and AA rules, and axe's best-practice rules for what the issue also asks:
# landmarks, one main heading and a heading order without skipped levels.
STRUCTURE_RULES = (
    "heading-order",
    "page-has-heading-one",
    "empty-heading",
    "landmark-one-main",
    "landmark-unique",
    "landmark-no-duplicate-banner",
    "landmark-no-duplicate-contentinfo",
    "landmark-no-duplicate-main",
    "landmark-banner-is-top-level",
    "landmark-contentinfo-is-top-level",
    "landmark-main-is-top-level",
    "landmark-complementary-is-top-level",
    "region",
    "skip-link",
)
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "rules": {rule: {"enabled": True} for rule in STRUCTURE_RULES},
    "resultTypes": ["violations"],
}
axe = pytest.importorskip(
    "axe_playwright_python.sync_playwright", reason="axe-playwright-python is not installed"
).Axe()


def submit_main_form(page, button: str = "main form[method=post] button[type=submit]") -> None:
    """Send the page's form as it is (the forms are `novalidate`: the server finds the errors)."""
    with page.expect_navigation():
        page.locator(button).first.click()


def fill_and_submit(fields: dict[str, str], button: str | None = None) -> Callable:
    def action(page) -> None:
        for selector, value in fields.items():
            page.locator(selector).fill(value)
        submit_main_form(page, *([button] if button else []))

    return action


def reject_without_explanation(page) -> None:
    page.locator("input[name=answer][value=rejected]").check()
    page.locator("#text").fill("")
    submit_main_form(page)


def submit_an_unknown_choice(page) -> None:
    """Send a choice the radio buttons do not offer (an old page, a crafted request): the
    server refuses it with a message, which is the one way this form shows an error."""
    page.evaluate(
        "() => { const radio = document.querySelector('main input[type=radio]');"
        " radio.value = 'hourly'; radio.checked = true; }"
    )
    submit_main_form(page)


RESULTS_BUDGET = consultation(demo.BUDGET_CLOSED, "/results")
VOTE = consultation(demo.BUDGET_VOTING, "/vote")


def ballot_with_errors(code: str) -> Callable:
    """The ballot of a voting code, submitted empty: refused with the reasons (422)."""

    def action(page) -> None:
        fill_and_submit({"#code": code})(page)
        submit_main_form(page, "main form button[value=submit]")

    return action


FIND_BALLOT = "#find-ballot button[type=submit]"


def look_up_ballot(code: str) -> Callable:
    return fill_and_submit({"#code": code}, FIND_BALLOT)


VISITS = [
    # Visitors
    Visit("home", "visitor", "/"),
    Visit("consultation list", "visitor", "/consultations/"),
    Visit("consultation collecting", "visitor", consultation(demo.COLLECTING)),
    Visit("consultation support voting", "visitor", consultation(demo.SUPPORT_VOTING)),
    Visit("consultation budget voting", "visitor", consultation(demo.BUDGET_VOTING)),
    Visit("consultation evaluating", "visitor", consultation(demo.EVALUATING)),
    Visit("consultation support closed", "visitor", consultation(demo.SUPPORT_CLOSED)),
    Visit("consultation budget closed", "visitor", consultation(demo.BUDGET_CLOSED)),
    Visit(
        "proposal list filtered",
        "visitor",
        lambda ids: consultation(
            demo.COLLECTING, f"?category={ids.collecting_category}&sort=supported&q=e"
        ),
    ),
    Visit(
        "proposal list without matches",
        "visitor",
        consultation(demo.COLLECTING, "?q=zzzz-nothing-matches&answer=accepted"),
    ),
    Visit("proposal list second page", "visitor", consultation(demo.BUDGET_CLOSED, "?page=2")),
    Visit("proposal with comments", "visitor", lambda ids: f"/proposals/{ids.discussed_proposal}"),
    Visit("proposal in voting", "visitor", lambda ids: f"/proposals/{ids.voting_proposal}"),
    Visit("results support", "visitor", consultation(demo.SUPPORT_CLOSED, "/results")),
    Visit("results budget", "visitor", RESULTS_BUDGET),
    Visit("ballot look-up", "visitor", consultation(demo.BUDGET_CLOSED, "/results/ballot")),
    Visit(
        "ballot found",
        "visitor",
        RESULTS_BUDGET,
        action_for=lambda ids: look_up_ballot(ids.budget_ballot_code.replace("-", "").lower()),
    ),
    Visit("ballot look-up with errors", "visitor", RESULTS_BUDGET, 422, look_up_ballot("K7QF")),
    Visit(
        "ballot look-up unknown code",
        "visitor",
        RESULTS_BUDGET,
        404,
        look_up_ballot("ZZZZ-ZZZZ-ZZZZ"),
    ),
    Visit("initiative list", "visitor", "/initiatives"),
    Visit("initiative", "visitor", lambda ids: f"/initiatives/{ids.initiative}"),
    Visit("login", "visitor", "/account/login"),
    Visit("login with errors", "visitor", "/account/login", 422, submit_main_form),
    Visit(
        "login refused",
        "visitor",
        "/account/login",
        422,
        fill_and_submit({"#email": "anna@example.org", "#password": "not-the-password"}),
    ),
    Visit("register", "visitor", "/account/register"),
    Visit("register with errors", "visitor", "/account/register", 422, submit_main_form),
    Visit("registration sent", "visitor", "/account/register/sent"),
    Visit("profile", "visitor", lambda ids: f"/people/{ids.author}"),
    Visit("profile comments", "visitor", lambda ids: f"/people/{ids.author}/comments"),
    Visit("forgot password", "visitor", "/account/password/forgot"),
    Visit(
        "forgot password with errors", "visitor", "/account/password/forgot", 422, submit_main_form
    ),
    Visit(
        "forgot password sent",
        "visitor",
        "/account/password/forgot",
        action=fill_and_submit({"#email": "nobody@example.org"}),
    ),
    Visit("reset password", "visitor", lambda ids: f"/account/password/reset/{ids.reset_token}"),
    Visit(
        "reset password with errors",
        "visitor",
        lambda ids: f"/account/password/reset/{ids.reset_token}",
        422,
        submit_main_form,
    ),
    Visit("reset link invalid", "visitor", "/account/password/reset/not-a-token", 400),
    Visit("confirmation link invalid", "visitor", "/account/confirm/not-a-token", 400),
    Visit(
        "unsubscribe", "visitor", lambda ids: f"/notifications/unsubscribe/{ids.unsubscribe_token}"
    ),
    Visit(
        "unsubscribed",
        "visitor",
        lambda ids: f"/notifications/unsubscribe/{ids.unsubscribe_token}",
        action=lambda page: submit_main_form(page, "main form button[type=submit]"),
    ),
    Visit("unsubscribe link invalid", "visitor", "/notifications/unsubscribe/not-a-token", 400),
    Visit("not found", "visitor", "/consultations/there-is-no-such-consultation", 404),
    Visit("method not allowed", "visitor", "/account/logout", 405),
    # Citizens
    Visit("home as citizen", "citizen", "/"),
    Visit("consultation collecting as citizen", "citizen", consultation(demo.COLLECTING)),
    Visit("support buttons in a list", "citizen", consultation(demo.SUPPORT_VOTING)),
    Visit("support button", "citizen", lambda ids: f"/proposals/{ids.voting_proposal}"),
    Visit(
        "proposal with comment forms", "citizen", lambda ids: f"/proposals/{ids.discussed_proposal}"
    ),
    Visit("own proposal", "citizen", lambda ids: f"/proposals/{ids.own_proposal}"),
    Visit("edit proposal", "citizen", lambda ids: f"/proposals/{ids.own_proposal}/edit"),
    Visit("submit form", "citizen", consultation(demo.COLLECTING, "/proposals/new")),
    Visit(
        "submit form with errors",
        "citizen",
        consultation(demo.COLLECTING, "/proposals/new"),
        422,
        submit_main_form,
    ),
    Visit("report form", "citizen", lambda ids: f"/proposals/{ids.reportable_proposal}/report"),
    Visit(
        "report form with errors",
        "citizen",
        lambda ids: f"/proposals/{ids.reportable_proposal}/report",
        422,
        submit_main_form,
    ),
    Visit(
        "comment with errors",
        "citizen",
        lambda ids: f"/proposals/{ids.discussed_proposal}",
        422,
        lambda page: submit_main_form(page, "form.comment-form button[type=submit]"),
    ),
    Visit("voting code", "visitor", VOTE),
    Visit("voting code with errors", "visitor", VOTE, 422, fill_and_submit({"#code": "K7QF-M2XD"})),
    Visit(
        "ballot with a voting code",
        "visitor",
        VOTE,
        action_for=lambda ids: fill_and_submit({"#code": ids.voting_code}),
    ),
    Visit(
        "ballot with a voting code and errors",
        "visitor",
        VOTE,
        422,
        action_for=lambda ids: ballot_with_errors(ids.voting_code),
    ),
    Visit("ballot after voting", "citizen", consultation(demo.BUDGET_CLOSED, "/ballot")),
    Visit("forbidden", "citizen", "/moderation/reports", 403),
    Visit("own profile", "citizen", lambda ids: f"/people/{ids.citizen}"),
    Visit("account settings", "citizen", "/account/settings"),
    Visit(
        "account settings with errors",
        "citizen",
        "/account/settings",
        422,
        fill_and_submit({"#display_name": ""}),
    ),
    Visit("password settings", "citizen", "/account/settings/password"),
    Visit(
        "password settings with errors",
        "citizen",
        "/account/settings/password",
        422,
        submit_main_form,
    ),
    Visit("e-mail settings", "citizen", "/account/settings/email"),
    Visit("where you are logged in", "citizen", "/account/settings/sessions"),
    Visit(
        "e-mail settings with errors", "citizen", "/account/settings/email", 422, submit_main_form
    ),
    Visit("notification settings", "citizen", "/account/settings/notifications"),
    Visit(
        "notification settings with errors",
        "citizen",
        "/account/settings/notifications",
        422,
        submit_an_unknown_choice,
    ),
    Visit("own data", "citizen", "/account/data"),
    Visit("delete account", "citizen", "/account/delete"),
    Visit("delete account with errors", "citizen", "/account/delete", 422, submit_main_form),
    Visit("notifications", "citizen", "/notifications"),
    Visit("e-mail change link invalid", "citizen", "/account/email/confirm/not-a-token", 400),
    # Logged in, address not confirmed: the notice on every page, and what it keeps closed
    Visit("home unconfirmed", "unconfirmed", "/"),
    Visit("consultation unconfirmed", "unconfirmed", consultation(demo.COLLECTING)),
    Visit("proposal unconfirmed", "unconfirmed", lambda ids: f"/proposals/{ids.voting_proposal}"),
    # Moderators and admins
    Visit("moderation queue", "moderator", "/moderation/reports"),
    Visit("audit log", "moderator", consultation(demo.BUDGET_CLOSED, "/audit")),
    Visit("consultation as moderator", "moderator", consultation(demo.COLLECTING)),
    Visit("evaluating as moderator", "moderator", consultation(demo.EVALUATING)),
    Visit("draft as moderator", "moderator", consultation(demo.DRAFT)),
    Visit("results preview support", "moderator", consultation(demo.EVALUATING, "/results")),
    Visit("results as moderator", "moderator", consultation(demo.BUDGET_CLOSED, "/results")),
    Visit("budget voting as moderator", "moderator", consultation(demo.BUDGET_VOTING)),
    Visit("paper ballots", "moderator", consultation(demo.BUDGET_VOTING, "/paper")),
    Visit("voting codes", "moderator", consultation(demo.BUDGET_VOTING, "/voting-codes")),
    Visit(
        "paper ballots with errors",
        "moderator",
        consultation(demo.BUDGET_VOTING, "/paper"),
        422,
        submit_main_form,
    ),
    Visit("paper ballots after the count", "moderator", consultation(demo.BUDGET_CLOSED, "/paper")),
    Visit("proposal as moderator", "moderator", lambda ids: f"/proposals/{ids.discussed_proposal}"),
    Visit("phase confirmation", "moderator", consultation(demo.COLLECTING, "/phase")),
    Visit("phase confirmation budget", "moderator", consultation(demo.BUDGET_VOTING, "/phase")),
    Visit("notification settings as moderator", "moderator", "/account/settings/notifications"),
    Visit("new consultation", "moderator", "/consultations/new"),
    Visit("new consultation with errors", "moderator", "/consultations/new", 422, submit_main_form),
    Visit(
        "answer form",
        "moderator",
        lambda ids: f"/moderation/proposals/{ids.discussed_proposal}/answer",
    ),
    Visit(
        "hide form", "moderator", lambda ids: f"/moderation/comments/{ids.reported_comment}/hide"
    ),
    Visit(
        "answer form with errors",
        "moderator",
        lambda ids: f"/moderation/proposals/{ids.discussed_proposal}/answer",
        422,
        reject_without_explanation,
    ),
    Visit(
        "hide form with errors",
        "moderator",
        lambda ids: f"/moderation/comments/{ids.reported_comment}/hide",
        422,
        submit_main_form,
    ),
    Visit("edit consultation", "moderator", consultation(demo.COLLECTING, "/edit")),
    Visit("edit initiative", "moderator", lambda ids: f"/initiatives/{ids.initiative}/edit"),
    Visit(
        "initiative update form",
        "moderator",
        lambda ids: f"/initiatives/{ids.initiative}/updates/new",
    ),
    Visit(
        "initiative update with errors",
        "moderator",
        lambda ids: f"/initiatives/{ids.initiative}/updates/new",
        422,
        submit_main_form,
    ),
    Visit("users", "admin", "/moderation/users"),
    Visit("delete on request", "admin", lambda ids: f"/moderation/users/{ids.other_user}/delete"),
    Visit(
        "delete on request with errors",
        "admin",
        lambda ids: f"/moderation/users/{ids.other_user}/delete",
        422,
        submit_main_form,
    ),
]


def violation_report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            lines.append(f"    {', '.join(map(str, node['target']))}")
            lines.append(f"        {node['html'][:200]}")
            if node.get("failureSummary"):
                summary = node["failureSummary"].replace("\n", " ")
                lines.append(f"        {summary[:300]}")
    return "\n".join(lines)


@pytest.mark.parametrize("visit", VISITS, ids=[visit.name for visit in VISITS])
def test_axe_finds_no_wcag_violation(visit: Visit, tab_as, demo_ids: DemoIds):
    page = tab_as(visit.role)
    response = page.goto(visit.url(demo_ids))
    if action := visit.action_on(demo_ids):
        action(page)
    else:
        assert response.status == visit.status
    assert page.locator("h1").count() == 1, "every page has one main heading"
    if visit.status == 422:
        assert page.locator("#error-summary").count() == 1, "the errors are summed up"
    results = axe.run(page, options=AXE_OPTIONS)
    violations = results.response["violations"]
    assert not violations, f"{page.url}\n{violation_report(violations)}"


@pytest.mark.parametrize("role", ["visitor", "moderator"])
def test_axe_finds_no_wcag_violation_with_the_menu_open_on_a_phone(phone, role: str):
    """Opened by a tap, which leaves the menu button in its hover state on a touch screen;
    axe judges the colours once the button's transitions have ended."""
    page = phone(role)
    page.goto(consultation(demo.COLLECTING))
    page.locator("details.site-menu > summary").tap()
    assert page.locator("details.site-menu").evaluate("details => details.open")
    page.wait_for_function("() => document.getAnimations().length === 0")
    violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
    assert not violations, f"{page.url}\n{violation_report(violations)}"


def test_axe_reports_what_it_should(tab_as):
    """The check above is no empty ritual: a field without a label and a skipped heading level
    on a real page are reported."""
    page = tab_as("visitor")
    page.goto("/")
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML(
             "beforeend", "<input type='text' name='unlabelled'><h6>Skipped levels</h6>")"""
    )
    violations = axe.run(page, options=AXE_OPTIONS).response["violations"]
    assert {"label", "heading-order"} <= {violation["id"] for violation in violations}


# What axe cannot check


def test_the_skip_link_is_the_first_stop_and_moves_focus_to_main(tab_as):
    page = tab_as("visitor")
    page.goto(consultation(demo.COLLECTING))
    page.keyboard.press("Tab")
    skip = page.locator(":focus")
    assert skip.get_attribute("href") == "#main"
    assert skip.is_visible(), "the skip link shows itself when it has focus"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


ERROR_VISITS = [visit for visit in VISITS if visit.status == 422]

DESCRIPTION_OF = """element => {
  const owner = element.type === "radio" ? element.closest("fieldset") : element;
  return (owner.getAttribute("aria-describedby") || "").split(/\\s+/).filter(Boolean)
    .map(id => document.getElementById(id)).filter(Boolean)
    .map(described => described.id + ":" + described.innerText.trim());
}"""


@pytest.mark.parametrize("visit", ERROR_VISITS, ids=[visit.name for visit in ERROR_VISITS])
def test_form_errors_are_announced_and_linked_to_their_fields(
    visit: Visit, tab_as, demo_ids: DemoIds
):
    page = tab_as(visit.role)
    page.goto(visit.url(demo_ids))
    visit.action_on(demo_ids)(page)
    summary = page.locator("#error-summary")
    assert summary.get_attribute("role") == "alert"
    assert page.evaluate("document.activeElement.id") == "error-summary", "focus is on it"
    for link in summary.locator("a[href^='#']").all():
        target_id = link.get_attribute("href")[1:]
        target = page.locator(f"[id='{target_id}']")
        assert target.count() == 1, f"the summary links to #{target_id}, which is not there"
        descriptions = target.evaluate(DESCRIPTION_OF)
        errors = [text for text in descriptions if text.split(":")[0].endswith("-error")]
        assert errors and all(text.split(":", 1)[1] for text in errors), descriptions
        if target.get_attribute("type") != "radio":
            assert target.get_attribute("aria-invalid") == "true"
        link.click()
        assert page.evaluate("document.activeElement.id") == target_id


def test_the_error_summary_is_in_the_page_without_javascript(page_as):
    page = page_as("citizen", java_script_enabled=False)
    page.goto(consultation(demo.COLLECTING, "/proposals/new"))
    submit_main_form(page)
    assert page.locator("#error-summary[role=alert] a[href='#title']").count() == 1


def _support_button(page, proposal_id: int):
    return page.locator(f"#support-{proposal_id} button[type=submit]")


def test_the_support_button_keeps_its_name_and_tells_whether_it_is_pressed(
    tab_as, demo_ids: DemoIds, live_app
):
    """A toggle button (WAI-ARIA APG): the same name pressed or not, aria-pressed carries the
    state, and a text beside the button shows the state to those who see it."""
    page = tab_as("citizen")
    page.goto(f"/proposals/{demo_ids.voting_proposal}")
    button = _support_button(page, demo_ids.voting_proposal)
    state = page.locator(f"#support-state-{demo_ids.voting_proposal}")
    states = {"false": "", "true": journey.supported_text(live_app)}
    before = button.get_attribute("aria-pressed")
    assert before in states
    name = page.get_by_role("button", name=journey.SUPPORT_BUTTON_NAME, exact=True)
    assert name.count() == 1, "the button is called what it does"
    assert state.inner_text().strip() == states[before]
    button.click()
    after = "false" if before == "true" else "true"
    page.wait_for_function(
        "([id, pressed]) => document.querySelector(`#support-${id} button`)"
        ".getAttribute('aria-pressed') === pressed",
        arg=[demo_ids.voting_proposal, after],
    )
    assert name.count() == 1, "pressing it changes its state, not its name"
    assert state.inner_text().strip() == states[after]
    assert page.locator("[data-support-message]").inner_text().strip()
    button.click()  # and back, so that the demo data stays as it was
    page.wait_for_function(
        "([id, pressed]) => document.querySelector(`#support-${id} button`)"
        ".getAttribute('aria-pressed') === pressed",
        arg=[demo_ids.voting_proposal, before],
    )
    assert state.inner_text().strip() == states[before]


def test_the_follow_button_keeps_its_name_whether_pressed_or_not(tab_as, demo_ids: DemoIds):
    """The same toggle pattern: the citizen follows their own proposal, not somebody else's."""
    page = tab_as("citizen")
    pressed = {}
    for proposal in (demo_ids.own_proposal, demo_ids.reportable_proposal):
        page.goto(f"/proposals/{proposal}")
        button = page.get_by_role("button", name="Diesem Vorschlag folgen", exact=True)
        assert button.count() == 1
        pressed[proposal] = button.get_attribute("aria-pressed")
    assert pressed == {demo_ids.own_proposal: "true", demo_ids.reportable_proposal: "false"}


FOCUS_STYLE = """element => {
  const style = getComputedStyle(element);
  return {outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
          shadow: style.boxShadow};
}"""


@pytest.mark.parametrize(
    "selector",
    ["main a[href]", "main button.btn-primary, main a.btn-primary", "header nav a", "#q"],
    ids=["link", "primary button", "navigation link", "search field"],
)
def test_focus_is_visible(tab_as, selector: str):
    page = tab_as("citizen")
    page.goto(consultation(demo.COLLECTING))
    target = page.locator(selector).first
    # Reach it by keyboard, so that :focus-visible applies as it does for keyboard users.
    target.evaluate("element => element.setAttribute('data-focus-target', '')")
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.hasAttribute('data-focus-target')"):
            break
    else:
        pytest.fail(f"{selector} cannot be reached with the Tab key")
    style = target.evaluate(FOCUS_STYLE)
    assert style["outline"] != "none" and style["width"] >= 2, style


def test_support_buttons_in_a_list_name_their_proposal(tab_as):
    page = tab_as("citizen")
    page.goto(consultation(demo.SUPPORT_VOTING))
    cards = page.locator(".proposal-card").filter(has=page.locator("[data-support-form]")).all()
    assert cards, "the citizen can support proposals from the list"
    for card in cards:
        title = card.locator("h3").inner_text().strip()
        button = card.locator("[data-support-form] button[type=submit]")
        assert title in button.inner_text(), "a screen reader's list of buttons tells them apart"
        assert button.get_attribute("aria-pressed") in {"true", "false"}
