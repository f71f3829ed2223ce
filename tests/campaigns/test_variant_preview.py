"""A variant is shown, counted and priced as it is sent: with its opt-out footer.

"Répondez STOP pour arrêter." has an ê, which GSM-7 lacks: a French body that is GSM-7 alone
goes out as UCS-2 once the footer is on it. The preview is fan-out's own first message.
"""

from decimal import Decimal

import pytest
import time_machine

from campaigns.composition import OPT_OUT_FOOTERS
from campaigns.services import waves as wave_services
from campaigns.services.fanout import fanout_wave
from outreach.models import ChannelPrice, ConsentStatus, OutboundMessage, Region
from outreach.sms_encoding import sms_length
from tests.campaigns.conftest import DUE, NOW
from tests.support.people import make_subscriber

pytestmark = pytest.mark.django_db

FRENCH = "Votez dans le calme a {region}, la paix commence par vous."  # GSM-7, 57 characters


@pytest.fixture(autouse=True)
def _five_weeks_before_polling_day():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def french_speakers(organization, campaign, console_channel):
    organization.languages = ["en", "sw", "fr"]
    organization.save(update_fields=["languages"])
    campaign.languages = ["en", "sw", "fr"]
    campaign.save(update_fields=["languages"])
    kisumu = Region.objects.create(organization=organization, name="Kisumu")
    for index, language in enumerate(["fr", "fr", "fr", "en"]):
        make_subscriber(
            organization=organization,
            channel=console_channel,
            address=f"+25471234570{index}",
            language=language,
            region=kisumu,
            consent_status=ConsentStatus.OPTED_IN,
        )
    ChannelPrice.objects.create(
        channel=console_channel, country="KE", price_per_segment=Decimal("0.01"), currency="USD"
    )


@pytest.fixture
def french_wave(campaign, french_speakers, author, reviewer, console_channel, organization):
    from campaigns.services.segments import segment_create

    everyone = segment_create(organization=organization, created_by=None, name="Everyone")
    return wave_services.wave_create(
        campaign=campaign,
        created_by=author.membership.user,
        name="E-7",
        send_at_relative="E-7d 10:00",
        segment=everyone,
        channels=[console_channel],
        variants=[
            {"language": "en", "body": "Vote calmly, {region}."},
            {"language": "fr", "body": FRENCH},
        ],
    )


def sent(wave, reviewer):
    wave_services.wave_submit(wave=wave, by=wave.created_by)
    wave_services.wave_approve(wave=wave, by=reviewer.membership.user)
    wave_services.wave_schedule(wave=wave, by=None)
    assert wave_services.waves_tick(now=DUE) == [wave.pk]
    fanout_wave(wave_id=wave.pk)
    return OutboundMessage.objects.filter(wave_id=wave.pk, language="fr").first()


def variant_in(author, wave, language):
    variants = author.get(f"/api/v1/waves/{wave.pk}/").json()["variants"]
    return next(variant for variant in variants if variant["language"] == language)


def test_a_french_body_in_gsm7_is_shown_as_the_ucs2_message_it_is_sent_as(
    author, reviewer, french_wave
):
    assert sms_length(FRENCH.replace("{region}", "Kisumu")).encoding == "GSM-7"

    shown = variant_in(author, french_wave, "fr")
    message = sent(french_wave, reviewer)

    assert message.body.endswith(OPT_OUT_FOOTERS["fr"])
    assert sms_length(message.body).encoding == "UCS-2"
    assert shown["encoding"] == "UCS-2"
    assert shown["segments"] == message.segments == sms_length(message.body).segments == 2
    assert shown["estimated_cost_per_message"] == "0.0200"


def test_the_preview_is_what_fan_out_stores_for_a_subscribers_first_message(
    author, reviewer, french_wave
):
    shown = variant_in(author, french_wave, "fr")

    message = sent(french_wave, reviewer)

    assert shown["preview"] == message.body


def test_the_waves_cost_estimate_counts_every_message_with_its_footer(author, french_wave):
    preview = author.get(f"/api/v1/waves/{french_wave.pk}/preview/").json()

    # three French first messages of two UCS-2 segments each, and one English of one
    assert preview["sms_segments"] == 3 * 2 + 1
    assert Decimal(preview["estimated_cost"]) == Decimal("0.01") * preview["sms_segments"]


def test_a_later_message_without_the_footer_is_counted_without_it(
    campaign, author, reviewer, french_wave
):
    campaign.opt_out_footer_every = 0  # the footer on a subscriber's first message only
    campaign.save(update_fields=["opt_out_footer_every"])
    first = sent(french_wave, reviewer)
    later = wave_services.wave_create(
        campaign=campaign,
        created_by=french_wave.created_by,
        name="E-6",
        send_at_relative="E-6d 10:00",
        segment=french_wave.segment,
        channels=list(french_wave.channels.all()),
        variants=[
            {"language": "en", "body": "Vote calmly, {region}."},
            {"language": "fr", "body": FRENCH},
        ],
    )

    preview = author.get(f"/api/v1/waves/{later.pk}/preview/").json()
    shown = variant_in(author, later, "fr")

    assert first.segments == 2
    assert preview["sms_segments"] == 3 * 1 + 1
    assert shown["without_footer"]["encoding"] == "GSM-7"
    assert shown["without_footer"]["segments"] == 1


def test_literal_braces_go_out_as_the_preview_shows_them(author, reviewer, french_wave):
    wave_services.wave_update(
        wave=french_wave,
        by=french_wave.created_by,
        variants=[
            {"language": "en", "body": "{{campaign}} {{region}}: peace in {region}, {campaign}."},
            {"language": "fr", "body": FRENCH},
        ],
    )
    shown = variant_in(author, french_wave, "en")

    sent(french_wave, reviewer)

    english = OutboundMessage.objects.get(wave_id=french_wave.pk, language="en")
    assert english.body == (
        "{campaign} {region}: peace in Kisumu, Amani 2027. Reply STOP to opt out."
    )
    assert shown["preview"] == english.body
