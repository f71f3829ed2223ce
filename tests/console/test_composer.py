# ruff: noqa: F811 - the campaign fixtures are imported by name
"""The wave composer: a two-language wave with a poll saved and submitted through the
services, the live stats fragment (the API's numbers, opt-out footer counted), errors next
to their field with nothing saved, preview, test send, and who may compose what."""

import re
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from campaigns.composition import variant_stats
from campaigns.models import Wave, WaveStatus
from campaigns.selectors.waves import longest_region_name
from campaigns.services import waves as wave_services
from outreach.models import ChannelPrice, OutboundKind, OutboundMessage, Role
from tests.campaigns.conftest import audience, campaign  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db
LONG_EN = "Peace begins with each of us, in every ward and every home. " * 3


@pytest.fixture
def manager(organization, console_as):
    return console_as(organization, Role.MANAGER)


def wave_form(segment, channel, **changes):
    form = {
        "name": "A week before",
        "send_at_relative": "E-7d 10:00",
        "send_at": "",
        "segment": str(segment.pk) if segment else "",
        "channels": [str(channel.pk)],
        f"rank_{channel.pk}": "1",
        "body_en": "Peace starts with you. {link:https://amani.example/pledge}",
        "body_sw": "Amani inaanza na wewe.",
        "option_rows": "2",
        "option_0_name_en": "Pledge a peaceful vote",
        "option_0_name_sw": "Ahidi kura ya amani",
        "option_0_labels": "pledge, ahadi",
        "option_1_name_en": "Talk to a mentor",
        "option_1_name_sw": "Ongea na mshauri",
        "option_1_labels": "",
        "priority": "normal",
        "action": "save",
    }
    return {**form, **changes}


def test_a_manager_saves_a_two_language_wave_with_a_poll(
    campaign,
    audience,
    console_channel,
    manager,
):
    url = f"/console/campaigns/{campaign.pk}/waves/new/"

    response = manager.post(url, wave_form(audience, console_channel))

    wave = Wave.objects.get(campaign=campaign)
    poll = wave.poll
    options = sorted(poll.options.all(), key=lambda o: o.number)
    assert response.status_code == 302
    assert response["Location"] == f"/console/waves/{wave.pk}/compose/"
    assert {v.language: v.body for v in wave.variants.all()}["sw"] == "Amani inaanza na wewe."
    assert wave.send_at_relative == "E-7d 10:00"
    assert [o.names["sw"] for o in options] == ["Ahidi kura ya amani", "Ongea na mshauri"]
    assert options[0].labels == ["pledge", "ahadi"]


def test_a_send_time_typed_in_the_composer_is_the_campaigns_local_time(
    campaign, audience, console_channel, manager
):
    form = wave_form(audience, console_channel, send_at_relative="", send_at="2030-03-01T18:00")

    manager.post(f"/console/campaigns/{campaign.pk}/waves/new/", form)

    wave = Wave.objects.get(campaign=campaign)
    local = wave.send_at_absolute.astimezone(ZoneInfo(campaign.timezone))
    assert (campaign.timezone, local.hour, local.minute) == ("Africa/Nairobi", 18, 0)


def test_the_saved_wave_opens_again_in_the_composer_with_its_texts_and_poll(
    campaign,
    audience,
    console_channel,
    manager,
):
    manager.post(
        f"/console/campaigns/{campaign.pk}/waves/new/", wave_form(audience, console_channel)
    )
    wave = Wave.objects.get(campaign=campaign)

    page = manager.get(f"/console/waves/{wave.pk}/compose/").content.decode()

    assert "Amani inaanza na wewe.</textarea>" in page
    assert 'value="Ongea na mshauri"' in page
    assert 'data-testid="segments-sw"' in page
    assert "Write {{ and }} for a literal brace." in page


def test_saving_and_submitting_puts_the_wave_in_review(
    campaign,
    audience,
    console_channel,
    manager,
):
    form = wave_form(audience, console_channel, action="submit")

    response = manager.post(f"/console/campaigns/{campaign.pk}/waves/new/", form, follow=True)

    wave = Wave.objects.get(campaign=campaign)
    assert wave.status == WaveStatus.IN_REVIEW
    assert "In review" in response.content.decode()


def test_editing_a_saved_wave_changes_its_text(campaign, audience, console_channel, manager):
    manager.post(
        f"/console/campaigns/{campaign.pk}/waves/new/", wave_form(audience, console_channel)
    )
    wave = Wave.objects.get(campaign=campaign)

    manager.post(
        f"/console/waves/{wave.pk}/compose/",
        wave_form(audience, console_channel, body_sw="Amani ni yetu sote."),
    )

    assert wave.variants.get(language="sw").body == "Amani ni yetu sote."


def test_a_saved_text_naming_a_sensitive_term_is_flagged(
    campaign,
    audience,
    console_channel,
    manager,
):
    form = wave_form(audience, console_channel, body_en="Whatever Party X says, vote in peace.")
    manager.post(f"/console/campaigns/{campaign.pk}/waves/new/", form)
    wave = Wave.objects.get(campaign=campaign)

    page = manager.get(f"/console/waves/{wave.pk}/compose/").content.decode()

    assert 'data-testid="sensitive-terms"' in page
    assert "Party X" in page


def test_the_stats_fragment_counts_the_opt_out_footer_as_the_api_does(
    campaign,
    manager,
):
    stats = variant_stats(
        LONG_EN,
        declared_language="en",
        campaign_name=campaign.name,
        longest_region=longest_region_name(campaign.organization_id),
        price_per_segment=None,
        currency=None,
        with_footer=True,
    )

    response = manager.post(
        f"/console/campaigns/{campaign.pk}/waves/check/", {"language": "en", "body_en": LONG_EN}
    )

    page = response.content.decode()
    assert f'data-testid="segments-en">{stats.segments}</span>' in page
    assert f'data-testid="characters-en">{stats.characters}</span>' in page
    assert stats.characters == len(LONG_EN) + len(" Reply STOP to opt out.")


def test_the_stats_fragment_prices_the_message_with_its_footer_on_the_chosen_sms_channel(
    campaign,
    console_channel,
    manager,
):
    ChannelPrice.objects.create(
        channel=console_channel, country="KE", price_per_segment=Decimal("0.008"), currency="USD"
    )
    segments = variant_stats(
        LONG_EN,
        declared_language="en",
        campaign_name=campaign.name,
        longest_region="",
        price_per_segment=None,
        currency=None,
        with_footer=True,
    ).segments

    response = manager.post(
        f"/console/campaigns/{campaign.pk}/waves/check/",
        {"language": "en", "body_en": LONG_EN, "channels": [str(console_channel.pk)]},
    )

    expected = (Decimal("0.008") * segments).quantize(Decimal("0.0001"))
    assert f'data-testid="cost-en">{expected} USD</span>' in response.content.decode()


def test_the_stats_fragment_says_ucs2_for_a_text_with_an_emoji(campaign, manager):
    response = manager.post(
        f"/console/campaigns/{campaign.pk}/waves/check/",
        {"language": "sw", "body_sw": "Amani kwa wote 🕊"},
    )

    assert 'data-testid="encoding-sw">UCS-2</span>' in response.content.decode()


def test_the_stats_fragment_shows_a_placeholder_error(campaign, manager):
    response = manager.post(
        f"/console/campaigns/{campaign.pk}/waves/check/",
        {"language": "en", "body_en": "Hello {name}, vote in peace."},
    )

    assert 'data-testid="placeholder-error-en"' in response.content.decode()


def test_the_stats_fragment_shows_a_tracked_link_as_its_short_link(campaign, manager):
    response = manager.post(
        f"/console/campaigns/{campaign.pk}/waves/check/",
        {"language": "en", "body_en": "Pledge here: {link:https://amani.example/pledge}"},
    )

    page = response.content.decode()
    assert "<code>https://amani.example/pledge</code>" in page
    assert "/l/xxxxxxx</code>" in page


def test_an_invalid_placeholder_is_shown_in_its_language_column_and_nothing_is_saved(
    campaign,
    audience,
    console_channel,
    manager,
):
    form = wave_form(audience, console_channel, body_sw="Habari {jina}, piga kura kwa amani.")

    response = manager.post(f"/console/campaigns/{campaign.pk}/waves/new/", form)

    page = response.content.decode()
    assert response.status_code == 400
    assert 'data-field="body_sw"' in page
    assert page.count("Unknown placeholder {jina}") == 1
    assert not Wave.objects.filter(campaign=campaign).exists()
    textarea = re.search(r'<textarea[^>]*name="body_sw"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in textarea  # a screen reader hears the error with the text
    assert "id_body_sw_error" in textarea
    assert 'id="id_body_sw_error"' in page


def test_a_bad_relative_time_is_shown_next_to_it_and_nothing_is_saved(
    campaign,
    audience,
    console_channel,
    manager,
):
    form = wave_form(audience, console_channel, send_at_relative="next tuesday")

    response = manager.post(f"/console/campaigns/{campaign.pk}/waves/new/", form)

    assert response.status_code == 400
    assert 'data-field="send_at_relative"' in response.content.decode()
    assert not Wave.objects.filter(campaign=campaign).exists()


def test_a_poll_with_one_option_is_refused_next_to_it(campaign, audience, console_channel, manager):
    form = wave_form(audience, console_channel, option_1_name_en="", option_1_name_sw="")

    response = manager.post(f"/console/campaigns/{campaign.pk}/waves/new/", form)

    assert response.status_code == 400
    assert 'data-field="option_0_name_en"' in response.content.decode()
    assert not Wave.objects.filter(campaign=campaign).exists()


def test_add_an_option_shows_one_more_row_and_saves_nothing(
    campaign,
    audience,
    console_channel,
    manager,
):
    form = wave_form(audience, console_channel, add_option="1")
    del form["action"]

    response = manager.post(f"/console/campaigns/{campaign.pk}/waves/new/", form)

    page = response.content.decode()
    assert 'name="option_2_name_sw"' in page
    assert 'value="Ahidi kura ya amani"' in page
    assert not Wave.objects.filter(campaign=campaign).exists()


def test_submitting_without_a_segment_is_refused_next_to_the_segment(
    campaign,
    console_channel,
    manager,
):
    form = wave_form(None, console_channel, action="submit")

    response = manager.post(f"/console/campaigns/{campaign.pk}/waves/new/", form)

    wave = Wave.objects.get(campaign=campaign)
    assert response.status_code == 400
    assert 'data-field="segment"' in response.content.decode()
    assert wave.status == WaveStatus.DRAFT


def test_the_preview_shows_each_language_as_sent_with_the_footer(
    campaign,
    audience,
    console_channel,
    manager,
):
    manager.post(
        f"/console/campaigns/{campaign.pk}/waves/new/", wave_form(audience, console_channel)
    )
    wave = Wave.objects.get(campaign=campaign)

    page = manager.get(f"/console/waves/{wave.pk}/preview/").content.decode()

    assert "Amani inaanza na wewe. Jibu STOP kujiondoa." in page
    assert 'data-testid="reach">4</span>' in page


def test_a_test_send_queues_the_text_to_a_staff_number(
    campaign,
    audience,
    console_channel,
    manager,
):
    manager.post(
        f"/console/campaigns/{campaign.pk}/waves/new/", wave_form(audience, console_channel)
    )
    wave = Wave.objects.get(campaign=campaign)

    with time_machine.travel("2026-12-01 09:00:00+03:00", tick=True):
        response = manager.post(
            f"/console/waves/{wave.pk}/test-send/",
            {"numbers": "+254700111222", "language": "sw", "channel": str(console_channel.pk)},
        )

    sent = OutboundMessage.objects.get(kind=OutboundKind.TEST)
    assert 'data-testid="test-result"' in response.content.decode()
    assert sent.body.startswith("[TEST] Amani inaanza na wewe.")


def test_a_bad_staff_number_is_shown_next_to_the_numbers(
    campaign, audience, console_channel, manager
):
    manager.post(
        f"/console/campaigns/{campaign.pk}/waves/new/", wave_form(audience, console_channel)
    )
    wave = Wave.objects.get(campaign=campaign)

    response = manager.post(
        f"/console/waves/{wave.pk}/test-send/",
        {"numbers": "not a number", "language": "en", "channel": str(console_channel.pk)},
    )

    assert response.status_code == 400
    assert 'data-field="numbers"' in response.content.decode()
    assert not OutboundMessage.objects.filter(kind=OutboundKind.TEST).exists()


def test_a_reviewer_cannot_compose(campaign, audience, console_channel, organization, console_as):
    reviewer = console_as(organization, Role.REVIEWER)
    url = f"/console/campaigns/{campaign.pk}/waves/new/"

    assert reviewer.get(url).status_code == 403
    assert reviewer.post(url, wave_form(audience, console_channel)).status_code == 403
    assert not Wave.objects.filter(campaign=campaign).exists()


def test_another_organizations_campaign_and_wave_are_not_found(
    campaign,
    manager,
    other_organization,
    console_as,
):
    wave = wave_services.wave_create(
        campaign=campaign, created_by=manager.membership.user, name="Ours"
    )
    stranger = console_as(other_organization, Role.MANAGER)

    assert stranger.get(f"/console/campaigns/{campaign.pk}/waves/new/").status_code == 404
    assert stranger.get(f"/console/waves/{wave.pk}/compose/").status_code == 404
    assert stranger.post(f"/console/waves/{wave.pk}/compose/", {}).status_code == 404
    assert stranger.get(f"/console/waves/{wave.pk}/preview/").status_code == 404
    assert stranger.post(f"/console/campaigns/{campaign.pk}/waves/check/", {}).status_code == 404
