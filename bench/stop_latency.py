"""STOP-to-ledger latency while a wave sends and 2,000 JOINs a minute arrive, in one run:

idle    STOPs one at a time on an idle system (workers up, no wave, no joins): the baseline
flood   a wave sending through prefork workers (2 processes on `priority`, 4 on `bulk`, as in
        docker-compose.yml, and beat) to a local Twilio API answering in 100 ms; JOINs at
        2,000 a minute, each joiner answering the first onboarding question 3 s after it
        reaches them; STOPs at 200 a minute from opted-in subscribers in the wave. Every
        message is a signed Twilio inbound webhook through gunicorn, sent on a fixed schedule.

For each STOP: the time from sending its webhook until its opt-out ConsentEvent is committed
(the ledger polled every 10 ms) and until the goodbye reaches the provider (its call log).
For each JOIN: until the welcome reaches the provider.
"""

import heapq
import http.client
import itertools
import math
import os
import statistics
import tempfile
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.harness import (
    REDIS_URL,
    ProviderLog,
    bench_campaign,
    bench_sms_channel,
    celery_processes,
    fresh_database,
    generate_subscribers,
    gunicorn,
    save,
    twilio_api_with_log,
)

DATABASE = "amani_bench_stop"
REDIS_DB = 14
WAVE_SUBSCRIBERS = int(os.environ.get("BENCH_STOP_WAVE", "20000"))
FLOOD_SECONDS = float(os.environ.get("BENCH_STOP_SECONDS", "60"))
JOINS_PER_MINUTE = 2_000
STOPS_PER_MINUTE = 200
IDLE_STOPS = 40
IDLE_GAP = 0.3  # seconds between one idle STOP's goodbye and the next STOP
ANSWER_AFTER = 3.0  # a joiner answers the onboarding question this long after it arrives
DRAIN_SECONDS = 45.0  # after the flood, wait at most this long for ledger entries and replies
PROVIDER_LATENCY = 0.1
CHANNEL_RATE = 100  # segments a second: the wave and the replies share it
POLL_EVERY = 0.01
TARGET_SECONDS = 1.0  # invariant 4: a STOP reaches the ledger within a second (p99)
CHANNEL_NUMBER = "+254700000100"
# How the wave's messages begin (the opt-out line is appended): anything else is a reply.
WAVE_BODIES = ("Vote calmly, and keep the peace.", "Piga kura kwa amani.")

WORKERS = [
    ["worker", "--queues", "priority", "--concurrency", "2", "--hostname", "stopbench-priority@%h"],
    ["worker", "--queues", "bulk", "--concurrency", "4", "--hostname", "stopbench-bulk@%h"],
]
QUIET_WORKER_FLAGS = ["--pool", "prefork", "--loglevel", "WARNING", "--without-gossip"]


def run() -> dict:
    return run_against_the_provider(
        "stop_latency", database=DATABASE, redis_db=REDIS_DB, measure=_measure
    )


def run_against_the_provider(
    name: str,
    *,
    database: str,
    redis_db: int,
    measure: Callable[[dict[str, str], ProviderLog], dict],
) -> dict:
    """`measure(env, provider)` on a fresh database and Redis db, Django set up for them,
    the local Twilio API (PROVIDER_LATENCY) logging what reaches it; its figures saved."""
    with twilio_api_with_log(latency=PROVIDER_LATENCY) as provider:
        env = fresh_database(database)
        redis_url = urlunsplit(urlsplit(REDIS_URL)._replace(path=f"/{redis_db}"))
        env.update(
            REDIS_URL=redis_url, CELERY_BROKER_URL=redis_url, TWILIO_BASE_URL=provider.base_url
        )
        os.environ.update(env)
        import django

        django.setup()
        flush_redis(redis_url)
        try:
            figures = measure(env, provider)
        finally:
            flush_redis(redis_url)
    save(name, figures)
    return figures


def _measure(env: dict[str, str], provider: ProviderLog) -> dict:
    from django.db import connection

    from campaigns.models import Wave, WaveStatus
    from campaigns.tasks import fanout
    from outreach.models import ConsentEvent, Subscriber
    from tests.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN

    channel = bench_sms_channel(messages_per_second=CHANNEL_RATE, from_number=CHANNEL_NUMBER)
    organization = channel.organization
    generate_subscribers(
        connection,
        organization_id=organization.pk,
        channel_id=channel.pk,
        count=WAVE_SUBSCRIBERS + IDLE_STOPS,
        numbers_from=10_000_000,  # +254710000001 on
    )
    people = list(Subscriber.objects.order_by("pk").values_list("pk", "address"))
    # Idle STOPs come from outside the wave's audience-to-be (they opt out before fan-out);
    # the flood's from across the wave, sent or not yet.
    idle_stoppers = people[WAVE_SUBSCRIBERS:]
    flood_count = int(FLOOD_SECONDS * STOPS_PER_MINUTE / 60)
    step = WAVE_SUBSCRIBERS // flood_count
    flood_stoppers = [people[i * step + step // 2] for i in range(flood_count)]
    wave = draft_wave(channel)
    ledger_table = ConsentEvent._meta.db_table

    with gunicorn(env) as base_url, tempfile.TemporaryDirectory() as folder:
        path = f"/webhooks/twilio/{channel.uuid}/inbound/"
        sender = Webhooks(base_url + path, AUTH_TOKEN, ACCOUNT_SID)
        commands = worker_and_beat_commands(Path(folder))
        worker_env = {**env, "PUBLIC_BASE_URL": base_url}
        with celery_processes(worker_env, commands, Path(folder)):
            ledger = LedgerWatch(env["DATABASE_URL"], ledger_table, idle_stoppers + flood_stoppers)
            try:
                idle = _idle_phase(sender, provider, ledger, idle_stoppers)
                Wave.objects.filter(pk=wave.pk).update(status=WaveStatus.SENDING)
                fanout.apply_async(args=[wave.pk], queue="bulk")
                wait_for_wave(provider)
                flood = flood_phase(sender, provider, ledger, flood_stoppers)
            finally:
                ledger.stop()
                sender.close()
    return _report(idle, flood, provider)


# --- phases ------------------------------------------------------------------------------


@dataclass
class Phase:
    stops: dict[str, float] = field(default_factory=dict)  # number -> webhook sent (unix)
    joins: dict[str, float] = field(default_factory=dict)
    ledger: dict[str, float] = field(default_factory=dict)  # number -> seen committed
    started: float = 0.0
    ended: float = 0.0  # the last webhook sent
    waited_until: float = 0.0
    answers: int = 0
    schedule_lag_max: float = 0.0
    webhooks: dict[str, list[float]] = field(default_factory=dict)  # kind -> response seconds
    errors: int = 0


def draft_wave(channel: Any) -> Any:
    """The wave these benchmarks send: to everyone on `channel`, in English and Swahili, a
    draft until its fan-out."""
    from campaigns.models import Segment, Variant, Wave, WaveStatus

    organization = channel.organization
    wave = Wave.objects.create(
        organization=organization,
        campaign=bench_campaign(organization),
        name="E-1",
        segment=Segment.objects.create(organization=organization, name="All"),
        status=WaveStatus.DRAFT,
    )
    wave.channels.set([channel])
    Variant.objects.create(wave=wave, language="en", body=WAVE_BODIES[0])
    Variant.objects.create(wave=wave, language="sw", body=WAVE_BODIES[1])
    return wave


def worker_and_beat_commands(folder: Path) -> list[list[str]]:
    """The Celery processes of a run: the prefork workers (quiet) and a beat of its own."""
    beat = ["beat", "--schedule", f"{folder}/beat-schedule", "--loglevel", "WARNING"]
    return [command + QUIET_WORKER_FLAGS for command in WORKERS] + [beat]


def _idle_phase(
    sender: "Webhooks", provider: ProviderLog, ledger: "LedgerWatch", stoppers: list
) -> Phase:
    phase = Phase(started=time.time())
    for _, number in stoppers:
        phase.stops[number] = sender.post("stop", number, "STOP").result()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (
            number in ledger.seen and _replied(provider.entries(), number, phase.stops[number])
        ):
            time.sleep(0.02)
        time.sleep(IDLE_GAP)
    phase.ended = phase.waited_until = time.time()
    phase.ledger = {n: ledger.seen[n] for n in phase.stops if n in ledger.seen}
    phase.webhooks, phase.errors = sender.take_results()
    return phase


def wait_for_wave(provider: ProviderLog, timeout: float = 60) -> None:
    """Until 200 of the wave's messages reached the provider."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(body.startswith(WAVE_BODIES) for _, body, _ in provider.entries()) >= 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"the wave did not start sending within {timeout:.0f} s")


def flood_phase(
    sender: "Webhooks",
    provider: ProviderLog,
    ledger: "LedgerWatch",
    stoppers: list,
    *,
    seconds: float = FLOOD_SECONDS,
    drain_seconds: float = DRAIN_SECONDS,
) -> Phase:
    """JOINs at JOINS_PER_MINUTE and `stoppers`' STOPs at STOPS_PER_MINUTE for `seconds`, joiners
    answering the onboarding question; then at most `drain_seconds` for what is left."""
    phase = Phase()
    joiners = [f"+2547{90_000_000 + i:08d}" for i in range(int(seconds * JOINS_PER_MINUTE / 60))]
    start = time.monotonic() + 0.5
    end = start + seconds
    schedule = Schedule(sender)
    join_gap, stop_gap = 60 / JOINS_PER_MINUTE, 60 / STOPS_PER_MINUTE
    for i, number in enumerate(joiners):
        schedule.at(start + i * join_gap, "join", number, "JOIN")
    for i, (_, number) in enumerate(stoppers):
        schedule.at(start + (i + 0.5) * stop_gap, "stop", number, "STOP")
    phase.started = time.time() + (start - time.monotonic())
    # The joiners answer the onboarding question once it reaches them, while the flood lasts.
    waiting = set(joiners)
    answered_up_to = 0
    while time.monotonic() < end:
        entries = provider.entries()
        for to, _, _ in entries[answered_up_to:]:
            if to in waiting:
                waiting.discard(to)
                if time.monotonic() + ANSWER_AFTER < end:
                    schedule.at(time.monotonic() + ANSWER_AFTER, "answer", to, "19")
                    phase.answers += 1
        answered_up_to = len(entries)
        time.sleep(0.2)
    schedule.close()
    phase.schedule_lag_max = sender.lag_max
    sent = sender.sent_times()
    phase.stops = {n: sent[("stop", n)] for _, n in stoppers}
    phase.joins = {n: sent[("join", n)] for n in joiners}
    phase.ended = max(sent.values())  # the last webhook sent
    # Drain: the last ledger entries, goodbyes and welcomes, for a bounded time.
    deadline = time.monotonic() + drain_seconds
    while time.monotonic() < deadline:
        entries = provider.entries()
        reached = {to for to, _, _ in entries}
        if (
            all(n in ledger.seen for n in phase.stops)
            and all(n in reached for n in phase.joins)
            and all(_replied(entries, n, t) for n, t in phase.stops.items())
        ):
            break
        time.sleep(0.5)
    phase.waited_until = time.time()
    phase.ledger = {n: ledger.seen[n] for n in phase.stops if n in ledger.seen}
    phase.webhooks, phase.errors = sender.take_results()
    return phase


def _replied(entries: list[tuple[str, str, float]], number: str, since: float) -> bool:
    """Whether a reply (not the wave) reached `number` at the provider after `since`."""
    return any(
        to == number and at >= since and not body.startswith(WAVE_BODIES)
        for to, body, at in entries
    )


# --- what was measured -----------------------------------------------------------------


def _report(idle: Phase, flood: Phase, provider: ProviderLog) -> dict:
    entries = provider.entries()
    figures: dict = {"idle": stop_figures(idle, entries), "flood": stop_figures(flood, entries)}
    figures["flood"]["join_to_welcome"] = welcome_figures(flood, entries)
    wave_in_flood = [
        at
        for _, body, at in entries
        if body.startswith(WAVE_BODIES) and flood.started <= at <= flood.ended
    ]
    late_wave = wave_messages_after_stop(flood, entries)
    figures["flood"]["load"] = {
        "seconds": flood.ended - flood.started,
        "joins": len(flood.joins),
        "onboarding_answers": flood.answers,
        "stops": len(flood.stops),
        "wave_messages_at_provider_per_second": len(wave_in_flood) / (flood.ended - flood.started),
        "wave_messages_after_the_stop_was_recorded": late_wave,
        "webhook_errors": flood.errors,
        "schedule_lag_max_seconds": flood.schedule_lag_max,
        "webhook_response_ms": {
            kind: {"p50": quantile(v, 0.5) * 1000, "p99": quantile(v, 0.99) * 1000}
            for kind, v in flood.webhooks.items()
        },
    }
    figures["method"] = {
        "provider_latency_seconds": PROVIDER_LATENCY,
        "provider_clock": provider.clock,
        "ledger_poll_seconds": POLL_EVERY,
        "channel_rate_per_second": CHANNEL_RATE,
        "workers": "priority: 2 prefork processes; bulk: 4; beat",
        "drain_seconds": DRAIN_SECONDS,
        "idle_webhook_errors": idle.errors,
    }
    # A quantile that is a lower bound makes its ratio one too.
    ratios: dict[str, float | None] = {}
    at_least: list[str] = []
    for metric in ("stop_to_ledger", "stop_to_goodbye"):
        for q in ("p50", "p99"):
            under, bound = _at_least(figures["flood"][metric], q)
            base, _ = _at_least(figures["idle"][metric], q)
            key = f"{metric}_{q}_flood_vs_idle"
            ratios[key] = under / base if base else None
            at_least += [key] if bound else []
    p99, bound = _at_least(figures["flood"]["stop_to_ledger"], "p99")
    ratios["stop_to_ledger_p99_vs_1s_target"] = p99 / TARGET_SECONDS
    at_least += ["stop_to_ledger_p99_vs_1s_target"] if bound else []
    figures["ratios"] = ratios
    figures["ratios_that_are_lower_bounds"] = at_least
    _print(figures)
    return figures


def stop_figures(phase: Phase, entries: list[tuple[str, str, float]]) -> dict:
    """STOP -> opt-out committed and STOP -> goodbye at the provider, summarized."""
    first_reply = _first_replies(entries)
    ledger, goodbye = [], []
    for number, sent in phase.stops.items():
        ledger.append(latency(sent, phase.ledger.get(number), phase))
        goodbye.append(latency(sent, first_reply(number, sent), phase))
    return {"stop_to_ledger": latency_summary(ledger), "stop_to_goodbye": latency_summary(goodbye)}


def welcome_figures(phase: Phase, entries: list[tuple[str, str, float]]) -> dict:
    """JOIN -> welcome at the provider, summarized."""
    first_reply = _first_replies(entries)
    return latency_summary(
        [latency(sent, first_reply(number, sent), phase) for number, sent in phase.joins.items()]
    )


def wave_messages_after_stop(phase: Phase, entries: list[tuple[str, str, float]]) -> int:
    """Wave messages that reached a subscriber after their STOP was recorded."""
    by_number = _by_number(entries)
    return sum(
        1
        for number, recorded in phase.ledger.items()
        for at, body in by_number[number]
        if body.startswith(WAVE_BODIES) and at > recorded + PROVIDER_LATENCY
    )


def _by_number(entries: list[tuple[str, str, float]]) -> dict[str, list[tuple[float, str]]]:
    by_number: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for to, body, at in entries:
        by_number[to].append((at, body))
    return by_number


def _first_replies(
    entries: list[tuple[str, str, float]],
) -> Callable[[str, float], float | None]:
    """first_reply(number, since): when the first reply (not the wave) reached them, or None."""
    by_number = _by_number(entries)

    def first_reply(number: str, since: float) -> float | None:
        times = [
            at for at, body in by_number[number] if at >= since and not body.startswith(WAVE_BODIES)
        ]
        return min(times) if times else None

    return first_reply


def _at_least(summary: dict, q: str) -> tuple[float, bool]:
    """The quantile, and whether it is only a lower bound."""
    return summary[f"{q}_s"], summary[f"{q}_is_lower_bound"]


def latency(sent: float, arrived: float | None, phase: Phase) -> tuple[float, bool]:
    """Seconds and whether it was seen; one not seen is at least as long as the run waited."""
    return (arrived - sent, True) if arrived is not None else (phase.waited_until - sent, False)


def latency_summary(latencies: list[tuple[float, bool]]) -> dict:
    """p50/p99 by nearest rank, each not seen counted at its lower bound.

    A quantile is then exact when it lies below every such bound, else it is a lower bound.
    """
    values = [v for v, _ in latencies]
    seen = [v for v, was_seen in latencies if was_seen]
    bounds = [v for v, was_seen in latencies if not was_seen]
    summary = {"count": len(latencies), "not_seen": len(bounds)}
    for name, q in (("p50", 0.5), ("p99", 0.99)):
        value = quantile(values, q)
        summary[f"{name}_s"] = value
        summary[f"{name}_is_lower_bound"] = bool(bounds) and value >= min(bounds)
    summary["max_seen_s"] = max(seen) if seen else None
    summary["mean_seen_s"] = statistics.fmean(seen) if seen else None
    return summary


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _print(figures: dict) -> None:
    def show(summary: dict, q: str) -> str:
        value, bound = _at_least(summary, q)
        shown = f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"
        return (">=" if bound else "") + shown

    load = figures["flood"]["load"]
    print(
        f"  flood: {load['joins']:,} JOINs, {load['onboarding_answers']:,} onboarding answers and "
        f"{load['stops']} STOPs in {load['seconds']:.0f} s while the wave reached the provider at "
        f"{load['wave_messages_at_provider_per_second']:.0f} msg/s "
        f"(webhook errors {load['webhook_errors']}, schedule lag max "
        f"{load['schedule_lag_max_seconds'] * 1000:.0f} ms)"
    )
    rows = [
        ("STOP -> ledger", "stop_to_ledger"),
        ("STOP -> goodbye at provider", "stop_to_goodbye"),
        ("JOIN -> welcome at provider", "join_to_welcome"),
    ]
    for label, key in rows:
        for phase in ("idle", "flood"):
            summary = figures[phase].get(key)
            if summary is None:
                continue
            print(
                f"  {label:<28} {phase:<5}  p50 {show(summary, 'p50'):>9}   "
                f"p99 {show(summary, 'p99'):>9}   ({summary['count']} sent, "
                f"{summary['not_seen']} not seen)"
            )
    ratios = figures["ratios"]

    def ratio(key: str) -> str:
        value = ratios[key]
        if value is None:
            return "n/a"
        return (">" if key in figures["ratios_that_are_lower_bounds"] else "") + f"{value:,.1f}x"

    print(
        f"  flood vs idle: STOP -> ledger p50 {ratio('stop_to_ledger_p50_flood_vs_idle')}, "
        f"p99 {ratio('stop_to_ledger_p99_flood_vs_idle')}; STOP -> goodbye p50 "
        f"{ratio('stop_to_goodbye_p50_flood_vs_idle')}, p99 "
        f"{ratio('stop_to_goodbye_p99_flood_vs_idle')}; STOP -> ledger p99 is "
        f"{ratio('stop_to_ledger_p99_vs_1s_target')} the 1 s target; "
        f"{load['wave_messages_after_the_stop_was_recorded']} wave messages reached a "
        f"subscriber after their STOP was recorded"
    )


# --- load and observation ----------------------------------------------------------------


class Webhooks:
    """Signed Twilio inbound webhooks, each on a connection of its own, from a thread pool."""

    def __init__(self, url: str, auth_token: str, account_sid: str) -> None:
        from tests.support.twilio_api import twilio_signature

        self._url, self._parts = url, urlsplit(url)
        self._sign = lambda form: twilio_signature(auth_token, url, form)
        self._account_sid = account_sid
        # Enough threads that a slow server never holds a webhook back (the load stays open:
        # at 10 s a response, ~700 wait at once); each needs little stack.
        threading.stack_size(512 * 1024)
        self._pool = ThreadPoolExecutor(max_workers=1024)
        self.lag_max = 0.0  # the latest a webhook went out after its time (seconds)
        self._lock = threading.Lock()
        self._sent: dict[tuple[str, str], float] = {}
        self._results: dict[str, list[float]] = defaultdict(list)
        self._errors = 0

    def post(self, kind: str, number: str, body: str, due: float | None = None) -> "Future[float]":
        """Send at once (`due`: the monotonic time it was meant to go, to measure the lag)."""
        return self._pool.submit(self._post, kind, number, body, due)

    def _post(self, kind: str, number: str, body: str, due: float | None) -> float:
        sid = "SM" + uuid.uuid4().hex
        form = {
            "AccountSid": self._account_sid,
            "MessageSid": sid,
            "SmsSid": sid,
            "From": number,
            "To": CHANNEL_NUMBER,
            "Body": body,
            "NumMedia": "0",
            "ApiVersion": "2010-04-01",
        }
        payload = urllib.parse.urlencode(form).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": self._sign(form),
        }
        connection = http.client.HTTPConnection(self._parts.hostname, self._parts.port, timeout=30)
        sent = time.time()
        lag = time.monotonic() - due if due is not None else 0.0
        try:
            connection.request("POST", self._parts.path, body=payload, headers=headers)
            response = connection.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            ok = False
        finally:
            connection.close()
        with self._lock:
            self._sent.setdefault((kind, number), sent)
            self.lag_max = max(self.lag_max, lag)
            self._results[kind].append(time.time() - sent)
            self._errors += 0 if ok else 1
        return sent

    def sent_times(self) -> dict[tuple[str, str], float]:
        with self._lock:
            return dict(self._sent)

    def take_results(self) -> tuple[dict[str, list[float]], int]:
        with self._lock:
            results, errors = dict(self._results), self._errors
            self._results, self._errors = defaultdict(list), 0
        return results, errors

    def close(self) -> None:
        self._pool.shutdown(wait=True)


class Schedule:
    """Open loop: each webhook goes at its time, whether or not the server kept up."""

    def __init__(self, sender: Webhooks) -> None:
        self._sender, self._heap_lock = sender, threading.Condition()
        self._due: list[tuple[float, int, tuple[str, str, str]]] = []
        self._order = itertools.count()
        self._closed = False
        self._futures: list[Future[float]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def at(self, when: float, kind: str, number: str, body: str) -> None:
        with self._heap_lock:
            heapq.heappush(self._due, (when, next(self._order), (kind, number, body)))
            self._heap_lock.notify()

    def close(self) -> None:
        """Send what is still due, then wait for every answer."""
        with self._heap_lock:
            self._closed = True
            self._heap_lock.notify()
        self._thread.join()
        for future in self._futures:
            future.result()

    def _run(self) -> None:
        while True:
            with self._heap_lock:
                while True:
                    now = time.monotonic()
                    if self._due and self._due[0][0] <= now:
                        when, _, request = heapq.heappop(self._due)
                        break
                    if self._closed and not self._due:
                        return
                    self._heap_lock.wait(self._due[0][0] - now if self._due else None)
            self._futures.append(self._sender.post(*request, due=when))


class LedgerWatch:
    """Polls the consent ledger for the watched subscribers' opt-outs, every POLL_EVERY.

    A row a query sees was committed before the query's snapshot, taken as it starts: the
    time recorded is the start of the first query that saw it (at most one poll late).
    """

    def __init__(self, database_url: str, table: str, people: list[tuple[int, str]]) -> None:
        self.seen: dict[str, float] = {}  # number -> when first seen committed (unix)
        self._numbers = dict(people)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(database_url, table), daemon=True)
        self._thread.start()

    def _run(self, database_url: str, table: str) -> None:
        import psycopg

        pending = set(self._numbers)
        query = (
            f"SELECT DISTINCT subscriber_id FROM {table} "  # noqa: S608 - our own model's table
            "WHERE kind = 'opt_out' AND subscriber_id = ANY(%s)"
        )
        with psycopg.connect(database_url, autocommit=True) as connection:
            while pending and not self._stopping.is_set():
                started = time.time()
                for (subscriber_id,) in connection.execute(query, [list(pending)]).fetchall():
                    self.seen[self._numbers[subscriber_id]] = started
                    pending.discard(subscriber_id)
                time.sleep(max(0.0, POLL_EVERY - (time.time() - started)))

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)


# --- setup -------------------------------------------------------------------------------


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()
