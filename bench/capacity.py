"""The capacity model: each stage's CPU and storage per message, measured, then a national campaign.

Measured on a campaign of BENCH_CAPACITY_PEOPLE subscribers (200,000 unless set), in one run:
fan-out, dispatch against a 0 ms local Twilio API, three signed status callbacks per message
(the webhook in-process, without gunicorn) and their batched apply, a 5% share of replies
(webhook and routing), and a wave's rollup. CPU is counted for this process (every thread)
and for PostgreSQL (every backend, from /proc: run it on a quiet machine); storage from the
relations' sizes and the WAL written. The model multiplies those by a national campaign.
"""

import os
import time
import uuid
from pathlib import Path
from typing import Any

from bench.harness import (
    bench_campaign,
    bench_sms_channel,
    fresh_database,
    generate_subscribers,
    save,
)

PEOPLE = int(os.environ.get("BENCH_CAPACITY_PEOPLE", "200000"))
DISPATCHED = 5_000
REPLY_SHARE = 0.05
# The national campaign of issue 16.
NATIONAL = {
    "subscribers": 5_000_000,
    "waves": 12,
    "weeks": 8,
    "receipts_per_message": 3,
    "reply_share": REPLY_SHARE,
}
SENDING_WINDOW_HOURS = 10  # Kenya's 08:00-18:00 for bulk SMS
ELECTION_EVE_RATE = 500  # messages a second, the whole loop (issue 16)
CORES_HERE = os.cpu_count() or 2
TICK = os.sysconf("SC_CLK_TCK")


def run() -> dict:
    env = fresh_database("amani_bench_capacity")
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client

    from campaigns.models import Segment, Variant, Wave, WaveStatus
    from campaigns.services.fanout import fanout_wave
    from campaigns.services.rollups import wave_rollup
    from outreach.models import InboundMessage, OutboundMessage, OutboundStatus
    from outreach.services.dispatch import dispatch_channel
    from outreach.services.inbound import inbound_handle
    from outreach.services.status import status_reports_apply_all
    from tests.support.twilio_api import (
        ACCOUNT_SID,
        AUTH_TOKEN,
        serve_in_another_process,
        twilio_signature,
    )

    channel = bench_sms_channel(messages_per_second=100_000)
    organization = channel.organization
    provider_url, stop_provider = serve_in_another_process(latency=0.0)
    settings.TWILIO_BASE_URL = provider_url
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    generate_subscribers(
        connection, organization_id=organization.pk, channel_id=channel.pk, count=PEOPLE
    )
    campaign = bench_campaign(organization)
    segment = Segment.objects.create(organization=organization, name="All")
    wave = Wave.objects.create(
        organization=organization,
        campaign=campaign,
        name="E-1",
        segment=segment,
        status=WaveStatus.SENDING,
    )
    wave.channels.set([channel])
    Variant.objects.create(wave=wave, language="en", body="Vote calmly, {region}.")
    Variant.objects.create(wave=wave, language="sw", body="Piga kura kwa amani.")
    stages: dict[str, dict[str, float]] = {}

    # --- fan-out ---------------------------------------------------------------------------
    with Meter(connection) as meter:
        audience = fanout_wave(wave_id=wave.pk)
    if audience["queued"] != PEOPLE:
        raise RuntimeError(f"fan-out queued {audience}")
    stages["fanout"] = meter.per(PEOPLE)

    # --- dispatch: a sample, handed to the provider --------------------------------------------
    OutboundMessage.objects.filter(wave_id=wave.pk).update(status=OutboundStatus.HELD)
    sample = list(
        OutboundMessage.objects.filter(wave_id=wave.pk).order_by("pk").values_list("pk", flat=True)
    )[:DISPATCHED]
    OutboundMessage.objects.filter(pk__in=sample).update(status=OutboundStatus.QUEUED)
    with Meter(connection) as meter:
        dispatch_channel(channel_id=channel.pk, seconds=300)
    sent = OutboundMessage.objects.filter(pk__in=sample).exclude(provider_message_id="")
    sids = list(sent.values_list("provider_message_id", flat=True))
    if len(sids) != DISPATCHED:
        raise RuntimeError(f"dispatch handed over {len(sids)} of {DISPATCHED}")
    stages["dispatch"] = meter.per(DISPATCHED)

    # --- status callbacks: three per message, the webhook then the batched apply ---------------
    web = Client()
    path = f"/webhooks/twilio/{channel.uuid}/status/"
    url = settings.PUBLIC_BASE_URL + path  # what the webhook checks the signature against
    callbacks = []
    for status in ("sent", "delivered", "read"):
        for sid in sids:
            form = {"AccountSid": ACCOUNT_SID, "MessageSid": sid, "MessageStatus": status}
            callbacks.append((form, twilio_signature(AUTH_TOKEN, url, form)))
    with Meter(connection) as meter:
        for form, signature in callbacks:
            answered = web.post(path, form, HTTP_X_TWILIO_SIGNATURE=signature)
            if answered.status_code >= 300:
                raise RuntimeError(f"a status callback got {answered.status_code}")
    stages["status_webhook"] = meter.per(len(callbacks))
    with Meter(connection) as meter:
        applied = status_reports_apply_all(seconds=600)
    if applied != len(callbacks):
        raise RuntimeError(f"applied {applied} of {len(callbacks)} reports")
    stages["status_apply"] = meter.per(len(callbacks))

    # --- replies: the webhook and the routing ------------------------------------------------
    replies = int(DISPATCHED * REPLY_SHARE)
    inbound_path = f"/webhooks/twilio/{channel.uuid}/inbound/"
    inbound_url = settings.PUBLIC_BASE_URL + inbound_path
    people = list(
        OutboundMessage.objects.filter(pk__in=sample[:replies]).values_list("to_address", flat=True)
    )
    forms = []
    for address in people:
        sid = "SM" + uuid.uuid4().hex
        form = {
            "AccountSid": ACCOUNT_SID,
            "MessageSid": sid,
            "SmsSid": sid,
            "From": address,
            "To": channel.from_number,
            "Body": "Asante, tutapiga kura kwa amani",
            "NumMedia": "0",
        }
        forms.append((form, twilio_signature(AUTH_TOKEN, inbound_url, form)))
    before = set(InboundMessage.objects.values_list("pk", flat=True))
    with Meter(connection) as meter:
        for form, signature in forms:
            answered = web.post(inbound_path, form, HTTP_X_TWILIO_SIGNATURE=signature)
            if answered.status_code >= 300:
                raise RuntimeError(f"an inbound webhook got {answered.status_code}")
    stages["reply_webhook"] = meter.per(replies)
    arrived = InboundMessage.objects.exclude(pk__in=before).values_list("pk", flat=True)
    with Meter(connection) as meter:
        for inbound_id in list(arrived):
            inbound_handle(inbound_id=inbound_id)
    stages["reply_routing"] = meter.per(replies)
    stop_provider()

    # --- storage of a wave fully delivered and receipted ---------------------------------------
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE outreach_outboundmessage
            SET status = 'delivered', provider_message_id = 'SM' || md5(id::text),
                sent_at = now(), status_changed_at = now()
            WHERE wave_id = %s AND provider_message_id = ''
            """,
            [wave.pk],
        )
        cursor.execute(
            """
            INSERT INTO outreach_messagestatusevent
                (message_id, channel_id, provider_message_id, provider_status, status,
                 error_code, received_at, raw)
            SELECT m.id, m.channel_id, m.provider_message_id, s.status, s.status, '', now(), NULL
            FROM outreach_outboundmessage m,
                 (VALUES ('sent'), ('delivered'), ('read')) AS s(status)
            WHERE m.wave_id = %s
            ON CONFLICT DO NOTHING
            """,
            [wave.pk],
        )
        cursor.execute("VACUUM (ANALYZE) outreach_outboundmessage, outreach_messagestatusevent")
    with Meter(connection) as meter:
        wave_rollup(wave_id=wave.pk)
    stages["rollup"] = meter.per(PEOPLE)
    storage = {
        "message_bytes": _bytes(connection, "outreach_outboundmessage") / PEOPLE,
        "status_event_bytes": _bytes(connection, "outreach_messagestatusevent") / (3 * PEOPLE),
        "reply_bytes": _bytes(connection, "outreach_inboundmessage") / max(replies, 1),
        "rollup_bytes_per_wave": _bytes(connection, "campaigns_waverollup")
        + _bytes(connection, "campaigns_waverolluppeople"),
    }
    model = capacity_model(stages, storage)
    figures = {
        "people": PEOPLE,
        "dispatched": DISPATCHED,
        "stages_per_message": stages,
        "storage": storage,
        "model": model,
    }
    _print(figures)
    save("capacity", figures)
    return figures


class Meter:
    """CPU seconds of this process (all threads) and of every PostgreSQL process, wall
    seconds, and WAL bytes, over a `with` block."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection

    def __enter__(self) -> "Meter":
        self.wal0 = self._wal()
        self.ours0, self.pg0, self.wall0 = _our_cpu(), _postgres_cpu(), time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self.wall0
        self.ours = _our_cpu() - self.ours0
        self.pg = _postgres_cpu_since(self.pg0)
        self.wal = self._wal() - self.wal0

    def per(self, count: int) -> dict[str, float]:
        return {
            "app_cpu_ms": 1000 * self.ours / count,
            "postgres_cpu_ms": 1000 * self.pg / count,
            "wall_ms": 1000 * self.wall / count,
            "wal_bytes": self.wal / count,
        }

    def _wal(self) -> int:
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
            return int(cursor.fetchone()[0])


def capacity_model(stages: dict[str, dict[str, float]], storage: dict[str, float]) -> dict:
    """What a national campaign needs, from each stage's measured cost per message."""
    n = NATIONAL
    receipts = n["receipts_per_message"]
    messages = n["subscribers"] * n["waves"]

    def per_message(key: str) -> float:  # CPU ms for one message, fully receipted
        return (
            stages["fanout"][key]
            + stages["dispatch"][key]
            + receipts * (stages["status_webhook"][key] + stages["status_apply"][key])
            + n["reply_share"] * (stages["reply_webhook"][key] + stages["reply_routing"][key])
            + stages["rollup"][key]
        )

    app_ms, pg_ms = per_message("app_cpu_ms"), per_message("postgres_cpu_ms")
    wal = per_message("wal_bytes")
    by_process = {
        "web (webhooks)": receipts * stages["status_webhook"]["app_cpu_ms"]
        + n["reply_share"] * stages["reply_webhook"]["app_cpu_ms"],
        "bulk workers (fan-out, dispatch)": stages["fanout"]["app_cpu_ms"]
        + stages["dispatch"]["app_cpu_ms"],
        "priority workers (status apply, replies, rollups)": receipts
        * stages["status_apply"]["app_cpu_ms"]
        + n["reply_share"] * stages["reply_routing"]["app_cpu_ms"]
        + stages["rollup"]["app_cpu_ms"],
        "postgresql": pg_ms,
    }

    def cores_at(rate: float) -> dict[str, float]:
        return {name: rate * ms / 1000 for name, ms in by_process.items()}

    window_rate = n["subscribers"] / (SENDING_WINDOW_HOURS * 3600)
    stored = (
        messages * (storage["message_bytes"] + receipts * storage["status_event_bytes"])
        + messages * n["reply_share"] * storage["reply_bytes"]
        + n["waves"] * storage["rollup_bytes_per_wave"] * n["subscribers"] / PEOPLE
    )
    here = CORES_HERE / ((app_ms + pg_ms) / 1000)
    busiest = max(by_process, key=lambda name: by_process[name])
    return {
        "campaign": n,
        "messages": messages,
        "receipts": messages * receipts,
        "replies": messages * n["reply_share"],
        "cpu_ms_per_message": {"app": app_ms, "postgresql": pg_ms, **by_process},
        "a_wave_in_the_sending_window": {
            "messages_per_second": window_rate,
            "cores": cores_at(window_rate),
        },
        "election_eve": {"messages_per_second": ELECTION_EVE_RATE, "cores": cores_at(500)},
        "database_gb_after_the_campaign": stored / 1e9,
        "wal_mb_per_second_at_election_eve": ELECTION_EVE_RATE * wal / 1e6,
        "this_machine_messages_per_second": here,
        "first_to_saturate": busiest,
    }


def _our_cpu() -> float:
    return time.process_time()  # every thread of this process


def _postgres_cpu() -> dict[int, float]:
    """CPU seconds of each postgres process on this machine (the server is local), by pid."""
    seconds = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        if name.startswith("postgres"):
            fields = stat[stat.rindex(")") + 2 :].split()
            seconds[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return seconds


def _postgres_cpu_since(before: dict[int, float]) -> float:
    """What the postgres processes alive now spent since `before` (a process that ended in
    between is not counted: a client elsewhere, or a backend whose work is lost to us)."""
    return sum(now - before.get(pid, 0.0) for pid, now in _postgres_cpu().items())


def _bytes(connection: Any, table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size(%s)", [table])
        return int(cursor.fetchone()[0])


def _print(figures: dict) -> None:
    for name, cost in figures["stages_per_message"].items():
        print(
            f"  {name:<15} app {cost['app_cpu_ms']:7.3f} ms  "
            f"postgres {cost['postgres_cpu_ms']:7.3f} ms  wall {cost['wall_ms']:7.3f} ms  "
            f"WAL {cost['wal_bytes']:8.0f} B  (per message)"
        )
    storage = figures["storage"]
    print(
        f"  storage: {storage['message_bytes']:.0f} B a message, "
        f"{storage['status_event_bytes']:.0f} B a receipt, {storage['reply_bytes']:.0f} B a reply"
    )
    model = figures["model"]
    print(
        f"  model: {model['messages']:,} messages, {model['receipts']:,} receipts; "
        f"{model['cpu_ms_per_message']['app']:.2f} ms app + "
        f"{model['cpu_ms_per_message']['postgresql']:.2f} ms PostgreSQL CPU a message"
    )
    for label in ("a_wave_in_the_sending_window", "election_eve"):
        at = model[label]
        cores = ", ".join(f"{name} {value:.2f}" for name, value in at["cores"].items())
        print(f"  {label}: {at['messages_per_second']:.0f} msg/s needs cores: {cores}")
    print(
        f"  database after the campaign {model['database_gb_after_the_campaign']:.0f} GB; "
        f"WAL {model['wal_mb_per_second_at_election_eve']:.1f} MB/s at 500 msg/s; this "
        f"machine ({CORES_HERE} cores) carries {model['this_machine_messages_per_second']:.0f}"
        f" msg/s; first to saturate: {model['first_to_saturate']}"
    )
