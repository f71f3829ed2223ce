"""Telegram's webhook, from updates in the Bot API's documented shapes (fixtures/telegram/).

Each update is posted as Telegram posts it: JSON, with the secret token in its header. What
is stored (once per update_id), what is ignored with a 200, and what is refused is read in
the database; replies are read in what the loopback Bot API was sent.
"""

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from outreach.models import (
    Channel,
    ChannelKind,
    ConsentEvent,
    ConsentKind,
    ConsentSource,
    ConsentStatus,
    InboundMessage,
    Organization,
    OutboundMessage,
    OutboundStatus,
    Subscriber,
)
from outreach.services.inbound import inbound_handle
from outreach.services.outbound import message_send
from tests.support.telegram_api import (
    BOT_TOKEN,
    SECRET_HEADER,
    FakeTelegramApi,
    running_telegram_api,
)

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "telegram"
SECRET = "s3cret-token_given-in-setWebhook"
CHAT = "421337001"  # the person's private chat in every fixture
PERSONAL = ("421337001", "Amina", "Wanjiru", "amina_w")


def update(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
def telegram_api(settings) -> Iterator[FakeTelegramApi]:
    with running_telegram_api() as api:
        settings.TELEGRAM_API_BASE_URL = api.base_url
        yield api


@pytest.fixture
def bot(organization: Organization) -> Channel:
    return Channel.objects.create(
        organization=organization,
        name="Amani bot",
        kind=ChannelKind.TELEGRAM,
        country="KE",
        access_token=BOT_TOKEN,
        webhook_secret=SECRET,
        external_id="7000000001",
        messages_per_second=30,
    )


@pytest.fixture
def post(client, django_capture_on_commit_callbacks, telegram_api) -> Callable[..., Any]:
    """Posts an update to a channel's webhook as Telegram does; what the request queued
    after commit (routing, replies) runs before this returns."""

    def post_update(channel: Channel, payload: Any, *, secret: str | None = SECRET, raw=None):
        path = reverse("telegram-update", args=[channel.uuid])
        headers = {} if secret is None else {SECRET_HEADER: secret}
        data = raw if raw is not None else json.dumps(payload)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(path, data, content_type="application/json", headers=headers)

    return post_update


@dataclass(frozen=True)
class Case:
    fixture: str
    body: str | None  # the inbound message stored, or None: nothing is
    id: str


UPDATES = [
    Case("start", "/start", "a bare /start is stored as /start"),
    Case("start_deep_link", "JIUNGE", "a deep link's /start JIUNGE is stored as its keyword"),
    Case("text", "Habari! Tunataka amani Kenya 🇰🇪", "a text is stored as written"),
    Case("stop", "STOP", "a STOP is stored"),
    Case("group_message", None, "a group's message is not ours"),
    Case("edited_message", None, "an edited message is ignored"),
    Case("sticker", None, "a sticker without text is ignored"),
    Case("message_reaction", None, "an update type we did not ask for is ignored"),
    Case("my_chat_member_unblocked", None, "an unblocked bot waits for the next /start"),
    Case("my_chat_member_kicked", None, "a stranger blocking the bot records nothing"),
]


@pytest.mark.parametrize("case", UPDATES, ids=[case.id for case in UPDATES])
def test_each_update_is_stored_as_ours_or_ignored_with_200(post, bot, case):
    payload = update(case.fixture)

    response = post(bot, payload)

    assert response.status_code == 200
    if case.body is None:
        assert not InboundMessage.objects.exists()
        assert not ConsentEvent.objects.exists()
        return
    inbound = InboundMessage.objects.get()
    assert inbound.channel == bot
    assert inbound.provider_message_id == f"update:{payload['update_id']}"
    assert inbound.body == case.body
    assert inbound.received_at == datetime.fromtimestamp(payload["message"]["date"], UTC)
    assert Subscriber.objects.get().address == CHAT  # from_address, once routed


def test_a_text_is_stored_from_its_chat_before_it_is_routed(client, bot, telegram_api):
    path = reverse("telegram-update", args=[bot.uuid])

    # On-commit work is not run here: the message is seen as the webhook stored it.
    client.post(
        path, update("text"), content_type="application/json", headers={SECRET_HEADER: SECRET}
    )

    inbound = InboundMessage.objects.get()
    assert inbound.from_address == CHAT
    assert not inbound.handled_at


def test_the_raw_update_keeps_its_ids_and_nothing_that_names_the_person(post, bot):
    post(bot, update("start_deep_link"))

    raw = InboundMessage.objects.get().raw
    assert raw["update_id"] == 815000002
    assert raw["message"]["message_id"] == 2
    assert raw["message"]["text"] == "/start JIUNGE"
    assert "chat" not in raw["message"]
    assert "from" not in raw["message"]
    for personal in PERSONAL:
        assert personal not in json.dumps(raw)


def test_a_duplicate_update_id_is_stored_and_answered_once(post, bot, telegram_api):
    first = post(bot, update("start_deep_link"))
    again = post(bot, update("start_deep_link"))

    assert first.status_code == again.status_code == 200
    assert InboundMessage.objects.count() == 1
    assert len(telegram_api.sent_to(CHAT)) == 1


def test_a_deep_link_joins_the_person_and_the_welcome_goes_to_their_chat(post, bot, telegram_api):
    post(bot, update("start_deep_link"))

    subscriber = Subscriber.objects.get()
    assert subscriber.scheme == "telegram"
    assert subscriber.consent_status == ConsentStatus.OPTED_IN
    assert subscriber.language == "sw"
    [welcome] = telegram_api.sent_to(CHAT)
    assert welcome.params["chat_id"] == CHAT


def test_a_blocked_bot_is_an_opt_out_in_the_ledger(post, bot):
    post(bot, update("start_deep_link"))

    response = post(bot, update("my_chat_member_kicked"))

    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.consent_status == ConsentStatus.OPTED_OUT
    event = ConsentEvent.objects.get(kind=ConsentKind.OPT_OUT)
    assert event.source == ConsentSource.CARRIER
    assert event.channel == bot
    assert event.scheme == "telegram"
    assert event.evidence["reason"] == "telegram_blocked"
    assert event.evidence["update_id"] == 815000004
    assert event.occurred_at == datetime.fromtimestamp(1718000180, UTC)
    for personal in PERSONAL:
        assert personal not in json.dumps(event.evidence)


def test_a_blocked_bot_reported_twice_is_one_opt_out(post, bot):
    post(bot, update("start_deep_link"))

    post(bot, update("my_chat_member_kicked"))
    post(bot, update("my_chat_member_kicked"))

    assert ConsentEvent.objects.filter(kind=ConsentKind.OPT_OUT).count() == 1


def test_a_stop_from_telegram_opts_the_person_out(post, bot):
    post(bot, update("start_deep_link"))

    post(bot, update("stop"))

    assert Subscriber.objects.get().consent_status == ConsentStatus.OPTED_OUT


def test_a_reply_to_someone_who_blocked_the_bot_records_their_opt_out(post, bot, telegram_api):
    post(bot, update("start_deep_link"))
    telegram_api.block_chat(CHAT)

    post(bot, update("text"))  # answered with a reply Telegram refuses: blocked

    assert Subscriber.objects.get().consent_status == ConsentStatus.OPTED_OUT
    event = ConsentEvent.objects.get(kind=ConsentKind.OPT_OUT)
    assert event.source == ConsentSource.CARRIER
    assert event.evidence["provider_error"] == "403"
    reply = OutboundMessage.objects.get(in_reply_to__provider_message_id="update:815000003")
    assert reply.status == OutboundStatus.FAILED


def test_a_reply_telegram_rate_limits_waits_its_retry_after(post, client, bot, telegram_api):
    post(bot, update("start_deep_link"))
    path = reverse("telegram-update", args=[bot.uuid])
    # Stored, then routed and sent here, step by step (no on-commit work runs in this post).
    client.post(
        path, update("text"), content_type="application/json", headers={SECRET_HEADER: SECRET}
    )
    inbound_handle(inbound_id=InboundMessage.objects.get(provider_message_id="update:815000003").pk)
    reply = OutboundMessage.objects.get(in_reply_to__provider_message_id="update:815000003")
    telegram_api.rate_limit_next(retry_after=120)

    outcome = message_send(message_id=reply.pk)

    assert outcome.status == OutboundStatus.QUEUED
    assert outcome.retry_in >= 120
    reply.refresh_from_db()
    assert reply.lease_expires_at >= timezone.now() + timedelta(seconds=110)  # not claimed before
    assert len(telegram_api.sent_to(CHAT)) == 1  # the welcome only


SECRETS = [
    pytest.param(None, id="no secret header"),
    pytest.param("", id="an empty secret header"),
    pytest.param("not-the-secret", id="a wrong secret"),
    pytest.param(SECRET[:-1], id="the secret cut short"),
    pytest.param(SECRET + "x", id="the secret with more after it"),
]


@pytest.mark.parametrize("secret", SECRETS)
@pytest.mark.parametrize("fixture", ["start_deep_link", "my_chat_member_kicked"])
def test_an_update_without_the_secret_gets_403_and_changes_nothing(post, bot, secret, fixture):
    response = post(bot, update(fixture), secret=secret)

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()
    assert not Subscriber.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_a_channel_without_a_secret_takes_no_update(post, bot):
    Channel.objects.filter(pk=bot.pk).update(webhook_secret="")

    response = post(bot, update("start"), secret="")

    assert response.status_code == 403
    assert not InboundMessage.objects.exists()


def test_a_secret_just_set_is_taken_at_once(post, bot):
    post(bot, update("start"), secret="not-yet")  # the channel is now kept by this process
    bot.webhook_secret = "the-new-secret"
    bot.save(update_fields=["webhook_secret"])

    response = post(bot, update("start"), secret="the-new-secret")

    assert response.status_code == 200
    assert InboundMessage.objects.count() == 1


def test_an_unknown_bot_gets_404_logged_without_personal_data(post, bot, caplog):
    caplog.set_level(logging.DEBUG)
    stranger = Channel(uuid="00000000-0000-0000-0000-000000000000")

    response = post(stranger, update("start_deep_link"))

    assert response.status_code == 404
    assert not InboundMessage.objects.exists()
    assert "unknown channel" in caplog.text
    for personal in PERSONAL:
        assert personal not in caplog.text


def test_a_channel_of_another_kind_is_no_telegram_bot(post, bot, twilio_channel):
    response = post(twilio_channel, update("start"))

    assert response.status_code == 404


def test_an_inactive_bot_gets_404(post, bot):
    Channel.objects.filter(pk=bot.pk).update(is_active=False)

    assert post(bot, update("start")).status_code == 404


def _with(fixture: str, change: Callable[[dict], None]) -> dict:
    payload = update(fixture)
    change(payload)
    return payload


BAD = [
    pytest.param(None, "{not json", "body", id="malformed JSON"),
    pytest.param(None, "[1, 2]", "body", id="a JSON list"),
    pytest.param(None, '"update"', "body", id="a JSON string"),
    pytest.param(None, "[" * 10_000 + "]" * 10_000, "body", id="10 KB of brackets"),
    pytest.param(_with("text", lambda u: u.pop("update_id")), None, "update_id", id="no update_id"),
    pytest.param(
        _with("text", lambda u: u.update(update_id="815")), None, "update_id", id="a string id"
    ),
    pytest.param(
        _with("text", lambda u: u["message"]["chat"].update(id="x")),
        None,
        "message.chat.id",
        id="a chat id that is no number",
    ),
    pytest.param(
        _with("text", lambda u: u["message"].update(text=["STOP"])),
        None,
        "message.text",
        id="a text that is no string",
    ),
    pytest.param(
        _with("text", lambda u: u["message"].update(text="a" * 4097)),
        None,
        "message.text",
        id="a text over Telegram's 4096 characters",
    ),
    pytest.param(
        _with("text", lambda u: u["message"].pop("date")), None, "message.date", id="no date"
    ),
    pytest.param(
        _with("text", lambda u: u["message"].update(date=10**20)),
        None,
        "message.date",
        id="a date past any calendar",
    ),
    pytest.param(
        _with("my_chat_member_kicked", lambda u: u["my_chat_member"]["chat"].pop("id")),
        None,
        "my_chat_member.chat.id",
        id="a blocked bot without its chat id",
    ),
]


@pytest.mark.parametrize(("payload", "raw", "field"), BAD)
def test_bad_input_gets_400_naming_the_field_and_stores_nothing(post, bot, payload, raw, field):
    response = post(bot, payload, raw=raw)

    assert response.status_code == 400
    assert response.content.decode().startswith(f"{field}:")
    assert not InboundMessage.objects.exists()
    assert not ConsentEvent.objects.exists()


def test_a_nul_in_a_text_is_removed_so_a_stop_still_counts(post, bot):
    post(bot, update("start_deep_link"))

    post(bot, _with("stop", lambda u: u["message"].update(text="ST\x00OP")))

    assert InboundMessage.objects.get(provider_message_id="update:815000010").body == "STOP"


def test_only_post_is_answered(client, bot):
    response = client.get(reverse("telegram-update", args=[bot.uuid]))

    assert response.status_code == 405


def test_no_log_line_names_the_person(post, bot, caplog, telegram_api):
    caplog.set_level(logging.DEBUG)

    post(bot, update("start_deep_link"))
    post(bot, update("text"))
    post(bot, update("my_chat_member_kicked"))
    post(bot, update("start"), secret="wrong")
    post(bot, None, raw="{not json")

    for personal in PERSONAL:
        assert personal not in caplog.text
