"""Cost as history grows: the 1st, middle and last wave of a campaign, against its first.

A campaign of BENCH_HISTORY_PEOPLE subscribers (1,000,000 unless set) gets BENCH_HISTORY_WAVES
waves (20), one every 3.5 days up to now, so the last wave is sent over (waves - 1) million
messages of history. For the 1st, the middle (10th) and the last (20th) wave, measured
through the real services on the same database:

fan-out   campaigns.services.fanout.fanout_wave: the whole audience, set-based; and, run
          again alone, its opt-out footer rule's count of each person's earlier messages
claim     outreach.services.dispatch.claim_batch, as a dispatcher calls it (one batch of
          `batch_size` messages, from the queued wave; median of 20)
rollup    campaigns.services.rollups.wave_rollup once the wave is delivered
report    campaigns.selectors.reports.campaign_report by region, in-process, as a funder
          sees it: the wave's own report and the whole campaign's (20 runs each, p50/p99)

After its measures a wave is marked done in one UPDATE (delivered, 2% failed, 2.7%
undelivered, a provider id a Twilio SID long, dated to its day) and 2% of its people reply.
The waves in between are not fanned out: an INSERT … SELECT copies the last measured wave's
real rows under a new wave id, dated to their own day, with replies of their own, and its
report cells (the same people and outcomes) on the copy's day. Before each measured wave
the tables are VACUUM (ANALYZE)d and checkpointed, as autovacuum would have left them (it is
off on the 2-core machine). The campaign has no fatigue cap (bench.harness.bench_campaign):
the cap's own cost is measured by `wave_delivery`. At the end the 1st wave's rollup and
report are measured again, beside the last's: what of a ratio is the shared machine's load.
Subscribers are spread over Kenya's 47 counties, four age bands and genders.
"""

import os
import statistics
import time
from datetime import timedelta
from typing import Any

from bench.harness import (
    bench_campaign,
    bench_sms_channel,
    fresh_database,
    generate_subscribers,
    save,
)

PEOPLE = int(os.environ.get("BENCH_HISTORY_PEOPLE", "1000000"))
WAVES = int(os.environ.get("BENCH_HISTORY_WAVES", "20"))
MEASURED = sorted({1, max(1, WAVES // 2), WAVES})
SPACING = timedelta(days=3.5)
CLAIMS = 20
REPEATS = 20


def run() -> dict:
    env = fresh_database("amani_bench_history")
    os.environ.update(env)
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Segment, Variant, Wave, WaveStatus
    from campaigns.selectors import reports
    from campaigns.services.fanout import fanout_wave
    from campaigns.services.rollups import wave_rollup
    from outreach.models import Channel
    from outreach.services.channels import regions_load_preset
    from outreach.services.dispatch import batch_size, claim_batch

    channel = bench_sms_channel(messages_per_second=100_000)
    organization = channel.organization
    regions_load_preset(organization=organization, preset="KE-counties")
    generate_subscribers(
        connection, organization_id=organization.pk, channel_id=channel.pk, count=PEOPLE
    )
    _spread_people(connection, organization.pk)
    campaign = bench_campaign(organization)
    segment = Segment.objects.create(organization=organization, name="All")
    now = timezone.now()
    claim_limit = batch_size(
        Channel.objects.get(pk=channel.pk), max(1, settings.DISPATCH_CONCURRENCY)
    )

    # Computed from the cells each time: a report cache, where there is one, is not what
    # history makes slower.
    computed = getattr(reports, "campaign_report_computed", reports.campaign_report)
    measured: list[dict[str, Any]] = []
    copied_seconds: list[float] = []
    source_wave_id = None
    for number in range(1, WAVES + 1):
        at = now - (WAVES - number) * SPACING
        wave = Wave.objects.create(
            organization=organization,
            campaign=campaign,
            name=f"Wave {number}",
            segment=segment,
            status=WaveStatus.SENDING,
        )
        wave.channels.set([channel])
        Variant.objects.create(wave=wave, language="en", body="Vote calmly, {region}.")
        Variant.objects.create(wave=wave, language="sw", body="Piga kura kwa amani, {region}.")
        if number not in MEASURED:
            started = time.perf_counter()
            _copy_wave(connection, source=source_wave_id, wave_id=wave.pk, at=at)
            _replies(connection, organization.pk, wave.pk, at)
            _copy_cells(connection, source=source_wave_id, wave_id=wave.pk, day=_local_day(at))
            _done(connection, wave.pk, at)
            copied_seconds.append(time.perf_counter() - started)
            continue

        history = _steady_state(connection)
        figures: dict[str, Any] = {"wave": number, "history_messages": history}

        started = time.perf_counter()
        audience = fanout_wave(wave_id=wave.pk)
        figures["fanout_seconds"] = time.perf_counter() - started
        if audience["queued"] != PEOPLE:
            raise RuntimeError(f"fan-out of wave {number} queued {audience}")
        figures["fanout_footer_count_seconds"] = _footer_count_seconds(connection, wave)

        timings = []
        for _ in range(CLAIMS):
            started = time.perf_counter()
            claim = claim_batch(channel_id=channel.pk, limit=claim_limit)
            timings.append(time.perf_counter() - started)
            if len(claim.ids) != claim_limit:
                raise RuntimeError(f"a claim took {len(claim.ids)} of {claim_limit}")
        figures["claim_ms_median"] = statistics.median(timings) * 1000
        figures["claim_ms_max"] = max(timings) * 1000
        figures["claim_batch"] = claim_limit

        _deliver(connection, wave.pk, at)
        _replies(connection, organization.pk, wave.pk, at)
        _done(connection, wave.pk, at)
        started = time.perf_counter()
        cells = wave_rollup(wave_id=wave.pk)
        figures["rollup_seconds"] = time.perf_counter() - started
        figures["rollup_cells"] = cells

        wave.refresh_from_db()
        for name, scope in (
            ("wave_report", reports.ReportScope(campaign=campaign, wave=wave, dimension="region")),
            ("campaign_report", reports.ReportScope(campaign=campaign, dimension="region")),
        ):
            p50, p99, report = _latency(lambda scope=scope: computed(scope))
            figures[f"{name}_p50_ms"], figures[f"{name}_p99_ms"] = p50, p99
            expected = PEOPLE if name == "wave_report" else PEOPLE * number
            if abs(report["totals"]["targeted"] - expected) > report["privacy"]["max_perturbation"]:
                raise RuntimeError(f"the {name} counts {report['totals']['targeted']} targeted")
        figures["messages_table_mb"] = _megabytes(connection, "outreach_outboundmessage")
        measured.append(figures)
        _print_wave(figures)
        source_wave_id = wave.pk

    # The 1st wave's rollup and report again, over the whole history and at the same
    # moment as the last's: on a shared machine, the part of a ratio that is the machine.
    again: dict[str, Any] = {}
    first_wave = Wave.objects.get(campaign=campaign, name="Wave 1")
    started = time.perf_counter()
    wave_rollup(wave_id=first_wave.pk, whole=True)  # counted whole, as its first rollup was
    again["rollup_seconds"] = time.perf_counter() - started
    scope = reports.ReportScope(campaign=campaign, wave=first_wave, dimension="region")
    again["wave_report_p50_ms"], again["wave_report_p99_ms"], _ = _latency(lambda: computed(scope))
    print(
        f"  wave  1 again, at the end: rollup {again['rollup_seconds']:.2f} s, wave report "
        f"{again['wave_report_p50_ms']:.0f}/{again['wave_report_p99_ms']:.0f} ms"
    )

    first, last = measured[0], measured[-1]
    columns = (
        "fanout_seconds",
        "claim_ms_median",
        "rollup_seconds",
        "wave_report_p50_ms",
        "wave_report_p99_ms",
        "campaign_report_p50_ms",
        "campaign_report_p99_ms",
    )
    result = {
        "people": PEOPLE,
        "waves": WAVES,
        "measured": measured,
        "last_vs_first": {c: last[c] / first[c] for c in columns},
        "first_again_at_the_end": again,
        "last_vs_first_again": {c: last[c] / again[c] for c in again},
        "copied_wave_seconds_median": statistics.median(copied_seconds) if copied_seconds else None,
        "target_last_vs_first": 1.1,
    }
    _print_table(result)
    save("history", result)
    return result


def _spread_people(connection: Any, organization_id: int) -> None:
    """The report's dimensions: a county, an age band and a gender for everyone."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            UPDATE outreach_subscriber SET
                region_id = (SELECT min(id) FROM outreach_region) + id %% 47,
                age_band = (ARRAY['18_24', '25_29', '30_34', '35_plus'])[1 + id %% 4],
                gender = (ARRAY['female', 'male', 'other', ''])[1 + (id / 4) %% 4]
            WHERE organization_id = %s
            """,
            [organization_id],
        )
        cursor.execute("VACUUM (ANALYZE) outreach_subscriber")


def _steady_state(connection: Any) -> int:
    """Vacuum, analyze and checkpoint, as a measured wave finds the tables; their rows."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) outreach_outboundmessage, outreach_inboundmessage")
        cursor.execute("CHECKPOINT")
        cursor.execute("SELECT count(*) FROM outreach_outboundmessage")
        return cursor.fetchone()[0]


def _deliver(connection: Any, wave_id: int, at: Any) -> None:
    """The wave as dispatch and its receipts leave it, dated to its day."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
        cursor.execute(
            """
            UPDATE outreach_outboundmessage SET
                status = CASE WHEN id %% 50 = 0 THEN 'failed'
                              WHEN id %% 37 = 0 THEN 'undelivered' ELSE 'delivered' END,
                error_code = CASE WHEN id %% 50 = 0 THEN '30006'
                                  WHEN id %% 37 = 0 THEN '30003' ELSE '' END,
                provider_message_id = 'SM' || md5(%s || ':' || id),
                attempts = 1, price = 0.04, price_unit = 'USD', lease_expires_at = NULL,
                claim_token = NULL, in_flight_at = NULL,
                created_at = %s, sent_at = %s, status_changed_at = %s
            WHERE wave_id = %s
            """,
            [wave_id, at, at, at, wave_id],
        )


def _copy_wave(connection: Any, *, source: int, wave_id: int, at: Any) -> None:
    """A wave in between: the last measured wave's real rows under a new id, delivered.
    The keys are right by construction, so the per-row foreign-key triggers are off."""
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
        cursor.execute("ALTER TABLE outreach_outboundmessage DISABLE TRIGGER ALL")
        cursor.execute(
            """
            INSERT INTO outreach_outboundmessage (organization_id, channel_id, subscriber_id,
                contact_id, to_address, kind, reply_key, body, language, segments, status,
                provider_message_id, error_code, error_message, attempts, price, price_unit,
                created_at, sent_at, status_changed_at, wave_id, priority, fallback_step,
                template_id)
            SELECT organization_id, channel_id, subscriber_id, contact_id, to_address, kind,
                   reply_key, body, language, segments, status,
                   'SM' || md5(%s || ':' || id), error_code, error_message, attempts, price,
                   price_unit, %s, %s, %s, %s, priority, fallback_step, template_id
            FROM outreach_outboundmessage WHERE wave_id = %s ORDER BY id
            """,
            [wave_id, at, at, at, wave_id, source],
        )
        cursor.execute("ALTER TABLE outreach_outboundmessage ENABLE TRIGGER ALL")


def _copy_cells(connection: Any, *, source: int, wave_id: int, day: Any) -> None:
    """A wave in between's report cells: the measured wave's (the same people, the same
    outcomes) on the copy's day, with their lists of few people and their error cells."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH m AS MATERIALIZED (
                SELECT id AS old_id,
                       nextval(pg_get_serial_sequence('campaigns_waverollup', 'id')) AS new_id
                FROM campaigns_waverollup WHERE wave_id = %s
            ), cells AS (
                INSERT INTO campaigns_waverollup (id, organization_id, day, language, region_id,
                    age_band, gender, channel_id, targeted, sent, delivered, failed, undelivered,
                    canceled, segments, cost, currency, replies, opt_outs, clicks, poll_answers,
                    campaign_id, wave_id, keys, named)
                SELECT m.new_id, organization_id, CASE WHEN day IS NULL THEN NULL ELSE %s END,
                       language, region_id, age_band, gender, channel_id, targeted, sent,
                       delivered, failed, undelivered, canceled, segments, cost, currency,
                       replies, opt_outs, clicks, poll_answers, campaign_id, %s, keys, named
                FROM campaigns_waverollup r JOIN m ON m.old_id = r.id
            )
            INSERT INTO campaigns_waverolluppeople (figure, ids, rollup_id)
            SELECT p.figure, p.ids, m.new_id
            FROM campaigns_waverolluppeople p JOIN m ON m.old_id = p.rollup_id
            """,
            [source, day, wave_id],
        )
        cursor.execute(
            """
            INSERT INTO campaigns_waveerrorrollup (status, error_code, messages, campaign_id,
                wave_id, day, key, people)
            SELECT status, error_code, messages, campaign_id, %s,
                   CASE WHEN day IS NULL THEN NULL ELSE %s END, key, people
            FROM campaigns_waveerrorrollup WHERE wave_id = %s
            """,
            [wave_id, day, source],
        )


def _footer_count_seconds(connection: Any, wave: Any) -> float:
    """Seconds of the fan-out's opt-out footer rule alone: per chunk of people, the count of
    their messages in the campaign's other waves (the subquery of
    campaigns.selectors.recipients), run again on its own after the fan-out."""
    from campaigns.selectors.waves import earlier_wave_ids
    from campaigns.services.fanout import CHUNK

    earlier = earlier_wave_ids(wave)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT min(contact_id), max(contact_id) FROM outreach_subscriber"
            " WHERE organization_id = %s",
            [wave.organization_id],
        )
        low, high = cursor.fetchone()
        for start in range(low - 1, high, CHUNK):
            cursor.execute(
                """
                SELECT count(*) FROM (
                    SELECT contact_id, count(DISTINCT wave_id) AS n FROM outreach_outboundmessage
                    WHERE wave_id = ANY(%s) AND contact_id BETWEEN %s AND %s GROUP BY contact_id
                ) c
                """,
                [earlier, start + 1, start + CHUNK],
            )
    return time.perf_counter() - started


def _local_day(at: Any) -> Any:
    from zoneinfo import ZoneInfo

    return at.astimezone(ZoneInfo("Africa/Nairobi")).date()  # bench_campaign's time zone


def _replies(connection: Any, organization_id: int, wave_id: int, at: Any) -> None:
    """2% of the people answer the wave; one in ten of them with STOP (they stay subscribed:
    the next waves reach the same audience)."""
    with connection.cursor() as cursor:
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


def _done(connection: Any, wave_id: int, at: Any) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE campaigns_wave SET status = 'sent', fanned_out_at = %s, scheduled_for = %s,"
            " audience = %s, rolled_up_at = now() WHERE id = %s",
            [at, at, f'{{"targeted": {PEOPLE}, "fatigue_capped": 0}}', wave_id],
        )


def _latency(call: Any) -> tuple[float, float, Any]:
    result = call()  # warm
    timings = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        result = call()
        timings.append(time.perf_counter() - started)
    quantiles = statistics.quantiles(timings, n=100, method="inclusive")
    return quantiles[49] * 1000, quantiles[98] * 1000, result


def _megabytes(connection: Any, table: str) -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size(%s)", [table])
        return cursor.fetchone()[0] / 1e6


def _print_wave(f: dict) -> None:
    print(
        f"  wave {f['wave']:>2} over {f['history_messages']:,} messages: fan-out "
        f"{f['fanout_seconds']:.1f} s (its footer rule's count of earlier messages alone "
        f"{f['fanout_footer_count_seconds']:.1f} s), claim {f['claim_ms_median']:.1f} ms "
        f"(max {f['claim_ms_max']:.1f}), rollup {f['rollup_seconds']:.2f} s, wave report "
        f"{f['wave_report_p50_ms']:.0f}/{f['wave_report_p99_ms']:.0f} ms, campaign report "
        f"{f['campaign_report_p50_ms']:.0f}/{f['campaign_report_p99_ms']:.0f} ms"
    )


def _print_table(result: dict) -> None:
    print(
        f"\n  {result['people']:,} people, {result['waves']} waves"
        f" (waves in between copied in {result['copied_wave_seconds_median'] or 0:.1f} s each)"
    )
    print(
        "  wave | history msgs | fan-out s (footer count) | claim ms | rollup s"
        " | wave report p50/p99 ms | campaign report p50/p99 ms"
    )
    for f in result["measured"]:
        print(
            f"  {f['wave']:>4} | {f['history_messages']:>12,} | {f['fanout_seconds']:>9.1f} "
            f"({f['fanout_footer_count_seconds']:>5.1f})     | "
            f"{f['claim_ms_median']:>8.1f} | {f['rollup_seconds']:>8.2f} | "
            f"{f['wave_report_p50_ms']:>9.0f} / {f['wave_report_p99_ms']:<9.0f} | "
            f"{f['campaign_report_p50_ms']:>9.0f} / {f['campaign_report_p99_ms']:.0f}"
        )
    r = result["last_vs_first"]
    print(
        f"  last/first | {'':>12} | {r['fanout_seconds']:>8.2f}x {'':>12} | "
        f"{r['claim_ms_median']:>7.2f}x | {r['rollup_seconds']:>7.2f}x | "
        f"{r['wave_report_p50_ms']:>8.2f}x / "
        f"{r['wave_report_p99_ms']:.2f}x | {r['campaign_report_p50_ms']:>8.2f}x / "
        f"{r['campaign_report_p99_ms']:.2f}x   (target <= {result['target_last_vs_first']}x)"
    )
    a = result["last_vs_first_again"]
    print(
        f"  last/first measured again at the end: rollup {a['rollup_seconds']:.2f}x, wave report "
        f"{a['wave_report_p50_ms']:.2f}x / {a['wave_report_p99_ms']:.2f}x"
    )
