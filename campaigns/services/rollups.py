"""Report rollups: a wave's messages, replies, opt-outs and clicks, counted by cell.

A cell is (wave, day, language, region, age band, gender, channel). Reports sum cells, so
a campaign report over ten million messages reads a few thousand rows. A wave's rollup is
recomputed whole from the message and event tables — never incremented — so it always
reconciles exactly with them. Every 30 seconds (`ROLLUP_EVERY`) the beat recomputes the
waves whose rows changed since (marked in Redis as events arrive), so a report is never
more than a minute behind and a quiet wave costs nothing; every recent wave is also
recomputed every `FULL_REFRESH_EVERY`, in case a mark was lost.

Days are the campaign's local days: a message counts on the day it left (or was made,
if it never left), a reply or opt-out on the day it arrived, a click on the day it came.
"""

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from campaigns.models import LinkClickDay, PollAnswer, Wave, WaveErrorRollup, WaveRollup, WaveStatus
from outreach.models import InboundIntent, InboundMessage, OutboundMessage, OutboundStatus
from outreach.wave_activity import waves_changed, waves_changed_take

logger = logging.getLogger(__name__)

ROLLUP_EVERY = timedelta(seconds=30)
FULL_REFRESH_EVERY = timedelta(minutes=10)
# Replies and callbacks keep coming for a while after a wave is sent.
STILL_CHANGING_FOR = timedelta(days=14)
DELIVERED = (OutboundStatus.DELIVERED, OutboundStatus.READ)
REPLIES = (InboundIntent.FREE_REPLY, InboundIntent.POLL_ANSWER)


def waves_rollup_due(*, now: datetime | None = None) -> list[int]:
    """Recompute the waves that changed, and every recent wave now and then; returns ids.

    Changes are marked in Redis as they happen (outreach.wave_activity). Without Redis,
    or when a wave's cells are older than FULL_REFRESH_EVERY, the wave is recomputed anyway,
    so a lost mark costs minutes at most.
    """
    now = now or timezone.now()
    changed = waves_changed_take()
    recent = Wave.objects.filter(fanned_out_at__gte=now - STILL_CHANGING_FOR).exclude(
        status=WaveStatus.DRAFT
    )
    stale = Q(rolled_up_at__isnull=True) | Q(rolled_up_at__lt=now - FULL_REFRESH_EVERY)
    if changed is not None:
        recent = recent.filter(stale | Q(pk__in=changed))
    wave_ids = set(recent.values_list("pk", flat=True))
    if changed:  # an old wave may still get a late click or reply
        wave_ids |= set(Wave.objects.filter(pk__in=changed).values_list("pk", flat=True))
    done = []
    for wave_id in sorted(wave_ids):
        try:
            wave_rollup(wave_id=wave_id)
        except Exception:
            logger.exception("the report cells of wave %s could not be recomputed", wave_id)
            waves_changed([wave_id])  # try again next time
        else:
            done.append(wave_id)
    return done


def wave_rollup(*, wave_id: int) -> int:
    """Recompute one wave's cells from the source tables; returns the number of cells."""
    wave = Wave.objects.select_related("campaign").get(pk=wave_id)
    zone = ZoneInfo(wave.campaign.timezone)
    base = {
        "organization_id": wave.organization_id,
        "campaign_id": wave.campaign_id,
        "wave_id": wave.pk,
    }
    cells: list[WaveRollup] = []
    for row in _message_cells(wave.pk, zone):
        cells.append(WaveRollup(**base, **row))
    for row in _inbound_cells(wave.pk, zone):
        cells.append(WaveRollup(**base, **row))
    for row in _click_cells(wave.pk):
        cells.append(WaveRollup(**base, **row))
    for row in _poll_cells(wave.pk, zone):
        cells.append(WaveRollup(**base, **row))
    errors = [
        WaveErrorRollup(wave_id=wave.pk, campaign_id=wave.campaign_id, **row)
        for row in OutboundMessage.objects.filter(
            wave_id=wave.pk, status__in=[OutboundStatus.FAILED, OutboundStatus.UNDELIVERED]
        )
        .order_by()
        .values("status", "error_code")
        .annotate(messages=Count("id"))
    ]
    with transaction.atomic():
        WaveRollup.objects.filter(wave_id=wave.pk).delete()
        WaveErrorRollup.objects.filter(wave_id=wave.pk).delete()
        WaveRollup.objects.bulk_create(cells, batch_size=2000)
        WaveErrorRollup.objects.bulk_create(errors)
        Wave.objects.filter(pk=wave.pk).update(rolled_up_at=timezone.now())
    return len(cells)


# A cell's person dimensions, read from the subscriber (empty for an erased one).
_SUBSCRIBER_DIMENSIONS = {
    "region_id": F("subscriber__region_id"),
    "age_band": F("subscriber__age_band"),
    "gender": F("subscriber__gender"),
}
_TEXT_DIMENSIONS = ("language", "age_band", "gender")


def _blanks_for_nulls(row: dict) -> dict:
    """An erased subscriber's text dimensions come back NULL from the join; cells hold ""."""
    return {**row, **{name: row[name] or "" for name in _TEXT_DIMENSIONS if name in row}}


def _message_cells(wave_id: int, zone: ZoneInfo) -> list[dict]:
    handed_over = ~Q(provider_message_id="")
    rows = (
        OutboundMessage.objects.filter(wave_id=wave_id)
        .annotate(day=TruncDate(Coalesce("sent_at", "created_at"), tzinfo=zone))
        .order_by()
        .values(
            "day",
            "language",
            "channel_id",
            currency=F("price_unit"),
            **_SUBSCRIBER_DIMENSIONS,
        )
        .annotate(
            targeted=Count("id"),
            sent=Count("id", filter=handed_over),
            delivered=Count("id", filter=Q(status__in=DELIVERED)),
            failed=Count("id", filter=Q(status=OutboundStatus.FAILED)),
            undelivered=Count("id", filter=Q(status=OutboundStatus.UNDELIVERED)),
            canceled=Count("id", filter=Q(status=OutboundStatus.CANCELED)),
            segments=Coalesce(Sum("segments", filter=handed_over), 0),
            cost=Sum("price"),
        )
    )
    return [_blanks_for_nulls(row) for row in rows]


def _inbound_cells(wave_id: int, zone: ZoneInfo) -> list[dict]:
    rows = (
        InboundMessage.objects.filter(wave_id=wave_id)
        .annotate(day=TruncDate("received_at", tzinfo=zone))
        .order_by()
        .values(
            "day",
            "channel_id",
            language=F("subscriber__language"),
            **_SUBSCRIBER_DIMENSIONS,
        )
        .annotate(
            replies=Count("id", filter=Q(intent__in=REPLIES)),
            opt_outs=Count("id", filter=Q(intent=InboundIntent.STOP)),
        )
    )
    return [_blanks_for_nulls(row) for row in rows]


def _click_cells(wave_id: int) -> list[dict]:
    # Nobody is known behind a click: clicks have a language and a day, nothing else.
    return [
        {"day": row["day"], "language": row["link__language"], "clicks": row["n"]}
        for row in LinkClickDay.objects.filter(link__wave_id=wave_id)
        .order_by()
        .values("day", "link__language")
        .annotate(n=Sum("clicks"))
    ]


def _poll_cells(wave_id: int, zone: ZoneInfo) -> list[dict]:
    return [
        {"day": row["day"], "language": row["language"], "poll_answers": row["n"]}
        for row in PollAnswer.objects.filter(poll__wave_id=wave_id, is_current=True)
        .annotate(day=TruncDate("answered_at", tzinfo=zone))
        .order_by()
        .values("day", "language")
        .annotate(n=Count("id"))
    ]
