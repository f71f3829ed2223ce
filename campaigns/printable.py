"""The printable funder report: self-contained HTML and an A4 PDF, charts drawn on the server.

Both formats read the report dict of the reports API. Charts are built once with
reportlab.graphics, then inlined as SVG in the HTML and drawn into the PDF. Nothing is fetched:
no CDN, no web fonts, no JavaScript; the PDF uses the built-in Helvetica fonts only.
"""

import html
import io
import re
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from reportlab.graphics import renderSVG
from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

Report = dict[str, Any]
Row = list[str]

DASH = "—"
DELIVERED = colors.HexColor("#2e7d32")
FAILED = colors.HexColor("#c62828")
CHART_WIDTH = 480

TOTALS = [
    ("targeted", "Targeted"),
    ("fatigue_capped", "Held back by the fatigue cap"),
    ("canceled", "Canceled"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("undelivered", "Undelivered"),
    ("delivery_rate", "Delivery rate"),
    ("replies", "Replies"),
    ("reply_rate", "Reply rate"),
    ("opt_outs", "Opt-outs"),
    ("opt_out_rate", "Opt-out rate"),
    ("clicks", "Link clicks"),
    ("click_rate", "Click rate"),
    ("poll_answers", "Poll answers"),
    ("segments", "SMS segments"),
]
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
    ("day", "Day"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
    ("replies", "Replies"),
    ("opt_outs", "Opt-outs"),
    ("clicks", "Clicks"),
]
WAVES = [
    ("name", "Wave"),
    ("targeted", "Targeted"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("delivery_rate", "Delivery rate"),
    ("replies", "Replies"),
    ("opt_outs", "Opt-outs"),
    ("clicks", "Clicks"),
]
ERRORS = [("status", "Status"), ("error_code", "Error code"), ("messages", "Messages")]


def fmt(name: str, value: Any) -> str:
    """A figure as printed: None is a dash, rates are percentages, counts get thousands commas."""
    if value is None:
        return DASH
    if name.endswith("_rate") and isinstance(value, int | float):
        return f"{value * 100:.1f}%"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def _table(columns: list[tuple[str, str]], items: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "head": [label for _, label in columns],
        "rows": [[fmt(name, item.get(name)) for name, _ in columns] for item in items],
    }


def _period(period: dict[str, str | None] | None) -> str:
    start, end = (period or {}).get("from"), (period or {}).get("to")
    if not start and not end:
        return "Whole campaign"
    return f"{start or 'start of campaign'} to {end or 'date'}"


def _context(report: Report) -> dict[str, Any]:
    """Everything both formats print, already formatted as text."""
    totals = report.get("totals") or {}
    money = [
        ("Cost", totals.get("cost")),
        ("Cost per delivered message", totals.get("cost_per_delivered")),
    ]
    currency = totals.get("currency") or ""
    totals_rows = [[label, fmt(name, totals.get(name))] for name, label in TOTALS] + [
        [label, f"{value} {currency}".strip() if value is not None else DASH]
        for label, value in money
    ]
    breakdown = report.get("breakdown") or {}
    dimension = str(breakdown.get("dimension") or "")
    rows = breakdown.get("rows") or []
    polls = [
        {
            "wave": poll.get("wave") or "",
            "rows": [
                [
                    fmt("number", o.get("number")),
                    str(o.get("name") or ""),
                    fmt("n", o.get("answers")),
                ]
                for o in poll.get("options") or []
            ],
        }
        for poll in report.get("polls") or []
    ]
    return {
        "campaign": report.get("campaign") or {},
        "period": _period(report.get("period")),
        "generated_at": report.get("generated_at") or "",
        "k": report.get("k"),
        "totals": {"head": ["Figure", "Value"], "rows": totals_rows},
        "dimension": dimension,
        "breakdown": {
            "head": [dimension.replace("_", " ").capitalize() or "Key"]
            + [label for _, label in BREAKDOWN],
            "rows": [
                [str(row.get("key"))]
                + [fmt(name, (row.get("figures") or {}).get(name)) for name, _ in BREAKDOWN]
                for row in rows
            ],
        },
        "errors": _table(ERRORS, report.get("errors") or []),
        "series": _table(SERIES, report.get("series") or []),
        "waves": _table(WAVES, report.get("waves") or []),
        "polls": polls,
        "polls_head": ["#", "Option", "Answers"],
    }


def footnote(k: Any) -> str:
    return (
        f"Cells describing fewer than {k} people are hidden, and so are some others so that "
        "hidden cells cannot be worked out from the totals."
    )


# --- charts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Charts:
    """The report's charts, each None when there is nothing to draw."""

    daily: Drawing | None
    breakdown: Drawing | None


def _value_axis_from_zero(
    chart: VerticalBarChart | HorizontalBarChart, values: list[float]
) -> None:
    chart.valueAxis.valueMin = 0
    if max(values, default=0) <= 0:
        chart.valueAxis.valueMax = 1
    chart.valueAxis.labels.fontName = "Helvetica"
    chart.valueAxis.labels.fontSize = 7
    chart.categoryAxis.labels.fontName = "Helvetica"
    chart.categoryAxis.labels.fontSize = 7


def _daily_chart(series: list[dict[str, Any]]) -> Drawing | None:
    if not series:
        return None
    delivered = [day.get("delivered") for day in series]
    failed = [day.get("failed") for day in series]
    step = max(1, len(series) // 10)  # label about ten days, so the axis stays readable
    drawing = Drawing(CHART_WIDTH, 220)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 50, CHART_WIDTH - 60, 140
    chart.data = [delivered, failed]
    chart.bars[0].fillColor, chart.bars[1].fillColor = DELIVERED, FAILED
    chart.bars.strokeColor = None
    chart.categoryAxis.categoryNames = [
        str(day.get("day") or "") if i % step == 0 else "" for i, day in enumerate(series)
    ]
    chart.categoryAxis.labels.angle = 45
    chart.categoryAxis.labels.boxAnchor = "ne"
    _value_axis_from_zero(chart, [v for v in delivered + failed if v is not None])
    legend = Legend()
    legend.x, legend.y = 40, 212
    legend.columnMaximum, legend.fontName, legend.fontSize = 1, "Helvetica", 8
    legend.alignment, legend.dx, legend.dy, legend.deltax = "right", 8, 8, 70
    legend.colorNamePairs = [(DELIVERED, "Delivered"), (FAILED, "Failed")]
    drawing.add(chart)
    drawing.add(legend)
    return drawing


def _breakdown_chart(breakdown: dict[str, Any] | None) -> Drawing | None:
    rows = [
        row
        for row in (breakdown or {}).get("rows") or []
        if (row.get("figures") or {}).get("delivered") is not None
    ]
    if not rows:
        return None
    values = [row["figures"]["delivered"] for row in rows]
    height = 30 + 18 * len(rows)
    drawing = Drawing(CHART_WIDTH, height + 20)
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 130, 20, CHART_WIDTH - 160, height - 10
    chart.data = [values]
    chart.bars[0].fillColor = DELIVERED
    chart.bars.strokeColor = None
    chart.categoryAxis.categoryNames = [str(row.get("key"))[:28] for row in rows]
    chart.categoryAxis.reverseDirection = 1  # first row at the top, as in the table
    _value_axis_from_zero(chart, values)
    drawing.add(chart)
    return drawing


def build_charts(report: Report) -> Charts:
    return Charts(
        daily=_daily_chart(report.get("series") or []),
        breakdown=_breakdown_chart(report.get("breakdown")),
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


# --- HTML --------------------------------------------------------------------------------------


def report_html(report: Report) -> str:
    charts = build_charts(report)
    context = _context(report)
    context["footnote"] = footnote(report.get("k"))
    context["daily_chart"] = to_svg(charts.daily, "daily", "Delivered and failed messages per day")
    context["breakdown_chart"] = to_svg(
        charts.breakdown, "breakdown", f"Delivered messages by {context['dimension']}"
    )
    return render_to_string("campaigns/report.html", context)


# --- PDF ---------------------------------------------------------------------------------------

STYLES = getSampleStyleSheet()
CELL = ParagraphStyle(
    "cell", parent=STYLES["BodyText"], fontName="Helvetica", fontSize=8, leading=10
)
SMALL = ParagraphStyle("small", parent=CELL, fontSize=7, textColor=colors.HexColor("#555555"))
TABLE_STYLE = TableStyle(
    [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTNAME", (0, 1), (-1, -1), "Helvetica"),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
)


def _p(text: str, style: ParagraphStyle = CELL) -> Paragraph:
    return Paragraph(escape(text), style)


def _pdf_table(table: dict[str, Any], wrap: int | None = 0, width: float = 40 * mm) -> Table:
    """A table with a repeated header; the `wrap` column (free text) wraps within `width`."""
    body: list[list[Any]] = [list(table["head"])]
    for row in table["rows"]:
        cells: list[Any] = list(row)
        if wrap is not None:
            cells[wrap] = _p(cells[wrap])
        body.append(cells)
    widths = [width if i == wrap else None for i in range(len(body[0]))]
    result = Table(body, colWidths=widths, repeatRows=1, hAlign="LEFT")
    result.setStyle(TABLE_STYLE)
    return result


def _section(
    title: str, table: dict[str, Any], wrap: int | None = 0, width: float = 40 * mm
) -> list[Flowable]:
    flowables: list[Flowable] = [_p(title, STYLES["Heading2"])]
    if table["rows"]:
        flowables.append(_pdf_table(table, wrap, width))
    else:
        flowables.append(_p("No data.", SMALL))
    return flowables


def report_pdf(report: Report, *, compress: bool = True, invariant: bool = False) -> bytes:
    """The report as A4 PDF; compress=False, invariant=True give plain, stable bytes (tests)."""
    charts = build_charts(report)
    ctx = _context(report)
    name = str(ctx["campaign"].get("name") or "Campaign")
    note = footnote(ctx["k"])
    story: list[Flowable] = [
        _p(f"{name}: funder report", STYLES["Title"]),
        _p(f"{ctx['campaign'].get('organization') or ''}", STYLES["Normal"]),
        _p(f"Election day: {ctx['campaign'].get('election_date') or DASH}", STYLES["Normal"]),
        _p(f"Period: {ctx['period']}", STYLES["Normal"]),
        _p(f"Generated: {ctx['generated_at']}", SMALL),
        Spacer(1, 4 * mm),
    ]
    story += _section("Totals", ctx["totals"])
    story += _section(f"By {ctx['dimension'] or 'key'}", ctx["breakdown"])
    story.append(_p(note, SMALL))
    if charts.breakdown is not None:
        story += [Spacer(1, 3 * mm), charts.breakdown]
    story += _section("Delivery errors", ctx["errors"], None)
    story.append(_p("Day by day", STYLES["Heading2"]))
    if charts.daily is not None:
        story += [charts.daily, Spacer(1, 3 * mm)]
    story += _section("", ctx["series"], None)[1:]
    story += _section("Waves", ctx["waves"])
    for poll in ctx["polls"]:
        story += _section(
            f"Poll: {poll['wave']}", {"head": ctx["polls_head"], "rows": poll["rows"]}, 1, 100 * mm
        )
    if ctx["polls"]:
        story.append(_p(note, SMALL))

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(doc.leftMargin, 10 * mm, f"{name}: funder report")
        canvas.drawRightString(A4[0] - doc.rightMargin, 10 * mm, f"Page {doc.page}")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"{name}: funder report",
        author=str(ctx["campaign"].get("organization") or ""),
        pageCompression=1 if compress else 0,
        invariant=1 if invariant else 0,
        initialFontName="Helvetica",
    )
    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
