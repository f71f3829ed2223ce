"""Connecting a Telegram bot: its secret, its id, and the webhook Telegram posts to."""

import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from outreach.channels.telegram import get_me, set_webhook
from outreach.errors import InvalidInput
from outreach.models import Channel, ChannelKind
from outreach.selectors.channels import forget_webhook_channels


def telegram_connect(channel: Channel) -> str:
    """Make the bot post its updates to the channel's webhook; returns that URL.

    A channel without a secret gets one (kept encrypted), saved before Telegram hears of
    it, so the first update already verifies; running this again keeps the secret. The
    bot's id (getMe) becomes the channel's external_id. Raises InvalidInput for a channel
    that is not a Telegram bot with a token, and TransportError when Telegram refuses.
    """
    if channel.kind != ChannelKind.TELEGRAM:
        raise InvalidInput("Not a Telegram channel.", field="kind")
    if not channel.access_token:
        raise InvalidInput("The bot's token is needed (from @BotFather).", field="access_token")
    if not channel.webhook_secret:
        channel.webhook_secret = secrets.token_urlsafe(32)
        _save(channel, "webhook_secret")
    # Telegram is called outside any transaction: nothing waits on a provider's answer.
    bot_id, _username = get_me(channel)
    if channel.external_id != bot_id:
        channel.external_id = bot_id
        _save(channel, "external_id")
    url = settings.PUBLIC_BASE_URL + reverse("telegram-update", args=[channel.uuid])
    set_webhook(channel, url)
    return url


def _save(channel: Channel, field: str) -> None:
    with transaction.atomic():
        channel.save(update_fields=[field])
        # This process's webhooks see the change at once; others within webhook_channel's TTL.
        transaction.on_commit(forget_webhook_channels)
