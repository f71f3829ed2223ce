"""A wave over several kinds of channel through the API: a variant's WhatsApp template, the
warnings of what will not go as written, the length each kind takes, and the Page post."""

import pytest
import time_machine
from django.utils import timezone

from outreach.models import Channel, ChannelKind, MessageTemplate, TemplateStatus
from outreach.services.channels import channel_create
from tests.campaigns.conftest import NOW
from tests.support.meta_api import messenger_channel_for, whatsapp_channel_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _five_weeks_before_polling_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def whatsapp(organization) -> Channel:
    return whatsapp_channel_for(organization)


@pytest.fixture
def messenger(organization) -> Channel:
    return messenger_channel_for(organization)


def template(
    channel: Channel,
    *,
    language: str = "sw",
    status: str = TemplateStatus.APPROVED,
    body: str = "Amani {{1}}",
    name: str = "amani",
) -> MessageTemplate:
    return MessageTemplate.objects.create(
        organization_id=channel.organization_id,
        channel=channel,
        name=name,
        language=language,
        status=status,
        body=body,
        synced_at=timezone.now(),
    )


def compose(client, campaign, audience, channels, variants, **fields):
    return client.post(
        "/api/v1/waves/",
        {
            "campaign": campaign.pk,
            "name": "E-1: vote calmly",
            "send_at_relative": "E-1d 09:00",
            "segment": audience.pk,
            "channels": [c.pk for c in channels],
            "variants": variants,
            **fields,
        },
    )


def by_language(response) -> dict[str, dict]:
    assert response.status_code in (200, 201), response.json()
    return {v["language"]: v for v in response.json()["variants"]}


EN = {"language": "en", "body": "Vote calmly tomorrow."}


def test_a_variant_goes_as_an_approved_template_of_the_waves_whatsapp_channel(
    author, campaign, audience, whatsapp
):
    amani = template(whatsapp)

    response = compose(
        author,
        campaign,
        audience,
        [whatsapp],
        [
            EN,
            {
                "language": "sw",
                "body": "Piga kura kwa amani kesho.",
                "template": amani.pk,
                "template_variables": ["kesho"],
            },
        ],
    )

    variants = by_language(response)
    assert variants["sw"]["template"] == {"id": amani.pk, "name": "amani", "status": "approved"}
    assert variants["sw"]["template_variables"] == ["kesho"]
    assert variants["sw"]["channel_warnings"] == []
    assert variants["en"]["template"] is None
    assert variants["en"]["channel_warnings"] == [
        "No approved WhatsApp template for en: people outside their 24-hour window on "
        "WhatsApp Cloud will get it on the next channel, or not at all"
    ]


def test_a_template_still_in_review_is_warned_of(author, campaign, audience, whatsapp):
    pending = template(whatsapp, status=TemplateStatus.PENDING)

    response = compose(
        author,
        campaign,
        audience,
        [whatsapp],
        [
            EN,
            {
                "language": "sw",
                "body": "Amani.",
                "template": pending.pk,
                "template_variables": ["x"],
            },
        ],
    )

    warnings = by_language(response)["sw"]["channel_warnings"]
    assert warnings == [
        "No approved WhatsApp template for sw: people outside their 24-hour window on "
        "WhatsApp Cloud will get it on the next channel, or not at all"
    ]


def test_a_template_keeps_when_a_variant_is_edited_without_naming_it(
    author, campaign, audience, whatsapp
):
    amani = template(whatsapp)
    wave = compose(
        author,
        campaign,
        audience,
        [whatsapp],
        [
            EN,
            {"language": "sw", "body": "Amani.", "template": amani.pk, "template_variables": ["x"]},
        ],
    ).json()

    edited = author.patch(
        f"/api/v1/waves/{wave['id']}/",
        {"variants": [EN, {"language": "sw", "body": "Amani kesho."}]},
    )
    assert by_language(edited)["sw"]["template"]["id"] == amani.pk

    cleared = author.patch(
        f"/api/v1/waves/{wave['id']}/",
        {"variants": [EN, {"language": "sw", "body": "Amani kesho.", "template": None}]},
    )
    assert by_language(cleared)["sw"]["template"] is None


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("another channel's", "variants.1.template"),
        ("another language's", "variants.1.template"),
        ("another organization's", "variants.1.template"),
        ("a missing variable's", "variants.1.template_variables"),
    ],
)
def test_a_template_that_cannot_go_is_refused_naming_it(
    case, field, author, campaign, audience, whatsapp, other_organization, organization
):
    chosen = {
        "another channel's": lambda: template(
            whatsapp_channel_for(organization, name="Other WhatsApp", external_id="1")
        ),
        "another language's": lambda: template(whatsapp, language="en"),
        "another organization's": lambda: template(whatsapp_channel_for(other_organization)),
        "a missing variable's": lambda: template(whatsapp, body="Amani {{1}}, {{2}}"),
    }[case]()

    response = compose(
        author,
        campaign,
        audience,
        [whatsapp],
        [
            EN,
            {
                "language": "sw",
                "body": "Amani.",
                "template": chosen.pk,
                "template_variables": ["kesho"],
            },
        ],
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def test_a_template_in_a_regional_language_code_fits_its_language(
    author, campaign, audience, whatsapp
):
    en_us = template(whatsapp, language="en_US", body="Vote calmly.")

    response = compose(author, campaign, audience, [whatsapp], [{**EN, "template": en_us.pk}])

    assert by_language(response)["en"]["template"]["id"] == en_us.pk


def test_a_text_too_long_for_messenger_is_warned_of_and_refused_at_submit(
    author, campaign, audience, messenger
):
    long_text = "Amani. " * 285  # 1,995 characters: over 2,000 with the opt-out footer

    response = compose(author, campaign, audience, [messenger], [{**EN, "body": long_text}])

    (warning,) = by_language(response)["en"]["channel_warnings"]
    assert warning == "Longer than Messenger's 2,000 characters (Facebook Page)"
    submitted = author.post(f"/api/v1/waves/{response.json()['id']}/submit/")
    assert submitted.status_code == 400
    assert list(submitted.json()["error"]["fields"]) == ["variants"]
    assert "Longer than Messenger's 2,000 characters" in submitted.json()["error"]["message"]


def test_a_text_that_fits_every_channel_is_submitted(
    author, campaign, audience, messenger, console_channel
):
    response = compose(author, campaign, audience, [messenger, console_channel], [EN])

    assert by_language(response)["en"]["channel_warnings"] == []
    submitted = author.post(f"/api/v1/waves/{response.json()['id']}/submit/")
    assert submitted.status_code == 200, submitted.json()


def test_a_wave_names_its_page_and_shows_its_post_once_scheduled(
    author, reviewer, campaign, audience, console_channel, organization
):
    page = channel_create(
        organization=organization,
        name="Console Page",
        kind=ChannelKind.CONSOLE_MESSENGER,
        country="KE",
    )
    response = compose(author, campaign, audience, [console_channel], [EN], page_channel=page.pk)
    assert response.status_code == 201, response.json()
    wave = response.json()
    assert (wave["page_channel"], wave["page_post"]) == (page.pk, None)

    author.post(f"/api/v1/waves/{wave['id']}/submit/")
    reviewer.post(f"/api/v1/waves/{wave['id']}/approve/")
    scheduled = author.post(f"/api/v1/waves/{wave['id']}/schedule/").json()

    # E-1 is 39 days away: beyond Meta's 30, the post waits here to be handed over.
    assert scheduled["page_post"] == {
        "status": "scheduled",
        "provider_post_id": "",
        "scheduled_for": scheduled["times"]["scheduled_utc"],
        "reactions": None,
        "comments": None,
        "shares": None,
    }


def test_a_page_channel_that_is_no_page_is_refused_naming_it(
    author, campaign, audience, console_channel
):
    response = compose(
        author, campaign, audience, [console_channel], [EN], page_channel=console_channel.pk
    )

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["page_channel"]


def test_another_organizations_page_is_refused(
    author, campaign, audience, console_channel, other_organization
):
    theirs = messenger_channel_for(other_organization)

    response = compose(author, campaign, audience, [console_channel], [EN], page_channel=theirs.pk)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["page_channel"]
