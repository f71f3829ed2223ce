"""The demo's simulated campaign: a report with something in it, shared with the funder."""

import pytest
from django.core.management import call_command

from campaigns.models import Campaign
from campaigns.selectors.reports import ReportScope, campaign_report
from outreach.models import ConsentEvent, Subscriber

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_campaign_is_seeded_once_with_a_report_to_show(capsys):
    call_command("seed_demo")
    call_command("seed_demo_campaign")
    call_command("seed_demo_campaign")

    campaign = Campaign.objects.get()
    report = campaign_report(ReportScope(campaign=campaign, dimension="region"))
    assert abs(report["totals"]["targeted"] - 120) <= report["privacy"]["max_perturbation"]
    assert report["totals"]["delivered"] > 0
    assert report["totals"]["clicks"] > 0
    assert report["polls"][0]["options"][0]["answers"] > 0
    assert list(campaign.funders.values_list("username", flat=True)) == ["demo-funder"]
    # Every simulated subscriber's consent is in the ledger, as for real ones.
    # 120 people, a third of them on WhatsApp too: each address has its own consent.
    assert ConsentEvent.objects.count() == Subscriber.objects.count() == 160
