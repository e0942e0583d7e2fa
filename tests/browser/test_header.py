"""The page header: on a phone one line with the brand and a menu button (a <details>, so it
opens by tap without JavaScript too; Escape closes it and gives the focus back), on a wide
screen the navigation in the bar and no button."""

from __future__ import annotations

import pytest

from tests.browser import demo
from tests.browser.conftest import PHONE

# One line of 44 px tap targets with the bar's padding and border: well under 80 px, where
# the unfolded navigation took 300.
MOST_HEADER_HEIGHT = 80
ROLES = ("visitor", "citizen", "moderator")

# The vertical extent of the brand and of the menu button, and the header's height.
HEADER_LINE = """() => {
  const box = selector => document.querySelector(selector).getBoundingClientRect();
  const brand = box(".site-header .brand");
  const button = box(".site-menu > summary");
  return {
    header: box(".site-header").height,
    brand: [brand.top, brand.bottom],
    button: [button.top, button.bottom],
  };
}"""


def menu(page):
    return page.locator("details.site-menu")


def menu_button(page):
    return page.locator("details.site-menu > summary")


def menu_link(page, name: str):
    """A link of the main navigation, also while the closed menu hides it."""
    return page.get_by_role("navigation", name="Hauptnavigation", include_hidden=True).get_by_role(
        "link", name=name, exact=True, include_hidden=True
    )


def is_open(page) -> bool:
    return menu(page).evaluate("details => details.open")


@pytest.mark.parametrize("role", ROLES)
def test_the_header_on_a_phone_is_one_line_with_a_menu_button(phone, role: str):
    page = phone(role)
    page.goto(demo.consultation(demo.COLLECTING))
    line = page.evaluate(HEADER_LINE)
    assert line["header"] <= MOST_HEADER_HEIGHT, line
    brand_top, brand_bottom = line["brand"]
    button_top, button_bottom = line["button"]
    assert brand_top < button_bottom and button_top < brand_bottom, f"one line: {line}"
    assert menu_button(page).is_visible()
    assert menu_button(page).inner_text().split()[0] == "Menü"
    initiatives = menu_link(page, "Vorhaben")
    assert initiatives.count() == 1 and not initiatives.is_visible(), "folded into the menu"


@pytest.mark.parametrize("role", ROLES)
def test_the_menu_button_opens_the_navigation_on_a_phone(phone, role: str):
    page = phone(role)
    page.goto("/")
    menu_button(page).tap()
    assert is_open(page)
    navigation = page.get_by_role("navigation", name="Hauptnavigation")
    assert menu(page).locator("nav").count() == 1, "the navigation is inside the menu"
    for link in navigation.get_by_role("link").all():
        assert link.is_visible(), link.inner_text()
    box = page.locator(".site-menu-panel").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["viewport"]["width"], box


def test_the_menu_opens_by_tap_and_its_links_work_without_javascript(phone):
    page = phone("visitor", java_script_enabled=False)
    page.goto("/")
    initiatives = menu_link(page, "Vorhaben")
    assert initiatives.count() == 1 and not initiatives.is_visible()
    menu_button(page).tap()
    assert is_open(page)
    assert initiatives.is_visible()
    with page.expect_navigation():
        initiatives.tap()
    assert page.url.endswith("/initiatives")
    assert page.get_by_role("heading", level=1).is_visible()


def test_escape_closes_the_menu_and_gives_the_focus_back_to_its_button(phone):
    page = phone("citizen")
    page.goto("/")
    menu_button(page).click()
    assert is_open(page)
    page.keyboard.press("Tab")
    assert page.evaluate(
        "() => document.querySelector('.site-menu-panel').contains(document.activeElement)"
    ), "Tab goes from the button into the menu"
    page.keyboard.press("Escape")
    assert not is_open(page)
    assert menu_button(page).evaluate("summary => summary === document.activeElement")


@pytest.mark.parametrize("java_script", [True, False], ids=["with JavaScript", "without"])
@pytest.mark.parametrize("role", ROLES)
def test_a_wide_screen_shows_the_navigation_in_the_bar_and_no_menu_button(
    page_as, role: str, java_script: bool
):
    page = page_as(role, **({} if java_script else {"java_script_enabled": False}))
    page.goto("/")
    assert not menu_button(page).is_visible()
    links = page.get_by_role("navigation", name="Hauptnavigation").get_by_role("link").all()
    assert links
    header = page.locator(".site-header").bounding_box()
    for link in links:
        assert link.is_visible(), link.inner_text()
        box = link.bounding_box()
        assert box["y"] + box["height"] <= header["y"] + header["height"], "in the bar"
