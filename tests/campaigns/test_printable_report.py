"""The printable funder report: what a funder reads in the HTML page, the A4 PDF and the CSV.

Every report here is the real selector's output (`campaign_report`) for a campaign seeded
through the real services (tests/campaigns/report_seed.py): 36 people in three counties,
three waves sent on their days, receipts, replies, poll answers and STOPs. The seeding runs
once for the module, in a transaction rolled back at the end.
"""

import copy
import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import KeepTogether, Paragraph, Table

from campaigns.api.reports import report_csv
from campaigns.printable import (
    BOLD,
    CELL_PADDING,
    DAILY_CAPTION,
    FONT,
    FONT_SIZE,
    FRAME_WIDTH,
    report_html,
    report_pdf,
    report_story,
)
from campaigns.selectors.reports import DIMENSIONS, ReportScope, campaign_report
from campaigns.services.campaigns import campaign_create, campaign_update
from outreach.models import Region, Role
from outreach.services.organizations import member_add, organization_create
from tests.campaigns.conftest import ELECTION_DAY
from tests.campaigns.report_seed import COUNTIES, WAVES, seed_reported_campaign

pytestmark = pytest.mark.django_db  # so that the test database exists for the module's seed

Report = dict[str, Any]
DASH = "\N{EN DASH}"


@dataclass(frozen=True)
class Reports:
    """What the selector answered for the seeded campaign, asked several ways."""

    by: dict[str | None, Report]  # by dimension; None: no breakdown asked for
    typed: Report  # the campaign and a county renamed with markup in the names
    empty: Report  # a campaign with nothing sent yet


@pytest.fixture(scope="module")
def reports(django_db_setup, django_db_blocker) -> Reports:
    with django_db_blocker.unblock(), transaction.atomic():
        organization = organization_create(
            name="Peace Youth Kenya", admin_username="pyk-report-admin", languages=["en", "sw"]
        ).membership.organization
        author, reviewer = (
            member_add(
                organization=organization, username=f"report-{role}", role=role
            ).membership.user
            for role in (Role.MANAGER, Role.REVIEWER)
        )
        campaign = campaign_create(
            organization=organization,
            created_by=None,
            preset="KE",
            name="Amani 2027",
            election_date=ELECTION_DAY,
        )
        seed_reported_campaign(campaign=campaign, author=author, reviewer=reviewer)
        by = {
            dimension: campaign_report(ReportScope(campaign=campaign, dimension=dimension))
            for dimension in [None, *DIMENSIONS]
        }
        campaign_update(campaign=campaign, by=None, name="<script>alert(1)</script>")
        Region.objects.filter(organization=organization, name="Nairobi").update(
            name="<b>Nairobi</b>"
        )
        typed = campaign_report(ReportScope(campaign=campaign, dimension="region"))
        quiet = campaign_create(organization=organization, created_by=None, name="Pilot 2027")
        empty = campaign_report(ReportScope(campaign=quiet))
        transaction.set_rollback(True)
    return Reports(by=by, typed=typed, empty=empty)


@pytest.fixture
def report(reports) -> Report:
    return copy.deepcopy(reports.by["region"])


# --- what a funder expects to read, worked out from the report's figures ---------------


def shown(name: str, value: Any) -> str:
    if value is None:
        return DASH
    if name.endswith("_rate"):
        return f"{value * 100:.1f}%"
    return f"{value:,}"


def day_label(key: str) -> str:
    day = dt.date.fromisoformat(key)
    return f"{day:%a} {day.day} {day:%b %Y}"


def figures_of(row: dict, names: list[str]) -> list[str]:
    figures = row["figures"]
    return [shown(n, None if row["suppressed"] else figures[n]) for n in names]


DAY_COLUMNS = ["targeted", "sent", "delivered", "failed", "replies", "opt_outs", "clicks"]
WAVE_COLUMNS = [
    "targeted",
    "sent",
    "delivered",
    "delivery_rate",
    "replies",
    "reply_rate",
    "opt_outs",
    "clicks",
]


def html_row(cells: list[str]) -> str:
    return "<tr>" + "".join(f"<td>{cell}</td>" for cell in cells) + "</tr>"


def svg_of(html: str, label: str) -> str:
    match = re.search(rf'<svg role="img" aria-label="{re.escape(label)}".*?</svg>', html, re.S)
    assert match, f"no chart {label!r}"
    return match.group(0)


def assert_self_contained(html: str) -> None:
    assert "http://" not in html
    assert "https://" not in html
    assert not re.search(r"<script|<link|@import|url\((?!#)", html, re.IGNORECASE)


def pdf_pages(pdf: bytes) -> list[str]:
    """The text drawn on each page of an uncompressed PDF, one string per page."""
    objects = {
        int(number): body
        for number, body in re.findall(rb"(\d+) 0 obj\s*(.*?)\s*endobj", pdf, re.DOTALL)
    }
    (kids,) = re.findall(rb"/Kids \[([^\]]*)\]", pdf)
    pages = []
    for page in re.findall(rb"(\d+) 0 R", kids):
        (contents,) = re.findall(rb"/Contents (\d+) 0 R", objects[int(page)])
        stream = re.search(rb"stream\r?\n(.*?)endstream", objects[int(contents)], re.DOTALL)
        strings = re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", stream.group(1), re.DOTALL)
        pages.append("\n".join(_pdf_string(s) for s in strings))
    return pages


def _pdf_string(raw: bytes) -> str:
    unescaped = re.sub(
        rb"\\([0-7]{1,3}|.)",
        lambda m: bytes([int(m.group(1), 8)]) if m.group(1).isdigit() else m.group(1),
        raw,
    )
    return unescaped.decode("cp1252")


def tables_in(story: list) -> list[Table]:
    found = []
    for flowable in story:
        if isinstance(flowable, KeepTogether):
            found += tables_in(flowable._content)
        elif isinstance(flowable, Table):
            found.append(flowable)
    return found


def text_of(cell: Any) -> str:
    if isinstance(cell, list | tuple):  # a table keeps a flowable cell as a list of them
        return " ".join(text_of(part) for part in cell)
    if isinstance(cell, Paragraph):
        return re.sub(r"<[^>]+>", "", cell.text).replace("&amp;", "&").replace("&lt;", "<")
    return str(cell)


# --- the seeded campaign is a real one -------------------------------------------------


def test_the_seeded_report_has_days_waves_and_figures_to_show(reports):
    report = reports.by["region"]

    assert [row["name"] for row in report["waves"]] == [plan.name for plan in WAVES]
    assert len(report["series"]) >= 3
    published = [
        value
        for row in report["series"] + report["waves"]
        for value in row["figures"].values()
        if isinstance(value, int) and value > 0
    ]
    assert len(published) > 20  # enough people that not every cell is withheld
    assert sum(COUNTIES.values()) >= 30


# --- HTML ------------------------------------------------------------------------------


def test_the_html_shows_a_row_for_every_day_with_its_figures(report):
    html = report_html(report)

    for day in report["series"]:
        assert html_row([day_label(day["key"]), *figures_of(day, DAY_COLUMNS)]) in html


def test_the_html_shows_a_row_for_every_wave_with_its_name_and_figures(report):
    html = report_html(report)

    for wave in report["waves"]:
        assert html_row([wave["name"], *figures_of(wave, WAVE_COLUMNS)]) in html


def test_the_daily_chart_has_a_bar_for_every_day_that_delivered(report):
    chart = svg_of(report_html(report), DAILY_CAPTION)

    delivering = [
        day
        for day in report["series"]
        if not day["suppressed"] and (day["figures"]["delivered"] or 0) > 0
    ]
    bar = r'<rect [^>]*style="stroke: none;[^"]*fill: rgb\(18%,49%,19%\)'  # #2e7d32, unstroked
    assert len(delivering) >= 3
    assert len(re.findall(bar, chart)) == len(delivering)
    for day in report["series"]:
        date = dt.date.fromisoformat(day["key"])
        assert f">{date.day} {date:%b}</text>" in chart


def test_the_html_shows_the_breakdown_asked_for_and_its_chart(report):
    html = report_html(report)

    assert "<h2>By region</h2>" in html
    for row in report["breakdown"]["rows"]:
        assert f"<tr><td>{row['key']}</td>" in html
    svg_of(html, "Delivered messages by region")


def test_no_by_section_when_no_breakdown_was_asked_for(reports):
    html = report_html(reports.by[None])

    assert "<h2>By" not in html
    assert html.count("<svg") == 1  # the daily chart only


def test_a_withheld_figure_is_a_dash_and_a_legend_says_why(report):
    withheld = [
        (day, name)
        for day in report["series"]
        for name in DAY_COLUMNS
        if day["figures"][name] is None
    ]
    html = report_html(report)

    assert withheld  # figures this small are withheld, suppressed row or not
    assert f"<td>{DASH}</td>" in html
    assert f'<p class="note legend">{DASH} marks a figure withheld to protect privacy.</p>' in html
    assert "—" not in html  # the em dash of the old renderer


def test_the_privacy_note_says_figures_are_perturbed_and_small_cells_withheld(report):
    report["privacy"] = {"k": 10, "method": "cell key", "max_perturbation": 2}

    html = report_html(report)

    assert "perturbed slightly (by at most 2)" in html
    assert "fewer than 10 people are withheld" in html


@pytest.mark.parametrize("privacy", [None, {"k": 12}])
def test_without_a_perturbation_the_note_names_k_alone(report, privacy):
    report.pop("privacy", None)
    if privacy:
        report["privacy"] = privacy

    html = report_html(report)

    assert "perturbed" not in html
    assert f"fewer than {(privacy or report)['k']} people are withheld" in html


def test_withheld_errors_polls_and_totals_are_dashes_not_errors(report):
    report["totals"] = dict.fromkeys(report["totals"])
    for error in report["errors"]:
        error["messages"] = None

    html = report_html(report)
    pdf = report_pdf(report, compress=False, invariant=True)

    assert f"<tr><td>Targeted</td><td>{DASH}</td></tr>" in html
    assert "30006" in html
    assert "Pledge a peaceful vote" in html
    assert "Targeted" in "".join(pdf_pages(pdf))


def test_generated_reads_as_a_date_and_a_time_in_a_named_zone(report):
    report["generated_at"] = "2026-12-02T11:05:00+00:00"
    in_nairobi = copy.deepcopy(report)
    in_nairobi["campaign"]["timezone"] = "Africa/Nairobi"

    assert "Generated 2 December 2026, 14:05 (Africa/Nairobi)" in report_html(report)
    assert "Generated 2 December 2026, 14:05 (Africa/Nairobi)" in report_html(in_nairobi)
    assert "2026-12-02T" not in report_html(report)


def test_html_escapes_what_users_typed(reports):
    html = report_html(reports.typed)

    assert "&lt;script&gt;" in html
    assert "<b>Nairobi" not in html
    assert "&lt;b&gt;Nairobi" in html
    assert_self_contained(html)


def test_html_is_self_contained_and_prints(report):
    html = report_html(report)

    assert "@media print" in html
    assert_self_contained(html)


# --- PDF -------------------------------------------------------------------------------


def test_the_pdf_shows_every_day_and_every_wave_with_its_figures(report):
    text = "\n".join(pdf_pages(report_pdf(report, compress=False, invariant=True)))

    for day in report["series"]:
        assert day_label(day["key"]) in text
    for wave in report["waves"]:
        assert wave["name"] in text
        lines = text.split("\n")
        at = lines.index(wave["name"])
        assert lines[at + 1 : at + 1 + len(WAVE_COLUMNS)] == figures_of(wave, WAVE_COLUMNS)
    assert "Waves" in text
    assert "Day by day" in text


def test_the_pdf_is_a4_in_built_in_fonts_and_names_the_campaign(report):
    pdf = report_pdf(report, compress=False, invariant=True)

    assert pdf.startswith(b"%PDF")
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf
    assert "Amani 2027: funder report" in pdf_pages(pdf)[0]  # drawn, not only metadata
    assert b"Helvetica" in pdf
    assert b"/FontFile" not in pdf  # built-in fonts only, nothing embedded


def test_the_pdf_is_compressed_by_default(report):
    pdf = report_pdf(report)

    assert pdf.startswith(b"%PDF")
    assert b"/FlateDecode" in pdf


def test_the_pdf_leaves_out_the_by_section_when_no_breakdown_was_asked_for(reports):
    pages = pdf_pages(report_pdf(reports.by[None], compress=False, invariant=True))

    assert not any(line.startswith("By ") for page in pages for line in page.split("\n"))


def test_the_pdf_says_when_it_was_generated_in_words(report):
    report["generated_at"] = "2026-12-02T11:05:00+00:00"

    first = pdf_pages(report_pdf(report, compress=False, invariant=True))[0]

    assert "Generated 2 December 2026, 14:05 (Africa/Nairobi)" in first


@pytest.mark.parametrize("dimension", [None, *DIMENSIONS])
def test_every_pdf_column_is_wide_enough_for_its_header_and_cells(reports, dimension):
    story = report_story(reports.by[dimension])

    tables = tables_in(story)
    assert len(tables) >= 4
    for table in tables:
        table.wrap(FRAME_WIDTH, A4[1])
        widths = table._colWidths
        assert sum(widths) <= FRAME_WIDTH
        head, *rows = table._cellvalues
        for cell, width in zip(head, widths, strict=True):
            room = width - 2 * CELL_PADDING
            for word in text_of(cell).split():  # a header wraps between words, never inside
                assert stringWidth(word, BOLD, FONT_SIZE) <= room, (text_of(cell), width)
        for row in rows:
            for cell, width in zip(row[1:], widths[1:], strict=True):  # figures do not wrap
                assert stringWidth(text_of(cell), FONT, FONT_SIZE) <= width - 2 * CELL_PADDING


@pytest.mark.parametrize("dimension", [None, *DIMENSIONS])
def test_a_chart_is_on_the_page_of_its_heading(reports, dimension):
    pages = pdf_pages(report_pdf(reports.by[dimension], compress=False, invariant=True))

    (heading,) = [n for n, page in enumerate(pages) if "Day by day" in page.split("\n")]
    lines = pages[heading].split("\n")
    for day in reports.by[dimension]["series"]:  # the chart's own labels: "3 Aug"
        date = dt.date.fromisoformat(day["key"])
        assert f"{date.day} {date:%b}" in lines
    assert DAILY_CAPTION in lines  # drawn below the chart
    rows = (reports.by[dimension]["breakdown"] or {}).get("rows", [])
    if any(not row["suppressed"] and row["figures"]["delivered"] for row in rows):
        label = dimension.replace("_", " ")
        (heading,) = [n for n, page in enumerate(pages) if f"By {label}" in page.split("\n")]
        assert f"Delivered messages by {label}; withheld cells left out." in pages[heading]


@pytest.mark.parametrize("dimension", [None, *DIMENSIONS])
def test_a_long_day_table_starts_under_its_chart_on_the_page_of_its_heading(reports, dimension):
    report = copy.deepcopy(reports.by[dimension])
    report["series"] = report["series"] * 8  # as many days as a two-month campaign

    pages = pdf_pages(report_pdf(report, compress=False, invariant=True))

    (heading,) = [n for n, page in enumerate(pages) if "Day by day" in page.split("\n")]
    lines = pages[heading].split("\n")
    assert DAILY_CAPTION in lines
    assert day_label(report["series"][0]["key"]) in lines  # the table's first row
    assert any("Day by day" not in page and "Tue 3 Aug 2027" in page for page in pages)


def test_a_campaign_with_nothing_sent_still_renders(reports):
    html = report_html(reports.empty)
    pdf = report_pdf(reports.empty, compress=False, invariant=True)

    assert "Pilot 2027" in html
    assert "<svg" not in html
    assert "No data." in html
    assert_self_contained(html)
    assert "Pilot 2027: funder report" in pdf_pages(pdf)[0]


# --- CSV -------------------------------------------------------------------------------


def test_the_csv_holds_every_day_and_every_wave_with_its_figures(report):
    rows = list(csv.DictReader(io.StringIO(report_csv(report))))

    days = [row for row in rows if row["section"] == "series"]
    waves = [row for row in rows if row["section"] == "waves"]
    assert [row["key"] for row in days] == [day["key"] for day in report["series"]]
    assert [row["key"] for row in waves] == [wave["name"] for wave in report["waves"]]
    for written, wave in zip(waves, report["waves"], strict=True):
        for name in WAVE_COLUMNS:
            value = wave["figures"][name]
            assert written[name] == ("" if value is None else str(value)), name
    assert {row["key"] for row in rows if row["section"] == "breakdown"} == set(COUNTIES)
