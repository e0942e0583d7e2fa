"""Browser tests: a real Chromium against the real app, served once for the whole session.

One live server (the app factory's app on a temporary SQLite file, migrated and loaded with
the demo data, served by werkzeug in a thread on 127.0.0.1), one Chromium for the session,
and one login per demo role whose cookies every test reuses. Playwright drives Debian's
/usr/bin/chromium and never downloads a browser of its own.

Without Chromium (or without playwright) the tests skip with the reason, unless
PARTICIPATION_REQUIRE_BROWSER=1 (set by .ci/run) turns that skip into a failure.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from participation import live_demo
from tests.browser import demo

REQUIRE_VARIABLE = "PARTICIPATION_REQUIRE_BROWSER"
CHROMIUM_VARIABLE = "PARTICIPATION_CHROMIUM"
DEFAULT_CHROMIUM = "/usr/bin/chromium"

# As root (CI) Chromium needs --no-sandbox; without the background-networking flags it keeps
# trying to reach Google's hosts, which a closed network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# The demo logins (seeds/demo.yaml), one per role.
LOGINS = {
    "citizen": ("anna@example.org", "demo-citizen-password"),
    "moderator": ("moderation@example.org", "demo-moderator-password"),
    "admin": ("admin@example.org", "demo-admin-password"),
    # Added by tests/browser/demo.py: logged in, but the e-mail address is not confirmed yet.
    "unconfirmed": demo.UNCONFIRMED,
}
ROLES = ("visitor", *LOGINS)

_skip_reason: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    if _skip_reason:
        terminalreporter.write_sep("!", f"SKIPPED the browser tests: {_skip_reason[0]}")


def _chromium_path() -> str | None:
    """PARTICIPATION_CHROMIUM if set, else Debian's /usr/bin/chromium or one on the PATH."""
    if chosen := os.environ.get(CHROMIUM_VARIABLE):
        return chosen if os.access(chosen, os.X_OK) else None
    if os.access(DEFAULT_CHROMIUM, os.X_OK):
        return DEFAULT_CHROMIUM
    return shutil.which("chromium")


def _unavailable(reason: str) -> None:
    if not _skip_reason:
        _skip_reason.append(reason)
    if os.environ.get(REQUIRE_VARIABLE) == "1":
        pytest.fail(f"{reason} (and {REQUIRE_VARIABLE}=1)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """The app as in production (CSRF on), on a SQLite file with the demo data."""
    database = tmp_path_factory.mktemp("browser") / "participation.db"
    return live_demo.demo_app(database, TESTING=True, WTF_CSRF_ENABLED=True)


@pytest.fixture(scope="session")
def demo_ids(live_app: Flask) -> demo.DemoIds:
    return demo.prepare(live_app)


@pytest.fixture(scope="session")
def base_url(live_app: Flask, demo_ids: demo.DemoIds) -> Iterator[str]:
    """The live server; the demo data is complete (demo_ids) before it answers anybody."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in failures
    with live_demo.served(live_app) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    executable = _chromium_path()
    if executable is None:
        _unavailable(
            f"no Chromium at {os.environ.get(CHROMIUM_VARIABLE, DEFAULT_CHROMIUM)} "
            "(install Debian's package `chromium`)"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


CONTEXT_OPTIONS = {
    "locale": "de-DE",
    "timezone_id": "Europe/Berlin",
    "viewport": {"width": 1280, "height": 900},
}

# A small phone (360 by 740 CSS pixels, touch), for `page_as(role, **PHONE)`.
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "screen": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}


@pytest.fixture(scope="session")
def login_states(browser, base_url: str) -> dict[str, dict | None]:
    """Each demo role logs in once through the login form; its cookies are kept for reuse."""
    states: dict[str, dict | None] = {"visitor": None}
    for role, (email, password) in LOGINS.items():
        context = browser.new_context(base_url=base_url, **CONTEXT_OPTIONS)
        page = context.new_page()
        page.goto("/account/login")
        page.locator("#email").fill(email)
        page.locator("#password").fill(password)
        with page.expect_navigation():
            page.locator("main form button[type=submit]").click()
        assert "/account/login" not in page.url, f"the {role} could not log in"
        states[role] = context.storage_state()
        context.close()
    return states


def _open_context(browser, base_url: str, state: dict | None, **options: Any):
    context = browser.new_context(
        base_url=base_url, storage_state=state, **(CONTEXT_OPTIONS | options)
    )
    context.set_default_timeout(10_000)
    return context


class SharedContexts:
    """One context per role for the whole session, and one tab in it, opened when first asked
    for. Opening a tab costs Chromium a new renderer process; reusing one keeps the suite fast."""

    def __init__(self, browser, base_url: str, login_states: dict[str, dict | None]) -> None:
        self._open = partial(_open_context, browser, base_url)
        self._states = login_states
        self.contexts: dict[str, Any] = {}
        self.tabs: dict[str, Any] = {}

    def context(self, role: str):
        if role not in self.contexts:
            self.contexts[role] = self._open(self._states[role])
        return self.contexts[role]

    def tab(self, role: str):
        if role not in self.tabs or self.tabs[role].is_closed():
            self.tabs[role] = self.context(role).new_page()
        return self.tabs[role]

    def own_context(self, role: str, **options: Any):
        return self._open(self._states[role], **options)

    def close(self) -> None:
        for context in self.contexts.values():
            context.close()


@pytest.fixture(scope="session")
def shared(browser, base_url: str, login_states) -> Iterator[SharedContexts]:
    contexts = SharedContexts(browser, base_url, login_states)
    yield contexts
    contexts.close()


@pytest.fixture
def tab_as(shared: SharedContexts) -> Callable[[str], Any]:
    """The role's one tab for the whole session: `page = tab_as("moderator")`.

    For tests that only go to pages, read them and send forms that change nothing lasting for
    the role (a form with errors): no login, logout or language switch, no open dialogs left
    behind. Each test starts with `page.goto(...)`.
    """
    return shared.tab


@pytest.fixture
def page_as(shared: SharedContexts) -> Iterator[Callable[..., Any]]:
    """A new page as one of ROLES: `page = page_as("citizen")`.

    A visitor's page opens in a context of its own (a visitor may register or log in). A
    logged-in role's page opens in the role's context shared for the session (its cookies and
    cache stay for the next test); a test that changes what such a context holds (the
    language in the session) asks for a context of its own with
    `page_as(role, own_context=True)`, as does one with other options such as
    `java_script_enabled=False`. No test logs out with a role's login: logins are sessions on
    the server, so that would end it for every context that holds its cookies; a test that
    logs out logs in with an account of its own.
    """
    pages, own = [], []

    def open_page(role: str = "visitor", *, own_context: bool | None = None, **options: Any):
        if own_context is None:
            own_context = role == "visitor"
        if own_context or options:
            context = shared.own_context(role, **options)
            own.append(context)
        else:
            context = shared.context(role)
        page = context.new_page()
        pages.append(page)
        return page

    yield open_page
    for page in pages:
        if not page.is_closed():
            page.close()
    for context in own:
        context.close()


@pytest.fixture
def phone(page_as) -> Callable[..., Any]:
    """A new page as one of ROLES on a small phone: `page = phone("citizen")`; further context
    options (`java_script_enabled=False`) go with it."""

    def open_page(role: str, **options: Any):
        return page_as(role, **(PHONE | options))

    return open_page
