"""One young person across channels (issue 13): a Telegram /start and onboarding, then a wave
over WhatsApp and SMS in which a permanent WhatsApp failure falls back to SMS — exactly one
delivered message per person — through the real adapters, webhooks and local provider APIs.
"""

import datetime as dt
import json

import pytest
import time_machine
from django.urls import reverse

from campaigns.selectors.reports import ReportScope, campaign_report
from campaigns.services import waves as wave_services
from campaigns.services.fanout import fallback_after_failures, fanout_wave
from campaigns.services.rollups import wave_rollup
from campaigns.services.segments import segment_create
from outreach.models import (
    ChannelKind,
    ConsentStatus,
    FallbackDue,
    OutboundMessage,
    OutboundStatus,
    Subscriber,
)
from outreach.services.channels import channel_create
from outreach.services.dispatch import dispatch_channel
from outreach.services.status import status_reports_apply_all
from tests.campaigns.conftest import DUE, NOW
from tests.support.telegram_api import BOT_TOKEN, message_update, running_telegram_api
from tests.support.twilio_api import ACCOUNT_SID, AUTH_TOKEN
from tests.support.webhooks import twilio_form

# Dispatch sends on threads with connections of their own: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

SECRET = "telegram-secret-token-0123456789"
NUMBERS = ["+254711000101", "+254711000102", "+254711000103"]
NOT_ON_WHATSAPP = "+254711000102"  # WhatsApp refuses them for good (63003)


@pytest.fixture
def telegram_api(settings):
    with running_telegram_api(require_https=False) as api:
        settings.TELEGRAM_API_BASE_URL = api.base_url
        yield api


@pytest.fixture
def channels(organization):
    def make(name, kind, **fields):
        return channel_create(
            organization=organization, name=name, kind=kind, country="KE", **fields
        )

    twilio = {"account_sid": ACCOUNT_SID, "auth_token": AUTH_TOKEN}
    return {
        "telegram": make(
            "Bot", ChannelKind.TELEGRAM, access_token=BOT_TOKEN, webhook_secret=SECRET
        ),
        "whatsapp": make(
            "WhatsApp", ChannelKind.TWILIO_WHATSAPP, from_number="+254700000200", **twilio
        ),
        "sms": make("SMS", ChannelKind.TWILIO_SMS, from_number="+254700000100", **twilio),
    }


def telegram_says(client, channel, chat_id, text, update_id):
    return client.post(
        reverse("telegram-update", args=[channel.uuid]),
        data=json.dumps(message_update(chat_id, text, update_id=update_id)),
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
    )


def test_a_telegram_start_joins_and_onboards_the_chat(
    client, channels, telegram_api, django_capture_on_commit_callbacks
):
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert telegram_says(client, channels["telegram"], 4242, "/start", 1).status_code == 200
    with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert telegram_says(client, channels["telegram"], 4242, "21", 2).status_code == 200

    person = Subscriber.objects.get(scheme="telegram", address="4242")
    assert person.consent_status == ConsentStatus.OPTED_IN
    assert person.age_band == "18_24"
    texts = [message.text for message in telegram_api.sent_to(4242)]
    assert len(texts) == 2
    assert "Welcome" in texts[0]
    assert "How old" in texts[0]


@pytest.fixture
def wave_over_whatsapp_then_sms(
    organization, campaign, author, reviewer, channels, twilio_api, twilio_post
):
    """Three people who joined by SMS, then on WhatsApp from the same number two hours before
    a wave over WhatsApp then SMS; WhatsApp refuses one of them for good (not a user)."""
    twilio_api.fail_number(f"whatsapp:{NOT_ON_WHATSAPP}", 63003)
    with time_machine.travel(NOW, tick=False):
        for number in NUMBERS:
            twilio_post(channels["sms"], twilio_form("JOIN", sender=number))
        segment = segment_create(organization=organization, created_by=None, name="Everyone")
        wave = wave_services.wave_create(
            campaign=campaign,
            created_by=author.membership.user,
            name="E-7",
            send_at_relative="E-7d 10:00",
            segment=segment,
            channels=[channels["whatsapp"], channels["sms"]],
            variants=[{"language": "en", "body": "Peace in {campaign}."}],
        )
        wave_services.wave_submit(wave=wave, by=wave.created_by)
        wave_services.wave_approve(wave=wave, by=reviewer.membership.user)
        wave_services.wave_schedule(wave=wave, by=None)
    with time_machine.travel(DUE - dt.timedelta(hours=2), tick=False):
        for number in NUMBERS:  # the same person: their window on WhatsApp is open
            twilio_post(channels["whatsapp"], twilio_form("JOIN", sender=f"whatsapp:{number}"))
    twilio_api.joined = len(twilio_api.sent)
    return wave


def deliver_everything_sent(wave, channels, twilio_post):
    """Twilio's receipts for every message of the wave it took: delivered."""
    for message in OutboundMessage.objects.filter(wave_id=wave.pk).exclude(provider_message_id=""):
        channel = next(c for c in channels.values() if c.pk == message.channel_id)
        twilio_post(
            channel,
            {"MessageSid": message.provider_message_id, "MessageStatus": "delivered"},
            hook="status",
        )
    status_reports_apply_all()


def test_a_permanent_whatsapp_failure_falls_back_to_sms_one_delivered_message_each(
    wave_over_whatsapp_then_sms, channels, twilio_api, twilio_post
):
    wave = wave_over_whatsapp_then_sms
    with time_machine.travel(DUE, tick=False):
        assert wave_services.waves_tick(now=DUE) == [wave.pk]
        fanout_wave(wave_id=wave.pk)  # a no-op if the tick's own fan-out ran already
        dispatch_channel(channel_id=channels["whatsapp"].pk)
        failed = list(OutboundMessage.objects.filter(wave_id=wave.pk, status=OutboundStatus.FAILED))
        # The failure is known (a permanent 63003): the person's next channel follows once,
        # however many times it is reported.
        fallback_after_failures(message_ids=[m.pk for m in failed])
        fallback_after_failures(message_ids=[m.pk for m in failed])
        dispatch_channel(channel_id=channels["sms"].pk)
        deliver_everything_sent(wave, channels, twilio_post)

    wave_sends = twilio_api.sent[twilio_api.joined :]
    wave.refresh_from_db()
    assert wave.audience["targeted"] == 3  # people, not their six addresses
    assert wave.audience["queued"] == 3
    assert sorted(m.to for m in wave_sends) == sorted(
        [f"whatsapp:{n}" for n in NUMBERS if n != NOT_ON_WHATSAPP] + [NOT_ON_WHATSAPP]
    )
    messages = OutboundMessage.objects.filter(wave_id=wave.pk)
    delivered = messages.filter(status=OutboundStatus.DELIVERED)
    assert delivered.count() == 3
    assert delivered.values("contact_id").distinct().count() == 3
    fallback = messages.get(fallback_step=1)
    assert (fallback.channel_id, fallback.to_address) == (channels["sms"].pk, NOT_ON_WHATSAPP)
    assert [m.error_code for m in failed] == ["63003"]
    assert not FallbackDue.objects.exists()


def test_the_report_counts_people_targeted_once_and_each_channels_messages(
    wave_over_whatsapp_then_sms, channels, twilio_post
):
    wave = wave_over_whatsapp_then_sms
    with time_machine.travel(DUE, tick=False):
        wave_services.waves_tick(now=DUE)
        dispatch_channel(channel_id=channels["whatsapp"].pk)
        dispatch_channel(channel_id=channels["sms"].pk)
        deliver_everything_sent(wave, channels, twilio_post)
        wave_rollup(wave_id=wave.pk)
        scope = ReportScope(campaign=wave.campaign, dimension="channel")
        report = campaign_report(scope, suppress=False)  # staff: exact (3 people < k)

    totals = report["totals"]
    assert (totals["targeted"], totals["sent"], totals["delivered"]) == (3, 3, 3)
    assert totals["failed"] == 1
    by_channel = {row["key"]: row["figures"] for row in report["breakdown"]["rows"]}
    whatsapp, sms = by_channel["WhatsApp"], by_channel["SMS"]
    assert (whatsapp["targeted"], whatsapp["delivered"], whatsapp["failed"]) == (3, 2, 1)
    assert (sms["targeted"], sms["delivered"]) == (0, 1)  # the fallback: not a second target


def test_a_fallback_whose_task_was_lost_is_sent_by_a_later_tick(
    wave_over_whatsapp_then_sms, channels, twilio_api, monkeypatch
):
    wave = wave_over_whatsapp_then_sms
    # The broker is down when the failure is recorded: nobody is told at once.
    monkeypatch.setattr("outreach.wave_activity._failure_handlers", [])
    with time_machine.travel(DUE, tick=False):
        wave_services.waves_tick(now=DUE)
        dispatch_channel(channel_id=channels["whatsapp"].pk)
    assert not OutboundMessage.objects.filter(wave_id=wave.pk, fallback_step=1).exists()
    assert FallbackDue.objects.count() == 1

    with time_machine.travel(DUE + dt.timedelta(minutes=3), tick=False):
        wave_services.waves_tick(now=DUE + dt.timedelta(minutes=3))
        dispatch_channel(channel_id=channels["sms"].pk)

    fallback = OutboundMessage.objects.get(wave_id=wave.pk, fallback_step=1)
    assert fallback.to_address == NOT_ON_WHATSAPP
    assert NOT_ON_WHATSAPP in [m.to for m in twilio_api.sent[twilio_api.joined :]]
    assert not FallbackDue.objects.exists()
