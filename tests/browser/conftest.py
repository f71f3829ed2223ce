"""Browser tests: Debian's Chromium driven by Playwright against the live server on PostgreSQL.

Playwright's own browser downloads are not reachable here, so it launches the system
Chromium (`apt-get install chromium`; `.ci/run` installs it). Without Chromium these
tests are skipped locally and fail under CI, where their absence would hide a broken console.
"""

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.console.conftest import PASSWORD, make_member  # noqa: F401 - shared fixture

# Playwright's sync API runs an event loop in this thread; the test body's ORM calls are
# still ordinary synchronous calls, made between browser steps.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail(f"Chromium is missing at {CHROMIUM}: apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    """A fresh browser context (no cookies) on a laptop-sized screen."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def sign_in(page: Any) -> Callable[[str], Any]:
    """Sign in through the sign-in form, as a person would."""

    def go(username: str, password: str = PASSWORD) -> Any:
        page.goto("/console/sign-in/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        return page

    return go
