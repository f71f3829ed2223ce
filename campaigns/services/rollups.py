"""Report rollups: a wave's messages, replies, opt-outs and clicks, counted by cell.

A cell is (wave, day, language, region, age band, gender, channel). Reports sum cells, so
a campaign report over ten million messages reads a few thousand rows. A wave's rollup is
recomputed whole from the message and event tables — never incremented — so it always
reconciles exactly with them. Every 30 seconds (`ROLLUP_EVERY`) the beat recomputes the
waves whose rows changed since (marked in Redis as events arrive), so a report is never
more than a minute behind and a quiet wave costs nothing; every recent wave is also
recomputed every `FULL_REFRESH_EVERY`, in case a mark was lost.

Each cell also keeps, per figure, the distinct people it counts (their ids up to
`cell_key.SMALL_SET`, so "fewer than k people" is decided exactly however cells are summed)
and the sum of its records' keys (so its published figure is perturbed the same way
whichever query sums it; see campaigns.cell_key).

Days are the campaign's local days: a message counts on the day it left (or was made,
if it never left), a reply or opt-out on the day it arrived, a click on the day it came.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.fields import ArrayField
from django.db import transaction
from django.db.models import BigIntegerField, Count, F, Func, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from campaigns import cell_key
from campaigns.models import (
    LinkClickDay,
    PollAnswer,
    Wave,
    WaveErrorRollup,
    WaveRollup,
    WaveRollupPeople,
    WaveStatus,
)
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
    # A wave of any age whose cells were never counted (or were dropped by a migration).
    wave_ids |= set(
        Wave.objects.filter(fanned_out_at__isnull=False, rolled_up_at__isnull=True)
        .exclude(status=WaveStatus.DRAFT)
        .values_list("pk", flat=True)
    )
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
    seed = wave.campaign.report_key_seed
    rows = [
        *_message_cells(wave.pk, zone, seed),
        *_inbound_cells(wave.pk, zone, seed),
        *_click_cells(wave.pk),
        *_poll_cells(wave.pk, zone, seed),
    ]
    stored = [_stored({**base, **row}) for row in rows]
    cells = [cell for cell, _ in stored]
    errors = [
        WaveErrorRollup(wave_id=wave.pk, campaign_id=wave.campaign_id, **row)
        for row in _error_cells(wave.pk, zone, seed)
    ]
    with transaction.atomic():
        WaveRollupPeople.objects.filter(rollup__wave_id=wave.pk).delete()
        WaveRollup.objects.filter(wave_id=wave.pk).delete()
        WaveErrorRollup.objects.filter(wave_id=wave.pk).delete()
        WaveRollup.objects.bulk_create(cells, batch_size=2000)
        WaveRollupPeople.objects.bulk_create(
            [people for _, lists in stored for people in lists], batch_size=5000
        )
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
HANDED_OVER = ~Q(provider_message_id="")
# The figures of a message cell and the messages each counts.
MESSAGE_FIGURES = {
    # A person once per wave: a fallback to their next channel is not a second target.
    "targeted": Q(fallback_step=0),
    "sent": HANDED_OVER,
    "delivered": Q(status__in=DELIVERED),
    "failed": Q(status=OutboundStatus.FAILED),
    "undelivered": Q(status=OutboundStatus.UNDELIVERED),
    "canceled": Q(status=OutboundStatus.CANCELED),
}
INBOUND_FIGURES = {
    "replies": Q(intent__in=REPLIES),
    "opt_outs": Q(intent__in=[InboundIntent.STOP, InboundIntent.STOP_ALL]),
}


class _FirstOfArray(Func):
    """SQL: the first `cell_key.SMALL_SET + 1` elements of an array (enough to tell "more")."""

    template = f"(%(expressions)s)[1:{cell_key.SMALL_SET + 1}]"
    output_field = ArrayField(BigIntegerField(null=True))


def _people_and_keys(
    figures: dict[str, Q], *, seed: int, salt: str, person: str = "subscriber__contact_id"
) -> dict:
    """Per figure: its distinct people (capped) and the sum of its records' keys.

    A person is a contact, whatever their addresses: one who got the wave on WhatsApp and
    then, as a fallback, by SMS is one person in a cell, however many messages."""
    annotations: dict = {}
    for name, only in figures.items():
        annotations[f"{name}__people"] = _FirstOfArray(
            ArrayAgg(person, distinct=True, filter=only, default=[])
        )
        annotations[f"{name}__key"] = Coalesce(
            Sum(cell_key.RecordKey("id", seed=seed, salt=salt), filter=only), 0
        )
    return annotations


def _with_people(row: dict, figures: Iterable[str]) -> dict:
    """Fold the `<figure>__people` / `__key` columns into the cell's `people` and `keys`."""
    people: dict[str, list[int] | None] = {}
    keys: dict[str, int] = {}
    for name in figures:
        ids = row.pop(f"{name}__people")
        key = int(row.pop(f"{name}__key")) % cell_key.KEY_SPACE
        if not ids:
            continue
        distinct = sorted({0 if value is None else value for value in ids})  # 0: the erased
        people[name] = distinct if len(distinct) <= cell_key.SMALL_SET else None
        keys[name] = key
    named = {name: -1 if ids is None else len(ids) for name, ids in people.items()}
    return {**row, "people": people, "named": named, "keys": keys}


def _stored(row: dict) -> tuple[WaveRollup, list[WaveRollupPeople]]:
    """A rollup cell and the lists of the few people behind its figures."""
    people = row.pop("people", {})
    cell = WaveRollup(**row)
    lists = [
        WaveRollupPeople(rollup=cell, figure=name, ids=ids)
        for name, ids in people.items()
        if ids  # None: more than SMALL_SET, not listed
    ]
    return cell, lists


def _blanks_for_nulls(row: dict) -> dict:
    """An erased subscriber's text dimensions come back NULL from the join; cells hold ""."""
    return {**row, **{name: row[name] or "" for name in _TEXT_DIMENSIONS if name in row}}


def _message_cells(wave_id: int, zone: ZoneInfo, seed: int) -> list[dict]:
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
            **{name: Count("id", filter=only) for name, only in MESSAGE_FIGURES.items()},
            segments=Coalesce(Sum("segments", filter=HANDED_OVER), 0),
            cost=Sum("price"),
            **_people_and_keys(MESSAGE_FIGURES, seed=seed, salt="m", person="contact_id"),
        )
    )
    cells = []
    for row in rows:
        cell = _with_people(_blanks_for_nulls(row), MESSAGE_FIGURES)
        if "sent" in cell["people"]:  # segments describe the people their messages went to
            cell["people"]["segments"] = cell["people"]["sent"]
            cell["named"]["segments"] = cell["named"]["sent"]
            cell["keys"]["segments"] = cell_key.derived_key("segments", cell["keys"]["sent"])
        cells.append(cell)
    return cells


def _inbound_cells(wave_id: int, zone: ZoneInfo, seed: int) -> list[dict]:
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
            **{name: Count("id", filter=only) for name, only in INBOUND_FIGURES.items()},
            **_people_and_keys(INBOUND_FIGURES, seed=seed, salt="i"),
        )
    )
    return [_with_people(_blanks_for_nulls(row), INBOUND_FIGURES) for row in rows]


def _click_cells(wave_id: int) -> list[dict]:
    # Nobody is known behind a click: clicks have a language and a day, nothing else, and
    # are their own population (cell_key.ANONYMOUS in the report).
    return [
        {
            "day": row["day"],
            "language": row["link__language"],
            "clicks": row["n"],
            "keys": {"clicks": cell_key.derived_key("clicks", wave_id, row["day"], row["n"])},
        }
        for row in LinkClickDay.objects.filter(link__wave_id=wave_id)
        .order_by()
        .values("day", "link__language")
        .annotate(n=Sum("clicks"))
    ]


def _poll_cells(wave_id: int, zone: ZoneInfo, seed: int) -> list[dict]:
    figures = {"poll_answers": Q()}
    rows = (
        PollAnswer.objects.filter(poll__wave_id=wave_id, is_current=True)
        .annotate(day=TruncDate("answered_at", tzinfo=zone))
        .order_by()
        .values("day", "language")
        .annotate(poll_answers=Count("id"), **_people_and_keys(figures, seed=seed, salt="p"))
    )
    return [_with_people(row, figures) for row in rows]


def _error_cells(wave_id: int, zone: ZoneInfo, seed: int) -> list[dict]:
    figures = {"messages": Q()}
    rows = (
        OutboundMessage.objects.filter(
            wave_id=wave_id, status__in=[OutboundStatus.FAILED, OutboundStatus.UNDELIVERED]
        )
        .annotate(day=TruncDate(Coalesce("sent_at", "created_at"), tzinfo=zone))
        .order_by()
        .values("day", "status", "error_code")
        .annotate(
            messages=Count("id"),
            **_people_and_keys(figures, seed=seed, salt="m", person="contact_id"),
        )
    )
    cells = []
    for row in rows:
        row = _with_people(row, figures)
        people, keys = row.pop("people"), row.pop("keys")
        row.pop("named")
        cells.append({**row, "people": people.get("messages"), "key": keys.get("messages", 0)})
    return cells
