"""Screenshots of the console for the README, taken from the demo as a person would use it.

Starts `python -m config.demo` on a spare port with its own data folder, reads the logins it
prints, then drives Debian's Chromium through one campaign: the manager's home page, the
composer, the reviewer's approval, the wave's live progress, the phone simulator and the
funder's dashboard. Writes PNGs beside this file.

    .venv/bin/python docs/screenshots/take.py        (or: make screenshots)
"""

import contextlib
import datetime as dt
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
PORT = os.environ.get("SCREENSHOT_PORT", "8765")
BASE = f"http://127.0.0.1:{PORT}"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
LOGIN = re.compile(r"^\s+(demo-\w+)\s+(admin|manager|reviewer|funder)\s+(\S+)\s+\w+\s*$")


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="amani-shots-") as folder:
        demo = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "config.demo", "--port", PORT],
            cwd=ROOT,
            env={**os.environ, "AMANI_DEMO_DIR": folder},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            passwords = _logins(demo)
            # Keep reading what the demo prints, or its pipe fills and the server stalls.
            threading.Thread(target=demo.stdout.read, daemon=True).start()  # type: ignore[union-attr]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
                )
                _journey(browser, passwords)
                browser.close()
        finally:
            os.killpg(demo.pid, 2)
            demo.wait(timeout=30)
    return 0


def _logins(demo: subprocess.Popen) -> dict[str, str]:
    passwords: dict[str, str] = {}
    for line in demo.stdout or []:
        match = LOGIN.match(line)
        if match:
            passwords[match.group(2)] = match.group(3)
        if len(passwords) == 4:
            break
    for _ in range(60):
        try:
            urllib.request.urlopen(f"{BASE}/healthz", timeout=2)  # noqa: S310 - loopback
            return passwords
        except OSError:
            time.sleep(1)
    raise SystemExit("The demo did not start")


def _journey(browser, passwords: dict[str, str]) -> None:
    manager = _signed_in(browser, "demo-manager", passwords["manager"])
    manager.goto(f"{BASE}/console/")
    _shot(manager, "home")

    manager.get_by_role("link", name="Campaigns", exact=True).first.click()
    manager.get_by_role("link", name="Amani 2027 (simulated demo data)").click()
    manager.get_by_role("link", name="New wave").click()
    manager.get_by_label("Name").fill("E-3 market day")
    # The next minute, campaign-local time (the demo campaign is Kenya's: Africa/Nairobi).
    soon = dt.datetime.now(ZoneInfo("Africa/Nairobi")) + dt.timedelta(minutes=1, seconds=30)
    manager.get_by_label("Send at").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    manager.get_by_label("Segment").select_option(index=1)
    manager.get_by_label("Console SMS").check()
    manager.get_by_label("Text in English").fill(
        "Market day is for everyone. Whoever you vote for, greet your neighbour "
        "and keep the peace. Reply 1 if you will, 2 to talk to a mentor."
    )
    manager.get_by_label("Text in Kiswahili").fill(
        "Siku ya soko ni ya kila mtu. Yeyote utakayempigia kura, msalimie jirani "
        "na udumishe amani. Jibu 1 ukikubali, 2 kuongea na mshauri."
    )
    manager.get_by_label("Option 1 in English").fill("I will keep the peace")
    manager.get_by_label("Option 1 in Kiswahili").fill("Nitadumisha amani")
    manager.get_by_label("Option 2 in English").fill("Talk to a mentor")
    manager.get_by_label("Option 2 in Kiswahili").fill("Ongea na mshauri")
    # The stats follow the typing (htmx, 250 ms after the last key): wait for the full texts.
    expect(manager.get_by_test_id("characters-sw")).not_to_have_text("21")
    _shot(manager, "composer")
    manager.get_by_role("button", name="Save and submit for review").click()
    manager.wait_for_load_state()
    campaign_url = manager.url

    reviewer = _signed_in(browser, "demo-reviewer", passwords["reviewer"])
    reviewer.goto(f"{BASE}/console/review/")
    reviewer.get_by_role("link", name="E-3 market day").first.click()
    reviewer.get_by_role("button", name="Approve").click()
    reviewer.wait_for_load_state()

    manager.goto(campaign_url)
    manager.get_by_role("link", name="E-3 market day").click()
    manager.get_by_role("button", name="Schedule").click()
    manager.wait_for_load_state()
    # At its minute the demo's beat fans the wave out and its console channel delivers; the
    # page follows by itself (outside Kenya's 08:00-18:00 it shows the wave held instead).
    delivered = manager.locator("[data-total=delivered]")
    with contextlib.suppress(AssertionError):
        expect(delivered).not_to_have_text("0", timeout=150_000)
    time.sleep(2)
    _shot(manager, "progress")
    with contextlib.suppress(AssertionError):
        expect(manager.locator("[data-total=queued]")).to_have_text("0", timeout=150_000)

    manager.goto(f"{BASE}/console/simulator/")
    manager.get_by_label("Console channel").select_option(label="Console SMS")
    manager.get_by_label("Pretend sender").fill("0712 000 222")
    manager.get_by_role("button", name="Use this phone").click()
    chat = manager.get_by_role("log", name="Conversation")
    for text in ["JIUNGE", "19", "Kisumu"]:
        manager.get_by_label("Message").fill(text)
        manager.get_by_role("button", name="Send").click()
        expect(chat).to_contain_text(text)
        time.sleep(1)
    _shot(manager, "simulator")

    funder = _signed_in(browser, "demo-funder", passwords["funder"])
    funder.get_by_role("link", name="Amani 2027 (simulated demo data)").click()
    funder.wait_for_load_state()
    _shot(funder, "funder-dashboard")


def _signed_in(browser, username: str, password: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.set_default_timeout(20_000)
    page.goto(f"{BASE}/console/sign-in/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    return page


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)
    print(f"  {OUT.relative_to(ROOT) / name}.png")


if __name__ == "__main__":
    sys.exit(main())
