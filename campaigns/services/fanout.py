"""Fan-out: a sending wave and its segment → one queued outbound message per person.

Set-based and chunked by person (contact) id, so memory stays flat at a million people:
each chunk is one INSERT … SELECT of the wave's recipients (campaigns.selectors.recipients:
each person's first address the wave's channels, consent and windows allow). The unique
(wave, address) and (wave, person, fallback step) constraints make a re-run a no-op; a
fallback to the next channel follows a known failure only (`fallback_after_failures`).
Each person gets the variant in their language, or the campaign default;
`{region}` and `{campaign}` are filled in, each `{link:URL}` becomes a tracked short link
(one per wave, language and URL; see campaigns.links), the opt-out footer is added on a
subscriber's first message of the campaign and every Nth; the fatigue cap skips
those who had enough this week, counted as capped.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Max, Min, QuerySet
from django.utils import timezone

from campaigns.composition import message_as_sent, variant_stats
from campaigns.links import short_link_for
from campaigns.models import Wave, WavePriority, WaveStatus
from campaigns.selectors.recipients import Failed, VariantRow, recipients_sql
from campaigns.selectors.segments import people_in, segment_members
from campaigns.selectors.waves import fatigued_contacts, longest_region_name
from outreach.channels.base import NO_LOOKUP
from outreach.message_templates import template_text
from outreach.models import (
    FallbackDue,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
    Subscriber,
    TemplateStatus,
)
from outreach.wave_activity import waves_changed

CHUNK = 50_000
# A sending wave not fanned out this long after its fan-out was enqueued lost its task (a
# Redis restart): the tick enqueues it again. A fan-out still running holds FANOUT_LOCK.
FANOUT_GRACE = timedelta(minutes=2)
FANOUT_LOCK = 0x616D_6600  # the advisory-lock namespace of fan-outs; the second key is the wave
ANALYZE_AFTER = 10_000  # messages a fan-out adds before the table's statistics are refreshed
PRIORITY_OF = {WavePriority.URGENT: 1, WavePriority.NORMAL: 2}
# A failure's fallback task is taken for lost this long after the failure was recorded.
FALLBACK_GRACE = timedelta(minutes=2)
# Failures nobody saw happen (the provider may have taken the message): no fallback follows.
NOT_A_KNOWN_FAILURE = (NO_LOOKUP, "unknown")
# Where each subscriber's region goes, put in by SQL: a control character no message carries,
# so a literal "{{region}}" (sent as "{region}") is not filled in.
REGION_SLOT = "\x1e"


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
    capped = fatigued_contacts(wave.organization_id, cap, excluding_wave_id=wave.pk)
    targeted = people_in(members)
    capped_count = people_in(members.filter(contact_id__in=capped)) if capped is not None else 0
    variants = _variants(wave)
    bounds = members.order_by().aggregate(low=Min("contact_id"), high=Max("contact_id"))
    low, high = bounds["low"] or 0, bounds["high"] or -1
    for start in range(low - 1, high, CHUNK):
        # Chunks by person: all of a person's addresses are weighed in one chunk.
        chunk = members.filter(contact_id__gt=start, contact_id__lte=start + CHUNK)
        if capped is not None:
            # The cap counted for this chunk's people only: one pass over recent messages.
            chunk = chunk.exclude(
                contact_id__in=fatigued_contacts(
                    wave.organization_id,
                    cap,
                    excluding_wave_id=wave.pk,
                    contacts_between=(start + 1, start + CHUNK),
                )
            )
        inserted_as = _chunk_status(wave.pk)
        if inserted_as is None:
            break  # cancelled: nothing more of it is written
        with transaction.atomic():
            _insert_select(
                wave, chunk, variants, inserted_as, contacts_between=(start + 1, start + CHUNK)
            )
            # Checked again, locked, as the chunk's last statement before its commit.
            now_as = _chunk_status(wave.pk, lock=True)
            if now_as is None:
                transaction.set_rollback(True)  # cancelled while it was written: not this one
                break
            if now_as != inserted_as:  # paused or resumed meanwhile: the chunk follows
                OutboundMessage.objects.filter(wave_id=wave.pk, status=inserted_as).update(
                    status=now_as
                )
    # One first message a person (fallbacks, made later, are not the audience's).
    queued = OutboundMessage.objects.filter(wave_id=wave.pk, fallback_step=0).count()
    if queued >= ANALYZE_AFTER:
        with connection.cursor() as cursor:
            # Planner statistics for the rows just added, before dispatch and the next
            # wave's fatigue cap query them (autovacuum would get there, but later).
            cursor.execute("ANALYZE outreach_outboundmessage")
    audience = {
        "targeted": targeted,
        "fatigue_capped": capped_count,
        "queued": queued,
        # People with no address the wave may use now (a WhatsApp or Messenger window
        # closed and no approved template): not sent, counted.
        "no_open_channel": max(0, targeted - capped_count - queued),
    }
    # A pause or cancel after the last chunk's commit takes its messages itself (each chunk
    # followed the wave's state under its lock): only the audience is left to record.
    Wave.objects.filter(pk=wave.pk).update(audience=audience, fanned_out_at=timezone.now())
    waves_changed([wave.pk])
    return audience


def fallback_after_failures(*, message_ids: list[int]) -> list[int]:
    """For each of these wave messages that failed for good, the person's next channel.

    Sent only once the first is known to have failed (a permanent error, or undelivered),
    never as a guess: not after an outcome nobody saw (NO_LOOKUP), nor for a cancelled or
    finished wave. At most one message per (wave, address) and per (wave, person, step),
    guarded by the database, so two reports of the same failure add one fallback.
    Their FallbackDue notes go once this is done. Returns the waves that got new messages
    (their channels need a dispatcher).
    """
    failed = list(
        OutboundMessage.objects.filter(
            pk__in=message_ids,
            kind=OutboundKind.WAVE,
            status__in=[OutboundStatus.FAILED, OutboundStatus.UNDELIVERED],
            contact_id__isnull=False,
            subscriber__isnull=False,
        )
        .exclude(error_code__in=NOT_A_KNOWN_FAILURE)
        .values("wave_id", "contact_id", "channel_id", "subscriber_id", "fallback_step")
    )
    added: list[int] = []
    for wave_id in sorted({row["wave_id"] for row in failed}):
        wave = Wave.objects.select_related("campaign", "segment").get(pk=wave_id)
        # A wave all handed over (sent) still owes the person its message: a receipt saying
        # "undelivered" often comes after the last send.
        inserted_as = (
            OutboundStatus.QUEUED if wave.status == WaveStatus.SENT else _chunk_status(wave.pk)
        )
        if inserted_as is None or wave.segment is None:
            continue
        after = [
            Failed(r["contact_id"], r["channel_id"], r["subscriber_id"], r["fallback_step"])
            for r in failed
            if r["wave_id"] == wave_id
        ]
        members = segment_members(wave.segment).filter(
            channel__in=wave.channels.all(), contact_id__in=[f.contact_id for f in after]
        )
        with transaction.atomic():
            if _insert_select(wave, members, _variants(wave), inserted_as, after=after):
                added.append(wave.pk)
        waves_changed([wave.pk])
    FallbackDue.objects.filter(message_id__in=message_ids).delete()
    return added


def fallbacks_redo(*, older_than: timedelta = FALLBACK_GRACE, limit: int = 5000) -> list[int]:
    """The fallbacks whose task was lost (a broker outage): their notes are still there a
    grace period later. Returns the waves that got new messages."""
    due = list(
        FallbackDue.objects.filter(created_at__lt=timezone.now() - older_than)
        .order_by("created_at")
        .values_list("message_id", flat=True)[:limit]
    )
    return fallback_after_failures(message_ids=due) if due else []


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


def _variants(wave: Wave) -> list[VariantRow]:
    campaign = wave.campaign
    longest = longest_region_name(campaign.organization_id)
    result = []
    for variant in wave.variants.select_related("template"):
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
        template = variant.template
        usable = template is not None and template.status == TemplateStatus.APPROVED
        result.append(
            VariantRow(
                variant.language,
                *sent[False],
                *sent[True],
                template_id=template.pk if usable else None,
                template_channel_id=template.channel_id if usable else None,
                template_body=template_text(template, variant.template_variables) if usable else "",
            )
        )
    return result


def _insert_select(
    wave: Wave,
    members: QuerySet[Subscriber],
    variants: list[VariantRow],
    status: str,
    *,
    after: list[Failed] | None = None,
    contacts_between: tuple[int, int] | None = None,
) -> int:
    recipients, params = recipients_sql(
        wave, members, variants, after=after, contacts_between=contacts_between
    )
    # Only placeholders and the recipients' SQL are interpolated; values are params.
    sql = f"""
        INSERT INTO outreach_outboundmessage (
            organization_id, channel_id, subscriber_id, contact_id, to_address, kind,
            reply_key, body, language, segments, status, provider_message_id, error_code,
            error_message, attempts, price_unit, created_at, wave_id, priority,
            fallback_step, template_id
        )
        SELECT r.organization_id, r.channel_id, r.subscriber_id, r.contact_id, r.address, %s,
               '',
               CASE WHEN r.template_id IS NOT NULL THEN r.template_body
                    ELSE replace(
                        CASE WHEN r.footer_due THEN r.body_with_footer ELSE r.body END,
                        %s, coalesce(g.name, ''))
               END,
               r.language,
               CASE WHEN NOT r.counts_segments THEN 1
                    WHEN r.footer_due THEN r.segments_with_footer ELSE r.segments END,
               %s, '', '', '', 0, '', now(), %s, %s, r.fallback_step, r.template_id
        FROM ({recipients}) r
        LEFT JOIN outreach_region g ON g.id = r.region_id
        ON CONFLICT DO NOTHING
    """  # noqa: S608
    head = [OutboundKind.WAVE, REGION_SLOT, status, wave.pk, PRIORITY_OF[wave.priority]]
    with connection.cursor() as cursor:
        # Fan-out can always run again, so a crash losing the last chunk's commit costs
        # nothing: do not wait for each chunk's flush to disk.
        cursor.execute("SET LOCAL synchronous_commit TO OFF")
        cursor.execute(sql, [*head, *params])
        return cursor.rowcount
