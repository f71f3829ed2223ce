"""Waves through the API, as a manager, a reviewer, an admin and a funder would use it."""

import datetime as dt
from decimal import Decimal

import pytest
import time_machine

from campaigns.models import Wave
from outreach.models import ChannelPrice, OutboundMessage
from tests.campaigns.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _five_weeks_before_polling_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def wave_id(author, campaign, audience, console_channel):
    response = author.post(
        "/api/v1/waves/",
        {
            "campaign": campaign.pk,
            "name": "E-1: vote calmly",
            "send_at_relative": "E-1d 09:00",
            "segment": audience.pk,
            "channels": [console_channel.pk],
            "variants": [
                {"language": "en", "body": "Vote calmly tomorrow, {region}. Amani 2027 €"},
                {"language": "sw", "body": "Piga kura kwa amani kesho. Jibu ACHA kusitisha."},
            ],
        },
    )
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def test_a_manager_creates_a_kenyan_campaign_from_the_preset(author):
    response = author.post(
        "/api/v1/campaigns/",
        {
            "preset": "KE",
            "name": "Uchaguzi wa Amani",
            "election_date": "2027-08-10",
            "blackouts": [{"starts_at": "2027-08-08T06:00", "ends_at": "2027-08-10T06:00"}],
        },
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["quiet_start"], body["quiet_end"]) == ("18:00:00", "08:00:00")
    assert body["languages"] == ["en", "sw"]
    assert body["timezone"] == "Africa/Nairobi"
    (blackout,) = body["blackouts"]
    assert blackout["starts_at"] == "2027-08-08T03:00:00Z"
    assert blackout["starts_at_local"] == "2027-08-08T06:00:00+03:00"


def test_a_wave_shows_its_times_in_local_time_and_utc(author, wave_id):
    times = author.get(f"/api/v1/waves/{wave_id}/").json()["times"]

    assert times["requested_local"] == "2027-08-09T09:00:00+03:00"
    assert times["requested_utc"] == "2027-08-09T06:00:00Z"


def test_each_variant_shows_encoding_segments_cost_and_a_language_check(
    author, wave_id, console_channel
):
    ChannelPrice.objects.create(
        channel=console_channel, country="KE", price_per_segment=Decimal("0.008"), currency="USD"
    )

    variants = {
        v["language"]: v for v in author.get(f"/api/v1/waves/{wave_id}/").json()["variants"]
    }

    assert variants["en"]["encoding"] == "GSM-7"
    assert variants["en"]["segments"] == 1
    assert variants["en"]["estimated_cost_per_message"] == "0.0080"
    assert variants["sw"]["language_check"]["matches"] in (True, None)


def test_the_two_person_rule_holds_through_the_api(author, reviewer, wave_id):
    author.post(f"/api/v1/waves/{wave_id}/submit/")

    own = author.post(f"/api/v1/waves/{wave_id}/approve/")
    other = reviewer.post(f"/api/v1/waves/{wave_id}/approve/")

    assert own.status_code == 403
    assert other.status_code == 200
    assert other.json()["status"] == "approved"


def test_the_author_cannot_approve_even_as_an_admin(
    organization, admin, campaign, audience, console_channel
):
    created = admin.post(
        "/api/v1/waves/",
        {
            "campaign": campaign.pk,
            "name": "mine",
            "send_at_relative": "E-2d 09:00",
            "segment": audience.pk,
            "channels": [console_channel.pk],
            "variants": [{"language": "en", "body": "Peace."}],
        },
    ).json()
    admin.post(f"/api/v1/waves/{created['id']}/submit/")

    response = admin.post(f"/api/v1/waves/{created['id']}/approve/")

    assert response.status_code == 403
    assert "another member" in response.json()["error"]["message"]


def test_reviewers_comment_and_request_changes(author, reviewer, wave_id):
    author.post(f"/api/v1/waves/{wave_id}/submit/")

    response = reviewer.post(
        f"/api/v1/waves/{wave_id}/request-changes/", {"body": "Say 'tomorrow' in Swahili too."}
    )

    body = response.json()
    assert body["status"] == "draft"
    assert body["comments"][0]["body"] == "Say 'tomorrow' in Swahili too."


def test_the_preview_counts_the_audience_by_language_with_fallbacks(author, wave_id):
    preview = author.get(f"/api/v1/waves/{wave_id}/preview/").json()

    assert preview["count"] == 4
    assert preview["by_language"] == {
        "en": {"subscribers": 2, "fallback": 1},  # the French speaker reads the default
        "sw": {"subscribers": 2, "fallback": 0},
    }


def test_a_test_send_goes_to_staff_numbers_marked_as_a_test(
    author, wave_id, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = author.post(
            f"/api/v1/waves/{wave_id}/test-send/", {"numbers": ["0722000000"], "language": "sw"}
        )

    assert response.status_code == 202
    message = OutboundMessage.objects.get()
    assert message.kind == "test"
    assert message.body.startswith("[TEST] Piga kura")
    assert message.status == "delivered"  # the console reports back, as Twilio would


def test_scheduling_pausing_and_cancelling_through_the_api(author, reviewer, wave_id):
    author.post(f"/api/v1/waves/{wave_id}/submit/")
    reviewer.post(f"/api/v1/waves/{wave_id}/approve/")

    scheduled = author.post(f"/api/v1/waves/{wave_id}/schedule/").json()
    paused = author.post(f"/api/v1/waves/{wave_id}/pause/").json()
    resumed = author.post(f"/api/v1/waves/{wave_id}/resume/").json()
    cancelled = author.post(f"/api/v1/waves/{wave_id}/cancel/").json()

    assert [scheduled["status"], paused["status"], resumed["status"], cancelled["status"]] == [
        "scheduled",
        "paused",
        "scheduled",
        "cancelled",
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"send_at_relative": "E-1w"}, "send_at_relative"),
        ({"send_at": "2026-01-01T10:00"}, "send_at"),
        ({"variants": [{"language": "en", "body": "Hi {nme}"}]}, "variants.0.body"),
        ({"variants": [{"language": "xx", "body": "Hi"}]}, "variants.0.language"),
        ({"segment": 999999}, "segment"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_wave_input_is_a_400_naming_the_field(author, wave_id, payload, field):
    response = author.patch(f"/api/v1/waves/{wave_id}/", payload)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_a_funder_reaches_no_wave_or_campaign(organization, member_client, wave_id):
    funder = member_client(organization, "funder")

    assert funder.get("/api/v1/waves/").status_code == 403
    assert funder.get("/api/v1/campaigns/").status_code == 403


def test_another_organizations_wave_is_a_404(other_organization, member_client, wave_id):
    stranger = member_client(other_organization, "admin")

    assert stranger.get(f"/api/v1/waves/{wave_id}/").status_code == 404
    assert Wave.objects.filter(pk=wave_id).exists()


def test_a_wave_for_another_organizations_campaign_is_refused(
    other_organization, member_client, campaign
):
    stranger = member_client(other_organization, "manager")

    response = stranger.post("/api/v1/waves/", {"campaign": campaign.pk, "name": "x"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["campaign"]


def test_a_reviewer_cannot_compose(reviewer, campaign):
    response = reviewer.post("/api/v1/waves/", {"campaign": campaign.pk, "name": "x"})

    assert response.status_code == 403


def test_the_election_date_cannot_be_a_bad_date(author, campaign):
    response = author.patch(f"/api/v1/campaigns/{campaign.pk}/", {"election_date": "2027-02-30"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["election_date"]


def test_times_are_unaffected_by_the_servers_zone(author, wave_id):
    # Stored in UTC; the campaign's zone only shapes what is shown.
    wave = Wave.objects.get(pk=wave_id)
    assert wave.requested_at.utcoffset() == dt.timedelta(0)
