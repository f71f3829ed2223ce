"""A subscriber's conversation for staff: what they texted, how it was read, in which language."""

import pytest
from django.urls import reverse

from outreach.models import Role, Subscriber
from tests.support.webhooks import twilio_form

pytestmark = pytest.mark.django_db

NUMBER = "+254712345678"


@pytest.fixture
def texted(twilio_post, twilio_channel, twilio_api):
    for body in ("Jiunge", "skip", "hii election tusipigane wasee, tuko pamoja"):
        assert twilio_post(twilio_channel, twilio_form(body, sender=NUMBER)).status_code == 200
    return Subscriber.objects.get(address=NUMBER)


def test_staff_see_each_inbound_message_with_its_detected_language(
    organization, member_client, texted
):
    reviewer = member_client(organization, Role.REVIEWER)

    answer = reviewer.get(f"/api/v1/subscribers/{texted.pk}/conversation/")

    assert answer.status_code == 200
    newest, *_ = answer.json()["results"]
    assert newest["body"] == "hii election tusipigane wasee, tuko pamoja"
    assert newest["intent"] == "free_reply"
    assert newest["detected_language"] == "sw"
    assert [m["detected_language"] for m in answer.json()["results"][1:]] == ["", ""]


def test_a_funder_never_sees_a_conversation(organization, member_client, texted):
    funder = member_client(organization, Role.FUNDER)

    assert funder.get(f"/api/v1/subscribers/{texted.pk}/conversation/").status_code == 403


def test_another_organizations_subscriber_is_not_found(other_organization, member_client, texted):
    outsider = member_client(other_organization, Role.ADMIN)

    assert outsider.get(f"/api/v1/subscribers/{texted.pk}/conversation/").status_code == 404


def test_the_schema_says_detected_language_is_a_string_blank_when_none_was_claimed(client):
    schema = client.get(reverse("schema"), HTTP_ACCEPT="application/json").json()

    operation = schema["paths"]["/api/v1/subscribers/{id}/conversation/"]["get"]
    page = operation["responses"]["200"]["content"]["application/json"]["schema"]
    page_name = page["$ref"].rsplit("/", 1)[-1]
    item = schema["components"]["schemas"][page_name]["properties"]["results"]["items"]
    properties = schema["components"]["schemas"][item["$ref"].rsplit("/", 1)[-1]]["properties"]
    language = properties["detected_language"]
    assert language["type"] == "string"
    assert not language.get("nullable", False)
    assert language["readOnly"] is True
    assert "blank" in language["description"].lower()
