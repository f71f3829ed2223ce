"""Fan-out: a sending wave and its segment → one queued outbound message per subscriber.

Set-based and chunked by subscriber id, so memory stays flat at a million subscribers:
each chunk is one INSERT … SELECT. The unique (wave, subscriber, channel) constraint makes
a re-run a no-op. Each subscriber gets the variant in their language, or the campaign default;
`{region}` and `{campaign}` are filled in, each `{link:URL}` becomes a tracked short link
(one per wave, language and URL; see campaigns.links), the opt-out footer is added on a
subscriber's first message of the campaign and every Nth; the fatigue cap skips
those who had enough this week, counted as capped.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from campaigns.composition import message_as_sent, variant_stats
from campaigns.links import short_link_for
from campaigns.models import Wave, WavePriority, WaveStatus
from campaigns.selectors.segments import segment_members
from campaigns.selectors.waves import (
    earlier_wave_ids,
    fatigued_subscribers,
    footer_due_sql,
    longest_region_name,
)
from outreach.models import OutboundKind, OutboundMessage, OutboundStatus, Subscriber
from outreach.wave_activity import waves_changed

CHUNK = 50_000
# A sending wave not fanned out this long after its fan-out was enqueued lost its task (a
# Redis restart): the tick enqueues it again. A fan-out still running holds FANOUT_LOCK.
FANOUT_GRACE = timedelta(minutes=2)
FANOUT_LOCK = 0x616D_6600  # the advisory-lock namespace of fan-outs; the second key is the wave
ANALYZE_AFTER = 10_000  # messages a fan-out adds before the table's statistics are refreshed
PRIORITY_OF = {WavePriority.URGENT: 1, WavePriority.NORMAL: 2}
# Where each subscriber's region goes, put in by SQL: a control character no message carries,
# so a literal "{{region}}" (sent as "{region}") is not filled in.
REGION_SLOT = "\x1e"


@dataclass(frozen=True)
class _Variant:
    """A variant as sent, REGION_SLOT left for each subscriber's: without and with the footer."""

    language: str
    body: str
    segments: int
    body_with_footer: str
    segments_with_footer: int


def fanout_wave(*, wave_id: int) -> dict[str, int]:
    """Create the wave's messages; safe to run again. Returns counts by outcome.

    Each chunk reads the wave's state again in the transaction that inserts it, under a lock
    that cancel and pause wait for: after a cancel no chunk is kept, after a pause the chunks
    go in held. A fan-out of the wave already running elsewhere makes this one a no-op.
    """
    with _only_fanout_of(wave_id) as alone:
        return _fanout(wave_id) if alone else {}


def _fanout(wave_id: int) -> dict[str, int]:
    wave = Wave.objects.select_related("campaign", "segment").get(pk=wave_id)
    if wave.status != WaveStatus.SENDING or wave.segment is None:
        return {}
    members = segment_members(wave.segment).filter(channel__in=wave.channels.all())
    cap = wave.campaign.fatigue_cap_per_week
    capped = fatigued_subscribers(wave.organization_id, cap, excluding_wave_id=wave.pk)
    targeted = members.count()
    capped_count = members.filter(pk__in=capped).count() if capped is not None else 0
    variants = _variants(wave)
    bounds = members.order_by().aggregate(low=Min("pk"), high=Max("pk"))
    low, high = bounds["low"] or 0, bounds["high"] or -1
    for start in range(low - 1, high, CHUNK):
        chunk = members.filter(pk__gt=start, pk__lte=start + CHUNK)
        if capped is not None:
            # The cap counted for this chunk's subscribers only: one pass over recent messages.
            chunk = chunk.exclude(
                pk__in=fatigued_subscribers(
                    wave.organization_id,
                    cap,
                    excluding_wave_id=wave.pk,
                    subscribers_between=(start + 1, start + CHUNK),
                )
            )
        inserted_as = _chunk_status(wave.pk)
        if inserted_as is None:
            break  # cancelled: nothing more of it is written
        with transaction.atomic():
            _insert_select(wave, chunk, variants, inserted_as)
            # Checked again, locked, as the chunk's last statement before its commit.
            now_as = _chunk_status(wave.pk, lock=True)
            if now_as is None:
                transaction.set_rollback(True)  # cancelled while it was written: not this one
                break
            if now_as != inserted_as:  # paused or resumed meanwhile: the chunk follows
                OutboundMessage.objects.filter(wave_id=wave.pk, status=inserted_as).update(
                    status=now_as
                )
    queued = OutboundMessage.objects.filter(wave_id=wave.pk).count()
    if queued >= ANALYZE_AFTER:
        with connection.cursor() as cursor:
            # Planner statistics for the rows just added, before dispatch and the next
            # wave's fatigue cap query them (autovacuum would get there, but later).
            cursor.execute("ANALYZE outreach_outboundmessage")
    audience = {"targeted": targeted, "fatigue_capped": capped_count, "queued": queued}
    # A pause or cancel after the last chunk's commit takes its messages itself (each chunk
    # followed the wave's state under its lock): only the audience is left to record.
    Wave.objects.filter(pk=wave.pk).update(audience=audience, fanned_out_at=timezone.now())
    waves_changed([wave.pk])
    return audience


@contextmanager
def _only_fanout_of(wave_id: int) -> Iterator[bool]:
    """Whether this is the only fan-out of the wave running (a session advisory lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s::int, %s::int)", [FANOUT_LOCK, wave_id])
        alone = cursor.fetchone()[0]
    try:
        yield alone
    finally:
        if alone:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_unlock(%s::int, %s::int)", [FANOUT_LOCK, wave_id]
                )


def _chunk_status(wave_id: int, *, lock: bool = False) -> str | None:
    """The status a chunk's messages go in as (queued; held if paused); None: write no more.

    With `lock`, in the chunk's transaction after its insert, it takes a key-share lock on
    the wave: a cancel or a pause, which lock the wave for update, either
    committed first and is seen here, or waits for the chunk to commit and then takes its
    messages too. Taken last, the lock is held for an instant: a cancel hardly waits.
    """
    if lock:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT status FROM campaigns_wave WHERE id = %s FOR KEY SHARE", [wave_id]
            )
            row = cursor.fetchone()
        status = row[0] if row else None
    else:
        status = Wave.objects.filter(pk=wave_id).values_list("status", flat=True).first()
    return {
        WaveStatus.SENDING: OutboundStatus.QUEUED,
        WaveStatus.PAUSED: OutboundStatus.HELD,
    }.get(status)


def _variants(wave: Wave) -> dict[str, _Variant]:
    campaign = wave.campaign
    longest = longest_region_name(campaign.organization_id)
    result = {}
    for variant in wave.variants.all():
        sent = {}
        for with_footer in (False, True):
            body = message_as_sent(
                variant.body,
                language=variant.language,
                campaign_name=campaign.name,
                region=REGION_SLOT,
                link=lambda url, language=variant.language: short_link_for(
                    wave=wave, language=language, url=url
                ),
                with_footer=with_footer,
            )
            stats = variant_stats(
                variant.body,
                declared_language=variant.language,
                campaign_name=campaign.name,
                longest_region=longest,
                price_per_segment=None,
                currency=None,
                with_footer=with_footer,
            )
            sent[with_footer] = (body, stats.segments)
        result[variant.language] = _Variant(variant.language, *sent[False], *sent[True])
    return result


def _insert_select(
    wave: Wave, members: QuerySet[Subscriber], variants: dict[str, _Variant], status: str
) -> None:
    campaign = wave.campaign
    default = campaign.default_language
    every = campaign.opt_out_footer_every
    values_sql = ", ".join(["(%s, %s, %s::int, %s, %s::int)"] * len(variants))
    values_params = [
        p
        for v in variants.values()
        for p in (v.language, v.body, v.segments, v.body_with_footer, v.segments_with_footer)
    ]
    members_sql, members_params = members.values("pk").query.sql_with_params()
    earlier = earlier_wave_ids(wave)
    footer_due = footer_due_sql(every=every, earlier="coalesce(c.n, 0)")
    # Only placeholders, an int and Django's own compiled SQL are interpolated; values are params.
    sql = f"""
        INSERT INTO outreach_outboundmessage (
            organization_id, channel_id, subscriber_id, to_address, kind, reply_key, body,
            language, segments, status, provider_message_id, error_code, error_message,
            attempts, price_unit, created_at, wave_id, priority
        )
        SELECT s.organization_id, s.channel_id, s.id, s.address, %s, '',
               replace(
                   CASE WHEN {footer_due} THEN v.body_with_footer ELSE v.body END,
                   %s, coalesce(r.name, '')
               ),
               v.language,
               CASE WHEN {footer_due} THEN v.segments_with_footer ELSE v.segments END,
               %s, '', '', '', 0, '', now(), %s, %s
        FROM outreach_subscriber s
        JOIN (VALUES {values_sql})
          AS v(language, body, segments, body_with_footer, segments_with_footer)
          ON v.language = CASE WHEN s.language = ANY(%s) THEN s.language ELSE %s END
        LEFT JOIN outreach_region r ON r.id = s.region_id
        LEFT JOIN (
            SELECT subscriber_id, count(*) AS n FROM outreach_outboundmessage
            WHERE wave_id = ANY(%s) GROUP BY subscriber_id
        ) c ON c.subscriber_id = s.id
        WHERE s.id IN ({members_sql})
        ON CONFLICT (wave_id, subscriber_id, channel_id) WHERE wave_id IS NOT NULL DO NOTHING
    """  # noqa: S608
    params = [
        OutboundKind.WAVE,
        REGION_SLOT,
        status,
        wave.pk,
        PRIORITY_OF[wave.priority],
        *values_params,
        list(variants),
        default,
        earlier,
        *members_params,
    ]
    with connection.cursor() as cursor:
        # Fan-out can always run again, so a crash losing the last chunk's commit costs
        # nothing: do not wait for each chunk's flush to disk.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(sql, params)
