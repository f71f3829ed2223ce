"""Replies, opt-outs and poll answers count for the wave that last reached the sender."""

import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import PollAnswer, Variant, Wave, WaveStatus
from campaigns.services.polls import poll_set
from outreach.models import (
    ConsentStatus,
    InboundIntent,
    InboundMessage,
    OutboundKind,
    OutboundMessage,
    OutboundStatus,
)
from outreach.services.inbound import inbound_handle, inbound_receive
from tests.support.people import make_subscriber

pytestmark = pytest.mark.django_db

PLEDGE = [
    {
        "names": {"en": "Pledge a peaceful vote", "sw": "Ahadi ya kura ya amani"},
        "labels": ["pledge"],
    },
    {"names": {"en": "Talk to a mentor", "sw": "Ongea na mshauri"}, "labels": ["mentor"]},
]


@pytest.fixture
def person(organization, console_channel):
    return make_subscriber(
        organization=organization,
        channel=console_channel,
        address="+254711999001",
        language="sw",
        consent_status=ConsentStatus.OPTED_IN,
        onboarding_step="done",
    )


@pytest.fixture
def wave(organization, campaign, console_channel):
    wave = Wave.objects.create(
        organization=organization, campaign=campaign, name="E-3", status=WaveStatus.SENDING
    )
    Variant.objects.create(wave=wave, language="sw", body="Jibu 1 kuahidi amani, 2 kwa mshauri.")
    poll_set(wave=wave, options=PLEDGE)
    return wave


def reach(person, wave, *, hours_ago: float) -> OutboundMessage:
    return OutboundMessage.objects.create(
        organization_id=person.organization_id,
        channel=person.channel,
        subscriber=person,
        to_address=person.address,
        kind=OutboundKind.WAVE,
        body="Jibu 1 kuahidi amani.",
        wave_id=wave.pk,
        status=OutboundStatus.DELIVERED,
        provider_message_id=f"SM{wave.pk}{person.pk}",
        sent_at=timezone.now() - dt.timedelta(hours=hours_ago),
    )


@pytest.fixture
def texts(person, django_capture_on_commit_callbacks):
    counter = iter(range(1000))

    def send(body: str) -> InboundMessage:
        with django_capture_on_commit_callbacks(execute=True):
            inbound, _ = inbound_receive(
                channel=person.channel,
                provider_message_id=f"in-{next(counter)}",
                from_address=person.address,
                body=body,
                received_at=timezone.now(),
            )
            inbound_handle(inbound_id=inbound.pk)
        inbound.refresh_from_db()
        return inbound

    return send


def replies_to(person) -> list[str]:
    return list(
        OutboundMessage.objects.filter(subscriber=person, kind=OutboundKind.REPLY)
        .order_by("pk")
        .values_list("body", flat=True)
    )


def test_a_free_reply_within_the_window_counts_for_the_wave(person, wave, texts):
    reach(person, wave, hours_ago=70)

    inbound = texts("Asante sana kwa ujumbe huu")

    assert inbound.intent == InboundIntent.FREE_REPLY
    assert inbound.wave_id == wave.pk


def test_a_reply_after_the_window_counts_for_no_wave(person, wave, texts):
    reach(person, wave, hours_ago=73)

    assert texts("Asante sana kwa ujumbe huu").wave_id is None


def test_the_window_is_the_organizations(person, wave, texts, organization):
    organization.reply_attribution_hours = 2
    organization.save()
    reach(person, wave, hours_ago=3)

    assert texts("Asante sana kwa ujumbe huu").wave_id is None


def test_a_reply_counts_for_the_last_wave_that_reached_the_sender(person, wave, texts, campaign):
    later = Wave.objects.create(
        organization=wave.organization, campaign=campaign, name="E-1", status=WaveStatus.SENDING
    )
    reach(person, wave, hours_ago=20)
    reach(person, later, hours_ago=2)

    assert texts("Sawa, asante kwa ujumbe").wave_id == later.pk


def test_an_opt_out_counts_for_the_wave_once(person, wave, texts):
    reach(person, wave, hours_ago=1)

    first, again = texts("STOP"), texts("STOP")

    assert (first.intent, first.wave_id) == (InboundIntent.STOP, wave.pk)
    assert again.wave_id is None  # already out: not a second opt-out


def test_a_swahili_number_word_answers_the_poll_and_is_confirmed_in_swahili(person, wave, texts):
    reach(person, wave, hours_ago=1)

    inbound = texts("moja")

    answer = PollAnswer.objects.get()
    assert inbound.intent == InboundIntent.POLL_ANSWER
    assert inbound.wave_id == wave.pk
    assert (answer.option_number, answer.language, answer.is_current) == (1, "sw", True)
    assert replies_to(person) == ["Asante! Jibu lako: Ahadi ya kura ya amani. Jibu STOP kujiondoa."]


def test_the_last_answer_counts_and_the_earlier_ones_are_kept(person, wave, texts):
    reach(person, wave, hours_ago=1)

    texts("1")
    texts("mentor")

    answers = list(PollAnswer.objects.order_by("pk").values_list("option_number", "is_current"))
    assert answers == [(1, False), (2, True)]


def test_a_reply_that_is_no_answer_is_a_free_reply(person, wave, texts):
    reach(person, wave, hours_ago=1)

    inbound = texts("Nina swali kuhusu uchaguzi wa mwaka huu")

    assert inbound.intent == InboundIntent.FREE_REPLY
    assert not PollAnswer.objects.exists()


def test_an_answer_after_the_window_is_not_counted(person, wave, texts):
    reach(person, wave, hours_ago=100)

    texts("1")

    assert not PollAnswer.objects.exists()


def test_an_erased_subscribers_answers_still_count(person, wave, texts):
    from outreach.services.subscribers import subscriber_erase

    reach(person, wave, hours_ago=1)
    texts("2")

    subscriber_erase(subscriber=person)

    answer = PollAnswer.objects.get()
    assert (answer.subscriber_id, answer.option_number) == (None, 2)


def test_a_wave_gets_its_poll_through_the_api(campaign, author, audience, console_channel):
    response = author.post(
        "/api/v1/waves/",
        {
            "campaign": campaign.pk,
            "name": "Pledge",
            "segment": audience.pk,
            "channels": [console_channel.pk],
            "variants": [{"language": "en", "body": "Reply 1 to pledge, 2 for a mentor."}],
            "poll": {"options": PLEDGE},
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert [o["names"]["en"] for o in response.json()["poll"]["options"]] == [
        "Pledge a peaceful vote",
        "Talk to a mentor",
    ]


def test_a_poll_with_one_option_is_a_400_naming_it(campaign, author):
    response = author.post(
        "/api/v1/waves/",
        {"campaign": campaign.pk, "name": "Pledge", "poll": {"options": PLEDGE[:1]}},
        format="json",
    )

    assert response.status_code == 400
    assert any(name.startswith("poll") for name in response.json()["error"]["fields"])


def test_an_answer_on_whatsapp_to_a_wave_sent_by_sms_counts_for_that_wave(
    organization, person, wave, django_capture_on_commit_callbacks
):
    from outreach.services.channels import channel_create
    from outreach.services.subscribers import subscriber_for_address

    whatsapp = channel_create(
        organization=organization, name="WhatsApp", kind="console_whatsapp", country="KE"
    )
    reach(person, wave, hours_ago=2)  # by SMS
    same_person = subscriber_for_address(channel=whatsapp, address=person.address)
    assert same_person.contact_id == person.contact_id
    with django_capture_on_commit_callbacks(execute=True):
        inbound, _ = inbound_receive(
            channel=whatsapp,
            provider_message_id="wa-1",
            from_address=person.address,
            body="sawa, asante",
            received_at=timezone.now(),
        )
    inbound.refresh_from_db()

    assert inbound.wave_id == wave.pk


def test_a_person_answering_on_two_addresses_has_one_current_answer(
    organization, person, wave, django_capture_on_commit_callbacks
):
    from outreach.services.channels import channel_create
    from outreach.services.subscribers import subscriber_for_address
    from tests.support.people import opted_in

    whatsapp = channel_create(
        organization=organization, name="WhatsApp", kind="console_whatsapp", country="KE"
    )
    reach(person, wave, hours_ago=2)
    opted_in(subscriber_for_address(channel=whatsapp, address=person.address))
    for channel, provider_id, body in ((person.channel, "sms-1", "1"), (whatsapp, "wa-1", "2")):
        with django_capture_on_commit_callbacks(execute=True):
            inbound_receive(
                channel=channel,
                provider_message_id=provider_id,
                from_address=person.address,
                body=body,
                received_at=timezone.now(),
            )

    current = PollAnswer.objects.filter(poll__wave=wave, is_current=True)
    assert list(current.values_list("option_number", flat=True)) == [2]
    assert PollAnswer.objects.filter(poll__wave=wave).count() == 2
