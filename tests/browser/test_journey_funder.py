"""Journey 4: a funder signs in, reads the report of a campaign shared with them, downloads it.

The campaign is seeded through the real services (tests/campaigns/report_seed.py): people
sign up on paper, two waves go out on the console channel, receipts, replies, poll answers
and STOPs come back, and the rollups are computed. What the funder reads is compared with
what `campaign_report` answers for the same scope.
"""

import re
from pathlib import Path

from playwright.sync_api import expect

from campaigns.printable import fmt
from campaigns.selectors.reports import ReportScope, campaign_report
from campaigns.services.campaigns import campaign_create, campaign_share
from console.views.funder import HEADLINE
from outreach.models import Role
from tests.campaigns.conftest import ELECTION_DAY
from tests.campaigns.report_seed import WAVES, seed_reported_campaign
from tests.console.test_funder_pages import COUNTIES, pdf_text


def test_a_funder_sees_the_charts_and_figures_of_a_shared_campaign_and_downloads_the_pdf(
    organization, make_member, sign_in, page
):
    campaign = campaign_create(
        organization=organization,
        created_by=None,
        preset="KE",
        name="Amani 2027",
        election_date=ELECTION_DAY,
    )
    seed_reported_campaign(
        campaign=campaign,
        author=make_member(organization, Role.MANAGER).user,
        reviewer=make_member(organization, Role.REVIEWER).user,
        plans=WAVES[:2],
        counties=COUNTIES,
    )
    campaign_create(organization=organization, created_by=None, name="Pilot not shared")
    funder = make_member(organization, Role.FUNDER)
    campaign_share(campaign=campaign, funder_ids=[funder.user_id])

    sign_in(funder.user.username)

    expect(page).to_have_url(re.compile(r"/console/reports/$"))
    expect(page.get_by_role("link", name="Pilot not shared")).to_have_count(0)
    page.get_by_role("link", name="Amani 2027").click()

    expect(page.get_by_role("heading", level=1, name="Amani 2027")).to_be_visible()
    expect(page.locator("figure.chart svg")).to_have_count(3)
    expect(page.get_by_role("img", name="Delivered and failed messages per day")).to_be_visible()
    expect(page.get_by_role("img", name="Replies and opt-outs per day")).to_be_visible()
    expect(page.get_by_role("img", name="Delivered messages by Region")).to_be_visible()
    report = campaign_report(ReportScope(campaign=campaign, dimension="region"))
    assert report["totals"]["delivered"] > 0
    for name in HEADLINE:
        expect(page.locator(f'#headline [data-figure="{name}"] .n')).to_have_text(
            fmt(name, report["totals"][name])
        )
    expect(page.locator("#privacy-note")).to_contain_text("fewer than 10 people are withheld")

    choice = page.get_by_label("Break down by")
    choice.focus()
    page.keyboard.press("ArrowUp")  # from Region to Language, from the keyboard

    expect(page.get_by_role("heading", name="By Language")).to_be_visible()
    expect(page).to_have_url(re.compile(r"by=language"))
    expect(choice).to_be_focused()  # only the figures were swapped
    by_language = campaign_report(ReportScope(campaign=campaign, dimension="language"))
    for row in by_language["breakdown"]["rows"]:
        delivered = None if row["suppressed"] else row["figures"]["delivered"]
        cells = page.locator(
            "#breakdown-table tr", has=page.get_by_role("rowheader", name=row["key"])
        )
        expect(cells.locator("td").nth(2)).to_have_text(fmt("delivered", delivered))

    with page.expect_download() as download:
        page.get_by_role("link", name="Download PDF").click()

    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "Amani 2027: funder report" in text
    assert "By language" in text  # the breakdown chosen on the page
    assert fmt("delivered", by_language["totals"]["delivered"]) in text.split("\n")

    refused = page.goto("/console/audience/")
    assert refused.status == 403
    expect(page.get_by_role("heading", name="Not for your role")).to_be_visible()


def test_the_report_page_fits_a_phone(organization, make_member, sign_in, page):
    campaign = campaign_create(
        organization=organization, created_by=None, preset="KE", name="Amani 2027"
    )
    funder = make_member(organization, Role.FUNDER)
    campaign_share(campaign=campaign, funder_ids=[funder.user_id])
    page.set_viewport_size({"width": 390, "height": 844})

    sign_in(funder.user.username)
    page.get_by_role("link", name="Amani 2027").click()

    expect(page.get_by_role("heading", level=1, name="Amani 2027")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
