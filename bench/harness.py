"""What every benchmark needs: a fresh PostgreSQL database, a gunicorn server, a load generator.

Benchmarks report ratios measured in one run, so the machine's speed cancels out.
"""

import contextlib
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
ADMIN_DATABASE_URL = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/amani")
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")


@dataclass
class LoadResult:
    name: str
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        return (
            f"{self.name:<40} {self.per_second:>9.0f} req/s   p50 {self.p50_ms:>6.1f} ms   "
            f"p99 {self.p99_ms:>6.1f} ms   errors {self.errors}"
        )


def bench_environment(database: str) -> dict[str, str]:
    """Environment for processes that use the benchmark database (production settings)."""
    parts = urlsplit(ADMIN_DATABASE_URL)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.base",
        "DJANGO_SECRET_KEY": "benchmark-only",
        "DATABASE_URL": urlunsplit(parts._replace(path=f"/{database}")),
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
    }


def fresh_database(name: str) -> dict[str, str]:
    """Drop and create `name`, migrate it, and return the environment that points at it."""
    import psycopg

    maintenance = urlunsplit(urlsplit(ADMIN_DATABASE_URL)._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    env = bench_environment(name)
    manage("migrate", "--noinput", env=env)
    return env


def bench_sms_channel(*, messages_per_second: int, from_number: str = "+254700000100") -> Any:
    """The benchmarks' organization and its Twilio SMS channel, on the local Twilio API's
    account (call after django.setup()): the channel, its organization as `.organization`."""
    from outreach.models import ChannelKind
    from outreach.services.channels import channel_create
    from outreach.services.organizations import organization_create
    from tests.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN

    organization = organization_create(
        name="Bench NGO", admin_username="bench", languages=["en", "sw"]
    ).membership.organization
    return channel_create(
        organization=organization,
        name="SMS",
        kind=ChannelKind.TWILIO_SMS,
        country="KE",
        account_sid=ACCOUNT_SID,
        auth_token=AUTH_TOKEN,
        from_number=from_number,
        messages_per_second=messages_per_second,
    )


def bench_campaign(organization: Any) -> Any:
    """A Kenyan campaign with no fatigue cap and no quiet hours: a benchmark runs at any hour."""
    from campaigns.models import Campaign

    return Campaign.objects.create(
        organization=organization,
        name="Bench",
        country="KE",
        timezone="Africa/Nairobi",
        default_language="en",
        languages=["en", "sw"],
        fatigue_cap_per_week=None,
        quiet_start="00:00",  # start == end: no quiet hours
        quiet_end="00:00",
    )


def generate_subscribers(
    connection: Any, *, organization_id: int, channel_id: int, count: int, numbers_from: int = 0
) -> None:
    """`count` opted-in people on the channel, one address each (+2547 and eight digits, from
    `numbers_from` + 1), a third writing English and the rest Kiswahili, written by one
    INSERT … SELECT; then ANALYZE."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH people AS (
                INSERT INTO outreach_contact (organization_id, created_at)
                SELECT %s, now() FROM generate_series(1, %s) RETURNING id
            )
            INSERT INTO outreach_subscriber (contact_id, organization_id, channel_id, address,
                language,
                language_source, age_band, gender, tags, joined_keyword, joined_at,
                consent_status, onboarding_step, created_at, updated_at)
            SELECT p.id, %s, %s, '+2547' || lpad((%s + n)::text, 8, '0'),
                   CASE WHEN n %% 3 = 0 THEN 'en' ELSE 'sw' END, 'keyword', '', '', '[]', 'JOIN',
                   now(), 'opted_in', 'done', now(), now()
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM people) AS p
            """,
            [organization_id, count, organization_id, channel_id, numbers_from],
        )
        cursor.execute("ANALYZE outreach_subscriber")
    print(f"  ({count:,} subscribers generated in {time.perf_counter() - started:.1f} s)")


def manage(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


@contextlib.contextmanager
def gunicorn(env: dict[str, str], workers: int = 2, threads: int = 1) -> Iterator[str]:
    """A gunicorn server on a free loopback port; yields its base URL."""
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            # The shipped settings (number-masking logger), its access log discarded.
            "--config",
            "python:config.gunicorn",
            "--access-logfile",
            os.devnull,
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env={**env, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"},
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base_url + "/healthz", server)
        yield base_url
    finally:
        server.terminate()
        server.wait(timeout=30)


def load(
    name: str,
    url: str,
    *,
    requests: int,
    concurrency: int = 8,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    body_for: Callable[[int], tuple[bytes, dict[str, str]]] | None = None,
    expect: int = 200,
) -> LoadResult:
    """Send `requests` requests from `concurrency` threads; latency per request, rate overall."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[float] = []
    errors = 0
    counter = iter(range(requests))
    lock = threading.Lock()

    def worker() -> None:
        nonlocal errors
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            request_body, request_headers = body, dict(headers or {})
            if body_for is not None:
                request_body, extra = body_for(index)
                request_headers.update(extra)
            started = time.perf_counter()
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
            try:
                connection.request(method, path, body=request_body, headers=request_headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == expect
            except OSError:
                ok = False
            finally:
                connection.close()
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                errors += 0 if ok else 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    return LoadResult(
        name=name,
        requests=requests,
        seconds=seconds,
        errors=errors,
        p50_ms=quantiles[49] * 1000,
        p99_ms=quantiles[98] * 1000,
    )


# One request a line: the body, then "Header: value" fields, tab-separated. A data file, not
# Lua source: LuaJIT cannot compile tens of thousands of table constants in one chunk.
WRK_REQUESTS = """
local requests = {}
for line in io.lines("%(data)s") do
  local fields = {}
  for field in line:gmatch("[^\t]+") do fields[#fields + 1] = field end
  local headers = {}
  for i = 2, #fields do
    local name, value = fields[i]:match("^(.-): (.*)$")
    headers[name] = value
  end
  requests[#requests + 1] = {fields[1], headers}
end
local counter = 0
function setup(thread)
  thread:set("offset", math.floor(#requests / %(threads)d) * (thread_count or 0))
  thread_count = (thread_count or 0) + 1
end
function init(args) counter = offset or 0 end
function request()
  counter = counter + 1
  local r = requests[(counter %% #requests) + 1]
  return wrk.format("POST", nil, r[2], r[1])
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def wrk_load(
    name: str,
    url: str,
    *,
    seconds: int = 10,
    connections: int = 8,
    threads: int = 2,
    requests: list[tuple[bytes, dict[str, str]]] | None = None,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """Load from wrk (C, keep-alive aware): it leaves the cores to the server.

    `requests` are POST bodies with their headers, spread across wrk's threads so each
    sends different ones; without them wrk sends GETs, with `headers` on each.
    """
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    with tempfile.TemporaryDirectory() as folder:
        script, data = Path(folder) / "load.lua", Path(folder) / "requests.tsv"
        if requests:
            data.write_text("".join(_tsv_request(body, headers) for body, headers in requests))
            script.write_text(WRK_REQUESTS % {"data": data, "threads": threads})
        else:
            script.write_text(
                "-- GET only\n"
                + "".join(
                    f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}\n"
                    for name, value in (headers or {}).items()
                )
            )
        command += ["-s", str(script), url]
        result = subprocess.run(command, capture_output=True, text=True, check=True)
    if "error" in result.stderr.lower():
        raise RuntimeError(f"wrk: {result.stderr[-500:]}")
    output = result.stdout
    done = int(re.search(r"(\d+) requests in", output).group(1))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output))
    return LoadResult(
        name=name,
        requests=done,
        seconds=float(re.search(r"requests in ([\d.]+)(m?s)", output).group(1))
        * (0.001 if re.search(r"requests in [\d.]+ms", output) else 1),
        errors=errors,
        p50_ms=_wrk_latency_ms(output, "50%"),
        p99_ms=_wrk_latency_ms(output, "99%"),
    )


def _tsv_request(body: bytes, headers: dict[str, str]) -> str:
    fields = [body.decode(), *(f"{name}: {value}" for name, value in headers.items())]
    if any("\t" in field or "\n" in field for field in fields):
        raise ValueError("wrk requests are tab-separated lines: no tabs or newlines inside")
    return "\t".join(fields) + "\n"


def _wrk_latency_ms(output: str, quantile: str) -> float:
    value, unit = re.search(rf"{quantile}\s+([\d.]+)(us|ms|s)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def save(benchmark: str, figures: dict) -> None:
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / f"{benchmark}.json").write_text(
        json.dumps(figures, indent=2, default=lambda o: asdict(o))
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(url: str, server: subprocess.Popen, timeout: float = 30) -> None:
    parts = urlsplit(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("gunicorn exited before it served a request")
        try:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=1)
            connection.request("GET", parts.path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


class ProviderLog:
    """The call log of a local Twilio API running in a process of its own.

    `entries()` returns every message it accepted so far, in order, as (to, body, unix time
    it reached the provider). The time is the server's `received_at` when it keeps one,
    else its `created_at` (`clock` says which); both are read on this machine's clock.
    `sids(start)` returns the provider ids (SM…) of those entries from `start` on, in the
    same order; `pid` is the server's process.
    """

    def __init__(
        self, base_url: str, clock: str, pipe: Any, stop: Callable[[], None], pid: int = 0
    ) -> None:
        self.base_url, self.clock, self.pid = base_url, clock, pid
        self._pipe, self._stop, self._entries = pipe, stop, []
        self._sids: list[str] = []
        self._lock = threading.Lock()

    def entries(self) -> list[tuple[str, str, float]]:
        with self._lock:
            self._read()
            return list(self._entries)

    def sids(self, start: int = 0) -> list[str]:
        with self._lock:
            self._read()
            return self._sids[start:]

    def _read(self) -> None:
        self._pipe.send(len(self._entries))
        for to, body, at, sid in self._pipe.recv():
            self._entries.append((to, body, at))
            self._sids.append(sid)

    def close(self) -> None:
        self._stop()


@contextlib.contextmanager
def twilio_api_with_log(latency: float = 0.0) -> Iterator[ProviderLog]:
    """A local Twilio API (tests/support/twilio_api.py) in another process, its log readable."""
    import multiprocessing

    ours, theirs = multiprocessing.Pipe()
    process = multiprocessing.Process(
        target=_serve_twilio_with_log, args=(latency, theirs), daemon=True
    )
    process.start()
    if not ours.poll(30):
        process.terminate()
        raise RuntimeError("the local Twilio API did not start")
    base_url, clock = ours.recv()
    log = ProviderLog(base_url, clock, ours, process.terminate, pid=process.pid)
    try:
        yield log
    finally:
        process.terminate()
        process.join(timeout=10)


def _serve_twilio_with_log(latency: float, pipe: Any) -> None:
    from tests.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi, SentMessage

    api = FakeTwilioApi({ACCOUNT_SID: AUTH_TOKEN})
    api.latency = latency
    clock = "received_at" if "received_at" in SentMessage.__dataclass_fields__ else "created_at"
    pipe.send((api.base_url, clock))
    while True:
        start = pipe.recv()
        sent = api.sent[start:]  # one slice of a list only appended to: consistent
        pipe.send([(m.to, m.body, getattr(m, clock).timestamp(), m.sid) for m in sent])


@contextlib.contextmanager
def celery_processes(
    env: dict[str, str], commands: list[list[str]], folder: Path
) -> Iterator[list[subprocess.Popen]]:
    """Celery processes (`celery -A config <command…>`), each logging to a file in `folder`.

    Workers among them must have a `--hostname name@%h`: this waits until each answers a ping.
    """
    from config.celery import app

    processes, logs = [], []
    try:
        for number, command in enumerate(commands):
            log = (folder / f"celery-{number}.log").open("w")
            logs.append(log)
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "config", *command],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        names = {c[c.index("--hostname") + 1].split("@")[0] for c in commands if "--hostname" in c}
        deadline = time.monotonic() + 60
        while names and time.monotonic() < deadline:
            if any(p.poll() is not None for p in processes):
                raise RuntimeError(f"a Celery process exited early; its log is in {folder}")
            for reply in app.control.ping(timeout=0.5) or []:
                names -= {hostname.split("@")[0] for hostname in reply}
        if names:
            raise RuntimeError(f"Celery workers {sorted(names)} did not answer; logs in {folder}")
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()
