"""Screenshots of the main pages for the README, taken from the demo data in German.

    .venv/bin/python scripts/screenshots.py            # or: make screenshots

Starts the app on a throwaway copy of the demo data (participation.live_demo), opens each page
in Debian's Chromium (/usr/bin/chromium, or $PARTICIPATION_CHROMIUM) with playwright from the
test extras, and writes docs/screenshots/<page>-desktop.png (1280 pixels wide, the page down
to 2000 pixels) and <page>-phone.png (360 by 740 at twice the pixel density, what the screen
shows). Run it again after changing a page.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from participation.extensions import db
from participation.live_demo import demo_app, served
from participation.models import Consultation, Proposal

PROJECT = Path(__file__).resolve().parents[1]
OUT = PROJECT / "docs" / "screenshots"
CITIZEN = ("anna@example.org", "demo-citizen-password")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]

GERMAN = {"locale": "de-DE", "timezone_id": "Europe/Berlin"}
DESKTOP = {"viewport": {"width": 1280, "height": 800}, "device_scale_factor": 1}
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "screen": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
MAX_HEIGHT = 2000  # of a desktop screenshot, in pixels
STILL = {"animations": "disabled", "caret": "hide"}
# The ballot is shown with a few projects ticked, so that the running total has something to say.
BALLOT_CHOICES = (
    "Überdachte Fahrradständer am Bahnhof",
    "Trinkbrunnen in der Fußgängerzone",
    "Sitzbänke am Flussufer",
)


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    citizen: bool = False  # logged in as the demo citizen
    prepare: Callable | None = None  # brings the page into the state to show
    phone_scroll_to: str | None = None  # on the phone, the part of the page to show


def tick_ballot(page) -> None:
    for title in BALLOT_CHOICES:
        page.get_by_role("checkbox", name=title).check()
    page.evaluate("document.activeElement.blur()")


def discussed_proposal(app) -> int:
    """The proposal of the consultation collecting ideas with the most comments."""
    with app.app_context():
        return db.session.scalar(
            select(Proposal.id)
            .join(Consultation)
            .where(Consultation.slug == "ideen-fuer-die-innenstadt")
            .order_by(Proposal.comment_count.desc(), Proposal.id)
        )


def shots(app) -> list[Shot]:
    return [
        Shot("home", "/"),
        Shot("consultation", "/consultations/ideen-fuer-die-innenstadt"),
        Shot("proposal", f"/proposals/{discussed_proposal(app)}"),
        Shot(
            "ballot",
            "/consultations/buergerhaushalt-2027/ballot",
            citizen=True,
            prepare=tick_ballot,
            phone_scroll_to="form[data-ballot-form] fieldset",
        ),
        Shot(
            "results",
            "/consultations/buergerhaushalt-2026/results",
            phone_scroll_to="#budget-projects-title",
        ),
    ]


def log_in(context, base_url: str) -> None:
    page = context.new_page()
    page.goto(f"{base_url}/account/login")
    page.locator("#email").fill(CITIZEN[0])
    page.locator("#password").fill(CITIZEN[1])
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    if "/account/login" in page.url:
        raise SystemExit("the demo citizen could not log in")
    page.close()


def take(browser, base_url: str, shot: Shot, out: Path) -> list[Path]:
    written = []
    for device, options in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(base_url=base_url, **GERMAN, **options)
        try:
            if shot.citizen:
                log_in(context, base_url)
            page = context.new_page()
            response = page.goto(shot.path)
            if response is None or response.status != 200:
                raise SystemExit(f"{shot.path} answered {response and response.status}")
            if shot.prepare:
                shot.prepare(page)
            if device == "phone" and shot.phone_scroll_to:
                page.locator(shot.phone_scroll_to).first.scroll_into_view_if_needed()
            target = out / f"{shot.name}-{device}.png"
            if device == "desktop":  # the whole page, down to a height that keeps files small
                height = min(page.evaluate("document.documentElement.scrollHeight"), MAX_HEIGHT)
                clip = {"x": 0, "y": 0, "width": DESKTOP["viewport"]["width"], "height": height}
                page.screenshot(path=target, full_page=True, clip=clip, **STILL)
            else:  # what the phone's screen shows
                page.screenshot(path=target, **STILL)
            written.append(target)
        finally:
            context.close()
    return written


def chromium_path() -> str:
    path = os.environ.get("PARTICIPATION_CHROMIUM", "/usr/bin/chromium")
    found = path if os.access(path, os.X_OK) else shutil.which("chromium")
    if not found:
        raise SystemExit(f"no Chromium at {path} (install Debian's package `chromium`)")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"folder (default: {OUT})")
    arguments = parser.parse_args(argv)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("playwright is missing: pip install -e '.[test]'") from None
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    arguments.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshots-") as folder:
        app = demo_app(Path(folder) / "demo.db")
        with served(app) as base_url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium_path(), headless=True, args=CHROMIUM_ARGS
            )
            try:
                for shot in shots(app):
                    for path in take(browser, base_url, shot, arguments.out):
                        shown = path.relative_to(PROJECT) if path.is_relative_to(PROJECT) else path
                        print(f"{shown}  {path.stat().st_size // 1024} KB")
            finally:
                browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
