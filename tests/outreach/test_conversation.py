"""A young person's conversation by SMS: join, onboarding, language, help, stop — as texted."""

import pytest
from django.db import connection

from outreach.models import (
    AnonymousTally,
    ConsentEvent,
    ConsentStatus,
    InboundMessage,
    OutboundMessage,
    Region,
    Subscriber,
)
from outreach.replies import CONSENT_TEXT_VERSION
from outreach.services.consent import status_from_ledger
from tests.support.webhooks import twilio_form

pytestmark = pytest.mark.django_db

NUMBER = "+254712345678"


@pytest.fixture
def text(twilio_post, twilio_channel, twilio_api):
    """Text the service from NUMBER; returns the bodies Twilio was asked to send back."""

    def send(body: str, sender: str = NUMBER) -> list[str]:
        before = len(twilio_api.sent)
        response = twilio_post(twilio_channel, twilio_form(body, sender=sender))
        assert response.status_code == 200
        return [message.body for message in twilio_api.sent[before:]]

    return send


@pytest.fixture
def counties(organization):
    for name in ("Nairobi", "Mombasa", "Kisumu"):
        Region.objects.create(organization=organization, name=name)


def subscriber() -> Subscriber:
    return Subscriber.objects.get(address=NUMBER)


def test_join_subscribes_with_provable_consent_and_asks_the_age(text, twilio_api, twilio_channel):
    replies = text("JOIN")

    person = subscriber()
    assert person.consent_status == ConsentStatus.OPTED_IN
    (event,) = ConsentEvent.objects.filter(subscriber=person)
    assert event.kind == "opt_in"
    assert event.source == "keyword"
    assert event.keyword_as_texted == "JOIN"
    assert event.provider_message_id == InboundMessage.objects.get().provider_message_id
    assert event.consent_text_version == CONSENT_TEXT_VERSION
    assert event.consent_text_language == "en"
    assert event.channel == twilio_channel
    assert len(replies) == 1
    assert "Welcome" in replies[0]
    assert "How old are you" in replies[0]
    sent = twilio_api.sent[0]
    assert sent.to == NUMBER
    assert sent.from_ == "+254700000100"
    assert sent.status_callback.endswith(f"/webhooks/twilio/{twilio_channel.uuid}/status/")


def test_a_replies_provider_id_is_stored_for_status_callbacks(text, twilio_api):
    text("JOIN")

    message = OutboundMessage.objects.get()
    assert message.status == "sending"  # Twilio queued it; callbacks move it on
    assert message.provider_message_id == twilio_api.sent[0].sid
    assert message.kind == "reply"


def test_a_swahili_keyword_welcomes_in_swahili(text):
    (reply,) = text("Jiunge!")

    assert subscriber().language == "sw"
    assert subscriber().language_source == "keyword"
    assert reply.startswith("Karibu")


def test_stop_with_trailing_words_stops_and_says_goodbye_exactly_once(text):
    text("JOIN")

    first = text("Stop please!")
    second = text("STOP")
    chatter = text("why did you stop")

    assert subscriber().consent_status == ConsentStatus.OPTED_OUT
    assert len(first) == 1
    assert "no more messages" in first[0]
    assert second == []
    assert chatter == []
    assert list(ConsentEvent.objects.values_list("kind", flat=True)) == ["opt_in", "opt_out"]


def test_stop_works_in_the_middle_of_onboarding(text, counties):
    text("JOIN")

    (goodbye,) = text("acha")

    assert subscriber().consent_status == ConsentStatus.OPTED_OUT
    assert subscriber().onboarding_step == ""
    assert "no more messages" in goodbye


def test_joining_again_after_stop_resubscribes(text):
    text("JOIN")
    text("STOP")

    (welcome,) = text("JOIN")

    assert subscriber().consent_status == ConsentStatus.OPTED_IN
    assert "Welcome" in welcome
    assert status_from_ledger(subscriber()) == ConsentStatus.OPTED_IN


def test_onboarding_asks_age_then_region_and_thanks(text, counties):
    text("JOIN")

    (ask_region,) = text("I am 19")
    (thanks,) = text("nairobbi")

    person = subscriber()
    assert person.age_band == "18_24"
    assert person.region.name == "Nairobi"
    assert person.onboarding_step == "done"
    assert "1 Kisumu" in ask_region  # a short list comes as a numbered menu
    assert "Thank you" in thanks


def test_a_region_can_be_picked_from_the_menu(text, counties):
    text("JOIN")
    text("25")

    text("2")

    assert subscriber().region.name == "Mombasa"


def test_either_question_can_be_skipped(text, counties):
    text("JOIN")

    text("skip")
    text("RUKA")

    person = subscriber()
    assert person.age_band == ""
    assert person.region is None
    assert person.onboarding_step == "done"


def test_answers_out_of_order_do_not_break_onboarding(text, counties):
    text("JOIN")

    (ask_age_again,) = text("Kisumu")
    text("30")

    person = subscriber()
    assert person.region.name == "Kisumu"
    assert person.age_band == "30_34"
    assert person.onboarding_step == "done"
    assert "How old" in ask_age_again


def test_an_unreadable_answer_repeats_the_question(text, counties):
    text("JOIN")

    (again,) = text("banana")

    assert "How old" in again
    assert subscriber().onboarding_step == "age"


def test_under_age_gets_a_kind_reply_and_is_deleted_leaving_only_a_count(
    text, twilio_api, organization
):
    text("JOIN")

    (reply,) = text("16")

    assert "18" in reply
    assert "deleted your number" in reply
    assert twilio_api.sent[-1].to == NUMBER
    assert not Subscriber.objects.exists()
    assert not ConsentEvent.objects.filter(subscriber__isnull=False).exists()
    assert ConsentEvent.objects.count() == 1  # detached: an anonymous count of an opt-in
    assert not InboundMessage.objects.exclude(body="").exists()
    assert not OutboundMessage.objects.exclude(to_address="").exists()
    tally = AnonymousTally.objects.get(organization=organization)
    assert (tally.metric, tally.count) == ("underage_refused", 1)


def test_the_minimum_age_is_the_organizations(text, organization):
    organization.minimum_age = 16
    organization.save()
    text("JOIN")

    text("16")

    assert subscriber().age_band == "13_17"


def test_language_change_replies_in_the_new_language(text):
    text("JOIN")

    (reply,) = text("LUGHA SW")

    assert subscriber().language == "sw"
    assert reply == "Tutakuandikia kwa Kiswahili kuanzia sasa."


def test_an_unknown_language_gets_the_list_of_languages(text):
    text("JOIN")

    (reply,) = text("LANG klingon")

    assert "EN/SW" in reply
    assert subscriber().language == "en"


def test_help_gets_help(text):
    (reply,) = text("HELP")

    assert "STOP" in reply


def test_free_text_from_a_stranger_is_detected_and_answered_in_their_language(text):
    (reply,) = text("Habari yako rafiki, nataka kujua zaidi kuhusu amani")

    assert subscriber().language == "sw"
    assert subscriber().consent_status == ConsentStatus.NONE
    assert "JIUNGE" in reply
    assert InboundMessage.objects.get().intent == "free_reply"
    assert InboundMessage.objects.get().detected_language == "sw"


def test_every_free_reply_gets_its_language_though_the_subscriber_chose_one(text, counties):
    text("Jiunge")
    text("skip")
    text("skip")

    text("hii election tusipigane wasee, tuko pamoja")
    text("thanks for the info, will share with my squad")

    replies = InboundMessage.objects.filter(intent="free_reply").order_by("received_at", "pk")
    assert [reply.detected_language for reply in replies] == ["sw", "en"]
    assert subscriber().language == "sw"  # what they chose by keyword stays
    assert subscriber().language_source == "keyword"


def test_a_free_reply_too_short_to_judge_gets_no_language(text):
    text("poa sana")

    assert InboundMessage.objects.get().detected_language == ""


def test_free_replies_get_not_understood_at_most_once_an_hour(text, counties):
    text("JOIN")
    text("skip")
    text("skip")

    first = text("what is this about")
    second = text("hello??")

    assert len(first) == 1
    assert "did not understand" in first[0]
    assert second == []
    assert InboundMessage.objects.filter(intent="free_reply").count() == 2


def test_a_join_typo_still_joins(text):
    text("JIUNGEE")

    assert subscriber().is_subscribed


def test_already_subscribed_is_told_so(text):
    text("JOIN")

    (reply,) = text("join")

    assert "already subscribed" in reply
    assert ConsentEvent.objects.count() == 1


def test_the_stored_status_always_matches_the_ledger(text):
    for body in ["JOIN", "STOP", "STOP", "START", "JOIN", "END", "hello", "PAZ"]:
        text(body)
        assert subscriber().consent_status == status_from_ledger(subscriber())


def test_the_ledger_refuses_updates_and_deletes_even_in_sql(text):
    text("JOIN")
    event = ConsentEvent.objects.get()

    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        ConsentEvent.objects.all().delete()
    with pytest.raises(Exception, match="append-only"), connection.cursor() as cursor:
        cursor.execute("UPDATE outreach_consentevent SET kind = 'opt_out'")
