"""The printable funder report: self-contained HTML and an A4 PDF, charts drawn on the server.

Both formats read the report dict of `campaigns.selectors.reports.campaign_report`: totals,
and rows shaped `{"key", "suppressed", "figures": {...}}` for the breakdown, the days and
the waves (waves also carry "id" and "name"). Any figure may be None: withheld to protect
privacy, printed as an en dash. Charts are built once with reportlab.graphics, then inlined
as SVG in the HTML and drawn into the PDF. Nothing is fetched: no CDN, no web fonts, no
JavaScript; the PDF uses the built-in Helvetica fonts only.
"""

import datetime as dt
import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop
from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

Report = dict[str, Any]

WITHHELD = "\N{EN DASH}"  # the figure exists but is not published
LEGEND = f"{WITHHELD} marks a figure withheld to protect privacy."
DELIVERED = colors.HexColor("#2e7d32")
FAILED = colors.HexColor("#c62828")
REPLIES = colors.HexColor("#1565c0")
OPT_OUTS = colors.HexColor("#ef6c00")
CHART_WIDTH = 480
PAGE_POSTS_NOTE = (
    "Page posts: the Page's public counts as Facebook reports them (nobody is named in "
    f"them), not perturbed; {WITHHELD} where they could not be read."
)
DAILY_CAPTION = "Delivered and failed messages per day (campaign time); withheld figures left out."
ENGAGEMENT_CAPTION = "Replies and opt-outs per day (campaign time); withheld figures left out."

FONT, BOLD, FONT_SIZE = "Helvetica", "Helvetica-Bold", 8
MARGIN = 18 * mm
FRAME_WIDTH = A4[0] - 2 * MARGIN
CELL_PADDING = 3  # points left and right of a cell's text
TEXT_COLUMN_MAX = 55 * mm  # a long wave or county name wraps rather than squeezing figures
KEEP_WHOLE_ROWS = 15  # tables up to this long are kept on one page
KEEP_WITH_HEADING = 5  # a longer one starts with this many rows on its heading's page

STYLES = getSampleStyleSheet()
HEADING = ParagraphStyle("section", parent=STYLES["Heading2"])
CELL = ParagraphStyle("cell", parent=STYLES["BodyText"], fontName=FONT, fontSize=8, leading=10)
HEAD = ParagraphStyle("head", parent=CELL, fontName=BOLD, leading=9.5, alignment=TA_RIGHT)
HEAD_TEXT = ParagraphStyle("head-text", parent=HEAD, alignment=TA_LEFT)
SMALL = ParagraphStyle("small", parent=CELL, fontSize=7, textColor=colors.HexColor("#555555"))
TABLE_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), FONT_SIZE),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, 0), "BOTTOM"),
        ("VALIGN", (0, 1), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
)


TOTALS = [
    ("targeted", "Targeted"),
    ("fatigue_capped", "Held back by the fatigue cap"),
    ("canceled", "Canceled"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("undelivered", "Undelivered"),
    ("delivery_rate", "Delivery rate"),
    ("segments", "SMS segments"),
    ("replies", "Replies"),
    ("reply_rate", "Reply rate"),
    ("opt_outs", "Opt-outs"),
    ("opt_out_rate", "Opt-out rate"),
    ("clicks", "Link clicks"),
    ("click_rate", "Click rate"),
    ("poll_answers", "Poll answers"),
]  # then cost and cost per delivered message; the PDF prints reach | engagement side by side
BREAKDOWN = [
    ("targeted", "Targeted"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("undelivered", "Undelivered"),
    ("delivery_rate", "Delivery rate"),
    ("replies", "Replies"),
    ("reply_rate", "Reply rate"),
    ("opt_outs", "Opt-outs"),
    ("opt_out_rate", "Opt-out rate"),
]
SERIES = [
    ("targeted", "Targeted"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("replies", "Replies"),
    ("opt_outs", "Opt-outs"),
    ("clicks", "Clicks"),
]
WAVES = [
    ("targeted", "Targeted"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("delivery_rate", "Delivery rate"),
    ("replies", "Replies"),
    ("reply_rate", "Reply rate"),
    ("opt_outs", "Opt-outs"),
    ("clicks", "Clicks"),
]


@dataclass(frozen=True)
class Grid:
    """A table as printed: its header and rows of text; the first column is free text."""

    head: list[str]
    rows: list[list[str]] = field(default_factory=list)


def report_html(report: Report) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG), ready to print."""
    charts = build_charts(report)
    context = _context(report)
    context["daily_chart"] = to_svg(charts.daily, "daily", DAILY_CAPTION)
    context["daily_caption"] = DAILY_CAPTION
    context["breakdown_chart"] = to_svg(
        charts.breakdown, "breakdown", f"Delivered messages by {context['dimension_label']}"
    )
    return render_to_string("campaigns/report.html", context)


def report_pdf(report: Report, *, compress: bool = True, invariant: bool = False) -> bytes:
    """The report as A4 PDF; compress=False, invariant=True give plain, stable bytes (tests)."""
    ctx = _context(report)
    name = str(ctx["campaign"].get("name") or "Campaign")

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7)
        canvas.drawString(doc.leftMargin, 10 * mm, f"{name}: funder report")
        canvas.drawCentredString(A4[0] / 2, 10 * mm, LEGEND)
        canvas.drawRightString(A4[0] - doc.rightMargin, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{name}: funder report",
        author=str(ctx["campaign"].get("organization") or ""),
        pageCompression=1 if compress else 0,
        invariant=1 if invariant else 0,
        initialFontName=FONT,
    )
    doc.build(report_story(report), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def fmt(name: str, value: Any) -> str:
    """A figure as printed: withheld is a dash, rates are percentages, counts get commas."""
    if value is None:
        return WITHHELD
    if name.endswith("_rate") and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


STAFF_COPY_NOTE = gettext_noop(
    "Staff copy: small cells are shown, not withheld. Do not share it with funders."
)
PERTURBED_NOTE = gettext_noop(
    "To protect privacy, figures are perturbed slightly (by at most %(max_perturbation)s), "
    "so rows may not add up exactly to the totals, and figures describing fewer than %(k)s "
    "people are withheld."
)
WITHHELD_NOTE = gettext_noop(
    "To protect privacy, figures describing fewer than %(k)s people are withheld, and so are "
    "some others, so that a withheld figure cannot be worked out from the totals."
)


def privacy_note(report: Report, *, translated: bool = False) -> str:
    """One line on how the figures are protected: from the report's privacy object, or k.

    In English as printed; `translated=True` gives it in the active language (the console).
    """
    say = gettext if translated else str
    if report.get("suppressed") is False:
        return say(STAFF_COPY_NOTE)
    privacy = report.get("privacy") or {}
    k = privacy.get("k") or report.get("k")
    if privacy.get("max_perturbation") is not None:
        return say(PERTURBED_NOTE) % {"max_perturbation": privacy["max_perturbation"], "k": k}
    if k:
        return say(WITHHELD_NOTE) % {"k": k}
    return ""


# --- what both formats print -------------------------------------------------------------


def _context(report: Report) -> dict[str, Any]:
    """Everything both formats print, already formatted as text."""
    campaign = report.get("campaign") or {}
    totals = report.get("totals") or {}
    currency = totals.get("currency") or ""
    money = [
        ("Cost", totals.get("cost")),
        ("Cost per delivered message", totals.get("cost_per_delivered")),
    ]
    breakdown = report.get("breakdown")
    dimension = str((breakdown or {}).get("dimension") or "")
    return {
        "campaign": campaign,
        "election_day": _long_date(campaign.get("election_date")) or "not set",
        "period": _period(report.get("period")),
        "generated": _generated(report.get("generated_at"), campaign.get("timezone")),
        "privacy_note": privacy_note(report),
        "legend": LEGEND,
        "totals": Grid(
            ["Figure", "Value"],
            [[label, fmt(name, totals.get(name))] for name, label in TOTALS]
            + [
                [label, f"{value} {currency}".strip() if value is not None else WITHHELD]
                for label, value in money
            ],
        ),
        "dimension": dimension,
        "dimension_label": dimension.replace("_", " "),
        "breakdown": None
        if breakdown is None
        else _figure_grid(
            dimension.replace("_", " ").capitalize() or "Key",
            BREAKDOWN,
            breakdown.get("rows") or [],
            _day if dimension == "day" else _key,
        ),
        "errors": Grid(
            ["Status", "Error code", "Messages"],
            [
                [
                    str(error.get("status") or ""),
                    str(error.get("error_code") or "none"),
                    fmt("messages", None if error.get("suppressed") else error.get("messages")),
                ]
                for error in report.get("errors") or []
            ],
        ),
        "series": _figure_grid("Day", SERIES, report.get("series") or [], _day),
        "waves": _figure_grid("Wave", WAVES, report.get("waves") or [], _key),
        "polls": [
            {
                "wave": str(poll.get("wave") or ""),
                "grid": Grid(
                    ["Option", "#", "Answers"],
                    [
                        [
                            str(option.get("name") or ""),
                            fmt("number", option.get("number")),
                            fmt(
                                "answers",
                                None if option.get("suppressed") else option.get("answers"),
                            ),
                        ]
                        for option in poll.get("options") or []
                    ],
                ),
            }
            for poll in report.get("polls") or []
        ],
        "page_posts": _page_post_grid(report.get("page_posts") or [], campaign.get("timezone")),
        "page_posts_note": PAGE_POSTS_NOTE,
    }


def _page_post_grid(posts: list[dict[str, Any]], zone_name: Any) -> Grid:
    """The waves' Page posts: public counts of the Page, shown as given (a dash: unreadable)."""
    return Grid(
        ["Wave", "Published", "Reactions", "Comments", "Shares"],
        [
            [
                str(post.get("wave") or ""),
                _generated(post.get("scheduled_for"), zone_name)
                if post.get("status") == "published"
                else f"scheduled for {_generated(post.get('scheduled_for'), zone_name)}",
                fmt("reactions", post.get("reactions")),
                fmt("comments", post.get("comments")),
                fmt("shares", post.get("shares")),
            ]
            for post in posts
        ],
    )


def _figure_grid(
    first: str, columns: list[tuple[str, str]], rows: list[dict], label: Callable[[Any], str]
) -> Grid:
    """One row per selector row: its label, then its figures (all withheld if suppressed)."""
    return Grid(
        [first] + [title for _, title in columns],
        [
            [label(row.get("name") or row.get("key"))]
            + [
                fmt(name, None if row.get("suppressed") else (row.get("figures") or {}).get(name))
                for name, _ in columns
            ]
            for row in rows
        ],
    )


def _key(value: Any) -> str:
    return str(value or "unknown")


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _day(value: Any) -> str:
    """'Tue 3 Aug 2027' for a day key, the key itself when it is not a date."""
    day = _date(value)
    return f"{day:%a} {day.day} {day:%b %Y}" if day else str(value or "unknown")


def _long_date(value: Any) -> str:
    day = _date(value)
    return f"{day.day} {day:%B %Y}" if day else ""


def _period(period: dict[str, str | None] | None) -> str:
    start, end = (period or {}).get("from"), (period or {}).get("to")
    if not start and not end:
        return "Whole campaign"
    return f"{_long_date(start) or 'start of campaign'} to {_long_date(end) or 'date'}"


def _generated(value: Any, zone_name: Any) -> str:
    """'2 December 2026, 14:05 (Africa/Nairobi)': in the campaign's zone when known."""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value or "")
    try:
        zone = ZoneInfo(str(zone_name)) if zone_name else timezone.get_current_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        zone = timezone.get_current_timezone()
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=zone)
    local = moment.astimezone(zone)
    return f"{local.day} {local:%B %Y, %H:%M} ({zone})"


# --- charts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Charts:
    """The report's charts, each None when there is nothing to draw."""

    daily: Drawing | None
    breakdown: Drawing | None
    engagement: Drawing | None = None  # replies and opt-outs per day


def build_charts(report: Report) -> Charts:
    """The report's charts, drawn once: the PDF draws them, the pages inline them as SVG."""
    series = report.get("series") or []
    return Charts(
        daily=_daily_chart(series),
        breakdown=_breakdown_chart(report.get("breakdown")),
        engagement=_engagement_chart(series),
    )


def to_svg(drawing: Drawing | None, name: str, label: str) -> SafeString | None:
    """Inline SVG: no XML prolog, no namespace URLs, ids prefixed so two charts can share a page."""
    if drawing is None:
        return None
    svg = renderSVG.drawToString(drawing)
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r"<title>.*?</title>\s*<desc>.*?</desc>", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\bid="([^"]+)"', rf'id="{name}-\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{name}-\1)", svg)
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{html.escape(label)}" ', 1)
    return mark_safe(svg)  # noqa: S308 - reportlab escapes the chart's text; label escaped above


def _shown(row: dict[str, Any], name: str) -> int | float | None:
    return None if row.get("suppressed") else (row.get("figures") or {}).get(name)


def _value_axis_from_zero(
    chart: VerticalBarChart | HorizontalBarChart, values: list[float]
) -> None:
    chart.valueAxis.valueMin = 0
    if max(values, default=0) <= 0:
        chart.valueAxis.valueMax = 1
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7


def _daily_chart(series: list[dict[str, Any]]) -> Drawing | None:
    return _day_bars(series, [("delivered", DELIVERED, "Delivered"), ("failed", FAILED, "Failed")])


def _engagement_chart(series: list[dict[str, Any]]) -> Drawing | None:
    return _day_bars(series, [("replies", REPLIES, "Replies"), ("opt_outs", OPT_OUTS, "Opt-outs")])


def _day_bars(
    series: list[dict[str, Any]], figures: list[tuple[str, colors.Color, str]]
) -> Drawing | None:
    """Bars per day, one per figure (name, colour, legend), withheld figures left out."""
    if not series:
        return None
    data = [[_shown(day, name) for day in series] for name, _, _ in figures]
    step = max(1, len(series) // 10)  # label about ten days, so the axis stays readable
    drawing = Drawing(CHART_WIDTH, 200)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 45, CHART_WIDTH - 60, 125
    chart.data = data
    for index, (_, colour, _) in enumerate(figures):
        chart.bars[index].fillColor = colour
    chart.bars.strokeColor = None
    chart.categoryAxis.categoryNames = [
        _short_day(day.get("key")) if i % step == 0 else "" for i, day in enumerate(series)
    ]
    chart.categoryAxis.labels.angle = 45
    chart.categoryAxis.labels.boxAnchor = "ne"
    _value_axis_from_zero(chart, [v for values in data for v in values if v is not None])
    legend = Legend()
    legend.x, legend.y = 40, 192
    legend.columnMaximum, legend.fontName, legend.fontSize = 1, FONT, 8
    legend.alignment, legend.dx, legend.dy, legend.deltax = "right", 8, 8, 70
    legend.colorNamePairs = [(colour, label) for _, colour, label in figures]
    drawing.add(chart)
    drawing.add(legend)
    return drawing


def _short_day(value: Any) -> str:
    day = _date(value)
    return f"{day.day} {day:%b}" if day else str(value or "")


def _breakdown_chart(breakdown: dict[str, Any] | None) -> Drawing | None:
    rows = [row for row in (breakdown or {}).get("rows") or [] if _shown(row, "delivered")]
    if not rows:
        return None
    values = [_shown(row, "delivered") for row in rows]
    height = 30 + 18 * len(rows)
    drawing = Drawing(CHART_WIDTH, height + 20)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 130, 20, CHART_WIDTH - 160, height - 10
    chart.data = [values]
    chart.bars[0].fillColor = DELIVERED
    chart.bars.strokeColor = None
    chart.categoryAxis.categoryNames = [_short_day(row.get("key"))[:28] for row in rows]
    chart.categoryAxis.reverseDirection = 1  # first row at the top, as in the table
    _value_axis_from_zero(chart, [v for v in values if v is not None])
    drawing.add(chart)
    return drawing


# --- PDF ---------------------------------------------------------------------------------


def report_story(report: Report) -> list[Flowable]:
    """What the PDF prints, top to bottom: the flowables `report_pdf` lays out on A4."""
    charts = build_charts(report)
    ctx = _context(report)
    name = str(ctx["campaign"].get("name") or "Campaign")
    story: list[Flowable] = [
        _p(f"{name}: funder report", STYLES["Title"]),
        _p(str(ctx["campaign"].get("organization") or ""), STYLES["Normal"]),
        _p(f"Election day: {ctx['election_day']}", STYLES["Normal"]),
        _p(f"Period: {ctx['period']}", STYLES["Normal"]),
        _p(f"Generated {ctx['generated']}", SMALL),
        Spacer(1, 4 * mm),
    ]
    story += [KeepTogether([_p("Totals", HEADING), _side_by_side(ctx["totals"])])]
    story += [Spacer(1, 2 * mm), _p(ctx["privacy_note"], SMALL), _p(LEGEND, SMALL)]
    if ctx["breakdown"] is not None:
        story += _charted(
            f"By {ctx['dimension_label']}",
            charts.breakdown,
            f"Delivered messages by {ctx['dimension_label']}; withheld cells left out.",
            ctx["breakdown"],
        )
    story += _section("Delivery errors", ctx["errors"])
    story += _charted("Day by day", charts.daily, DAILY_CAPTION, ctx["series"])
    if charts.engagement is not None:
        story += [
            KeepTogether(
                [
                    _p("Replies and opt-outs", HEADING),
                    charts.engagement,
                    _p(ENGAGEMENT_CAPTION, SMALL),
                ]
            )
        ]
    story += _section("Waves", ctx["waves"])
    for poll in ctx["polls"]:
        story += _section(f"Poll: {poll['wave']}", poll["grid"])
    if ctx["page_posts"].rows:
        story += _section("Facebook Page posts", ctx["page_posts"])
        story += [_p(ctx["page_posts_note"], SMALL)]
    return story


def column_widths(grid: Grid) -> list[float]:
    """Each column as wide as its widest cell and header; headers wrap at spaces, and the
    free-text first column wraps too, when the table would not fit the page otherwise."""

    def widest(texts: list[str], font: str = FONT) -> float:
        return max((stringWidth(text, font, FONT_SIZE) for text in texts), default=0.0)

    first_head, *heads = grid.head
    labels = [row[0] for row in grid.rows]
    cells = [widest([row[i] for row in grid.rows]) for i in range(1, len(grid.head))]
    narrowest_first = max(
        widest(first_head.split(), BOLD), widest([w for label in labels for w in label.split()])
    )
    first = max(
        min(max(widest(labels), widest([first_head], BOLD)), TEXT_COLUMN_MAX), narrowest_first
    )
    one_line = [first] + [max(c, widest([h], BOLD)) for c, h in zip(cells, heads, strict=True)]
    wrapped = [first] + [max(c, widest(h.split(), BOLD)) for c, h in zip(cells, heads, strict=True)]
    slack = 0.5  # points of rounding room per column
    room = FRAME_WIDTH - (2 * CELL_PADDING + slack) * len(grid.head)
    chosen = one_line if sum(one_line) <= room else wrapped
    if sum(chosen) > room:  # still too wide: the first column wraps, down to its longest word
        chosen[0] = max(narrowest_first, chosen[0] - (sum(chosen) - room))
    return [width + 2 * CELL_PADDING + slack for width in chosen]


def _p(text: str, style: ParagraphStyle = CELL) -> Paragraph:
    return Paragraph(escape(text), style)


def _charted(title: str, drawing: Drawing | None, caption: str, grid: Grid) -> list[Flowable]:
    """A heading, its chart and the chart's caption on one page, then its table."""
    if drawing is None:
        return _section(title, grid)
    return _kept([_p(title, HEADING), drawing, _p(caption, SMALL), Spacer(1, 2 * mm)], grid)


def _section(title: str, grid: Grid) -> list[Flowable]:
    """A heading and its table; a short table is never split from its heading or in two."""
    return _kept([_p(title, HEADING)], grid)


def _kept(head: list[Flowable], grid: Grid) -> list[Flowable]:
    """`head` on the page of the table's first rows; a short table whole, on one page."""
    # One KeepTogether, never nested: reportlab measures a nested one as endless, and then
    # starts a new page for it whatever room is left.
    table = _table(grid)
    if len(grid.rows) <= KEEP_WHOLE_ROWS:
        return [KeepTogether([*head, table])]
    # A long table flows on (its header row repeats), from a page with room for its head
    # and its first rows.
    least = sum(
        f.wrap(FRAME_WIDTH, A4[1])[1] + f.getSpaceBefore() + f.getSpaceAfter() for f in head
    )
    table.wrap(FRAME_WIDTH, A4[1])
    least += sum(table._rowHeights[: KEEP_WITH_HEADING + 1])
    return [CondPageBreak(least), *head, table]


def _side_by_side(grid: Grid) -> Table:
    """A long two-column table as four columns, its first half beside its second."""
    half = (len(grid.rows) + 1) // 2
    right = grid.rows[half:] + [[""] * len(grid.head)] * (2 * half - len(grid.rows))
    paired = Grid(grid.head * 2, [a + b for a, b in zip(grid.rows[:half], right, strict=True)])
    second = len(grid.head)
    return _table(
        paired,
        [
            ("ALIGN", (second, 1), (second, -1), "LEFT"),
            ("LINEBEFORE", (second, 0), (second, -1), 1, colors.grey),
        ],
        text_columns={second},
    )


def _table(
    grid: Grid,
    style: list[tuple] | None = None,
    *,
    text_columns: set[int] | None = None,
) -> Flowable:
    """The grid as a table with a repeated header row, or a "No data." line."""
    if not grid.rows:
        return _p("No data.", SMALL)
    text = {0} | (text_columns or set())
    body: list[list[Any]] = [
        [_p(label, HEAD_TEXT if i in text else HEAD) for i, label in enumerate(grid.head)]
    ]
    body += [[_p(row[0]), *row[1:]] for row in grid.rows]
    table = Table(body, colWidths=column_widths(grid), repeatRows=1, hAlign="LEFT")
    table.setStyle(TABLE_STYLE)
    if style:
        table.setStyle(TableStyle(style))
    return table
