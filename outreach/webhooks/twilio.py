"""Twilio's inbound-message and status-callback webhooks, one URL pair per channel.

The URL carries the channel's UUID, so the channel — its organization and its auth
token — is found before anything is trusted; the signature is then checked against
the public URL (PUBLIC_BASE_URL), which stays right behind a proxy.
"""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from outreach.addresses import provider_address
from outreach.models import Channel, ChannelKind
from outreach.selectors.channels import webhook_channel
from outreach.services.inbound import inbound_receive
from outreach.services.status import status_receive
from outreach.webhooks.base import WebhookView

logger = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class TwilioWebhookView(WebhookView):
    provider = "twilio"

    def load(self, request: HttpRequest, **kwargs: object) -> Channel:
        channel = webhook_channel(channel_uuid=kwargs["channel_uuid"], kind=ChannelKind.TWILIO_SMS)
        if channel is None:
            raise Http404("No such channel.")
        return channel

    def is_authentic(self, request: HttpRequest, context: object) -> bool:
        channel: Channel = context  # type: ignore[assignment]
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature:
            return False
        if _signed_by(channel, request, signature):
            return True
        # The kept channel may be a few seconds old: its token may just have been rotated.
        fresh = webhook_channel(channel_uuid=channel.uuid, kind=channel.kind, fresh=True)
        return fresh is not None and _signed_by(fresh, request, signature)


class TwilioInboundView(TwilioWebhookView):
    """Stores the message once and answers at once; the routing and replies happen in a task."""

    def handle(self, request: HttpRequest, context: object) -> HttpResponse:
        channel: Channel = context  # type: ignore[assignment]
        form = request.POST
        message_sid = form.get("MessageSid") or form.get("SmsSid") or ""
        sender = form.get("From", "")
        if not message_sid or not sender:
            return HttpResponse("MessageSid and From are required.", status=400)
        if form.get("AccountSid") and form["AccountSid"] != channel.account_sid:
            logger.warning("twilio inbound for another account ignored on channel %s", channel.pk)
            return _twiml()
        inbound_receive(
            channel=channel,
            provider_message_id=message_sid[:64],
            from_address=provider_address(sender, region=channel.country)[:64],
            body=form.get("Body", ""),
            received_at=timezone.now(),
        )
        return _twiml()


class TwilioStatusView(TwilioWebhookView):
    """Takes a status report (applied within seconds, once); an unknown SID gets 200."""

    def handle(self, request: HttpRequest, context: object) -> HttpResponse:
        channel: Channel = context  # type: ignore[assignment]
        form = request.POST
        status_receive(
            channel=channel,
            provider_message_id=(form.get("MessageSid") or form.get("SmsSid") or "")[:64],
            provider_status=(form.get("MessageStatus") or form.get("SmsStatus") or "")[:32],
            error_code=(form.get("ErrorCode") or "")[:16],
        )
        return HttpResponse(status=200)


def _signed_by(channel: Channel, request: HttpRequest, signature: str) -> bool:
    if not channel.auth_token:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    return RequestValidator(channel.auth_token).validate(url, request.POST, signature)


def _twiml() -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
