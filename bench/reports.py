"""A campaign report over 10,000,000 messages: rollups against a GROUP BY over the messages.

ours      GET /api/v1/reports/campaigns/<id>/?by=region as a funder, through gunicorn, and the
          report selector in-process; both read the rollup cells. The API's figures are a
          funder's repeated reads (the report cached); `api_uncached_*` the same requests with
          the cached report deleted before each (what the first read after a rollup costs)
naive     the same figures by region straight from the messages table (GROUP BY, one run)
rollup    the cost of keeping the cells: a wave of 1,000,000 messages counted whole (its first
          rollup), then brought up to date after a window of receipts (`BENCH_REPORT_CHANGED`
          messages, 15,000: 30 s of rollup interval at 500 receipts a second), recounting only
          the blocks of people the receipts touched
"""

import http.client
import os
import statistics
import time
from urllib.parse import urlsplit

from bench.harness import fresh_database, gunicorn, load, save

SUBSCRIBERS = int(os.environ.get("BENCH_REPORT_SUBSCRIBERS", "1000000"))
WAVES = int(os.environ.get("BENCH_REPORT_WAVES", "10"))  # messages = SUBSCRIBERS * WAVES
REPEATS = int(os.environ.get("BENCH_REPORT_REPEATS", "100"))  # a p99 of 20 is their maximum
CHANGED = int(os.environ.get("BENCH_REPORT_CHANGED", "15000"))  # receipts between two rollups
DATABASE = os.environ.get("BENCH_REPORT_DATABASE", "amani_bench_reports")


def run() -> dict:
    env = fresh_database(DATABASE)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection

    from campaigns.models import Campaign, TrackedLink, Wave, WaveStatus
    from campaigns.selectors.reports import (
        ReportScope,
        _cache_key,
        campaign_report_computed,
    )
    from campaigns.services.rollups import wave_rollup
    from outreach.models import Role
    from outreach.services.channels import channel_create, regions_load_preset
    from outreach.services.organizations import member_add, organization_create

    organization = organization_create(
        name="Bench NGO", admin_username="bench", languages=["en", "sw"]
    ).membership.organization
    channel = channel_create(organization=organization, name="SMS", kind="console", country="KE")
    regions_load_preset(organization=organization, preset="KE-counties")
    campaign = Campaign.objects.create(
        organization=organization,
        name="Amani 2027",
        country="KE",
        timezone="Africa/Nairobi",
        default_language="en",
        languages=["en", "sw"],
    )
    funder = member_add(organization=organization, username="funder", role=Role.FUNDER)
    campaign.funders.add(funder.membership.user)
    waves = [
        Wave.objects.create(
            organization=organization,
            campaign=campaign,
            name=f"E-{WAVES - n}",
            status=WaveStatus.SENT,
        )
        for n in range(WAVES)
    ]
    started = time.perf_counter()
    _generate(connection, organization.pk, channel.pk, [w.pk for w in waves])
    messages = SUBSCRIBERS * WAVES
    print(f"  ({messages:,} messages generated in {time.perf_counter() - started:.0f} s)")
    for wave in waves:
        wave.refresh_from_db()
    for wave in waves:
        for language in ("en", "sw"):
            link = TrackedLink.objects.create(
                organization=organization,
                wave=wave,
                language=language,
                url="https://peace.example/pledge",
                code=f"b{wave.pk}{language}",
            )
            link.click_days.create(day=wave.fanned_out_at.date(), clicks=SUBSCRIBERS // 40)

    rollup_seconds = []
    for wave in waves:
        started = time.perf_counter()
        wave_rollup(wave_id=wave.pk)
        rollup_seconds.append(time.perf_counter() - started)
    incremental_seconds = []
    for wave in waves:
        _receipts(connection, wave.pk)
        started = time.perf_counter()
        wave_rollup(wave_id=wave.pk)
        incremental_seconds.append(time.perf_counter() - started)
    _same_as_whole(waves[-1].pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        cursor.execute("SELECT count(*) FROM campaigns_waverollup")
        cells = cursor.fetchone()[0]

    scope = ReportScope(campaign=campaign, dimension="region")
    campaign_report_computed(scope)  # warm
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        report = campaign_report_computed(scope)
        timings.append(time.perf_counter() - started)
    if abs(report["totals"]["targeted"] - messages) > report["privacy"]["max_perturbation"]:
        raise RuntimeError(f"the report counts {report['totals']['targeted']} messages")
    selector_ms = statistics.median(timings) * 1000

    with gunicorn(env) as base_url:
        url = f"{base_url}/api/v1/reports/campaigns/{campaign.pk}/?by=region"
        headers = {"Authorization": f"Token {funder.api_token}"}
        load("warm-up", url, requests=10, concurrency=2, headers=headers)  # both workers
        api = load(
            "GET campaign report by region", url, requests=REPEATS, concurrency=1, headers=headers
        )
        uncached = []
        for _ in range(REPEATS):  # one at a time, the cached report deleted before each
            cache.delete(_cache_key(scope, suppress=True))
            uncached.append(_get_ms(url, headers))
    uncached_ms = sorted(uncached)

    naive_seconds = _naive(connection, [w.pk for w in waves])
    figures = {
        "messages": messages,
        "rollup_cells": cells,
        "ours_api_p50_ms": api.p50_ms,
        "ours_api_p99_ms": api.p99_ms,
        "api_p99_ms": api.p99_ms,
        "api_uncached_p50_ms": statistics.median(uncached_ms),
        "api_uncached_p99_ms": _quantile(uncached_ms, 0.99),
        "api_requests": REPEATS,
        "ours_selector_median_ms": selector_ms,
        "naive_group_by_ms": naive_seconds * 1000,
        "naive_vs_ours_api": naive_seconds * 1000 / api.p50_ms,
        "rollup_one_wave_seconds_median": statistics.median(rollup_seconds),
        "rollup_one_wave_rows": SUBSCRIBERS,
        "rollup_whole_seconds_per_million": statistics.median(rollup_seconds)
        * 1_000_000
        / SUBSCRIBERS,
        # A wave brought up to date after CHANGED receipts: what keeping its cells costs
        # each rollup interval (it does not grow with the wave, only with what changed).
        "rollup_incremental_seconds_median": statistics.median(incremental_seconds),
        "rollup_incremental_changed": CHANGED,
        "rollup_seconds_per_million": statistics.median(incremental_seconds),
    }
    print(f"  {cells:,} rollup cells for {messages:,} messages")
    print(
        f"  report by region: API p50 {api.p50_ms:.0f} ms (p99 {api.p99_ms:.0f} ms), selector "
        f"{selector_ms:.0f} ms; naive GROUP BY over the messages {naive_seconds * 1000:,.0f} ms "
        f"({figures['naive_vs_ours_api']:.0f}x slower than ours)"
    )
    print(
        f"  the same request uncached (after a rollup): "
        f"p50 {figures['api_uncached_p50_ms']:.0f} ms,"
        f" p99 {figures['api_uncached_p99_ms']:.0f} ms ({REPEATS} requests)"
    )
    print(
        f"  keeping the cells: counting one wave of {SUBSCRIBERS:,} messages whole takes "
        f"{figures['rollup_one_wave_seconds_median']:.1f} s, bringing it up to date after "
        f"{CHANGED:,} receipts {figures['rollup_incremental_seconds_median']:.2f} s"
        f" (medians of {WAVES})"
    )
    save("reports", figures)
    return figures


def _receipts(connection: object, wave_id: int) -> None:
    """A rollup interval's receipts for CHANGED messages in sending order (message ids), from
    the middle of the wave, through the messages' own triggers: each message goes back to
    sent, then 1 in 33 comes back undelivered (30003) and the rest read, so the wave's sent,
    delivered, undelivered and error figures all move (a lost mark would show)."""
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            """
            UPDATE outreach_outboundmessage
               SET status = CASE WHEN id %% 33 = 0 THEN 'undelivered' ELSE 'read' END,
                   error_code = CASE WHEN id %% 33 = 0 THEN '30003' ELSE '' END,
                   status_changed_at = now()
            WHERE id IN (SELECT id FROM outreach_outboundmessage WHERE wave_id = %s
                         ORDER BY id OFFSET %s LIMIT %s)
              AND status = 'delivered'
            """,
            [wave_id, SUBSCRIBERS // 2, CHANGED],
        )


def _same_as_whole(wave_id: int) -> None:
    """The cells brought up to date are the cells of a whole recount (or the bench stops)."""
    from campaigns.models import WaveRollup
    from campaigns.services.rollups import wave_rollup

    def cells() -> list[tuple]:
        fields = [f.attname for f in WaveRollup._meta.concrete_fields if f.attname != "id"]
        rows = WaveRollup.objects.filter(wave_id=wave_id).values_list(*fields)
        return sorted(rows, key=repr)

    incremental = cells()
    wave_rollup(wave_id=wave_id, whole=True)
    if cells() != incremental:
        raise RuntimeError(f"wave {wave_id}: the incremental cells differ from a whole recount")


def _get_ms(url: str, headers: dict[str, str]) -> float:
    """One GET on a new connection, as the load generator makes them; its latency in ms."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    started = time.perf_counter()
    connection.request("GET", f"{parts.path}?{parts.query}", headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = (time.perf_counter() - started) * 1000
    connection.close()
    if response.status != 200:
        raise RuntimeError(f"the report answered {response.status}")
    return elapsed


def _quantile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def _generate(
    connection: object, organization_id: int, channel_id: int, wave_ids: list[int]
) -> None:
    """Subscribers across the 47 counties, then each wave's messages, receipts and replies."""
    from django.utils import timezone

    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            """
            WITH people AS (
                INSERT INTO outreach_contact (organization_id, created_at)
                SELECT %s, now() FROM generate_series(1, %s) RETURNING id
            )
            INSERT INTO outreach_subscriber (contact_id, organization_id, channel_id, address,
                language,
                language_source, age_band, gender, tags, joined_keyword, joined_at, region_id,
                consent_status, onboarding_step, created_at, updated_at)
            SELECT p.id, %s, %s, '+2547' || lpad(n::text, 8, '0'),
                   CASE WHEN n %% 3 = 0 THEN 'en' ELSE 'sw' END, 'keyword',
                   (ARRAY['18_24', '25_29', '30_34', '35_plus'])[1 + n %% 4],
                   (ARRAY['female', 'male', 'other', ''])[1 + n %% 4], '[]', 'JOIN', now(),
                   (SELECT min(id) FROM outreach_region) + n %% 47,
                   'opted_in', 'done', now(), now()
            FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM people) AS p
            """,
            [organization_id, SUBSCRIBERS, organization_id, channel_id],
        )
        # Synthetic rows of our own: the keys are right by construction, so the loading
        # skips the per-row foreign-key triggers (the report reads, it does not write).
        cursor.execute("ALTER TABLE outreach_outboundmessage DISABLE TRIGGER ALL")
        cursor.execute("ALTER TABLE outreach_inboundmessage DISABLE TRIGGER ALL")
        cursor.execute("SET synchronous_commit TO OFF")
        now = timezone.now()
        for index, wave_id in enumerate(wave_ids):
            at = now - timezone.timedelta(days=len(wave_ids) - index)
            cursor.execute(
                """
                INSERT INTO outreach_outboundmessage (organization_id, channel_id, subscriber_id,
                    contact_id, to_address, kind, reply_key, body, language, segments, status,
                    provider_message_id, error_code, error_message, attempts, price, price_unit,
                    created_at, sent_at, status_changed_at, wave_id, priority)
                SELECT organization_id, channel_id, id, contact_id, address, 'wave', '',
                       'Vote in peace.',
                       language, 1,
                       CASE WHEN id %% 50 = 0 THEN 'failed'
                            WHEN id %% 37 = 0 THEN 'undelivered' ELSE 'delivered' END,
                       'SM' || %s || 'x' || id,
                       CASE WHEN id %% 50 = 0 THEN '30006'
                            WHEN id %% 37 = 0 THEN '30003' ELSE '' END,
                       '', 1, 0.04, 'USD', %s, %s, %s, %s, 2
                FROM outreach_subscriber WHERE organization_id = %s
                """,
                [wave_id, at, at, at, wave_id, organization_id],
            )
            cursor.execute(
                """
                INSERT INTO outreach_inboundmessage (organization_id, channel_id, subscriber_id,
                    provider_message_id, from_address, body, received_at, handled_at, intent,
                    detected_language, wave_id)
                SELECT organization_id, channel_id, id, 'in' || %s || 'x' || id, '', 'Amani',
                       %s, %s, CASE WHEN id %% 500 = 7 THEN 'stop' ELSE 'free_reply' END, '', %s
                FROM outreach_subscriber WHERE organization_id = %s AND id %% 50 = 7
                """,
                [wave_id, at, at, wave_id, organization_id],
            )
            cursor.execute(
                "UPDATE campaigns_wave SET fanned_out_at = %s, audience = %s WHERE id = %s",
                [at, f'{{"targeted": {SUBSCRIBERS}, "fatigue_capped": 0}}', wave_id],
            )
        cursor.execute("ALTER TABLE outreach_outboundmessage ENABLE TRIGGER ALL")
        cursor.execute("ALTER TABLE outreach_inboundmessage ENABLE TRIGGER ALL")
        cursor.execute("ANALYZE")


def _naive(connection: object, wave_ids: list[int]) -> float:
    """The same figures by region, counted from the messages themselves."""
    started = time.perf_counter()
    with connection.cursor() as cursor:  # type: ignore[attr-defined]
        cursor.execute(
            """
            SELECT r.name, count(*),
                   count(*) FILTER (WHERE m.provider_message_id <> ''),
                   count(*) FILTER (WHERE m.status IN ('delivered', 'read')),
                   count(*) FILTER (WHERE m.status = 'failed'),
                   count(*) FILTER (WHERE m.status = 'undelivered'),
                   sum(m.price),
                   (SELECT count(*) FROM outreach_inboundmessage i
                    JOIN outreach_subscriber si ON si.id = i.subscriber_id
                    WHERE i.wave_id = ANY(%s) AND si.region_id = r.id)
            FROM outreach_outboundmessage m
            JOIN outreach_subscriber s ON s.id = m.subscriber_id
            LEFT JOIN outreach_region r ON r.id = s.region_id
            WHERE m.wave_id = ANY(%s)
            GROUP BY r.id, r.name
            """,
            [wave_ids, wave_ids],
        )
        cursor.fetchall()
    return time.perf_counter() - started
