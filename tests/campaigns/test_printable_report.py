"""The printable funder report: self-contained HTML with inline SVG charts, and an A4 PDF."""

import copy
import re
from typing import Any

import pytest

from campaigns.printable import report_html, report_pdf

REPORT: dict[str, Any] = {
    "campaign": {
        "id": 3,
        "name": "Amani 2027",
        "election_date": "2027-08-10",
        "organization": "Peace NGO",
    },
    "period": {"from": "2027-07-01", "to": "2027-08-10"},
    "generated_at": "2027-08-11T09:00:00+03:00",
    "k": 10,
    "totals": {
        "targeted": 1200,
        "fatigue_capped": 30,
        "canceled": 4,
        "sent": 1166,
        "delivered": 1100,
        "failed": 40,
        "undelivered": 26,
        "delivery_rate": 0.943,
        "replies": 120,
        "reply_rate": 0.109,
        "opt_outs": 12,
        "opt_out_rate": 0.0109,
        "clicks": 300,
        "click_rate": 0.273,
        "poll_answers": 80,
        "segments": 1300,
        "cost": "52.0000",
        "currency": "USD",
        "cost_per_delivered": "0.0473",
    },
    "breakdown": {
        "dimension": "region",
        "rows": [
            {
                "key": "Nairobi",
                "suppressed": False,
                "figures": {
                    "targeted": 800,
                    "sent": 790,
                    "delivered": 750,
                    "failed": 30,
                    "undelivered": 10,
                    "delivery_rate": 0.949,
                    "replies": 90,
                    "reply_rate": 0.12,
                    "opt_outs": 8,
                    "opt_out_rate": 0.0107,
                },
            },
            {
                "key": "Kisumu",
                "suppressed": True,
                "figures": dict.fromkeys(
                    [
                        "targeted",
                        "sent",
                        "delivered",
                        "failed",
                        "undelivered",
                        "delivery_rate",
                        "replies",
                        "reply_rate",
                        "opt_outs",
                        "opt_out_rate",
                    ]
                ),
            },
        ],
    },
    "errors": [
        {"status": "undelivered", "error_code": "30003", "messages": 20},
        {"status": "failed", "error_code": "30006", "messages": 40},
    ],
    "series": [
        {
            "day": "2027-08-03",
            "sent": 600,
            "delivered": 570,
            "failed": 20,
            "replies": 60,
            "opt_outs": 5,
            "clicks": 150,
        }
    ],
    "waves": [
        {
            "id": 7,
            "name": "E-7",
            "targeted": 600,
            "sent": 590,
            "delivered": 570,
            "delivery_rate": 0.966,
            "replies": 60,
            "opt_outs": 5,
            "clicks": 150,
        }
    ],
    "polls": [
        {
            "wave_id": 7,
            "wave": "E-7",
            "options": [
                {"number": 1, "name": "Pledge a peaceful vote", "answers": 60},
                {"number": 2, "name": "Talk to a mentor", "answers": None},
            ],
        }
    ],
}


def empty_report() -> dict[str, Any]:
    report = copy.deepcopy(REPORT)
    report.update(
        period={"from": None, "to": None},
        series=[],
        breakdown={"dimension": "region", "rows": []},
        errors=[],
        waves=[],
        polls=[],
    )
    report["totals"] = dict.fromkeys(report["totals"])
    return report


def assert_self_contained(html: str) -> None:
    assert "http://" not in html
    assert "https://" not in html
    assert not re.search(r"<script|<link|@import|url\((?!#)", html, re.IGNORECASE)


def pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def test_html_shows_the_report_and_is_self_contained():
    html = report_html(REPORT)

    assert "Amani 2027" in html
    assert "Peace NGO" in html
    assert "2027-07-01 to 2027-08-10" in html
    for figure in ("1,200", "1,166", "1,100", "94.3%", "10.9%", "1.1%", "52.0000 USD"):
        assert f"<td>{figure}</td>" in html
    assert html.count("<svg") == 2  # daily delivered/failed and the breakdown
    assert "<td>Kisumu</td><td>—</td>" in html
    assert "Cells describing fewer than 10 people are hidden" in html
    assert "30006" in html
    assert "Pledge a peaceful vote" in html
    assert "@media print" in html
    assert_self_contained(html)


def test_html_escapes_what_users_typed():
    report = copy.deepcopy(REPORT)
    report["campaign"]["name"] = "<script>alert(1)</script>"
    report["breakdown"]["rows"][0]["key"] = "<b>Nairobi</b>"

    html = report_html(report)

    assert "&lt;script&gt;" in html
    assert "<b>Nairobi" not in html
    assert_self_contained(html)


def test_pdf_is_a4_and_carries_the_campaign_name():
    pdf = report_pdf(REPORT, compress=False, invariant=True)

    assert pdf.startswith(b"%PDF")
    assert pdf_pages(pdf) >= 1
    assert b"/MediaBox [ 0 0 595.2756 841.8898 ]" in pdf
    assert b"(Amani 2027: funder report) Tj" in pdf  # drawn text, not just the metadata
    assert b"Helvetica" in pdf
    assert b"/FontFile" not in pdf  # built-in fonts only, nothing embedded


def test_pdf_is_compressed_by_default():
    pdf = report_pdf(REPORT)

    assert pdf.startswith(b"%PDF")
    assert b"/FlateDecode" in pdf


@pytest.mark.parametrize("report", [empty_report(), {"campaign": {"name": "Amani 2027"}}])
def test_a_report_without_data_still_renders(report):
    html = report_html(report)
    pdf = report_pdf(report, compress=False, invariant=True)

    assert "Amani 2027" in html
    assert "<svg" not in html
    assert "No data." in html
    assert_self_contained(html)
    assert pdf.startswith(b"%PDF")
    assert pdf_pages(pdf) >= 1
    assert b"Amani 2027" in pdf
