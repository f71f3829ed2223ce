"""Campaign and wave reports: aggregate figures only, read from the rollups.

Every figure is a sum over `WaveRollup` cells (see campaigns.services.rollups), so a
report over millions of messages reads thousands of rows. What a funder sees of a figure:

- nothing, if it describes fewer than k people (the organization's `report_min_cell_size`):
  a count of messages, replies or opt-outs is judged by the distinct people behind it,
  whatever the count; a row describing too few people is withheld whole, and more cells
  are withheld as cover so that no line's total minus its published cells isolates one;
- otherwise its count perturbed by the cell-key method (campaigns.cell_key): the same
  records always get the same small perturbation, so no set of queries — two periods,
  a campaign and one of its waves, overlapping ranges — can be subtracted to recover an
  exact small count. Zeros stay zeros; rates are computed from the published counts.

Staff may ask for the exact figures (`suppress=False`); funders may not.

A report's scope is one campaign (`ReportScope`); the same cells, people and publisher serve
any set of waves across campaigns (`WaveSetScope`, `wave_set_cells`), as the library's
outcomes do (campaigns.selectors.library_outcomes).
"""

import hashlib
import logging
from collections.abc import Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from time import monotonic
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.postgres.aggregates import ArrayAgg
from django.core.cache import cache
from django.db import connections, router
from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from campaigns import cell_key
from campaigns.models import Campaign, PagePost, Poll, PollAnswer, Wave, WaveErrorRollup
from campaigns.suppression import effective_k, withheld_in_line
from config.db_router import reading_from_replica
from outreach.models import Channel, Region

logger = logging.getLogger(__name__)

DIMENSIONS = {
    "language": "language",
    "region": "region_id",
    "age_band": "age_band",
    "gender": "gender",
    "channel": "channel_id",
    "day": "day",
}
COUNTS = (
    "targeted",
    "sent",
    "delivered",
    "failed",
    "undelivered",
    "canceled",
    "replies",
    "opt_outs",
    "clicks",
    "poll_answers",
    "segments",
)
# Only messages have a region, an age band, a gender or a channel; clicks and poll answers
# are known by language and day alone (nobody is known behind a click).
MESSAGE_ONLY_DIMENSIONS = {"region", "age_band", "gender", "channel"}


# Counts that are their own population: nobody is known behind a click, and a count of
# people left out by the fatigue cap counts people.
ANONYMOUS = {"clicks", "fatigue_capped"}
RATES = {
    "delivery_rate": ("delivered", "sent"),
    "reply_rate": ("replies", "delivered"),
    "opt_out_rate": ("opt_outs", "delivered"),
    "click_rate": ("clicks", "delivered"),
}
_ROLLUP_FIELDS = ("wave_id", "day", "language", "region_id", "age_band", "gender", "channel_id")
_MESSAGE_COLUMNS = {DIMENSIONS[name] for name in MESSAGE_ONLY_DIMENSIONS}
_TEXT_COLUMNS = {"language", "age_band", "gender"}
_LEFT_OUT = "\x01left out"  # a grouping value no column holds


@dataclass(frozen=True)
class ReportScope:
    campaign: Campaign
    wave: Wave | None = None
    date_from: date | None = None
    date_to: date | None = None
    dimension: str | None = None


@dataclass(frozen=True)
class WaveSetScope:
    """Waves of any campaigns, reported together (e.g. every wave that used one text)."""

    wave_ids: tuple[int, ...]
    date_from: date | None = None
    date_to: date | None = None


Scope = ReportScope | WaveSetScope
WAVE_SETS = "wave_set"  # the grouping of `wave_set_cells`: by set of waves, not by a column


@dataclass
class Tally:
    """One figure of one cell, summed over rollup rows: its count, key and people.

    Rows name their people only when they have few (cell_key.SMALL_SET). A tally knows
    from the sums alone whether some row had many, and a lower bound of its people (one
    person is in one row of a wave's day: their one message of the wave, their replies of
    the day); their ids are read only when that bound is below k (`_resolve_people`).
    """

    count: int = 0
    key: int = 0
    many: bool = False  # a row counted more than SMALL_SET people
    unsure: bool = False  # some of the count came without its people
    at_least: int = 0  # people it surely describes, without reading their ids
    people: set[int] | None = None  # their ids, once read

    def add_named(self, count: int, key: int, people: list[int] | None) -> None:
        """Add a figure whose people come with it (None: more than SMALL_SET)."""
        self.count += count
        self.key = (self.key + key) % cell_key.KEY_SPACE
        if people is None:
            self.many = True
            return
        self.people = (self.people or set()) | {
            0 if person is None else person
            for person in people  # 0: the erased
        }
        self.many = self.many or len(self.people) > cell_key.SMALL_SET

    def add(self, other: "Tally") -> None:
        """Add another cell's tally of the same figure (e.g. another wave's)."""
        # Its people stay known only if both sides' are (a zero count has none to know).
        known = all(t.people is not None or not t.count for t in (self, other))
        self.people = (self.people or set()) | (other.people or set()) if known else None
        self.count += other.count
        self.key = (self.key + other.key) % cell_key.KEY_SPACE
        self.many = self.many or other.many
        self.unsure = self.unsure or other.unsure
        self.at_least = max(self.at_least, other.at_least)  # one row's people are the sum's

    def needs_people(self, k: int) -> bool:
        """Whether only the ids can tell if this figure describes fewer than k people."""
        undecided = self.count and not (self.many or self.unsure) and self.people is None
        return bool(undecided) and self.at_least < k

    def population(self, name: str) -> int:
        """The people this figure describes (clicks: the clicks themselves)."""
        if name in ANONYMOUS or not self.count:
            return self.count
        if self.unsure:  # people not named (a cell never should): withheld, not guessed
            return 1
        if self.many:
            return cell_key.SMALL_SET + 1
        if self.people is None:  # not read: at least k of them (see needs_people)
            return self.at_least
        return len(self.people)


@dataclass
class CellSum:
    """The rollup rows of one report cell, summed figure by figure."""

    tallies: dict[str, Tally] = field(default_factory=lambda: {name: Tally() for name in COUNTS})
    cost: Decimal | None = None

    @classmethod
    def summed(cls, cells: Iterable["CellSum"]) -> "CellSum":
        """Cells added figure by figure (the people of each are read afterwards, if needed)."""
        total = cls()
        for cell in cells:
            for name in COUNTS:
                total.tallies[name].add(cell.tallies[name])
            if cell.cost is not None:
                total.cost = (total.cost or Decimal(0)) + cell.cost
        return total


# Per figure, in SQL: one code for the people a rollup row names, so that the largest
# of a cell's rows says it all: the number named (at most SMALL_SET), MANY_CODE when more,
# UNNAMED_CODE when the row counts some but names none (it never should). Figure names
# are ours (COUNTS), never user input.
MANY_CODE, UNNAMED_CODE = 1_000_000, 1_000_000_000
_NAMED = (
    "CASE WHEN {f} = 0 THEN 0"
    f" WHEN NOT jsonb_exists(named, '{{f}}') THEN {UNNAMED_CODE}"
    f" WHEN (named ->> '{{f}}')::int < 0 THEN {MANY_CODE}"
    " ELSE (named ->> '{f}')::int END"
)


@reading_from_replica()
def wave_set_cells(
    wave_sets: Mapping[Hashable, Collection[int]], *, k: int
) -> dict[Hashable, CellSum]:
    """Each set of waves' figures, summed over its waves' rollup cells whatever their campaigns.

    The people behind a figure that may describe fewer than k are read as for a report, so
    k applies to the set's distinct people. One scan of the rollups serves every set.
    """
    scope = WaveSetScope(
        wave_ids=tuple(sorted({wave for waves in wave_sets.values() for wave in waves}))
    )
    by_wave = _grouped(scope, None)["wave_id"] if scope.wave_ids else {}
    cells = {
        name: CellSum.summed(by_wave[wave] for wave in waves if wave in by_wave)
        for name, waves in wave_sets.items()
    }
    if scope.wave_ids:
        _resolve_people(scope, {WAVE_SETS: cells}, k=k, wave_sets=wave_sets)
    return cells


def _grouped(scope: Scope, dimension: str | None) -> dict[str | None, dict[Any, CellSum]]:
    """The report's cells, summed in SQL in one pass over the rollup rows.

    Returns, for the whole scope (None), each day, each wave and the dimension's column (if
    asked), one CellSum per value (grouping sets over one scan). The lower bound of a
    figure's people is the most any one row names. A dimension only messages have (region,
    age band, gender, channel) leaves out click and poll rows.
    """
    where, params = _scope_sql(scope)
    column = DIMENSIONS[dimension] if dimension else None
    groupings: list[str | None] = [None, "day", "wave_id"] + ([column] if column else [])
    row_figures = ", ".join(
        f"{f}, COALESCE((keys ->> '{f}')::int, 0) AS {f}_key, {_NAMED.format(f=f)} AS {f}_named"
        for f in COUNTS
    )
    cell_figures = ", ".join(f"SUM({f}), SUM({f}_key) %% 256, MAX({f}_named)" for f in COUNTS)
    # The dimension's value as text; rows a message-only dimension leaves out get none.
    dim = f"{column}::text" if column else "NULL::text"
    if dimension in MESSAGE_ONLY_DIMENSIONS:
        dim = f"CASE WHEN channel_id IS NULL THEN '{_LEFT_OUT}' ELSE {dim} END"
    sql = f"""
        WITH rows AS MATERIALIZED (  -- each row's JSON read once, not once per grouping
            SELECT wave_id, day, cost, {dim} AS dim, {row_figures}
            FROM campaigns_waverollup WHERE {where}
        )
        SELECT GROUPING(day, wave_id, dim), day::text, wave_id::text, dim, SUM(cost),
            {cell_figures}
        FROM rows GROUP BY GROUPING SETS ((), (day), (wave_id), (dim))
    """  # noqa: S608 — every name in it is ours; the scope comes as parameters
    which = {0b111: 0, 0b011: 1, 0b101: 2, 0b110: 3}  # GROUPING(): the columns not grouped
    result: dict[str | None, dict[Any, CellSum]] = {grouping: {} for grouping in groupings}
    with _reading().cursor() as cursor:
        cursor.execute(sql, params)
        for grouped_by, day, wave_id, dim_value, cost, *figures in cursor.fetchall():
            kind = which[grouped_by]
            value = (None, day, wave_id, dim_value)[kind]
            if kind == 3 and (column is None or value == _LEFT_OUT):
                continue
            cell = CellSum(cost=cost)
            for index, name in enumerate(COUNTS):
                count, key, code = figures[index * 3 : index * 3 + 3]
                code = int(code or 0)
                cell.tallies[name] = Tally(
                    count=int(count or 0),
                    key=int(key or 0),
                    many=MANY_CODE <= code < UNNAMED_CODE,
                    unsure=code >= UNNAMED_CODE,
                    at_least=code if code < MANY_CODE else 0,
                )
            grouping = groupings[kind]
            result[grouping][_typed(grouping, value)] = cell
    return result


def _reading() -> Any:
    """The connection reports read on: the replica inside `reading_from_replica()`, if any."""
    return connections[router.db_for_read(Wave)]


def _typed(column: str | None, value: str | None) -> Any:
    """A grouping value as the rollup column holds it (SQL gave it as text)."""
    if value is None or column in _TEXT_COLUMNS:
        return value
    if column == "day":
        return date.fromisoformat(value)
    return int(value)


def _scope_sql(scope: Scope) -> tuple[str, list[Any]]:
    if isinstance(scope, WaveSetScope):
        where, params = ["wave_id = ANY(%s)"], [list(scope.wave_ids)]
    else:
        where, params = ["campaign_id = %s"], [scope.campaign.pk]
    if isinstance(scope, ReportScope) and scope.wave is not None:
        where.append("wave_id = %s")
        params.append(scope.wave.pk)
    if scope.date_from:
        where.append("day >= %s")
        params.append(scope.date_from)
    if scope.date_to:
        where.append("day <= %s")
        params.append(scope.date_to)
    return " AND ".join(where), params


def _resolve_people(
    scope: Scope,
    groupings: Mapping[str | None, Mapping[Any, CellSum]],
    *,
    k: int,
    wave_sets: Mapping[Hashable, Collection[int]] | None = None,
) -> None:
    """Read the ids behind the figures that may describe fewer than k people; count them.

    `groupings` maps a rollup column (None: the whole scope) to its cells, or WAVE_SETS to
    the cells of `wave_sets` (a row counts in every set holding its wave). One query per
    figure that needs it, reading only the rows that name people for that figure.
    """
    sets_of: dict[int, list[Hashable]] = {}
    for set_name, waves in (wave_sets or {}).items():
        for wave in waves:
            sets_of.setdefault(wave, []).append(set_name)
    for name in COUNTS:
        pending = {
            (column, value): cell.tallies[name]
            for column, grouped in groupings.items()
            for value, cell in grouped.items()
            if cell.tallies[name].needs_people(k)
        }
        if not pending:
            continue
        where, params = _scope_sql(scope)
        columns = list(_ROLLUP_FIELDS)
        sql = (
            f"SELECT {', '.join(f'r.{column}' for column in columns)}, p.ids"  # noqa: S608
            " FROM campaigns_waverollup r JOIN campaigns_waverolluppeople p"
            " ON p.rollup_id = r.id AND p.figure = %s"
            f" WHERE {where}"
        )
        with _reading().cursor() as cursor:
            cursor.execute(sql, [name, *params])
            rows = cursor.fetchall()
        for tally in pending.values():
            tally.people = set()
        for *values, ids in rows:
            row = dict(zip(columns, values, strict=True))
            for column in groupings:
                if column == WAVE_SETS:
                    keys = [(column, set_name) for set_name in sets_of.get(row["wave_id"], ())]
                else:
                    keys = [(column, row[column] if column else None)]
                for key in keys:
                    tally = pending.get(key)
                    if tally is None or (column in _MESSAGE_COLUMNS and row["channel_id"] is None):
                        continue
                    tally.people.update(ids)  # type: ignore[union-attr]
        for tally in pending.values():
            tally.many = len(tally.people or ()) > cell_key.SMALL_SET


class Publisher:
    """Turns summed cells into published figures: k-threshold, cover, perturbation."""

    def __init__(self, *, k: int, suppress: bool) -> None:
        self.k, self.suppress = k, suppress

    def totals(self, cell: CellSum, *, currency: str) -> dict[str, Any]:
        return self._figures(cell, self.withheld(cell), currency=currency)

    def withheld(self, cell: CellSum) -> set[str]:
        """The figures of a cell published on its own that describe fewer than k people."""
        withheld = {name for name in COUNTS if self._small(cell.tallies[name].population(name))}
        if self._small(cell.tallies["targeted"].population("targeted")):
            withheld = set(COUNTS)  # too few people to say anything
        return withheld

    def line(
        self, cells: list[CellSum], *, totals: dict[str, Any]
    ) -> list[tuple[bool, dict[str, Any]]]:
        """A breakdown, the days or the waves: (row withheld, figures) per cell."""
        if not self.suppress:
            return [(False, self._figures(cell, set(), currency="")) for cell in cells]
        rows_out = self._withheld("targeted", cells, totals=totals, already=())
        out_rows = {index for index, reason in enumerate(rows_out) if reason}
        withheld = [set(COUNTS) if index in out_rows else set() for index in range(len(cells))]
        for name in COUNTS:
            if name == "targeted":
                continue
            reasons = self._withheld(name, cells, totals=totals, already=out_rows)
            for index, reason in enumerate(reasons):
                if reason:
                    withheld[index].add(name)
        return [
            (
                index in out_rows
                or all(name in withheld[index] for name in COUNTS if cell.tallies[name].count),
                self._figures(cell, withheld[index], currency=""),
            )
            for index, cell in enumerate(cells)
        ]

    def count(self, tally: Tally, name: str, *, withheld: bool = False) -> int | None:
        if not self.suppress:
            return tally.count
        if withheld or self._small(tally.population(name)):
            return None
        return cell_key.perturbed(tally.count, tally.key, floor=self.k)

    def _withheld(
        self, name: str, cells: list[CellSum], *, totals: dict[str, Any], already: Iterable[int]
    ) -> list[str]:
        populations = [cell.tallies[name].population(name) for cell in cells]
        return withheld_in_line(
            populations, k=self.k, total_published=totals.get(name) is not None, already=already
        )

    def _small(self, population: int) -> bool:
        return self.suppress and 0 < population < self.k

    def _figures(self, cell: CellSum, withheld: set[str], *, currency: str) -> dict[str, Any]:
        figures: dict[str, Any] = {
            name: self.count(cell.tallies[name], name, withheld=name in withheld) for name in COUNTS
        }
        for rate, (part, whole) in RATES.items():
            figures[rate] = _rate(figures[part], figures[whole])
        cost = cell.cost if currency != "mixed" else None  # no sum across currencies
        segments, published = cell.tallies["segments"].count, figures["segments"]
        if cost is not None and self.suppress:
            # Cost follows the perturbed segments, so differencing it tells no more.
            cost = cost * published / segments if published is not None and segments else None
        figures["cost"] = _money(cost)
        figures["currency"] = currency or None
        delivered = figures["delivered"]
        per_delivered = cost / delivered if cost is not None and delivered else None
        figures["cost_per_delivered"] = _money(per_delivered)
        return figures


@reading_from_replica()
def campaign_report(scope: ReportScope, *, suppress: bool = True) -> dict[str, Any]:
    """The report a funder sees: totals, one breakdown, the daily series, waves, polls and
    the waves' Page posts.

    Served from the cache while nothing it reads has changed: its key holds the scope, the
    suppress flag, k and the campaign as given, and a version read in one query (each
    wave's rollup time, name and audience; the poll answers; the Page posts), so a new
    rollup, a raised k or a new poll answer is a new key. The same figures either way: the
    perturbation is a function of the records, not of when it is computed. Without the
    cache (Redis down) the report is computed, as before.
    """
    key = _cache_key(scope, suppress=suppress)
    report = _cache_get(key)
    if report is None:
        report = campaign_report_computed(scope, suppress=suppress)
        _cache_set(key, report)
    return report


REPORT_CACHE_SECONDS = 300  # bounds what the version does not see (a region renamed)
_CACHE_PAUSE_SECONDS = 30.0  # after the cache fails, reports are computed for this long
_cache_down_until = 0.0


def _cache_key(scope: ReportScope, *, suppress: bool) -> str:
    campaign = scope.campaign
    with _reading().cursor() as cursor:
        cursor.execute(_REPORT_VERSION_SQL, [campaign.pk] * 4)
        version = cursor.fetchone()
    material = (
        campaign.pk,
        campaign.report_key_seed,  # a campaign's own: a reused id in a fresh database is not it
        campaign.name,
        _iso(campaign.election_date),
        campaign.timezone,
        campaign.organization.name,
        effective_k(campaign.organization.report_min_cell_size),
        scope.wave.pk if scope.wave else None,
        _iso(scope.date_from),
        _iso(scope.date_to),
        scope.dimension,
        suppress,
        version,
    )
    digest = hashlib.blake2b(repr(material).encode(), digest_size=16).hexdigest()
    return f"amani:report:{digest}"


# The rollup cells, when they were computed, and what a report reads besides, in one query.
_REPORT_VERSION_SQL = """
    SELECT
        (SELECT concat_ws('|', count(*), max(id)) FROM campaigns_waverollup
         WHERE campaign_id = %s),  -- a recompute writes new rows: new ids
        (SELECT md5(COALESCE(string_agg(concat_ws('|', id, name, status, rolled_up_at,
                fanned_out_at, scheduled_for, audience::text), ',' ORDER BY id), ''))
         FROM campaigns_wave WHERE campaign_id = %s),
        (SELECT concat_ws('|', count(*), count(a.subscriber_id), max(a.id))
         FROM campaigns_pollanswer a JOIN campaigns_poll p ON p.id = a.poll_id
         JOIN campaigns_wave w ON w.id = p.wave_id WHERE w.campaign_id = %s),
        (SELECT md5(COALESCE(string_agg(concat_ws('|', pp.id, pp.status, pp.provider_post_id,
                pp.scheduled_for, pp.reactions, pp.comments, pp.shares, pp.engagement_read_at),
                ',' ORDER BY pp.id), ''))
         FROM campaigns_pagepost pp JOIN campaigns_wave w ON w.id = pp.wave_id
         WHERE w.campaign_id = %s)
"""


def _cache_get(key: str) -> dict[str, Any] | None:
    if monotonic() < _cache_down_until:
        return None
    try:
        return cache.get(key)
    except Exception:
        _cache_failed()
        return None


def _cache_set(key: str, report: dict[str, Any]) -> None:
    if monotonic() < _cache_down_until:
        return
    try:
        cache.set(key, report, REPORT_CACHE_SECONDS)
    except Exception:
        _cache_failed()


def _cache_failed() -> None:
    global _cache_down_until
    _cache_down_until = monotonic() + _CACHE_PAUSE_SECONDS
    logger.warning("the report cache failed; reports are computed for %s s", _CACHE_PAUSE_SECONDS)


@reading_from_replica()
def campaign_report_computed(scope: ReportScope, *, suppress: bool = True) -> dict[str, Any]:
    """The report of `campaign_report`, computed from the rollup cells (no cache)."""
    campaign = scope.campaign
    k = effective_k(campaign.organization.report_min_cell_size)
    publisher = Publisher(k=k, suppress=suppress)
    groupings = _grouped(scope, scope.dimension)
    whole = groupings[None].get(None, CellSum())
    by_day, by_wave = groupings["day"], groupings["wave_id"]
    dimension = DIMENSIONS.get(scope.dimension or "")
    by_dimension = groupings.get(dimension, {}) if dimension else {}
    groupings[None] = {None: whole}
    _resolve_people(scope, groupings, k=k)
    currency = _currency(scope)
    totals = publisher.totals(whole, currency=currency)
    waves = _waves(scope)
    totals["fatigue_capped"] = _fatigue_capped(waves, publisher)
    report: dict[str, Any] = {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "election_date": _iso(campaign.election_date),
            "timezone": campaign.timezone,
            "organization": campaign.organization.name,
        },
        "wave": {"id": scope.wave.pk, "name": scope.wave.name} if scope.wave else None,
        "period": {"from": _iso(scope.date_from), "to": _iso(scope.date_to)},
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "k": k,
        "suppressed": suppress,
        "privacy": {
            "k": k,
            "method": "cell-key" if suppress else "none",
            "max_perturbation": cell_key.MAX_PERTURBATION if suppress else 0,
        },
        "totals": totals,
        "breakdown": None,
        "errors": _errors(scope, publisher, totals=totals),
        "series": list(_rows(by_day, "day", publisher, totals=totals).values()),
        "waves": [],
        "polls": _polls(scope, publisher),
        "page_posts": _page_posts(scope),
    }
    wave_rows = _rows(by_wave, "wave_id", publisher, totals=totals)
    for wave in waves:
        row = wave_rows.get(wave.pk)
        if row is not None:
            report["waves"].append({**row, "id": wave.pk, "name": wave.name})
    if dimension:
        breakdown = list(_rows(by_dimension, dimension, publisher, totals=totals).values())
        if scope.dimension in MESSAGE_ONLY_DIMENSIONS:
            for row in breakdown:
                row["figures"].update(clicks=None, click_rate=None, poll_answers=None)
        report["breakdown"] = {"dimension": scope.dimension, "rows": breakdown}
    return report


def reportable_campaigns(organization_id: int, *, funder_id: int | None) -> QuerySet[Campaign]:
    """Campaigns a member may see reports of: all of them, or those shared with a funder."""
    campaigns = Campaign.objects.filter(organization_id=organization_id)
    if funder_id is not None:
        campaigns = campaigns.filter(funders__id=funder_id)
    return campaigns.order_by("name")


def _rows(
    grouped: dict[Any, CellSum], field_name: str, publisher: Publisher, *, totals: dict[str, Any]
) -> dict[Any, dict[str, Any]]:
    """The published rows of one grouping, by their column's value, in the order shown."""
    labels = _labels(field_name, list(grouped))
    order = sorted(grouped, key=lambda value: (value in (None, ""), labels.get(value, "")))
    published = publisher.line([grouped[value] for value in order], totals=totals)
    result = {}
    for value, (withheld, figures) in zip(order, published, strict=True):
        figures.pop("currency")
        result[value] = {
            "key": labels.get(value, "unknown"),
            "suppressed": withheld,
            "figures": dict.fromkeys(figures) if withheld else figures,
        }
    return result


def _labels(field: str, values: list[Any]) -> dict[Any, str]:
    if field == "region_id":
        names = dict(Region.objects.filter(pk__in=values).values_list("pk", "name"))
        return {value: names.get(value, "unknown") for value in values}
    if field == "channel_id":
        names = dict(Channel.objects.filter(pk__in=values).values_list("pk", "name"))
        return {value: names.get(value, "unknown") for value in values}
    if field == "day":
        return {value: value.isoformat() for value in values if value is not None}
    return {value: (str(value) if value not in (None, "") else "unknown") for value in values}


def _waves(scope: ReportScope) -> list[Wave]:
    if scope.wave is not None:
        return [scope.wave]
    return list(
        Wave.objects.filter(campaign=scope.campaign, fanned_out_at__isnull=False).order_by(
            "scheduled_for", "pk"
        )
    )


def _errors(
    scope: ReportScope, publisher: Publisher, *, totals: dict[str, Any]
) -> list[dict[str, Any]]:
    """Failed and undelivered messages by provider error code, in the period and wave asked."""
    errors = WaveErrorRollup.objects.filter(campaign=scope.campaign)
    if scope.wave is not None:
        errors = errors.filter(wave=scope.wave)
    if scope.date_from:
        errors = errors.filter(day__gte=scope.date_from)
    if scope.date_to:
        errors = errors.filter(day__lte=scope.date_to)
    grouped: dict[tuple[str, str], Tally] = {}
    for row in errors.order_by().values("status", "error_code", "messages", "key", "people"):
        key = (row["status"], row["error_code"] or "none")
        if key not in grouped:
            grouped[key] = Tally()
        grouped[key].add_named(row["messages"], row["key"], row["people"])
    order = sorted(grouped, key=lambda key: (-grouped[key].count, key))
    withheld: dict[tuple[str, str], bool] = {}
    for status in {status for status, _ in order}:
        line = [key for key in order if key[0] == status]
        reasons = (
            withheld_in_line(
                [grouped[key].population("messages") for key in line],
                k=publisher.k,
                total_published=totals.get(status) is not None,
            )
            if publisher.suppress
            else [""] * len(line)
        )
        withheld |= {key: bool(reason) for key, reason in zip(line, reasons, strict=True)}
    return [
        {
            "status": status,
            "error_code": code,
            "messages": publisher.count(
                grouped[(status, code)], "messages", withheld=withheld[(status, code)]
            ),
            "suppressed": withheld[(status, code)],
        }
        for status, code in order
    ]


def _polls(scope: ReportScope, publisher: Publisher) -> list[dict[str, Any]]:
    """Each poll's answers by option, on the campaign's local days of the period asked."""
    campaign = scope.campaign
    zone = ZoneInfo(campaign.timezone)
    polls = Poll.objects.filter(wave__campaign=campaign).select_related("wave")
    if scope.wave is not None:
        polls = polls.filter(wave=scope.wave)
    result = []
    for poll in polls.prefetch_related("options").order_by("wave__scheduled_for", "pk"):
        answers = PollAnswer.objects.filter(poll=poll, is_current=True).annotate(
            local_day=TruncDate("answered_at", tzinfo=zone)
        )
        if scope.date_from:
            answers = answers.filter(local_day__gte=scope.date_from)
        if scope.date_to:
            answers = answers.filter(local_day__lte=scope.date_to)
        tallies: dict[int, Tally] = {}
        for row in (
            answers.order_by()
            .values("option_number")
            .annotate(
                n=Count("id"),
                key=Coalesce(
                    Sum(cell_key.RecordKey("id", seed=campaign.report_key_seed, salt="p")), 0
                ),
                people=ArrayAgg("subscriber__contact_id", distinct=True, default=[]),
            )
        ):
            tallies[row["option_number"]] = tally = Tally()
            tally.add_named(row["n"], int(row["key"]), row["people"])
        options = sorted(poll.options.all(), key=lambda option: option.number)
        line = [tallies.get(option.number, Tally()) for option in options]
        reasons = (
            withheld_in_line([tally.population("answers") for tally in line], k=publisher.k)
            if publisher.suppress
            else [""] * len(line)
        )
        result.append(
            {
                "wave_id": poll.wave_id,
                "wave": poll.wave.name,
                "options": [
                    {
                        "number": option.number,
                        "name": option.names.get(campaign.default_language)
                        or next(iter(option.names.values()), str(option.number)),
                        "answers": publisher.count(tally, "answers", withheld=bool(reason)),
                        "suppressed": bool(reason),
                    }
                    for option, tally, reason in zip(options, line, reasons, strict=True)
                ],
            }
        )
    return result


def _page_posts(scope: ReportScope) -> list[dict[str, Any]]:
    """The waves' Facebook Page posts and their engagement, on the days of the period asked.

    The counts are the Page's public aggregates (nobody is known behind them): shown as
    Meta gave them, not perturbed; null when they could not be read.
    """
    posts = PagePost.objects.filter(wave__campaign=scope.campaign).exclude(provider_post_id="")
    if scope.wave is not None:
        posts = posts.filter(wave=scope.wave)
    zone = ZoneInfo(scope.campaign.timezone)
    if scope.date_from:
        posts = posts.filter(scheduled_for__gte=datetime.combine(scope.date_from, time.min, zone))
    if scope.date_to:
        end = datetime.combine(scope.date_to + timedelta(days=1), time.min, zone)
        posts = posts.filter(scheduled_for__lt=end)
    return [
        {
            "wave_id": post.wave_id,
            "wave": post.wave.name,
            "status": post.status,
            "provider_post_id": post.provider_post_id,
            "scheduled_for": post.scheduled_for.isoformat() if post.scheduled_for else None,
            "reactions": post.reactions,
            "comments": post.comments,
            "shares": post.shares,
            "engagement_read_at": (
                post.engagement_read_at.isoformat() if post.engagement_read_at else None
            ),
        }
        for post in posts.select_related("wave").order_by("scheduled_for", "pk")
    ]


def _fatigue_capped(waves: list[Wave], publisher: Publisher) -> int | None:
    """People left out of the waves by the fatigue cap: a count of people like any other."""
    tally = Tally()
    for wave in waves:
        capped = int((wave.audience or {}).get("fatigue_capped", 0))
        if capped:
            tally.add_named(capped, cell_key.derived_key("capped", wave.pk, capped), [])
    return publisher.count(tally, "fatigue_capped") if tally.count else 0


def _currency(scope: ReportScope) -> str:
    """The currency of the reported costs; "mixed" when providers reported several."""
    where, params = _scope_sql(scope)
    with _reading().cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT currency FROM campaigns_waverollup"  # noqa: S608
            f" WHERE {where} AND cost IS NOT NULL AND currency <> ''",
            params,
        )
        currencies = {currency for (currency,) in cursor.fetchall()}
    return currencies.pop() if len(currencies) == 1 else ("mixed" if currencies else "")


def _money(value: Decimal | None) -> str | None:
    return str(Decimal(value).quantize(Decimal("0.0001"))) if value is not None else None


def _rate(part: int | None, whole: int | None) -> float | None:
    if part is None or not whole:
        return None
    return min(1.0, round(part / whole, 4))  # perturbed figures never make a rate above 1


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
