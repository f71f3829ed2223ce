"""`make run`'s path for real: the demo starts its own PostgreSQL, serves, reports, stops;
its console channels hold a WhatsApp-like and a Telegram-like conversation as the README
shows them."""

import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
# The README's simulate-inbound lines: the body, then the URL on the next line.
SIMULATED = re.compile(
    r"-d '(?P<body>\{[^']*\})' \\\n\s+http://127\.0\.0\.1:8000"
    r"(?P<path>/api/v1/channels/\d+/simulate-inbound/)"
)

pytestmark = pytest.mark.integration


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, output: Path, *, seconds: float = 120) -> requests.Response:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            response = requests.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except requests.ConnectionError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"the demo never served {url}:\n{output.read_text()[-3000:]}")


def _postgres_of(data: Path) -> list[str]:
    found = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "postgres" in line and str(data) in line]


def _tokens(output: Path) -> dict[str, str]:
    found = re.findall(r"demo-(\w+)\s+\w+\s+\S+\s+([0-9a-f]{40})", output.read_text())
    return dict(found)


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.headers = base, {"Authorization": f"Token {token}"}

    def call(self, method: str, path: str, **json: object) -> dict:
        response = requests.request(
            method, self.base + path, json=json or None, headers=self.headers, timeout=15
        )
        assert response.status_code < 300, (path, response.status_code, response.text)
        return response.json() if response.content else {}


def _rehearse_a_wave(base: str, tokens: dict[str, str], output: Path) -> None:
    """Schedule a wave through the API as the README describes; see it delivered, reported."""
    manager, reviewer = Api(base, tokens["manager"]), Api(base, tokens["reviewer"])
    admin, funder = Api(base, tokens["admin"]), Api(base, tokens["funder"])
    campaign = manager.call(
        "POST",
        "/api/v1/campaigns/",
        name="Rehearsal",
        country="KE",
        timezone="Africa/Nairobi",
        default_language="en",
        languages=["en", "sw"],
        quiet_start="00:00",  # start == end: no quiet hours, whatever the hour of the test
        quiet_end="00:00",
        fatigue_cap_per_week=None,
    )
    segment = manager.call("POST", "/api/v1/segments/", name="Everyone in the demo")
    channels = {c["kind"]: c["id"] for c in manager.call("GET", "/api/v1/channels/")["results"]}
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    wave = manager.call(
        "POST",
        "/api/v1/waves/",
        campaign=campaign["id"],
        name="Rehearsal wave",
        send_at=soon.isoformat(),
        segment=segment["id"],
        channels=[channels["console_whatsapp"], channels["console"]],  # WhatsApp, then SMS
        variants=[
            {"language": "en", "body": "Vote in peace: {link:https://peace.example/pledge}"},
            {"language": "sw", "body": "Piga kura kwa amani: {link:https://peace.example/pledge}"},
        ],
    )
    manager.call("POST", f"/api/v1/waves/{wave['id']}/submit/")
    reviewer.call("POST", f"/api/v1/waves/{wave['id']}/approve/")
    manager.call("POST", f"/api/v1/waves/{wave['id']}/schedule/")
    [funder_member] = admin.call("GET", "/api/v1/members/?role=funder")["results"]
    manager.call(
        "PUT", f"/api/v1/campaigns/{campaign['id']}/funders/", funders=[funder_member["user"]]
    )

    deadline, totals = time.monotonic() + 90, {}
    while time.monotonic() < deadline:
        report = funder.call("GET", f"/api/v1/reports/campaigns/{campaign['id']}/")
        totals = report["totals"]
        if totals["delivered"]:
            break
        time.sleep(0.2)
    assert totals["delivered"], (totals, output.read_text()[-3000:])
    assert totals["delivery_rate"] > 0.8
    # The ticker builds the links with the demo's own address, port included.
    assert f"{base}/l/" in output.read_text()


def _converse_as_the_readme_shows(base: str, tokens: dict[str, str], output: Path) -> None:
    """Each simulate-inbound line of the README, as written, on the running demo: the
    answers hold the replies the person's WhatsApp, Telegram or Messenger would show."""
    manager = Api(base, tokens["manager"])
    channels = {c["id"]: c["kind"] for c in manager.call("GET", "/api/v1/channels/")["results"]}
    lines = [(m["path"], json.loads(m["body"])) for m in SIMULATED.finditer(README.read_text())]
    by_kind = {channels[int(path.split("/")[4])]: (path, body) for path, body in lines}
    assert set(by_kind) == {"console", "console_whatsapp", "console_telegram", "console_messenger"}
    answers = {kind: manager.call("POST", path, **body) for kind, (path, body) in by_kind.items()}

    # Telegram: a bot is joined with /start; the welcome asks the first onboarding question.
    telegram = answers["console_telegram"]
    assert telegram["inbound"]["intent"] == "join"
    assert "How old are you?" in telegram["replies"][0]["body"]
    path, body = by_kind["console_telegram"]
    onboarding = manager.call("POST", path, sender=body["sender"], body="22")
    assert "county" in onboarding["replies"][0]["body"]
    # WhatsApp: one of the demo wave's people answers its poll there and is thanked there.
    whatsapp = answers["console_whatsapp"]
    assert whatsapp["inbound"]["intent"] == "poll_answer"
    assert "Pledge a peaceful vote" in whatsapp["replies"][0]["body"]
    assert answers["console"]["inbound"]["intent"] == "join"
    assert answers["console_messenger"]["inbound"]["intent"] == "join"
    # The console's log names the channel and never the chat id or the number whole.
    log = output.read_text()
    assert re.search(r"console Console Telegram → \*{7}89: Welcome", log), log[-3000:]
    assert re.search(r"console Console WhatsApp → \+\*{10}00: Thank you", log), log[-3000:]
    assert "→ 123456789" not in log


def test_the_demo_serves_on_its_own_postgresql_and_stops_with_it(tmp_path):
    port, output = _free_port(), tmp_path / "demo.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")
    }
    env["AMANI_DEMO_DIR"] = str(tmp_path / "demo")
    with output.open("w") as log:
        demo = subprocess.Popen(
            [sys.executable, "-m", "config.demo", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the whole demo, as in a terminal
        )
    try:
        ready = _wait_for(f"http://127.0.0.1:{port}/readyz", output)
        assert ready.json()["components"]["database"]["vendor"] == "postgresql"
        token = re.search(r"demo-funder\s+funder\s+\S+\s+([0-9a-f]{40})", output.read_text())
        assert token, output.read_text()
        report = requests.get(
            f"http://127.0.0.1:{port}/api/v1/reports/campaigns/1/",
            params={"by": "region"},
            headers={"Authorization": f"Token {token.group(1)}"},
            timeout=10,
        )
        assert report.status_code == 200
        assert report.json()["totals"]["delivered"] > 0
        assert _postgres_of(tmp_path / "demo")
        docs = requests.get(f"http://127.0.0.1:{port}/api/docs/", timeout=10)
        assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', docs.text)
        assert assets
        for asset in assets:
            assert requests.get(f"http://127.0.0.1:{port}{asset}", timeout=10).ok, asset
        # The conversation first: the poll answered is the seeded wave's, the last to reach them.
        _converse_as_the_readme_shows(f"http://127.0.0.1:{port}", _tokens(output), output)
        _rehearse_a_wave(f"http://127.0.0.1:{port}", _tokens(output), output)
        # The README's command for a new organization, as written, beside the running demo.
        created = subprocess.run(  # noqa: S602 — the README's line, verbatim, in a shell
            "DJANGO_DEBUG=true .venv/bin/python manage.py create_org --name 'My NGO' --admin me",
            shell=True,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        assert re.search(r"[0-9a-f]{40}", created.stdout), created.stdout
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=30)
    deadline = time.monotonic() + 15
    while _postgres_of(tmp_path / "demo") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _postgres_of(tmp_path / "demo") == []
    log = output.read_text()
    assert "Traceback" not in log
    assert "No hostname was supplied" not in log  # kombu, looking for a broker there is none of
    assert "No directory at" not in log  # whitenoise, looking for collected static files
