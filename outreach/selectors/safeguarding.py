"""Safeguarding figures for staff: under-age sign-ups refused, erasures, opt-outs by source.

Counts only, never a person: the first two come from the anonymous tallies that outlive
the people counted, opt-outs from the consent ledger (whose events erasure detaches but
keeps). Days are UTC days, the days the tallies are kept in.
"""

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from outreach.errors import InvalidInput
from outreach.models import AnonymousTally, ConsentEvent, ConsentKind, ConsentSource

SERIES_STEPS = ("week", "day")
# A series longer than this is no chart anyone reads: ask for weeks or a shorter period.
MAX_SERIES_PERIODS = 800

UNDERAGE_REFUSED = AnonymousTally.Metric.UNDERAGE_REFUSED
ERASED = AnonymousTally.Metric.ERASED


@dataclass(frozen=True)
class SafeguardingCounts:
    underage_refused: int
    erased: int
    carrier_opt_outs: int
    opt_outs: int  # from every source, the carrier's included


@dataclass(frozen=True)
class SeriesPeriod:
    key: str  # "2026-W10" (ISO week) or "2026-03-02"
    start: date  # the week's Monday, or the period's first day if later
    end: date  # the week's Sunday, or the period's last day if earlier
    underage_refused: int
    erased: int
    carrier_opt_outs: int
    opt_outs: int


@dataclass(frozen=True)
class SourceCount:
    source: str
    label: str
    count: int


@dataclass(frozen=True)
class SafeguardingFigures:
    date_from: date | None
    date_to: date | None
    by: str
    totals: SafeguardingCounts
    opt_outs_by_source: list[SourceCount]
    series: list[SeriesPeriod]


def safeguarding_figures(
    *,
    organization_id: int,
    date_from: date | None = None,
    date_to: date | None = None,
    by: str = "week",
) -> SafeguardingFigures:
    """An organization's safeguarding counts over a period (both ends included, UTC days):
    totals, opt-outs by consent source, and a series by ISO week or by day, zeros included,
    from the period's start (or the first count) to its end (or today)."""
    if by not in SERIES_STEPS:
        raise InvalidInput(f"Choose one of: {', '.join(SERIES_STEPS)}.", field="by")
    if date_from and date_to and date_to < date_from:
        raise InvalidInput("The period ends before it starts.", field="to")
    daily = _daily_counts(organization_id, date_from, date_to)
    return SafeguardingFigures(
        date_from=date_from,
        date_to=date_to,
        by=by,
        totals=SafeguardingCounts(**_figures(sum(daily.values(), Counter()))),
        opt_outs_by_source=_opt_outs_by_source(organization_id, date_from, date_to),
        series=_series(daily, date_from, date_to, by),
    )


# A day's counts: (metric or consent source) -> number.
_Daily = dict[date, Counter[str]]


def _daily_counts(organization_id: int, date_from: date | None, date_to: date | None) -> _Daily:
    daily: _Daily = {}
    tallies = AnonymousTally.objects.filter(
        organization_id=organization_id, metric__in=[UNDERAGE_REFUSED, ERASED]
    )
    if date_from:
        tallies = tallies.filter(day__gte=date_from)
    if date_to:
        tallies = tallies.filter(day__lte=date_to)
    for row in tallies.values("day", "metric").annotate(n=Sum("count")).order_by():
        daily.setdefault(row["day"], Counter())[row["metric"]] += row["n"]
    opt_outs = (
        _opt_outs(organization_id, date_from, date_to)
        .annotate(day=TruncDate("occurred_at", tzinfo=UTC))
        .values("day", "source")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in opt_outs:
        daily.setdefault(row["day"], Counter())[f"opt_out:{row['source']}"] += row["n"]
    return daily


def _opt_outs(
    organization_id: int, date_from: date | None, date_to: date | None
) -> QuerySet[ConsentEvent]:
    events = ConsentEvent.objects.filter(organization_id=organization_id, kind=ConsentKind.OPT_OUT)
    if date_from:
        events = events.filter(occurred_at__gte=_midnight(date_from))
    if date_to:
        events = events.filter(occurred_at__lt=_midnight(date_to + timedelta(days=1)))
    return events


def _opt_outs_by_source(
    organization_id: int, date_from: date | None, date_to: date | None
) -> list[SourceCount]:
    counted = dict(
        _opt_outs(organization_id, date_from, date_to)
        .values_list("source")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        SourceCount(source=source.value, label=str(source.label), count=counted.get(source, 0))
        for source in ConsentSource
    ]


def _figures(total: Counter[str]) -> dict[str, int]:
    return {
        "underage_refused": total[UNDERAGE_REFUSED],
        "erased": total[ERASED],
        "carrier_opt_outs": total[f"opt_out:{ConsentSource.CARRIER}"],
        "opt_outs": sum(n for name, n in total.items() if name.startswith("opt_out:")),
    }


def _series(
    daily: _Daily, date_from: date | None, date_to: date | None, by: str
) -> list[SeriesPeriod]:
    first = date_from or (min(daily) if daily else None)
    if first is None:
        return []
    last = date_to or max([timezone.now().date(), *daily])
    step = timedelta(days=7 if by == "week" else 1)
    starts = []
    start = _period_start(first, by)
    while start <= last:
        if len(starts) == MAX_SERIES_PERIODS:
            raise InvalidInput(
                f"A series by {by} has at most {MAX_SERIES_PERIODS} rows: choose a shorter "
                f"period{' or a series by week' if by == 'day' else ''}.",
                field="from",
            )
        starts.append(start)
        start += step
    in_period: dict[date, Counter[str]] = {start: Counter() for start in starts}
    for day, counts in daily.items():
        in_period[_period_start(day, by)].update(counts)
    return [
        SeriesPeriod(
            key=_key(start, by),
            start=max(start, first),
            end=min(start + step - timedelta(days=1), last),
            **_figures(counts),
        )
        for start, counts in in_period.items()
    ]


def _period_start(day: date, by: str) -> date:
    return day - timedelta(days=day.weekday()) if by == "week" else day


def _key(start: date, by: str) -> str:
    if by == "day":
        return start.isoformat()
    year, week, _ = start.isocalendar()
    return f"{year}-W{week:02d}"


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)
