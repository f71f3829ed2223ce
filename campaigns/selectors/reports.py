"""Campaign and wave reports: aggregate figures only, read from the rollups.

Every figure is a sum over `WaveRollup` cells (see campaigns.services.rollups), so a
report over millions of messages reads thousands of rows. A breakdown, the daily series,
the waves and the poll results are each suppressed to k (the organization's
`report_min_cell_size`), with complementary suppression, before anyone sees them.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum
from django.utils import timezone

from campaigns.models import Campaign, Poll, PollAnswer, Wave, WaveErrorRollup, WaveRollup
from campaigns.suppression import Cell, Suppressed, effective_k, suppress_breakdown
from outreach.models import Channel, Region

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


@dataclass(frozen=True)
class ReportScope:
    campaign: Campaign
    wave: Wave | None = None
    date_from: date | None = None
    date_to: date | None = None
    dimension: str | None = None


def campaign_report(scope: ReportScope, *, suppress: bool = True) -> dict[str, Any]:
    """The report a funder sees: totals, one breakdown, the daily series, waves and polls."""
    campaign = scope.campaign
    k = effective_k(campaign.organization.report_min_cell_size)
    cells = _cells(scope)
    totals = _figures(_sum(cells), currency=_currency(cells))
    waves = _waves(scope)
    capped = sum(int((wave.audience or {}).get("fatigue_capped", 0)) for wave in waves)
    totals["fatigue_capped"] = capped
    report: dict[str, Any] = {
        "campaign": {
            "id": campaign.pk,
            "name": campaign.name,
            "election_date": _iso(campaign.election_date),
            "organization": campaign.organization.name,
        },
        "wave": {"id": scope.wave.pk, "name": scope.wave.name} if scope.wave else None,
        "period": {"from": _iso(scope.date_from), "to": _iso(scope.date_to)},
        "generated_at": timezone.localtime().isoformat(timespec="seconds"),
        "k": k,
        "suppressed": suppress,
        "totals": totals,
        "breakdown": None,
        "errors": _errors(scope),
        "series": _rows(cells, "day", k=k, suppress=suppress),
        "waves": [],
        "polls": _polls(scope, k=k, suppress=suppress),
    }
    by_wave = {row["key"]: row for row in _rows(cells, "wave_id", k=k, suppress=suppress)}
    for wave in waves:
        row = by_wave.get(str(wave.pk))
        if row is not None:
            report["waves"].append({"id": wave.pk, "name": wave.name, **row})
    if scope.dimension in MESSAGE_ONLY_DIMENSIONS:
        # Clicks and poll answers have no region, age, gender or channel: not in these rows.
        rows = _rows(
            cells.exclude(channel_id=None), DIMENSIONS[scope.dimension], k=k, suppress=suppress
        )
        for row in rows:
            row["figures"].update(clicks=None, click_rate=None, poll_answers=None)
        report["breakdown"] = {"dimension": scope.dimension, "rows": rows}
    elif scope.dimension:
        report["breakdown"] = {
            "dimension": scope.dimension,
            "rows": _rows(cells, DIMENSIONS[scope.dimension], k=k, suppress=suppress),
        }
    if suppress and totals["targeted"] and totals["targeted"] < k:
        report["totals"] = {name: None for name in totals}  # too few people to say anything
    return report


def reportable_campaigns(organization_id: int, *, funder_id: int | None) -> QuerySet[Campaign]:
    """Campaigns a member may see reports of: all of them, or those shared with a funder."""
    campaigns = Campaign.objects.filter(organization_id=organization_id)
    if funder_id is not None:
        campaigns = campaigns.filter(funders__id=funder_id)
    return campaigns.order_by("name")


def _cells(scope: ReportScope) -> QuerySet[WaveRollup]:
    cells = WaveRollup.objects.filter(campaign=scope.campaign)
    if scope.wave is not None:
        cells = cells.filter(wave=scope.wave)
    if scope.date_from:
        cells = cells.filter(day__gte=scope.date_from)
    if scope.date_to:
        cells = cells.filter(day__lte=scope.date_to)
    return cells


def _sum(cells: QuerySet[WaveRollup], *group_by: str) -> Any:
    sums = {name: Sum(name) for name in COUNTS} | {"cost": Sum("cost")}
    if group_by:
        return cells.order_by().values(*group_by).annotate(**sums)
    return cells.aggregate(**sums)


def _figures(row: dict[str, Any], *, currency: str) -> dict[str, Any]:
    figures: dict[str, Any] = {name: int(row.get(name) or 0) for name in COUNTS}
    sent, delivered = figures["sent"], figures["delivered"]
    figures["delivery_rate"] = _rate(delivered, sent)
    figures["reply_rate"] = _rate(figures["replies"], delivered)
    figures["opt_out_rate"] = _rate(figures["opt_outs"], delivered)
    figures["click_rate"] = _rate(figures["clicks"], delivered)
    cost = row.get("cost") if currency != "mixed" else None  # no sum across currencies
    figures["cost"] = str(Decimal(cost).quantize(Decimal("0.0001"))) if cost is not None else None
    figures["currency"] = currency or None
    figures["cost_per_delivered"] = (
        str((Decimal(cost) / delivered).quantize(Decimal("0.0001")))
        if cost is not None and delivered
        else None
    )
    return figures


def _rows(cells: QuerySet[WaveRollup], field: str, *, k: int, suppress: bool) -> list[dict]:
    grouped = list(_sum(cells, field))
    labels = _labels(field, [row[field] for row in grouped])
    grouped.sort(key=lambda row: (row[field] in (None, ""), labels.get(row[field], "")))
    rows = [
        {"key": labels.get(row[field], "unknown"), "figures": _figures(row, currency="")}
        for row in grouped
    ]
    for row, raw in zip(rows, grouped, strict=True):
        row["figures"].pop("currency")
        row["id"] = raw[field]
    if not suppress:
        return [{"key": r["key"], "suppressed": False, "figures": r["figures"]} for r in rows]
    # Population: the people a cell's messages went to. A click-only cell (no messages)
    # has population 0 and is published only as what it is: a count of anonymous clicks.
    decided = suppress_breakdown(
        [
            Cell(key=f"{index}", population=row["figures"]["targeted"], figures=row["figures"])
            for index, row in enumerate(rows)
        ],
        k=k,
    )
    return [
        {"key": row["key"], "suppressed": result.suppressed, "figures": result.figures}
        for row, result in zip(rows, decided, strict=True)
    ]


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


def _errors(scope: ReportScope) -> list[dict[str, Any]]:
    errors = WaveErrorRollup.objects.filter(campaign=scope.campaign)
    if scope.wave is not None:
        errors = errors.filter(wave=scope.wave)
    return [
        {"status": row["status"], "error_code": row["error_code"] or "none", "messages": row["n"]}
        for row in errors.order_by()
        .values("status", "error_code")
        .annotate(n=Sum("messages"))
        .order_by("-n", "status", "error_code")
    ]


def _polls(scope: ReportScope, *, k: int, suppress: bool) -> list[dict[str, Any]]:
    polls = Poll.objects.filter(wave__campaign=scope.campaign).select_related("wave")
    if scope.wave is not None:
        polls = polls.filter(wave=scope.wave)
    result = []
    for poll in polls.prefetch_related("options").order_by("wave__scheduled_for", "pk"):
        answers = PollAnswer.objects.filter(poll=poll, is_current=True)
        if scope.date_from:
            answers = answers.filter(answered_at__date__gte=scope.date_from)
        if scope.date_to:
            answers = answers.filter(answered_at__date__lte=scope.date_to)
        counts = dict(
            answers.order_by()
            .values_list("option_number")
            .annotate(n=Count("id"))
            .values_list("option_number", "n")
        )
        options = sorted(poll.options.all(), key=lambda option: option.number)
        cells = [
            Cell(
                key=str(option.number),
                population=counts.get(option.number, 0),
                figures={"answers": counts.get(option.number, 0)},
            )
            for option in options
        ]
        decided = (
            suppress_breakdown(cells, k=k)
            if suppress
            else [Suppressed(c.key, False, "", dict(c.figures)) for c in cells]
        )
        result.append(
            {
                "wave_id": poll.wave_id,
                "wave": poll.wave.name,
                "options": [
                    {
                        "number": option.number,
                        "name": option.names.get(scope.campaign.default_language)
                        or next(iter(option.names.values()), str(option.number)),
                        "answers": outcome.figures["answers"],
                        "suppressed": outcome.suppressed,
                    }
                    for option, outcome in zip(options, decided, strict=True)
                ],
            }
        )
    return result


def _currency(cells: QuerySet[WaveRollup]) -> str:
    """The currency of the reported costs; "mixed" when providers reported several."""
    currencies = set(
        cells.filter(cost__isnull=False).exclude(currency="").values_list("currency", flat=True)
    )
    return currencies.pop() if len(currencies) == 1 else ("mixed" if currencies else "")


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
