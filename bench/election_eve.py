"""The whole loop on election eve: a wave to 1,000,000 subscribers with its receipts, joins, STOPs
and a funder's dashboard, all at once, in one run.

A wave to BENCH_EVE_PEOPLE subscribers (1,000,000 unless set) sends through prefork Celery
workers (2 processes on `priority`, 4 on `bulk`, and beat, as in docker-compose.yml) to a
local Twilio API in its own process answering in 100 ms, on a channel with no rate cap. A
separate load process answers every message the API accepted with three signed status
callbacks (queued, sent, then delivered — or undelivered for 3%) through gunicorn. Meanwhile
JOINs at 2,000 a minute and STOPs at 200 a minute arrive as signed inbound webhooks (on a fixed
schedule, as in `stop_latency`), and a funder reads the campaign report through the API every
second. BENCH_EVE_SECONDS (180 unless set) of this are measured; the wave need not finish.

Measured over the steady part (after the first quarter, at most 30 s): messages delivered
*and* reported per second (their delivered status applied and counted in the funder's
report), every process's CPU per message fully receipted and its peak memory, STOP -> ledger
and JOIN -> welcome latency, and how far the report lags the delivered messages.
"""

import bisect
import contextlib
import heapq
import http.client
import itertools
import json
import multiprocessing
import os
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.harness import (
    ProviderLog,
    bench_sms_channel,
    celery_processes,
    generate_subscribers,
    gunicorn,
)
from bench.stop_latency import (
    CHANNEL_NUMBER,
    PROVIDER_LATENCY,
    STOPS_PER_MINUTE,
    WAVE_BODIES,
    LedgerWatch,
    Phase,
    Webhooks,
    draft_wave,
    flood_phase,
    quantile,
    run_against_the_provider,
    stop_figures,
    wait_for_wave,
    wave_messages_after_stop,
    welcome_figures,
    worker_and_beat_commands,
)

DATABASE = "amani_bench_eve"
REDIS_DB = 8
PEOPLE = int(os.environ.get("BENCH_EVE_PEOPLE", "1000000"))
SECONDS = float(os.environ.get("BENCH_EVE_SECONDS", "180"))
WARMUP = min(30.0, SECONDS / 4)  # the first part of the measured time is not steady
DRAIN_SECONDS = float(os.environ.get("BENCH_EVE_DRAIN", "30"))  # for the last STOPs and welcomes
CHANNEL_RATE = 100_000  # segments a second: no cap to speak of
UNDELIVERED_SHARE = 0.03
# Each accepted message's receipts, seconds after the provider took it.
RECEIPTS = (("queued", 0.2), ("sent", 1.0), ("final", 3.0))
UNDELIVERED_ERROR = "30003"  # unreachable destination handset
# Callbacks in flight at once: enough to keep gunicorn's workers busy; more would only queue
# connections in its backlog until they time out (then none gets an answer in time).
RECEIPT_CONNECTIONS = 16
FUNDER_EVERY = 1.0
SAMPLE_EVERY = 1.0  # processes' CPU and memory
DELIVERED_POLL_EVERY = 0.25
TARGET_PER_SECOND = 500  # issue 16
CAPACITY_MODEL_PER_SECOND = 106  # bench capacity's model for this machine (bench/README.md)
TARGET_STOP_P99 = 1.0

# gunicorn's sync workers: config/gunicorn.py's default for 2 cores (WEB_CONCURRENCY).
WEB_WORKERS = int(os.environ.get("BENCH_EVE_WEB_WORKERS", "5"))
WORKERS = [
    ["worker", "--queues", "priority", "--concurrency", "2", "--hostname", "evebench-priority@%h"],
    ["worker", "--queues", "bulk", "--concurrency", "4", "--hostname", "evebench-bulk@%h"],
]
OBSERVER = "this process: JOINs, STOPs, funder, observers"
ROLES = [
    f"gunicorn ({WEB_WORKERS} sync workers)",
    "celery priority (2 processes)",
    "celery bulk (4 processes)",
    "celery beat",
    "local Twilio API",
    "receipt load process",
    OBSERVER,
    "postgresql (this database's backends)",
    "postgresql (background, shared)",
]


def run() -> dict:
    return run_against_the_provider(
        "election_eve", database=DATABASE, redis_db=REDIS_DB, measure=_measure
    )


def _measure(env: dict[str, str], provider: ProviderLog) -> dict:
    from django.db import connection
    from django.db.models import Count

    from campaigns.models import Wave, WaveStatus
    from campaigns.tasks import fanout
    from outreach.models import ConsentEvent, OutboundMessage, Role
    from outreach.services.organizations import member_add
    from tests.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN

    channel = bench_sms_channel(messages_per_second=CHANNEL_RATE, from_number=CHANNEL_NUMBER)
    organization = channel.organization
    generate_subscribers(
        connection,
        organization_id=organization.pk,
        channel_id=channel.pk,
        count=PEOPLE,
        numbers_from=10_000_000,  # +254710000001 on
    )
    stoppers = _spread_over_audience(
        connection, organization.pk, int(SECONDS * STOPS_PER_MINUTE / 60)
    )
    wave = draft_wave(channel)
    campaign = wave.campaign
    funder = member_add(organization=organization, username="funder", role=Role.FUNDER)
    campaign.funders.add(funder.membership.user)

    with gunicorn(env, workers=WEB_WORKERS) as base_url, tempfile.TemporaryDirectory() as folder:
        sender = Webhooks(
            f"{base_url}/webhooks/twilio/{channel.uuid}/inbound/", AUTH_TOKEN, ACCOUNT_SID
        )
        commands = worker_and_beat_commands(Path(folder))
        worker_env = {**env, "PUBLIC_BASE_URL": base_url}
        status_url = f"{base_url}/webhooks/twilio/{channel.uuid}/status/"
        with (
            celery_processes(worker_env, commands, Path(folder)) as celery,
            ReceiptLoad(status_url, AUTH_TOKEN, ACCOUNT_SID) as receipts,
        ):
            meter = ProcessMeter(
                {
                    ROLES[0]: _gunicorn_pid(),
                    ROLES[1]: celery[0].pid,
                    ROLES[2]: celery[1].pid,
                    ROLES[3]: celery[2].pid,
                    ROLES[4]: provider.pid,
                    ROLES[5]: receipts.pid,
                },
                database_url=env["DATABASE_URL"],
            )
            ledger = LedgerWatch(env["DATABASE_URL"], ConsentEvent._meta.db_table, stoppers)
            watchers: list[Any] = [meter, ledger]
            try:
                Wave.objects.filter(pk=wave.pk).update(status=WaveStatus.SENDING)
                asked = time.perf_counter()
                fanout.apply_async(args=[wave.pk], queue="bulk")
                wait_for_wave(provider, timeout=900)
                to_first_sends = time.perf_counter() - asked
                last_wave_message = OutboundMessage.objects.filter(wave_id=wave.pk).order_by("-pk")
                delivered = DeliveredWatch(env["DATABASE_URL"], last_wave_message[0].pk)
                forward = ReceiptFeed(provider, receipts)
                report_url = f"{base_url}/api/v1/reports/campaigns/{campaign.pk}/"
                reads = FunderReads(report_url, funder.api_token)
                watchers += [delivered, forward, reads]
                flood: dict[str, Phase] = {}
                thread = threading.Thread(
                    target=lambda: flood.update(
                        phase=flood_phase(
                            sender,
                            provider,
                            ledger,
                            stoppers,
                            seconds=SECONDS,
                            drain_seconds=DRAIN_SECONDS,
                        )
                    )
                )
                started = time.time() + 0.5  # flood_phase starts its schedule half a second on
                thread.start()
                window = (started + WARMUP, started + SECONDS)
                _sleep_until(window[0])
                cpu_from = meter.snapshot()
                _sleep_until(window[1])
                cpu_to = meter.snapshot()
                thread.join()
            finally:
                for watcher in reversed(watchers):
                    watcher.stop()
                sender.close()
            posted = receipts.results()
            statuses = dict(
                OutboundMessage.objects.filter(wave_id=wave.pk)
                .values_list("status")
                .annotate(n=Count("pk"))
            )
    return _report(
        window=window,
        started=started,
        flood=flood["phase"],
        provider=provider,
        delivered=delivered,
        reads=reads,
        cpu=meter.between(cpu_from, cpu_to),
        memory=meter.peaks(),
        posted=posted,
        statuses=statuses,
        to_first_sends=to_first_sends,
    )


# --- what was measured -----------------------------------------------------------------


def _report(
    *,
    window: tuple[float, float],
    started: float,
    flood: Phase,
    provider: ProviderLog,
    delivered: "DeliveredWatch",
    reads: "FunderReads",
    cpu: dict[str, float],
    memory: dict[str, dict[str, float]],
    posted: dict,
    statuses: dict[str, int],
    to_first_sends: float,
) -> dict:
    entries = provider.entries()
    low, high = window
    seconds = high - low
    wave_sent = sum(
        1 for _, body, at in entries if body.startswith(WAVE_BODIES) and low <= at < high
    )
    receipted = delivered.final_at(high) - delivered.final_at(low)
    applied = delivered.delivered_at(high) - delivered.delivered_at(low)

    # The report changes when a rollup lands: delivered-and-reported is read at those moments.
    in_window = [r for r in reads.reads if low <= r["at"] <= high and r["ok"]]
    changes = _report_changes(reads.reads, delivered)
    steady = [c for c in changes if low <= c[0] <= high]
    used = "steady window"
    if len(steady) < 2:
        steady, used = [c for c in changes if c[0] >= started], "whole run (too few refreshes)"
    reported_rate = (
        (steady[-1][1] - steady[0][1]) / (steady[-1][0] - steady[0][0])
        if len(steady) >= 2
        else None
    )
    stale_messages, stale_seconds = [], []
    for read in in_window:
        truth = delivered.delivered_at(read["at"])
        shown = read["delivered"]
        stale_messages.append(max(0, truth - shown))
        stale_seconds.append(
            max(0.0, read["at"] - delivered.first_time_above(shown)) if truth > shown else 0.0
        )
    latencies = [r["seconds"] for r in in_window]

    per_message = {
        role: 1000 * value / receipted if receipted else None for role, value in cpu.items()
    }
    app = sum(v for k, v in cpu.items() if not k.startswith("postgresql"))
    database = sum(v for k, v in cpu.items() if k.startswith("postgresql"))
    stops = stop_figures(flood, entries)
    figures = {
        "people": PEOPLE,
        "seconds_measured": SECONDS,
        "steady_window_seconds": seconds,
        "fanout_to_first_sends_seconds": to_first_sends,
        "throughput_per_second": {
            "wave_messages_at_the_provider": wave_sent / seconds,
            "receipts_posted": posted["ok"] / max(posted["seconds"], 1e-9),
            "final_receipts_applied": receipted / seconds,
            "delivered_applied": applied / seconds,
            "delivered_and_reported": reported_rate,
            "delivered_and_reported_from": used,
        },
        "ratios": {
            "delivered_and_reported_vs_500_target": (reported_rate or 0) / TARGET_PER_SECOND,
            "delivered_and_reported_vs_capacity_model_106": (reported_rate or 0)
            / CAPACITY_MODEL_PER_SECOND,
            "final_receipts_applied_vs_wave_sent": receipted / wave_sent if wave_sent else None,
            "stop_to_ledger_p99_vs_1s_target": stops["stop_to_ledger"]["p99_s"] / TARGET_STOP_P99,
        },
        "cpu_seconds_in_window": cpu,
        "cores_in_window": {role: value / seconds for role, value in cpu.items()},
        "cpu_ms_per_message_fully_receipted": per_message,
        "cpu_ms_per_message_app_and_postgresql": {
            "app": 1000 * app / receipted if receipted else None,
            "postgresql": 1000 * database / receipted if receipted else None,
        },
        "peak_memory_mb": memory,
        "stop_to_ledger": stops["stop_to_ledger"],
        "stop_to_goodbye": stops["stop_to_goodbye"],
        "join_to_welcome": welcome_figures(flood, entries),
        "report": {
            "reads": len(in_window),
            "errors": sum(1 for r in reads.reads if not r["ok"]),
            "latency_p50_ms": 1000 * quantile(latencies, 0.5),
            "latency_p99_ms": 1000 * quantile(latencies, 0.99),
            "refreshes_seen": len(changes),
            "staleness_messages_p50": quantile(stale_messages, 0.5),
            "staleness_messages_max": max(stale_messages, default=None),
            "staleness_seconds_p50": quantile(stale_seconds, 0.5),
            "staleness_seconds_p99": quantile(stale_seconds, 0.99),
            "staleness_seconds_max": max(stale_seconds, default=None),
        },
        "load": {
            "joins": len(flood.joins),
            "onboarding_answers": flood.answers,
            "stops": len(flood.stops),
            "inbound_webhook_errors": flood.errors,
            "inbound_schedule_lag_max_seconds": flood.schedule_lag_max,
            "receipts": posted,
            "wave_messages_after_the_stop_was_recorded": wave_messages_after_stop(flood, entries),
            "wave_statuses_at_the_end": statuses,
        },
        "method": {
            "provider_latency_seconds": PROVIDER_LATENCY,
            "channel_rate_per_second": CHANNEL_RATE,
            "workers": f"gunicorn {WEB_WORKERS} sync; priority: 2 prefork processes; bulk: 4; beat",
            "receipts": "queued +0.2 s, sent +1 s, delivered (undelivered 3%) +3 s after accept",
            "cpu": "psutil user+system per process (children included per role), sampled "
            f"every {SAMPLE_EVERY:.0f} s; PostgreSQL: backends of this database from "
            "pg_stat_activity, and the shared background processes apart",
            "memory": "peak RSS: largest single process, and the peak of the role's sum",
            "per_message": "CPU in the steady window / messages whose final receipt was applied",
        },
    }
    _print(figures)
    return figures


def _report_changes(reads: list[dict], delivered: "DeliveredWatch") -> list[tuple[float, int]]:
    """(when, delivered and reported) at each read whose delivered figure changed."""
    changes, last = [], None
    for read in reads:
        if not read["ok"] or read["delivered"] == last:
            continue
        last = read["delivered"]
        changes.append((read["at"], min(read["delivered"], delivered.delivered_at(read["at"]))))
    return changes


def _print(figures: dict) -> None:
    rate = figures["throughput_per_second"]
    ratios = figures["ratios"]

    def per_second(value: float | None) -> str:
        return "n/a" if value is None else f"{value:,.1f}/s"

    print(
        f"  {figures['people']:,} subscribers; first sends "
        f"{figures['fanout_to_first_sends_seconds']:.0f} s after the fan-out was asked; "
        f"steady window {figures['steady_window_seconds']:.0f} s"
    )
    print(
        f"  wave at the provider {per_second(rate['wave_messages_at_the_provider'])}, receipts "
        f"posted {per_second(rate['receipts_posted'])}, final receipts applied "
        f"{per_second(rate['final_receipts_applied'])}, delivered applied "
        f"{per_second(rate['delivered_applied'])}"
    )
    print(
        f"  delivered AND reported, sustained: {per_second(rate['delivered_and_reported'])} "
        f"({rate['delivered_and_reported_from']}): "
        f"{ratios['delivered_and_reported_vs_500_target']:.2f}x the 500/s target, "
        f"{ratios['delivered_and_reported_vs_capacity_model_106']:.2f}x the capacity model's 106/s"
    )
    for role, ms in figures["cpu_ms_per_message_fully_receipted"].items():
        cores = figures["cores_in_window"][role]
        memory = figures["peak_memory_mb"].get(role, {})
        shown = "n/a" if ms is None else f"{ms:6.2f} ms"
        print(
            f"  {role:<42} {shown} CPU a message  {cores:4.2f} cores  peak RSS "
            f"{memory.get('largest_process', 0):5.0f} MB (sum {memory.get('sum', 0):5.0f} MB)"
        )
    for label, key in (
        ("STOP -> ledger", "stop_to_ledger"),
        ("STOP -> goodbye", "stop_to_goodbye"),
        ("JOIN -> welcome", "join_to_welcome"),
    ):
        s = figures[key]
        print(
            f"  {label:<16} p50 {_shown(s, 'p50')}  p99 {_shown(s, 'p99')}  "
            f"({s['count']} sent, {s['not_seen']} not seen)"
        )
    report = figures["report"]
    print(
        f"  funder's report: {report['reads']} reads, p50 {report['latency_p50_ms']:.0f} ms, "
        f"p99 {report['latency_p99_ms']:.0f} ms, {report['errors']} errors; behind the "
        f"delivered messages by p50 {report['staleness_seconds_p50']:.1f} s / p99 "
        f"{report['staleness_seconds_p99']:.1f} s ({report['staleness_messages_p50']:,.0f} "
        f"messages p50); {report['refreshes_seen']} refreshes seen"
    )
    load = figures["load"]
    print(
        f"  load: {load['joins']:,} JOINs, {load['onboarding_answers']:,} answers, "
        f"{load['stops']} STOPs (errors {load['inbound_webhook_errors']}, lag max "
        f"{load['inbound_schedule_lag_max_seconds'] * 1000:.0f} ms); receipts "
        f"{load['receipts']['ok']:,} posted, {load['receipts']['errors']} errors, lag max "
        f"{load['receipts']['lag_max_seconds'] * 1000:.0f} ms; "
        f"{load['wave_messages_after_the_stop_was_recorded']} wave messages after a STOP"
    )


def _shown(summary: dict, q: str) -> str:
    value, bound = summary[f"{q}_s"], summary[f"{q}_is_lower_bound"]
    shown = f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"
    return (">=" if bound else "") + shown


# --- load ----------------------------------------------------------------------------------


class ReceiptLoad:
    """A process of its own that posts three signed status callbacks for each accepted message.

    `feed([(index, sid, to, accepted_at), ...])` schedules them (index: the message's place in
    the provider's log; every UNDELIVERED_SHARE-th ends undelivered). Each goes when due, on
    one of RECEIPT_CONNECTIONS connections: when the server is slower, receipts are late
    (`lag_max_seconds`), not lost.
    """

    def __init__(self, url: str, auth_token: str, account_sid: str) -> None:
        context = multiprocessing.get_context("spawn")  # no copy of this process's threads
        self._inbox, self._outbox = context.Queue(), context.Queue()
        self._process = context.Process(
            target=_post_receipts,
            args=(url, auth_token, account_sid, self._inbox, self._outbox),
            daemon=True,
        )
        self._results: dict | None = None

    def __enter__(self) -> "ReceiptLoad":
        self._process.start()
        self.pid = self._process.pid
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.terminate()

    def feed(self, messages: list[tuple[int, str, str, float]]) -> None:
        if messages:
            self._inbox.put(messages)

    def stop(self) -> None:
        if self._results is None and self._process.is_alive():
            self._inbox.put(None)
            self._results = self._outbox.get(timeout=60)

    def results(self) -> dict:
        self.stop()
        return self._results or {}


def _post_receipts(url: str, auth_token: str, account_sid: str, inbox: Any, outbox: Any) -> None:
    from twilio.request_validator import RequestValidator

    validator, parts = RequestValidator(auth_token), urlsplit(url)
    due: list[tuple[float, int, dict[str, str]]] = []
    order = itertools.count()
    condition = threading.Condition()
    lock = threading.Lock()
    counts: Counter = Counter()
    times: list[float] = []
    state = {"lag_max": 0.0, "first": None, "last": None, "closed": False}
    threading.stack_size(512 * 1024)
    pool = ThreadPoolExecutor(max_workers=RECEIPT_CONNECTIONS)

    def post(form: dict[str, str], when: float) -> None:
        payload = urllib.parse.urlencode(form).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": validator.compute_signature(url, form),
        }
        started = time.time()
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            connection.request("POST", parts.path, body=payload, headers=headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            ok = False
        finally:
            connection.close()
        with lock:
            counts["ok" if ok else "errors"] += 1
            counts[form["MessageStatus"]] += 1
            times.append(time.time() - started)
            state["lag_max"] = max(state["lag_max"], started - when)
            state["first"] = state["first"] or started
            state["last"] = time.time()

    def schedule() -> None:
        while True:
            with condition:
                while True:
                    now = time.time()
                    if state["closed"]:
                        return
                    if due and due[0][0] <= now:
                        when, _, form = heapq.heappop(due)
                        break
                    condition.wait(due[0][0] - now if due else None)
            pool.submit(post, form, when)
            counts["submitted"] += 1

    scheduler = threading.Thread(target=schedule, daemon=True)
    scheduler.start()
    while (batch := inbox.get()) is not None:
        with condition:
            for index, sid, to, accepted in batch:
                final = "undelivered" if index % round(1 / UNDELIVERED_SHARE) == 0 else "delivered"
                for status, after in RECEIPTS:
                    form = {
                        "AccountSid": account_sid,
                        "MessageSid": sid,
                        "SmsSid": sid,
                        "MessageStatus": final if status == "final" else status,
                        "SmsStatus": final if status == "final" else status,
                        "To": to,
                        "From": CHANNEL_NUMBER,
                        "ApiVersion": "2010-04-01",
                    }
                    if form["MessageStatus"] == "undelivered":
                        form["ErrorCode"] = UNDELIVERED_ERROR
                    heapq.heappush(due, (accepted + after, next(order), form))
            condition.notify()
    with condition:
        state["closed"] = True  # what is not due yet is not sent
        condition.notify()
    scheduler.join()
    pool.shutdown(wait=True, cancel_futures=True)  # a backlog the server did not take is dropped
    with lock:
        seconds = (state["last"] or 0) - (state["first"] or 0)
        outbox.put(
            {
                **counts,
                "ok": counts["ok"],
                "errors": counts["errors"],
                "seconds": seconds,
                "response_p50_ms": 1000 * quantile(times, 0.5),
                "response_p99_ms": 1000 * quantile(times, 0.99),
                "lag_max_seconds": state["lag_max"],
                "not_yet_due_at_the_end": len(due),
                "backlog_dropped_at_the_end": counts["submitted"] - counts["ok"] - counts["errors"],
            }
        )


class ReceiptFeed:
    """Hands every message the provider accepted to the receipt process, as it accepts them."""

    def __init__(self, provider: ProviderLog, receipts: ReceiptLoad) -> None:
        self._provider, self._receipts = provider, receipts
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        fed = 0
        while not self._stopping.is_set():
            sids = self._provider.sids(fed)
            entries = self._provider.entries()[fed : fed + len(sids)]
            self._receipts.feed(
                [
                    (fed + i, sid, to, at)
                    for i, (sid, (to, _, at)) in enumerate(zip(sids, entries, strict=True))
                ]
            )
            fed += len(entries)
            self._stopping.wait(0.2)

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)


class FunderReads:
    """A funder's dashboard: the campaign report through the API, once every FUNDER_EVERY."""

    def __init__(self, url: str, token: str) -> None:
        self.reads: list[dict] = []
        self._url, self._token = urlsplit(url), token
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        path = self._url.path
        headers = {"Authorization": f"Token {self._token}"}
        next_at = time.monotonic()
        while not self._stopping.is_set():
            at = time.time()
            started = time.perf_counter()
            read = {"at": at, "ok": False, "delivered": 0}
            connection = http.client.HTTPConnection(self._url.hostname, self._url.port, timeout=30)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = response.read()
                if response.status == 200:
                    read.update(ok=True, delivered=json.loads(body)["totals"].get("delivered") or 0)
            except (OSError, ValueError, KeyError):
                pass
            finally:
                connection.close()
            read["seconds"] = time.perf_counter() - started
            self.reads.append(read)
            next_at += FUNDER_EVERY
            self._stopping.wait(max(0.0, next_at - time.monotonic()))

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=35)


# --- observation -----------------------------------------------------------------------------


class DeliveredWatch:
    """The wave's receipts as applied: delivered (and final) status events seen committed.

    Events are read by id as they commit (ids above the highest contiguous one seen, so an
    apply batch that commits after a later one is not missed); each counts at the start of
    the poll that first saw it. Wave messages are those with ids up to `last_wave_message`.
    """

    def __init__(self, database_url: str, last_wave_message: int) -> None:
        self.times: list[float] = []
        self.delivered: list[int] = []
        self.final: list[int] = []
        self._last_wave_message = last_wave_message
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(database_url,), daemon=True)
        self._thread.start()

    def _run(self, database_url: str) -> None:
        import psycopg

        contiguous, above, gap_since = 0, set(), None
        delivered = final = 0
        query = (
            "SELECT id, status, message_id FROM outreach_messagestatusevent WHERE id > %s "
            "ORDER BY id"
        )
        with psycopg.connect(database_url, autocommit=True) as connection:
            while not self._stopping.is_set():
                started = time.time()
                for event_id, status, message_id in connection.execute(query, [contiguous]):
                    if event_id in above:
                        continue
                    above.add(event_id)
                    if message_id is not None and message_id <= self._last_wave_message:
                        delivered += status in ("delivered", "read")
                        final += status in ("delivered", "read", "undelivered", "failed")
                while contiguous + 1 in above:
                    contiguous += 1
                    above.discard(contiguous)
                # A gap that stays is a rolled-back id, not a late commit.
                if above and gap_since is None:
                    gap_since = started
                elif not above:
                    gap_since = None
                elif started - gap_since > 10:
                    contiguous, gap_since = min(above) - 1, None
                self.times.append(started)
                self.delivered.append(delivered)
                self.final.append(final)
                self._stopping.wait(max(0.0, DELIVERED_POLL_EVERY - (time.time() - started)))

    def delivered_at(self, moment: float) -> int:
        index = bisect.bisect_right(self.times, moment) - 1
        return self.delivered[index] if index >= 0 else 0

    def final_at(self, moment: float) -> int:
        index = bisect.bisect_right(self.times, moment) - 1
        return self.final[index] if index >= 0 else 0

    def first_time_above(self, count: int) -> float:
        """When more than `count` delivered messages were first seen applied."""
        index = bisect.bisect_right(self.delivered, count)
        return self.times[min(index, len(self.times) - 1)]

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)


class ProcessMeter:
    """CPU seconds and peak RSS of each role's processes (a root and its children), and of
    PostgreSQL's processes: this database's backends, and the shared background ones."""

    def __init__(self, roots: dict[str, int], *, database_url: str) -> None:
        import psutil

        self._psutil = psutil
        self._roots = roots
        self._database = urlsplit(database_url).path.lstrip("/")
        self._database_url = database_url
        self._processes: dict[int, Any] = {}
        self.cpu: dict[int, tuple[str, float]] = {}  # pid -> (role, last CPU seconds seen)
        self.peak: dict[int, tuple[str, float]] = {}  # pid -> (role, peak RSS bytes)
        self.peak_sum: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def snapshot(self) -> dict[int, tuple[str, float]]:
        with self._lock:
            self._sample()
            return dict(self.cpu)

    def between(self, before: dict, after: dict) -> dict[str, float]:
        """CPU seconds of each role between two snapshots (a process born since counts all)."""
        spent = dict.fromkeys(ROLES, 0.0)
        for pid, (role, seconds) in after.items():
            spent[role] += seconds - before.get(pid, (role, 0.0))[1]
        return spent

    def peaks(self) -> dict[str, dict[str, float]]:
        with self._lock:
            out = {role: {"largest_process": 0.0, "sum": 0.0} for role in ROLES}
            for role, rss in self.peak.values():
                out[role]["largest_process"] = max(out[role]["largest_process"], rss / 2**20)
            for role, rss in self.peak_sum.items():
                out[role]["sum"] = rss / 2**20
            return out

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        with contextlib.suppress(Exception):
            self._connection.close()

    def _run(self) -> None:
        while not self._stopping.wait(SAMPLE_EVERY):
            with self._lock:
                self._sample()

    def _sample(self) -> None:
        roles = self._roles()
        sums: Counter = Counter()
        for pid, role in roles.items():
            process = self._processes.get(pid)
            try:
                if process is None:
                    process = self._processes[pid] = self._psutil.Process(pid)
                with process.oneshot():
                    times, rss = process.cpu_times(), process.memory_info().rss
            except self._psutil.Error:
                self._processes.pop(pid, None)
                continue
            self.cpu[pid] = (role, times.user + times.system)
            self.peak[pid] = (role, max(rss, self.peak.get(pid, (role, 0))[1]))
            sums[role] += rss
        for role, total in sums.items():
            self.peak_sum[role] = max(total, self.peak_sum.get(role, 0))

    def _roles(self) -> dict[int, str]:
        roles = {os.getpid(): OBSERVER}
        for role, root in self._roots.items():
            with contextlib.suppress(self._psutil.Error):
                process = self._psutil.Process(root)
                roles[root] = role
                roles.update((child.pid, role) for child in process.children(recursive=True))
        for pid, database in self._postgres():
            roles[pid] = ROLES[7] if database == self._database else ROLES[8]
        return roles

    def _postgres(self) -> list[tuple[int, str | None]]:
        import psycopg

        if not hasattr(self, "_connection"):
            self._connection = psycopg.connect(self._database_url, autocommit=True)
        return self._connection.execute(
            "SELECT pid, datname FROM pg_stat_activity "
            "WHERE datname = %s OR (datname IS NULL AND backend_type <> 'client backend')",
            [self._database],
        ).fetchall()


# --- setup -----------------------------------------------------------------------------------


def _spread_over_audience(
    connection: Any, organization_id: int, count: int
) -> list[tuple[int, str]]:
    """`count` subscribers evenly spread over the audience, as (id, number)."""
    step = max(PEOPLE // max(count, 1), 1)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT id, address FROM (
                SELECT id, address, row_number() OVER (ORDER BY id) - 1 AS n
                FROM outreach_subscriber WHERE organization_id = %s
            ) AS s WHERE n %% %s = %s ORDER BY id LIMIT %s
            """,
            [organization_id, step, step // 2, count],
        )
        return cursor.fetchall()


def _gunicorn_pid() -> int:
    import psutil

    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if "gunicorn" in " ".join(child.cmdline()):
                return child.pid
    raise RuntimeError("no gunicorn among this process's children")


def _sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.time()))
