"""Twilio's inbound-message and status-callback webhooks, one URL pair per channel.

The URL carries the channel's UUID, so the channel — its organization and its auth
token — is found before anything is trusted; the signature is then checked against
the public URL (PUBLIC_BASE_URL), which stays right behind a proxy.
"""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from twilio.request_validator import RequestValidator

from outreach.addresses import provider_address
from outreach.channels.twilio_sms import STATUS_OF_TWILIO
from outreach.errors import InvalidInput
from outreach.models import Channel, ChannelKind, InboundMessage
from outreach.selectors.channels import webhook_channel
from outreach.services.inbound import inbound_receive
from outreach.services.status import UNKNOWN, status_receive
from outreach.webhooks.base import WebhookView

logger = logging.getLogger(__name__)

BODY_MAX_LENGTH = 1600  # Twilio's limit for one message, all its segments together
SID_MAX_LENGTH = InboundMessage._meta.get_field("provider_message_id").max_length  # 64
ADDRESS_MAX_LENGTH = InboundMessage._meta.get_field("from_address").max_length  # 64
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
        message_sid = _message_sid(form)
        sender = _identifier(form.get("From", ""), "From", ADDRESS_MAX_LENGTH, required=True)
        from_address = provider_address(sender, region=channel.country)
        if len(from_address) > ADDRESS_MAX_LENGTH:
            raise InvalidInput(f"At most {ADDRESS_MAX_LENGTH} characters.", field="From")
        body = _body(form)
        if form.get("AccountSid") and form["AccountSid"] != channel.account_sid:
            logger.warning("twilio inbound for another account ignored on channel %s", channel.pk)
            return _twiml()
        inbound_receive(
            channel=channel,
            provider_message_id=message_sid,
            from_address=from_address,
            body=body,
            received_at=timezone.now(),
        )
        return _twiml()


class TwilioStatusView(TwilioWebhookView):
    """Takes a status report (applied within seconds, once); an unknown SID gets 200."""

    def handle(self, request: HttpRequest, context: object) -> HttpResponse:
        channel: Channel = context  # type: ignore[assignment]
        form = request.POST
        message_sid = _message_sid(form)
        # Any status or code is taken (an unknown one moves nothing), but not a NUL.
        status = _identifier(
            form.get("MessageStatus") or form.get("SmsStatus") or "", "MessageStatus", None
        )
        error_code = _identifier(form.get("ErrorCode") or "", "ErrorCode", None)
        status_receive(
            channel=channel,
            provider_message_id=message_sid,
            provider_status=status[:32],
            status=STATUS_OF_TWILIO.get(status.lower(), UNKNOWN),
            error_code=error_code[:16],
        )
        return HttpResponse(status=200)


def _message_sid(form: QueryDict) -> str:
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    return _identifier(sid, "MessageSid", SID_MAX_LENGTH, required=True)


def _identifier(value: str, field: str, max_length: int | None, *, required: bool = False) -> str:
    """An id or code as Twilio sent it, refused (naming `field`) rather than cut or mangled."""
    if required and not value:
        raise InvalidInput("Required.", field=field)
    if "\x00" in value:
        raise InvalidInput("Contains a NUL character.", field=field)
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(f"At most {max_length} characters.", field=field)
    return value


def _body(form: QueryDict) -> str:
    # A NUL is removed, not refused: refusing a text a carrier delivered could lose a STOP.
    body = form.get("Body", "").replace("\x00", "")
    if len(body) > BODY_MAX_LENGTH:
        raise InvalidInput(
            f"At most {BODY_MAX_LENGTH} characters, Twilio's limit for one message.", field="Body"
        )
    return body


def _signed_by(channel: Channel, request: HttpRequest, signature: str) -> bool:
    if not channel.auth_token:
        return False
    url = settings.PUBLIC_BASE_URL + request.get_full_path()
    return RequestValidator(channel.auth_token).validate(url, request.POST, signature)


def _twiml() -> HttpResponse:
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")
