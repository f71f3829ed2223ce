"""Twilio's inbound-message and status-callback webhooks, one URL pair per channel, for SMS
and WhatsApp channels alike.

The URL carries the channel's UUID, so the channel — its organization and its auth
token — is found before anything is trusted; the signature is then checked against
the public URL (PUBLIC_BASE_URL), which stays right behind a proxy. Twilio writes a
WhatsApp address `whatsapp:+254…`; the prefix of the channel's kind is taken off (a From
of the other kind is refused), so the rest of Amani sees the number alone.
"""

import logging

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.utils import timezone
from twilio.request_validator import RequestValidator

from outreach.addresses import provider_address
from outreach.channels import twilio_whatsapp
from outreach.channels.twilio_sms import SMS_ERRORS, STATUS_OF_TWILIO, TwilioErrors
from outreach.errors import InvalidInput
from outreach.models import Channel, ChannelKind, InboundMessage
from outreach.privacy import without_personal
from outreach.selectors.channels import webhook_channel
from outreach.services.consent import consent_opt_out_reported
from outreach.services.inbound import inbound_receive
from outreach.services.status import UNKNOWN, status_receive
from outreach.webhooks.base import WebhookView

logger = logging.getLogger(__name__)

BODY_MAX_LENGTH = 1600  # Twilio's limit for one message, all its segments together
SID_MAX_LENGTH = InboundMessage._meta.get_field("provider_message_id").max_length  # 64
ADDRESS_MAX_LENGTH = InboundMessage._meta.get_field("from_address").max_length  # 64
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'

# How Twilio writes an address on each kind of channel it serves (before the number).
ADDRESS_PREFIX_OF_KIND = {
    ChannelKind.TWILIO_SMS: "",
    ChannelKind.TWILIO_WHATSAPP: twilio_whatsapp.ADDRESS_PREFIX,
}
# The error codes by which Twilio says the person left (in a failed message's status).
ERRORS_OF_KIND: dict[str, TwilioErrors] = {
    ChannelKind.TWILIO_SMS: SMS_ERRORS,
    ChannelKind.TWILIO_WHATSAPP: twilio_whatsapp.WHATSAPP_ERRORS,
}
# Form fields that name or locate the person, kept out of `raw`: their numbers (From, To,
# WaId, ChannelToAddress), WhatsApp profile name, where they are, a shared location, the
# sender of the message they replied to, and ChannelMetadata (JSON holding name and WaId).
# The text is out too: it is stored once, in the message's body.
TWILIO_PERSONAL_KEYS = frozenset(
    {
        "From",
        "To",
        "Body",
        "ProfileName",
        "WaId",
        "ChannelToAddress",
        "ChannelMetadata",
        "OriginalRepliedMessageSender",
        "FromCity",
        "FromState",
        "FromZip",
        "ToCity",
        "ToState",
        "ToZip",
        "Latitude",
        "Longitude",
        "Address",
        "Label",
    }
)


class TwilioWebhookView(WebhookView):
    provider = "twilio"

    def load(self, request: HttpRequest, **kwargs: object) -> Channel:
        channel = webhook_channel(
            channel_uuid=kwargs["channel_uuid"], kind=tuple(ADDRESS_PREFIX_OF_KIND)
        )
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
        from_address = _address(channel, form.get("From", ""), "From")
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
            raw=_raw(form),
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
        left = error_code.isdigit() and int(error_code) in ERRORS_OF_KIND[channel.kind].unsubscribed
        recipient = _address(channel, form.get("To", ""), "To") if left else ""
        status_receive(
            channel=channel,
            provider_message_id=message_sid,
            provider_status=status[:32],
            status=STATUS_OF_TWILIO.get(status.lower(), UNKNOWN),
            error_code=error_code[:16],
            raw=_raw(form),
        )
        if left:
            # The message failed because the person opted out (WhatsApp's marketing opt-out).
            consent_opt_out_reported(
                channel=channel,
                address=recipient,
                reason=f"twilio_{error_code}",
                occurred_at=timezone.now(),
                evidence={"MessageSid": message_sid, "ErrorCode": error_code},
            )
        return HttpResponse(status=200)


def _message_sid(form: QueryDict) -> str:
    sid = form.get("MessageSid") or form.get("SmsSid") or ""
    return _identifier(sid, "MessageSid", SID_MAX_LENGTH, required=True)


def _address(channel: Channel, value: str, field: str) -> str:
    """The number in a From or To as Twilio writes it on this kind of channel (whatsapp:+254…
    on WhatsApp, +254… on SMS), refused naming `field` when written for another kind."""
    written = _identifier(value, field, ADDRESS_MAX_LENGTH, required=True)
    prefix = ADDRESS_PREFIX_OF_KIND[channel.kind]
    if prefix and not written.startswith(prefix):
        raise InvalidInput(f"A WhatsApp address, written {prefix}+<number>.", field=field)
    if not prefix and ":" in written:
        raise InvalidInput("A phone number, not a whatsapp:-style address.", field=field)
    number = written.removeprefix(prefix).strip()
    if not number:
        raise InvalidInput("Required.", field=field)
    address = provider_address(number, region=channel.country)
    if len(address) > ADDRESS_MAX_LENGTH:
        raise InvalidInput(f"At most {ADDRESS_MAX_LENGTH} characters.", field=field)
    return address


def _raw(form: QueryDict) -> dict:
    """The form as Twilio posted it (one value per field), without what names the person."""
    return without_personal(form.dict(), TWILIO_PERSONAL_KEYS)


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
