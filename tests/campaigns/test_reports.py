"""Funder reports: figures that reconcile with the tables, suppression holds, funders fenced."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.links import link_click_record, short_link_for
from campaigns.models import Campaign, Variant, Wave, WaveRollup, WaveStatus
from campaigns.selectors.reports import ReportScope, campaign_report
from campaigns.services.campaigns import campaign_create
from campaigns.services.fanout import fanout_wave
from campaigns.services.rollups import wave_rollup, waves_rollup_due
from campaigns.services.segments import segment_create
from outreach.models import (
    ConsentStatus,
    InboundIntent,
    InboundMessage,
    OutboundMessage,
    OutboundStatus,
    Region,
    Role,
)
from outreach.wave_activity import waves_changed_take
from tests.campaigns.report_world import provider_reports
from tests.support.people import make_subscriber

pytestmark = pytest.mark.django_db

REPORTS = "/api/v1/reports/campaigns/"


@pytest.fixture
def reached(organization, console_channel, campaign):
    """A wave sent to 40 people in Nairobi and 3 in Kisumu, with receipts, replies, clicks."""
    nairobi = Region.objects.create(organization=organization, name="Nairobi")
    kisumu = Region.objects.create(organization=organization, name="Kisumu")
    for index in range(43):
        make_subscriber(
            organization=organization,
            channel=console_channel,
            address=f"+2547110{index:05d}",
            language="en" if index < 40 else "sw",
            region=nairobi if index < 40 else kisumu,
            age_band="18_24" if index % 2 else "25_29",
            gender="female" if index % 3 else "male",
            consent_status=ConsentStatus.OPTED_IN,
        )
    segment = segment_create(organization=organization, created_by=None, name="All")
    wave = Wave.objects.create(
        organization=organization,
        campaign=campaign,
        name="E-7",
        segment=segment,
        status=WaveStatus.SENDING,
    )
    wave.channels.set([console_channel])
    Variant.objects.create(wave=wave, language="en", body="Vote in peace.")
    Variant.objects.create(wave=wave, language="sw", body="Piga kura kwa amani.")
    fanout_wave(wave_id=wave.pk)
    now = timezone.now()
    provider_reports(wave, sent_at=now)
    messages = list(OutboundMessage.objects.filter(wave_id=wave.pk).order_by("pk"))
    for message in messages[3:8]:  # five replies, one of them an opt-out
        InboundMessage.objects.create(
            organization=organization,
            channel=console_channel,
            subscriber_id=message.subscriber_id,
            provider_message_id=f"in-{message.pk}",
            body="Amani!",
            received_at=now,
            handled_at=now,
            intent=InboundIntent.STOP if message == messages[7] else InboundIntent.FREE_REPLY,
            wave_id=wave.pk,
        )
    link = short_link_for(wave=wave, language="en", url="https://peace.example/pledge")
    tracked = wave.links.get(url="https://peace.example/pledge")
    assert link.endswith(tracked.code)
    for _ in range(6):
        link_click_record(tracked)
    wave_rollup(wave_id=wave.pk)
    return wave


def _report(campaign: Campaign, **scope: object) -> dict:
    return campaign_report(ReportScope(campaign=campaign, **scope), suppress=False)


def test_every_figure_reconciles_exactly_with_the_message_and_event_tables(reached, campaign):
    totals = _report(campaign)["totals"]

    messages = OutboundMessage.objects.filter(wave_id=reached.pk)
    assert totals["targeted"] == messages.count() == 43
    assert totals["sent"] == messages.exclude(provider_message_id="").count()
    assert totals["delivered"] == messages.filter(status=OutboundStatus.DELIVERED).count() == 40
    assert totals["failed"] == messages.filter(status=OutboundStatus.FAILED).count() == 2
    assert totals["undelivered"] == 1
    assert totals["replies"] == 4
    assert totals["opt_outs"] == 1
    assert totals["clicks"] == 6
    assert Decimal(totals["cost"]) == Decimal("0.04") * 43
    assert totals["currency"] == "USD"
    assert Decimal(totals["cost_per_delivered"]) == (Decimal("1.72") / 40).quantize(
        Decimal("0.0001")
    )
    assert totals["delivery_rate"] == round(40 / 43, 4)


@pytest.mark.parametrize(
    "dimension", ["language", "region", "age_band", "gender", "channel", "day"]
)
def test_every_breakdown_adds_up_to_the_totals(reached, campaign, dimension):
    report = _report(campaign, dimension=dimension)

    rows = report["breakdown"]["rows"]
    for figure in ("targeted", "delivered", "failed", "replies", "opt_outs"):
        assert sum(row["figures"][figure] for row in rows) == report["totals"][figure], figure


def test_failures_are_counted_by_error_code(reached, campaign):
    errors = _report(campaign)["errors"]

    assert {(e["status"], e["error_code"], e["messages"]) for e in errors} == {
        ("failed", "30006", 2),
        ("undelivered", "30003", 1),
    }


def test_a_changed_wave_is_recomputed_and_a_quiet_one_is_not(
    reached, campaign, django_capture_on_commit_callbacks
):
    from outreach.wave_activity import waves_changed

    waves_changed_take()  # what the fixture marked
    assert waves_rollup_due() == []  # its cells are fresh and nothing changed
    OutboundMessage.objects.filter(wave_id=reached.pk, status=OutboundStatus.FAILED).update(
        status=OutboundStatus.DELIVERED
    )
    with django_capture_on_commit_callbacks(execute=True):
        waves_changed([reached.pk])

    assert waves_rollup_due() == [reached.pk]
    assert _report(campaign)["totals"]["delivered"] == 42


def test_every_recent_wave_is_recomputed_now_and_then_even_unmarked(reached, campaign):
    Wave.objects.filter(pk=reached.pk).update(
        rolled_up_at=timezone.now() - dt.timedelta(minutes=11)
    )

    assert waves_rollup_due() == [reached.pk]


def test_a_status_report_marks_its_wave(
    reached, console_channel, django_capture_on_commit_callbacks
):
    from outreach.services.status import status_receive

    waves_changed_take()
    message = OutboundMessage.objects.filter(wave_id=reached.pk).first()
    OutboundMessage.objects.filter(pk=message.pk).update(status=OutboundStatus.SENT)

    with django_capture_on_commit_callbacks(execute=True):  # the inbox is applied after commit
        status_receive(
            channel=console_channel,
            provider_message_id=message.provider_message_id,
            provider_status="delivered",
            status="delivered",
        )

    assert waves_changed_take() == {reached.pk}


def test_a_cell_below_k_is_hidden_and_cannot_be_recovered_by_subtracting(reached, campaign):
    report = campaign_report(ReportScope(campaign=campaign, dimension="region"))

    rows = {row["key"]: row for row in report["breakdown"]["rows"]}
    assert rows["Kisumu"]["suppressed"]
    assert rows["Kisumu"]["figures"]["targeted"] is None
    published = sum(r["figures"]["targeted"] for r in rows.values() if not r["suppressed"])
    hidden = report["totals"]["targeted"] - published
    assert hidden == 0 or hidden >= report["k"]  # subtracting never isolates a small cell
    assert sum(r["suppressed"] for r in rows.values()) != 1


def test_the_organizations_k_is_never_below_five(reached, campaign, organization):
    organization.report_min_cell_size = 5
    organization.save()

    report = campaign_report(ReportScope(campaign=campaign))

    assert report["k"] == 5


def test_clicks_carry_no_one(reached):
    from campaigns.models import LinkClickDay

    fields = {field.name for field in LinkClickDay._meta.get_fields()}

    assert fields == {"id", "link", "day", "clicks"}


def test_cells_hold_no_personal_data():
    fields = {field.name for field in WaveRollup._meta.get_fields()}

    assert not fields & {"subscriber", "address", "to_address", "body", "from_address"}


# --- the API -------------------------------------------------------------------------------


@pytest.fixture
def funder(organization, member_client, campaign):
    client = member_client(organization, Role.FUNDER)
    campaign.funders.add(client.membership.user)
    return client


def test_a_funder_reads_the_report_of_a_campaign_shared_with_them(reached, campaign, funder):
    response = funder.get(f"{REPORTS}{campaign.pk}/", {"by": "region"})

    assert response.status_code == 200
    body = response.json()
    assert abs(body["totals"]["targeted"] - 43) <= body["privacy"]["max_perturbation"]
    assert {row["key"] for row in body["breakdown"]["rows"]} == {"Nairobi", "Kisumu"}
    assert "+2547" not in response.content.decode()


def test_a_campaign_not_shared_with_a_funder_is_a_404(reached, organization, member_client):
    stranger = member_client(organization, Role.FUNDER)

    assert stranger.get(f"{REPORTS}{reached.campaign_id}/").status_code == 404
    assert stranger.get(REPORTS).json()["results"] == []


def test_another_organizations_campaign_is_a_404(reached, other_organization, member_client):
    outsider = member_client(other_organization, Role.MANAGER)

    assert outsider.get(f"{REPORTS}{reached.campaign_id}/").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/subscribers/",
        "/api/v1/campaigns/",
        "/api/v1/waves/",
        "/api/v1/segments/",
        "/api/v1/channels/",
        "/api/v1/keywords/",
        "/api/v1/members/",
        "/api/v1/organization/",
    ],
)
def test_a_funder_reaching_any_other_endpoint_gets_403(funder, path):
    assert funder.get(path).status_code == 403


def test_a_funder_cannot_turn_suppression_off(reached, campaign, funder):
    response = funder.get(f"{REPORTS}{campaign.pk}/", {"suppress": "false"})

    assert response.status_code == 403


def test_staff_can_see_the_small_cells(reached, campaign, author):
    response = author.get(f"{REPORTS}{campaign.pk}/", {"by": "region", "suppress": "false"})

    rows = {row["key"]: row for row in response.json()["breakdown"]["rows"]}
    assert rows["Kisumu"]["figures"]["targeted"] == 3


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"by": "shoe_size"}, "by"),
        ({"from": "2027-08-10", "to": "2027-08-01"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"wave": "999999"}, "wave"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_parameter(reached, campaign, funder, query, field):
    response = funder.get(f"{REPORTS}{campaign.pk}/", query)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_a_period_limits_the_figures_to_its_days(reached, campaign, funder):
    tomorrow = (timezone.localdate() + dt.timedelta(days=2)).isoformat()

    body = funder.get(f"{REPORTS}{campaign.pk}/", {"from": tomorrow}).json()

    assert body["totals"]["targeted"] == 0


def test_the_csv_export_holds_the_totals_and_the_suppressed_cells(reached, campaign, funder):
    response = funder.get(f"{REPORTS}{campaign.pk}/csv/", {"by": "region"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    totals = next(row for row in rows if row["section"] == "totals")
    kisumu = next(row for row in rows if row["key"] == "Kisumu")
    assert abs(int(totals["targeted"]) - 43) <= 2  # perturbed, like every published count
    assert kisumu["suppressed"] == "true"
    assert kisumu["targeted"] == ""


def test_the_printable_report_is_html_without_external_references(reached, campaign, funder):
    response = funder.get(f"{REPORTS}{campaign.pk}/print/", {"by": "region"})

    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html
    assert campaign.name in html
    assert "https://" not in html
    assert "<script" not in html


def test_the_pdf_report_is_a_pdf(reached, campaign, funder):
    response = funder.get(f"{REPORTS}{campaign.pk}/pdf/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_a_manager_shares_a_campaign_with_a_funder_only(campaign, author, member_client):
    funder = member_client(campaign.organization, Role.FUNDER)
    reviewer = member_client(campaign.organization, Role.REVIEWER)
    path = f"/api/v1/campaigns/{campaign.pk}/funders/"

    refused = author.put(path, {"funders": [reviewer.membership.user_id]}, format="json")
    shared = author.put(path, {"funders": [funder.membership.user_id]}, format="json")

    assert refused.status_code == 400
    assert "funders.0" in refused.json()["error"]["fields"]
    assert shared.status_code == 200
    assert shared.json()["funders"] == [funder.membership.user_id]


def test_a_campaign_with_too_few_people_shows_no_totals(organization, console_channel):
    small = campaign_create(organization=organization, created_by=None, name="Pilot")
    for index in range(4):
        make_subscriber(
            organization=organization,
            channel=console_channel,
            address=f"+2547140{index:05d}",
            language="en",
            consent_status=ConsentStatus.OPTED_IN,
        )
    segment = segment_create(organization=organization, created_by=None, name="Pilot group")
    wave = Wave.objects.create(
        organization=organization,
        campaign=small,
        name="One",
        segment=segment,
        status=WaveStatus.SENDING,
    )
    wave.channels.set([console_channel])
    Variant.objects.create(wave=wave, language="en", body="Peace.")
    fanout_wave(wave_id=wave.pk)
    wave_rollup(wave_id=wave.pk)

    report = campaign_report(ReportScope(campaign=small))

    assert _report(small)["totals"]["targeted"] == 4
    assert report["totals"]["targeted"] is None


def test_an_admin_sets_k_but_never_below_five(organization, admin):
    low = admin.patch("/api/v1/organization/", {"report_min_cell_size": 3}, format="json")
    ok = admin.patch("/api/v1/organization/", {"report_min_cell_size": 20}, format="json")

    assert low.status_code == 400
    assert "report_min_cell_size" in low.json()["error"]["fields"]
    assert ok.status_code == 200
    assert ok.json()["report_min_cell_size"] == 20


def test_an_admin_sets_the_reply_attribution_window(organization, admin):
    response = admin.patch("/api/v1/organization/", {"reply_attribution_hours": 48}, format="json")

    assert response.status_code == 200
    organization.refresh_from_db()
    assert organization.reply_attribution_hours == 48
