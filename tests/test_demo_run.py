"""`make run`'s path for real: the demo starts its own PostgreSQL, serves, reports, stops."""

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
        time.sleep(0.5)
    raise AssertionError(f"the demo never served {url}:\n{output.read_text()[-3000:]}")


def _postgres_of(data: Path) -> list[str]:
    found = subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout
    return [line for line in found.splitlines() if "postgres" in line and str(data) in line]


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
    finally:
        os.killpg(demo.pid, signal.SIGINT)
        demo.wait(timeout=30)
    deadline = time.monotonic() + 15
    while _postgres_of(tmp_path / "demo") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _postgres_of(tmp_path / "demo") == []
    assert "Traceback" not in output.read_text()
