"""The funder dashboard: the report API's figures, the printable report's charts, CSV and PDF.

The campaign is seeded through the real services (tests/campaigns/report_seed.py): people
sign up, two waves go out on the console channel, receipts, replies, poll answers and STOPs
come back, and the rollups are computed; every figure on the page is compared with what the
report API answers a funder for the same query.
"""

import base64
import re
import zlib

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.printable import build_charts, fmt, privacy_note, to_svg
from campaigns.selectors.reports import ReportScope, campaign_report
from campaigns.services.campaigns import campaign_create, campaign_share
from outreach.models import Organization, Role
from outreach.services.organizations import member_add, organization_create
from tests.campaigns.conftest import ELECTION_DAY
from tests.campaigns.report_seed import WAVES, seed_reported_campaign
from tests.support.module_rows import rows_for_module

API_REPORTS = "/api/v1/reports/campaigns/"
COUNTIES = {"Nairobi": 14, "Mombasa": 11, "Kisumu": 4}  # Kisumu is below k = 10


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> tuple[int, int]:
    """A campaign with two waves sent, answered and rolled up, seeded once for the module.

    Its organization and campaign ids; every test reads them afresh (`organization`,
    `reported`), and what a test changes is rolled back after it (tests/support/module_rows.py).
    """

    def seed() -> tuple[int, int]:
        organization = organization_create(
            name="Peace Youth Kenya", admin_username="pyk-admin", languages=["en", "sw"]
        ).membership.organization
        author, reviewer = (
            member_add(
                organization=organization, username=f"funder-pages-{role}", role=role
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
        seed_reported_campaign(
            campaign=campaign, author=author, reviewer=reviewer, plans=WAVES[:2], counties=COUNTIES
        )
        return organization.pk, campaign.pk

    yield from rows_for_module(django_db_blocker, seed)


@pytest.fixture
def organization(db, seeded) -> Organization:
    return Organization.objects.get(pk=seeded[0])


@pytest.fixture
def reported(db, seeded) -> Campaign:
    """A campaign with two waves sent, answered and rolled up."""
    return Campaign.objects.get(pk=seeded[1])


@pytest.fixture
def funder(organization, console_as, reported):
    client = console_as(organization, Role.FUNDER)
    campaign_share(campaign=reported, funder_ids=[client.membership.user_id])
    return client


@pytest.fixture
def funder_api(organization, member_client, reported, funder):
    """The report API as a funder of the same campaign sees it."""
    client = member_client(organization, Role.FUNDER)
    campaign_share(
        campaign=reported, funder_ids=[funder.membership.user_id, client.membership.user_id]
    )
    return client


def page_url(campaign, **query) -> str:
    url = reverse("console:funder-campaign", args=[campaign.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def figures_on(html: str) -> dict[str, str]:
    """The headline figures and the totals table, by figure name, as the page shows them."""
    headline = dict(re.findall(r'<li data-figure="(\w+)"><span class="n">([^<]*)</span>', html))
    totals = dict(
        re.findall(
            r'<tr data-figure="(\w+)"><th scope="row">[^<]*</th><td class="num">([^<]*)<', html
        )
    )
    return {"headline": headline, "totals": totals}


# --- the list ------------------------------------------------------------------------------


def test_a_funder_sees_only_the_campaigns_shared_with_them(organization, reported, funder):
    campaign_create(organization=organization, created_by=None, name="Pilot not shared")

    html = funder.get(reverse("console:funder-home")).content.decode()

    assert "Amani 2027" in html
    assert page_url(reported) in html
    assert "Pilot not shared" not in html


def test_staff_see_every_campaign_of_their_organization(organization, reported, console_as):
    campaign_create(organization=organization, created_by=None, name="Pilot not shared")
    reviewer = console_as(organization, Role.REVIEWER)

    html = reviewer.get(reverse("console:funder-home")).content.decode()

    assert "Amani 2027" in html
    assert "Pilot not shared" in html


def test_a_funder_with_nothing_shared_is_told_so(organization, console_as, reported):
    stranger = console_as(organization, Role.FUNDER)

    html = stranger.get(reverse("console:funder-home")).content.decode()

    assert "No campaign has been shared with you yet" in html
    assert "Amani 2027" not in html


def test_a_campaign_not_shared_with_the_funder_is_not_found(organization, console_as, reported):
    stranger = console_as(organization, Role.FUNDER)

    for name in ("funder-campaign", "funder-campaign-csv", "funder-campaign-pdf"):
        response = stranger.get(reverse(f"console:{name}", args=[reported.pk]))
        assert response.status_code == 404, name
        assert "Amani 2027" not in response.content.decode()


# --- the campaign page ---------------------------------------------------------------------


def test_the_page_shows_the_figures_the_report_api_gives_the_funder(reported, funder, funder_api):
    api = funder_api.get(f"{API_REPORTS}{reported.pk}/", {"by": "region"}).json()

    shown = figures_on(funder.get(page_url(reported)).content.decode())

    assert api["totals"]["delivered"] > 0  # real figures, not all withheld
    for name, value in shown["headline"].items():
        assert value == fmt(name, api["totals"][name]), name
    assert set(shown["headline"]) >= {"targeted", "delivered", "replies", "opt_outs"}
    for name in ("targeted", "sent", "delivered", "failed", "replies", "opt_outs", "clicks"):
        assert shown["totals"][name] == fmt(name, api["totals"][name]), name


def test_the_page_shows_the_breakdown_days_waves_and_polls_of_the_report(reported, funder):
    report = campaign_report(ReportScope(campaign=reported, dimension="region"))

    html = funder.get(page_url(reported)).content.decode()

    breakdown = html[html.index('id="breakdown-table"') :]
    for row in report["breakdown"]["rows"]:
        delivered = fmt("delivered", None if row["suppressed"] else row["figures"]["delivered"])
        assert re.search(
            rf'<th scope="row">{row["key"]}</th>(<td class="num">[^<]*</td>){{2}}'
            rf'<td class="num">{re.escape(delivered)}</td>',
            breakdown,
        ), row
    assert any(row["suppressed"] for row in report["breakdown"]["rows"])  # Kisumu withheld
    for wave in report["waves"]:
        assert f'<th scope="row">{wave["name"]}</th>' in html
    assert len(report["series"]) >= 2
    (poll,) = report["polls"]
    assert "Pledge a peaceful vote" in html
    assert f"<h3>{poll['wave']}</h3>" in html


def test_the_page_draws_the_printable_reports_charts(reported, funder):
    report = campaign_report(ReportScope(campaign=reported, dimension="region"))
    charts = build_charts(report)

    html = funder.get(page_url(reported)).content.decode()

    assert html.count("<svg") == 3
    assert to_svg(charts.daily, "daily", "Delivered and failed messages per day") in html
    assert to_svg(charts.engagement, "engagement", "Replies and opt-outs per day") in html
    assert to_svg(charts.breakdown, "breakdown", "Delivered messages by Region") in html


def test_the_page_says_how_the_figures_are_protected(reported, funder):
    report = campaign_report(ReportScope(campaign=reported, dimension="region"))

    html = funder.get(page_url(reported)).content.decode()

    assert privacy_note(report) in html
    assert "figures describing fewer than 10 people are withheld" in html


def test_the_page_names_no_subscriber(reported, funder):
    html = funder.get(page_url(reported)).content.decode()

    assert "+2547" not in html
    assert "0712" not in html
    assert "Asante, tutapiga kura" not in html  # what people wrote stays out too


def test_choosing_a_breakdown_redraws_only_the_breakdown(reported, funder):
    report = campaign_report(ReportScope(campaign=reported, dimension="language"))

    response = funder.get(
        page_url(reported, by="language"),
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="breakdown-figures",
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert html.startswith('<div id="breakdown-figures">')
    assert 'id="breakdown-by"' not in html  # the select stays, and keeps the focus
    assert '<h2 id="breakdown-heading" hx-swap-oob="true">By Language</h2>' in html
    assert {row["key"] for row in report["breakdown"]["rows"]} == {"en", "sw"}
    for row in report["breakdown"]["rows"]:
        assert f'<th scope="row">{row["key"]}</th>' in html
    assert 'id="downloads" hx-swap-oob="true"' in html
    assert "pdf/?by=language" in html


def test_without_a_breakdown_the_page_has_two_charts(reported, funder):
    html = funder.get(page_url(reported, by="")).content.decode()

    assert html.count("<svg") == 2
    assert 'id="breakdown-table"' not in html


def test_one_wave_and_a_period_give_the_apis_figures_for_them(reported, funder, funder_api):
    wave = reported.waves.order_by("scheduled_for").last()
    query = {"wave": wave.pk, "from": "2027-08-07", "to": "2027-08-09", "by": "gender"}
    api = funder_api.get(f"{API_REPORTS}{reported.pk}/", query).json()

    html = funder.get(page_url(reported, **query)).content.decode()

    shown = figures_on(html)
    assert "7 August 2027 \N{EN DASH} 9 August 2027" in html
    assert f"<dd>{wave.name}</dd>" in html
    assert api["totals"]["delivered"]
    for name, value in shown["totals"].items():
        if name in api["totals"] and name != "cost":
            assert value == fmt(name, api["totals"][name]), name


# --- downloads -----------------------------------------------------------------------------


def test_the_csv_is_the_report_apis_csv(reported, funder, funder_api):
    api = funder_api.get(f"{API_REPORTS}{reported.pk}/csv/", {"by": "age_band"})

    response = funder.get(
        reverse("console:funder-campaign-csv", args=[reported.pk]) + "?by=age_band"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content == api.content
    assert b"breakdown,age_band," in response.content


def test_the_pdf_is_the_printed_report_with_the_campaigns_name_and_figures(reported, funder):
    report = campaign_report(ReportScope(campaign=reported, dimension="region"))

    response = funder.get(reverse("console:funder-campaign-pdf", args=[reported.pk]) + "?by=region")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="amani-report-amani-2027.pdf"'
    text = pdf_text(response.content)
    assert response.content.startswith(b"%PDF")
    assert "Amani 2027: funder report" in text
    assert "By region" in text
    assert "Replies and opt-outs" in text
    assert fmt("delivered", report["totals"]["delivered"]) in text


def test_the_downloads_carry_the_pages_query(reported, funder):
    wave = reported.waves.order_by("scheduled_for").first()

    html = funder.get(page_url(reported, wave=wave.pk, by="channel")).content.decode()

    csv_url = reverse("console:funder-campaign-csv", args=[reported.pk])
    assert f'href="{csv_url}?wave={wave.pk}&amp;by=channel"' in html


# --- bad queries ---------------------------------------------------------------------------


def test_a_period_ending_before_it_starts_is_shown_next_to_the_field(reported, funder):
    response = funder.get(page_url(reported, **{"from": "2027-08-09", "to": "2027-08-01"}))

    html = response.content.decode()
    assert response.status_code == 400
    assert re.search(r'id="id_to"[^>]*aria-invalid="true"', html)
    assert '<span class="errorlist" id="to-errors">The period ends before it starts.</span>' in html


def test_a_wave_not_of_this_campaign_is_refused_next_to_the_field(reported, funder):
    bad = max(reported.waves.values_list("pk", flat=True)) + 1_000

    for url in (
        page_url(reported, wave=bad),
        reverse("console:funder-campaign-pdf", args=[reported.pk]) + f"?wave={bad}",
    ):
        response = funder.get(url)
        assert response.status_code == 400, url
        assert 'id="wave-errors"' in response.content.decode()


def test_an_unknown_breakdown_is_a_400_not_a_500(reported, funder):
    response = funder.get(page_url(reported, by="phone_number"))

    assert response.status_code == 400
    assert 'id="by-errors"' in response.content.decode()


# --- what a funder never opens -------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["console:audience", "console:inbox", "console:campaigns", "console:review-queue"]
)
def test_a_funder_is_refused_the_staff_pages(funder, name):
    response = funder.get(reverse(name))

    assert response.status_code == 403
    assert "Not for your role" in response.content.decode()


def test_a_funder_lands_on_the_dashboard(funder):
    response = funder.get(reverse("console:home"))

    assert response.status_code == 302
    assert response["Location"] == reverse("console:funder-home")


# --- helpers -------------------------------------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """The strings a PDF draws (its Tj operators), from every stream, decoded if compressed."""
    text = []
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        if stream.rstrip().endswith(b"~>"):  # reportlab's /ASCII85Decode /FlateDecode
            stream = zlib.decompress(base64.a85decode(stream.rstrip(), adobe=True))
        for raw in re.findall(rb"\(((?:[^()\\]|\\.)*)\) Tj", stream, re.DOTALL):
            text.append(re.sub(rb"\\(.)", rb"\1", raw).decode("cp1252"))
    return "\n".join(text)


def test_the_report_page_is_drawn_in_kiswahili_once_chosen(reported, funder):
    chosen = funder.post(reverse("set_language"), {"language": "sw", "next": "/console/"})
    assert chosen.status_code == 302

    response = funder.get(page_url(reported))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="sw">' in html
    assert "Ruka hadi maudhui" in html  # skip to content
    assert "Takwimu kuu" in html  # headline figures
    assert "Ili kulinda faragha" in html  # the privacy note, in the reader's language
    assert "To protect privacy" not in html
    assert html.count("<svg") == 3
