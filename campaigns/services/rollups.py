"""Report rollups: a wave's messages, replies, opt-outs and clicks, counted by cell.

A cell is (wave, day, language, region, age band, gender, channel). Reports sum cells, so
a campaign report over ten million messages reads a few thousand rows. Every 30 seconds
(`ROLLUP_EVERY`) the beat brings up to date the waves whose rows changed since (marked in
Redis as events arrive, and by the database for messages), so a report is never more than
a minute behind and a quiet wave costs nothing; every recent wave is also brought up to
date every `FULL_REFRESH_EVERY`, in case a mark was lost.

A wave's message cells are sums of its parts (WaveRollupPart): the same figures for one
block of people (65,536 contact ids). The database marks a wave's block in the transaction
that changes one of its messages (or a subscriber's region, age band or gender), so a
rollup recounts only the blocks marked since and re-sums the parts — a few thousand rows —
never the whole wave: the cells equal a whole recount row for row. Replies, clicks and poll
answers are few, and recounted whole each time.

Each cell also keeps, per figure, the distinct people it counts (their ids up to
`cell_key.SMALL_SET`, so "fewer than k people" is decided exactly however cells are summed)
and the sum of its records' keys (so its published figure is perturbed the same way
whichever query sums it; see campaigns.cell_key). A person is in one block, so the people of
a cell are the disjoint union of its parts' people: exactly as many as their sum.

Days are the campaign's local days: a message counts on the day it left (or was made,
if it never left), a reply or opt-out on the day it arrived, a click on the day it came.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.postgres.aggregates import ArrayAgg
from django.contrib.postgres.fields import ArrayField
from django.db import connection, transaction
from django.db.models import BigIntegerField, Count, F, Func, Q, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from campaigns import cell_key
from campaigns.models import (
    LinkClickDay,
    PollAnswer,
    Wave,
    WaveErrorPart,
    WaveErrorRollup,
    WaveRollup,
    WaveRollupBasis,
    WaveRollupChange,
    WaveRollupPeople,
    WaveStatus,
)
from outreach.models import InboundIntent, InboundMessage, OutboundStatus
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
    changed = (changed or set()) | set(
        WaveRollupChange.objects.order_by().values_list("wave_id", flat=True).distinct()
    )
    if changed:  # an old wave may still get a late click, reply or receipt
        found = set(Wave.objects.filter(pk__in=changed).values_list("pk", flat=True))
        wave_ids |= found
        # Messages of a wave since deleted: nothing to count them into.
        WaveRollupChange.objects.filter(wave_id__in=changed - found).delete()
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


def wave_rollup(*, wave_id: int, whole: bool = False) -> int:
    """Bring one wave's cells up to date; returns the number of cells.

    Recounts the parts of the blocks marked since the last rollup — all of them when
    `whole`, the first time, or when the campaign's time zone (its days) or key seed is not
    the one they were counted under — then re-sums the parts into the wave's cells, with
    its replies, clicks and poll answers recounted whole. One rollup of a wave at a time
    (an advisory lock); a mark made while it runs is taken by the next.
    """
    wave = Wave.objects.select_related("campaign").get(pk=wave_id)
    zone = ZoneInfo(wave.campaign.timezone)
    base = {
        "organization_id": wave.organization_id,
        "campaign_id": wave.campaign_id,
        "wave_id": wave.pk,
    }
    seed = wave.campaign.report_key_seed
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s::int, %s::int)", [ROLLUP_LOCK, wave.pk])
            # A wave's replies are joined to their people through the subscribers' index:
            # PostgreSQL's default prices a random page at four sequential ones (spinning
            # disks), and so read all of a million subscribers to join 20,000 replies
            # (0.35 s against 0.15 s). A block's messages sort in memory (not on disk).
            cursor.execute("SET LOCAL random_page_cost = 1.1")
            cursor.execute("SET LOCAL work_mem = '64MB'")
        _parts_update(wave.pk, wave.campaign.timezone, seed, whole=whole)
        rows = [
            *_message_cells(wave.pk),
            *_inbound_cells(wave.pk, zone, seed),
            *_click_cells(wave.pk),
            *_poll_cells(wave.pk, zone, seed),
        ]
        stored = [_stored({**base, **row}) for row in rows]
        cells = [cell for cell, _ in stored]
        errors = [
            WaveErrorRollup(wave_id=wave.pk, campaign_id=wave.campaign_id, **row)
            for row in _error_cells(wave.pk)
        ]
        _cells_delete(wave.pk)
        WaveRollup.objects.bulk_create(cells, batch_size=2000)
        WaveRollupPeople.objects.bulk_create(
            [people for _, lists in stored for people in lists], batch_size=5000
        )
        WaveErrorRollup.objects.bulk_create(errors)
        Wave.objects.filter(pk=wave.pk).update(rolled_up_at=timezone.now())
    return len(cells)


def _cells_delete(wave_id: int) -> None:
    """Delete the wave's cells, their people and its error cells: three statements (the
    ORM's cascade fetched every cell first, a sixth of a rollup's time)."""
    people, cells = WaveRollupPeople._meta.db_table, WaveRollup._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {people} p USING {cells} c WHERE p.rollup_id = c.id AND c.wave_id = %s",  # noqa: S608
            [wave_id],
        )
        for table in (cells, WaveErrorRollup._meta.db_table):
            cursor.execute(f"DELETE FROM {table} WHERE wave_id = %s", [wave_id])  # noqa: S608


ROLLUP_LOCK = 0x616D_7200  # the advisory-lock namespace of rollups; the second key is the wave


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


# Parts: the SQL of each message figure (MESSAGE_FIGURES) and of a message's record key.
# A message column read here must be in the update trigger's list (campaigns_rollup_mark_updated,
# migration 0012), or a change to it would leave its block unmarked.
_FIGURE_SQL = {
    "targeted": "m.fallback_step = 0",
    "sent": "m.provider_message_id <> ''",
    "delivered": "m.status IN ({})".format(", ".join(f"'{status}'" for status in DELIVERED)),
    "failed": f"m.status = '{OutboundStatus.FAILED}'",
    "undelivered": f"m.status = '{OutboundStatus.UNDELIVERED}'",
    "canceled": f"m.status = '{OutboundStatus.CANCELED}'",
}
_RECORD_KEY_SQL = "(hashtextextended('m' || m.id::text, %(seed)s) & 255)"  # cell_key.RecordKey
_PERSON_SQL = "COALESCE(m.contact_id, 0)"  # 0: the erased
_FIRST = cell_key.SMALL_SET + 1  # enough people to tell "more"
_CELL_COLUMNS = ("day", "language", "channel_id", "currency", "region_id", "age_band", "gender")
_COUNT_COLUMNS = (*MESSAGE_FIGURES, "segments")


def _parts_update(wave_id: int, zone: str, seed: int, *, whole: bool) -> None:
    """Recount the parts of the wave's marked blocks (every block if `whole`), taking the
    marks, in the caller's transaction."""
    basis = WaveRollupBasis.objects.filter(wave_id=wave_id).first()
    whole = whole or basis is None or (basis.timezone, basis.seed) != (zone, seed)
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM campaigns_waverollupchange WHERE wave_id = %s RETURNING block", [wave_id]
        )
        blocks = sorted({block for (block,) in cursor.fetchall()})
        if not whole and not blocks:
            return
        if whole:
            where, params = "m.wave_id = %(wave)s", {"wave": wave_id}
            scope, scope_params = "wave_id = %(wave)s", {"wave": wave_id}
            people = _SUBSCRIBERS_JOINED
        else:
            where, params = _blocks_sql(wave_id, blocks)
            people = _SUBSCRIBERS_LOOKED_UP
            scope = "wave_id = %(wave)s AND block = ANY(%(blocks)s)"
            scope_params = {"wave": wave_id, "blocks": blocks}
        for table in ("campaigns_waverolluppart", "campaigns_waveerrorpart"):
            cursor.execute(f"DELETE FROM {table} WHERE {scope}", scope_params)  # noqa: S608
        values = {**params, "wave": wave_id, "zone": zone, "seed": int(seed)}
        cursor.execute(_PARTS_SQL.format(where=where, subscribers=people), values)
        cursor.execute(_ERROR_PARTS_SQL.format(where=where), values)
    WaveRollupBasis.objects.update_or_create(
        wave_id=wave_id, defaults={"timezone": zone, "seed": seed, "counted_at": timezone.now()}
    )


def _blocks_sql(wave_id: int, blocks: list[int]) -> tuple[str, dict]:
    """SQL: the wave's messages in these blocks, as ranges of contact ids (the wave and
    person index serves them); the erased (block -1) have no contact id."""
    ranges: list[list[int]] = []
    for block in (block for block in blocks if block >= 0):
        if ranges and ranges[-1][1] == block:
            ranges[-1][1] = block + 1
        else:
            ranges.append([block, block + 1])
    params: dict = {"wave": wave_id}
    terms = []
    for index, (first, after) in enumerate(ranges):
        params[f"from{index}"], params[f"to{index}"] = first << BLOCK_BITS, after << BLOCK_BITS
        terms.append(f"(m.contact_id >= %(from{index})s AND m.contact_id < %(to{index})s)")
    if -1 in blocks:
        terms.append("m.contact_id IS NULL")
    return f"m.wave_id = %(wave)s AND ({' OR '.join(terms)})", params


BLOCK_BITS = 16  # as campaigns_rollup_block (migration 0012): a block is 65,536 contact ids
# A message's person, for the dimensions read from them: a whole wave's are joined to every
# subscriber (one hash join); a few blocks' are looked up one by one in the subscribers'
# index, which the planner would otherwise not choose (it merged or hashed a million
# subscribers to find 65,536: 0.45 s a block against 0.15 s; LIMIT keeps the lookup apart).
_SUBSCRIBERS_JOINED = "LEFT JOIN outreach_subscriber s ON s.id = m.subscriber_id"
_SUBSCRIBERS_LOOKED_UP = """LEFT JOIN LATERAL (
        SELECT one.region_id, one.age_band, one.gender FROM outreach_subscriber one
        WHERE one.id = m.subscriber_id LIMIT 1
    ) s ON true"""
_PARTS_SQL = """
    INSERT INTO campaigns_waverolluppart (
        wave_id, block, day, language, channel_id, currency, region_id, age_band, gender,
        {counts}, segments, cost, {people}, {keys}
    )
    SELECT %(wave)s, campaigns_rollup_block(m.contact_id),
           (COALESCE(m.sent_at, m.created_at) AT TIME ZONE %(zone)s)::date,
           m.language, m.channel_id, m.price_unit, s.region_id,
           COALESCE(s.age_band, ''), COALESCE(s.gender, ''),
           {count_values},
           COALESCE(SUM(m.segments) FILTER (WHERE {handed}), 0), SUM(m.price),
           {people_values}, {key_values}
    FROM outreach_outboundmessage m
    {{subscribers}}
    WHERE {{where}}
    GROUP BY 2, 3, 4, 5, 6, 7, 8, 9
""".format(  # noqa: S608 — our column names and constants only
    counts=", ".join(_FIGURE_SQL),
    people=", ".join(f"{name}_people" for name in _FIGURE_SQL),
    keys=", ".join(f"{name}_key" for name in _FIGURE_SQL),
    count_values=", ".join(f"count(*) FILTER (WHERE {only})" for only in _FIGURE_SQL.values()),
    handed=_FIGURE_SQL["sent"],
    people_values=", ".join(
        f"(array_agg(DISTINCT {_PERSON_SQL}) FILTER (WHERE {only}))[1:{_FIRST}]"
        for only in _FIGURE_SQL.values()
    ),
    key_values=", ".join(
        f"COALESCE(SUM({_RECORD_KEY_SQL}) FILTER (WHERE {only}), 0) %% {cell_key.KEY_SPACE}"
        for only in _FIGURE_SQL.values()
    ),
)
_ERROR_PARTS_SQL = f"""
    INSERT INTO campaigns_waveerrorpart (
        wave_id, block, day, status, error_code, messages, people, key
    )
    SELECT %(wave)s, campaigns_rollup_block(m.contact_id),
           (COALESCE(m.sent_at, m.created_at) AT TIME ZONE %(zone)s)::date,
           m.status, m.error_code, count(*),
           (array_agg(DISTINCT {_PERSON_SQL}))[1:{_FIRST}],
           SUM({_RECORD_KEY_SQL}) %% {cell_key.KEY_SPACE}
    FROM outreach_outboundmessage m
    WHERE {{where}}
      AND m.status IN ('{OutboundStatus.FAILED}', '{OutboundStatus.UNDELIVERED}')
    GROUP BY 2, 3, 4, 5
"""  # noqa: S608
_PARTS_SUMMED_SQL = """
    SELECT {cell}, {counts}, SUM(cost), {named}, {more}, {keys}
    FROM campaigns_waverolluppart WHERE wave_id = %s
    GROUP BY {cell}
""".format(  # noqa: S608
    cell=", ".join(_CELL_COLUMNS),
    counts=", ".join(f"SUM({name})" for name in _COUNT_COLUMNS),
    named=", ".join(f"COALESCE(SUM(cardinality({name}_people)), 0)" for name in _FIGURE_SQL),
    more=", ".join(f"COALESCE(bool_or(cardinality({n}_people) > %s), false)" for n in _FIGURE_SQL),
    keys=", ".join(f"COALESCE(SUM({name}_key), 0)" for name in _FIGURE_SQL),
)
# The parts of the cells a figure of which counts few people, with those figures' people:
# only the figures asked for ({people}: their columns) and only parts that name someone in
# one of them (arrays are parsed by the client: a part's capped lists of the many were most
# of a rollup's time).
_PARTS_PEOPLE_SQL = """
    SELECT {cell}, {{people}} FROM campaigns_waverolluppart
    WHERE wave_id = %s AND ({{someone}})
      AND (day, language, channel_id, currency, COALESCE(region_id, -1), age_band, gender) IN (
        SELECT * FROM unnest(%s::date[], %s::text[], %s::bigint[], %s::text[], %s::bigint[],
                             %s::text[], %s::text[]))
""".format(cell=", ".join(_CELL_COLUMNS))  # noqa: S608


def _message_cells(wave_id: int) -> list[dict]:
    """The wave's message cells, summed from its parts."""
    figures = list(_FIGURE_SQL)
    with connection.cursor() as cursor:
        cursor.execute(_PARTS_SUMMED_SQL, [*[cell_key.SMALL_SET] * len(figures), wave_id])
        summed = cursor.fetchall()
    cells = []
    few: dict[tuple, dict] = {}  # cell -> the cell, whose people of some figures are needed
    width, counts = len(_CELL_COLUMNS), len(_COUNT_COLUMNS)
    for row in summed:
        cell = dict(zip(_CELL_COLUMNS, row[:width], strict=True))
        cell.update(
            zip(_COUNT_COLUMNS, (int(value) for value in row[width : width + counts]), strict=True)
        )
        cell["cost"] = row[width + counts]
        at = width + counts + 1
        named_sums = row[at : at + len(figures)]
        more = row[at + len(figures) : at + 2 * len(figures)]
        key_sums = row[at + 2 * len(figures) :]
        people: dict[str, list[int] | None] = {}
        keys: dict[str, int] = {}
        for name, total, many, key in zip(figures, named_sums, more, key_sums, strict=True):
            if not total:
                continue
            keys[name] = int(key) % cell_key.KEY_SPACE
            people[name] = None if many or total > cell_key.SMALL_SET else []
            if people[name] is not None:
                few[tuple(row[:width])] = cell
        cell["people"], cell["keys"] = people, keys
        cells.append(cell)
    if few:
        _few_people(wave_id, few)
    for cell in cells:
        people = cell["people"]
        cell["named"] = {name: -1 if ids is None else len(ids) for name, ids in people.items()}
        if "sent" in people:  # segments describe the people their messages went to
            people["segments"] = people["sent"]
            cell["named"]["segments"] = cell["named"]["sent"]
            cell["keys"]["segments"] = cell_key.derived_key("segments", cell["keys"]["sent"])
    return cells


def _few_people(wave_id: int, few: dict[tuple, dict]) -> None:
    """Fill in the people of the figures of these cells that count few (their parts' people
    never overlap: a person is in one block)."""
    figures = [
        name
        for name in _FIGURE_SQL
        if any(cell["people"].get(name) is not None for cell in few.values())
    ]
    columns = list(zip(*few, strict=True))
    region_at = _CELL_COLUMNS.index("region_id")
    columns[region_at] = tuple(-1 if value is None else value for value in columns[region_at])
    sql = _PARTS_PEOPLE_SQL.format(
        people=", ".join(f"{name}_people" for name in figures),
        someone=" OR ".join(f"cardinality({name}_people) > 0" for name in figures),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [wave_id, *(list(column) for column in columns)])
        rows = cursor.fetchall()
    width = len(_CELL_COLUMNS)
    for row in rows:
        cell = few[tuple(row[:width])]
        for name, ids in zip(figures, row[width:], strict=True):
            if ids and cell["people"].get(name) is not None:
                cell["people"][name].extend(ids)
    for cell in few.values():
        for name, ids in cell["people"].items():
            if ids is not None:
                cell["people"][name] = sorted(set(ids))


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


def _error_cells(wave_id: int) -> list[dict]:
    """The wave's failed and undelivered messages by day and error code, from its parts."""
    summed: dict[tuple, dict] = {}
    parts = (
        WaveErrorPart.objects.filter(wave_id=wave_id)
        .order_by()
        .values_list("day", "status", "error_code", "messages", "people", "key")
    )
    for day, status, code, messages, people, key in parts:
        row = summed.setdefault(
            (day, status, code),
            {
                "day": day,
                "status": status,
                "error_code": code,
                "messages": 0,
                "people": [],
                "key": 0,
            },
        )
        row["messages"] += messages
        row["key"] = (row["key"] + key) % cell_key.KEY_SPACE
        if row["people"] is not None:
            row["people"] = None if len(people) > cell_key.SMALL_SET else row["people"] + people
    for row in summed.values():
        if row["people"] is not None:
            distinct = sorted(set(row["people"]))
            row["people"] = distinct if len(distinct) <= cell_key.SMALL_SET else None
    return list(summed.values())
