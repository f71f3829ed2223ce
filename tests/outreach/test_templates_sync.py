"""WhatsApp templates copied from the provider: Twilio's Content API and Meta's WhatsApp
Business Account, both the loopback fakes the real clients are pointed at."""

from io import StringIO

import pytest
from django.core.management import call_command

from outreach.channels.base import TransportError
from outreach.errors import InvalidInput
from outreach.models import Channel, MessageTemplate, Role, TemplateStatus
from outreach.services.templates import templates_sync, templates_sync_all
from outreach.tasks import sync_templates
from tests.support.meta_api import WABA_ID, running_meta_api, whatsapp_channel_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def meta_api(settings):
    with running_meta_api() as api:
        settings.META_GRAPH_BASE_URL = api.base_url
        yield api


@pytest.fixture
def cloud_channel(organization) -> Channel:
    return whatsapp_channel_for(organization)


def meta_template(template_id: str, name: str, language: str, status: str) -> dict:
    """A template as GET /{waba-id}/message_templates lists it."""
    return {
        "id": template_id,
        "name": name,
        "language": language,
        "status": status,
        "category": "MARKETING",
        "components": [{"type": "BODY", "text": f"Amani {{{{1}}}} ({name})"}],
    }


def statuses(channel: Channel) -> dict[tuple[str, str], str]:
    return {(t.name, t.language): t.status for t in MessageTemplate.objects.filter(channel=channel)}


def test_twilio_content_templates_are_copied_with_their_approval(
    twilio_whatsapp_channel, twilio_api
):
    approved = twilio_api.add_content("peace_sw", language="sw", body="Amani {{1}}")
    twilio_api.add_content("peace_en", language="en", body="Peace {{1}}", status="received")
    twilio_api.add_content("vote_en", language="en", body="Vote", status="rejected")

    counts = templates_sync(channel=twilio_whatsapp_channel)

    assert counts == {"pending": 1, "approved": 1, "rejected": 1, "paused": 0}
    template = MessageTemplate.objects.get(channel=twilio_whatsapp_channel, name="peace_sw")
    assert template.provider_template_id == approved
    assert template.body == "Amani {{1}}"
    assert template.organization_id == twilio_whatsapp_channel.organization_id
    assert template.synced_at is not None
    assert [call.path for call in twilio_api.calls] == ["/v1/ContentAndApprovals"]


def test_meta_templates_are_copied_with_their_approval(cloud_channel, meta_api):
    meta_api.templates = [
        meta_template("9001", "peace", "sw", "APPROVED"),
        meta_template("9002", "peace", "en_US", "PENDING"),
        meta_template("9003", "vote", "en_US", "REJECTED"),
        meta_template("9004", "old", "en_US", "DISABLED"),
    ]

    counts = templates_sync(channel=cloud_channel)

    assert counts == {"approved": 1, "pending": 1, "rejected": 1, "paused": 1}
    assert statuses(cloud_channel) == {
        ("peace", "sw"): TemplateStatus.APPROVED,
        ("peace", "en_US"): TemplateStatus.PENDING,
        ("vote", "en_US"): TemplateStatus.REJECTED,
        ("old", "en_US"): TemplateStatus.PAUSED,
    }
    sw = MessageTemplate.objects.get(channel=cloud_channel, name="peace", language="sw")
    assert (sw.provider_template_id, sw.category) == ("9001", "MARKETING")
    assert sw.body == "Amani {{1}} (peace)"
    assert meta_api.calls_to("GET", f"/v21.0/{WABA_ID}/message_templates")


def test_an_approval_changes_the_same_row(cloud_channel, meta_api):
    meta_api.templates = [meta_template("9001", "peace", "sw", "PENDING")]
    templates_sync(channel=cloud_channel)
    before = MessageTemplate.objects.get(channel=cloud_channel)

    meta_api.templates = [meta_template("9001", "peace", "sw", "APPROVED")]
    counts = templates_sync(channel=cloud_channel)

    after = MessageTemplate.objects.get(channel=cloud_channel)
    assert after.pk == before.pk
    assert after.status == TemplateStatus.APPROVED
    assert after.synced_at > before.synced_at
    assert (counts["approved"], counts["pending"]) == (1, 0)


def test_a_template_the_provider_no_longer_lists_is_paused_not_deleted(cloud_channel, meta_api):
    meta_api.templates = [
        meta_template("9001", "peace", "sw", "APPROVED"),
        meta_template("9002", "vote", "sw", "APPROVED"),
    ]
    templates_sync(channel=cloud_channel)

    meta_api.templates = [meta_template("9001", "peace", "sw", "APPROVED")]
    counts = templates_sync(channel=cloud_channel)

    assert counts == {"approved": 1, "pending": 0, "rejected": 0, "paused": 1}
    assert statuses(cloud_channel) == {
        ("peace", "sw"): TemplateStatus.APPROVED,
        ("vote", "sw"): TemplateStatus.PAUSED,
    }


def test_a_listing_the_provider_refuses_changes_nothing(cloud_channel, meta_api):
    meta_api.templates = [meta_template("9001", "peace", "sw", "APPROVED")]
    templates_sync(channel=cloud_channel)
    meta_api.fail_next(190, http_status=401)

    with pytest.raises(TransportError) as refused:
        templates_sync(channel=cloud_channel)

    assert refused.value.permanent
    assert statuses(cloud_channel) == {("peace", "sw"): TemplateStatus.APPROVED}


def test_a_channel_without_templates_is_refused_naming_the_channel(console_channel):
    with pytest.raises(InvalidInput) as refused:
        templates_sync(channel=console_channel)

    assert refused.value.field == "channel"


def test_every_whatsapp_channel_is_synced_and_one_that_fails_does_not_stop_the_rest(
    organization, cloud_channel, twilio_whatsapp_channel, twilio_api, meta_api, console_channel
):
    meta_api.templates = [meta_template("9001", "peace", "sw", "APPROVED")]
    twilio_api.add_content("peace_sw", language="sw", body="Amani")
    broken = whatsapp_channel_for(organization, name="Broken", access_token="not-a-token")

    results = sync_templates()

    assert results[cloud_channel.pk]["approved"] == 1
    assert results[twilio_whatsapp_channel.pk]["approved"] == 1
    assert results[broken.pk] is None
    assert console_channel.pk not in results
    assert templates_sync_all().keys() == results.keys()


def test_the_command_syncs_one_channel_by_its_uuid(cloud_channel, meta_api):
    meta_api.templates = [meta_template("9001", "peace", "sw", "APPROVED")]
    out = StringIO()

    call_command("templates_sync", str(cloud_channel.uuid), stdout=out)

    assert "1 approved, 0 pending, 0 rejected, 0 paused" in out.getvalue()
    assert statuses(cloud_channel) == {("peace", "sw"): TemplateStatus.APPROVED}


# --- through the API -------------------------------------------------------------------


def test_staff_list_a_channels_templates(organization, member_client, cloud_channel, meta_api):
    meta_api.templates = [
        meta_template("9002", "vote", "sw", "PENDING"),
        meta_template("9001", "peace", "sw", "APPROVED"),
    ]
    templates_sync(channel=cloud_channel)
    reviewer = member_client(organization, Role.REVIEWER)

    response = reviewer.get(f"/api/v1/channels/{cloud_channel.pk}/templates/")

    assert response.status_code == 200, response.json()
    listed = response.json()["results"]
    assert [(t["name"], t["status"]) for t in listed] == [
        ("peace", "approved"),
        ("vote", "pending"),
    ]
    assert set(listed[0]) >= {"id", "language", "body", "provider_template_id", "synced_at"}


def test_a_funder_may_not_list_templates(organization, member_client, cloud_channel):
    funder = member_client(organization, Role.FUNDER)

    response = funder.get(f"/api/v1/channels/{cloud_channel.pk}/templates/")

    assert response.status_code == 403


def test_another_organizations_channel_is_not_found(
    other_organization, member_client, cloud_channel
):
    outsider = member_client(other_organization, Role.ADMIN)

    assert outsider.get(f"/api/v1/channels/{cloud_channel.pk}/templates/").status_code == 404
    assert outsider.post(f"/api/v1/channels/{cloud_channel.pk}/templates/sync/").status_code == 404


def test_a_manager_syncs_templates_now(organization, member_client, cloud_channel, meta_api):
    meta_api.templates = [meta_template("9001", "peace", "sw", "APPROVED")]
    manager = member_client(organization, Role.MANAGER)

    response = manager.post(f"/api/v1/channels/{cloud_channel.pk}/templates/sync/")

    assert response.status_code == 200, response.json()
    assert response.json() == {"approved": 1, "pending": 0, "rejected": 0, "paused": 0}
    assert statuses(cloud_channel) == {("peace", "sw"): TemplateStatus.APPROVED}


def test_a_reviewer_may_not_sync_templates(organization, member_client, cloud_channel, meta_api):
    reviewer = member_client(organization, Role.REVIEWER)

    response = reviewer.post(f"/api/v1/channels/{cloud_channel.pk}/templates/sync/")

    assert response.status_code == 403
    assert meta_api.calls == []


def test_a_sync_the_provider_refuses_is_a_400_naming_the_channel(
    organization, member_client, cloud_channel, meta_api
):
    meta_api.fail_next(190, http_status=401)
    manager = member_client(organization, Role.MANAGER)

    response = manager.post(f"/api/v1/channels/{cloud_channel.pk}/templates/sync/")

    assert response.status_code == 400
    assert "channel" in response.json()["error"]["fields"]


def test_a_console_channel_has_no_templates_to_sync(organization, member_client, console_channel):
    manager = member_client(organization, Role.MANAGER)

    response = manager.post(f"/api/v1/channels/{console_channel.pk}/templates/sync/")

    assert response.status_code == 400
    assert "channel" in response.json()["error"]["fields"]
