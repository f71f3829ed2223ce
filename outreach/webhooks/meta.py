"""Meta's webhooks for WhatsApp Cloud API numbers and Facebook Pages (Messenger), one URL
per channel.

Meta first checks the URL with a GET (hub.mode, hub.verify_token, hub.challenge) and then
POSTs deliveries signed with the app secret (X-Hub-Signature-256 over the raw body). A
delivery is read whole before anything is written: a field we cannot take is a 400 naming
it, and a delivery naming only another phone number or Page is a 404 that stores nothing.
Each event then goes to our services in our words: inbound messages, statuses, opt-outs.

Left out on purpose: Messenger's `read` events (they name a watermark, a time, not the
messages read) and every event without a text (reactions, stickers, media without a
caption, opt-ins, referrals), which are acknowledged and ignored.
"""

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone

from outreach.channels.meta_graph import handshake_challenge, signature_valid, stored_id
from outreach.channels.whatsapp_cloud import MARKETING_STOPPED, STATUS_OF_WHATSAPP
from outreach.errors import InvalidInput
from outreach.models import Channel, ChannelKind, OutboundStatus
from outreach.privacy import without_personal
from outreach.selectors.channels import webhook_channel
from outreach.services.consent import consent_opt_out_reported
from outreach.services.inbound import inbound_receive
from outreach.services.status import UNKNOWN, status_receive
from outreach.webhooks.base import WebhookView

logger = logging.getLogger(__name__)

# Fields of Meta's payloads that name the person: never kept in `raw`.
PERSONAL_KEYS = frozenset(
    {
        "from",
        "wa_id",
        "user_id",
        "recipient_id",
        "contacts",
        "profile",
        "name",
        "username",
        "display_phone_number",
        "phone_number",
        "sender",
        "recipient",
    }
)
# Longer ids are stored by their digest (meta_graph.stored_id); far longer ones are not ids.
ID_MAX_LENGTH = 512
ADDRESS_MAX_LENGTH = 32  # an E.164 number (15 digits) or a PSID (16 or 17 digits)
BODY_MAX_LENGTH = 4096  # WhatsApp's limit for one text; Messenger's is 2,000
# A WhatsApp message's text, by its type: (the object, the key of its text) in order.
WHATSAPP_TEXT_OF = {
    "text": (("text", "body"),),
    "button": (("button", "text"),),
    "interactive": (("interactive", "button_reply"), ("interactive", "list_reply")),
    "image": (("image", "caption"),),
    "video": (("video", "caption"),),
    "document": (("document", "caption"),),
}
WHATSAPP_MARKETING_STOPPED = "whatsapp_marketing_stopped"


@dataclass(frozen=True)
class Inbound:
    provider_message_id: str
    from_address: str
    body: str
    received_at: datetime
    raw: dict


@dataclass(frozen=True)
class Status:
    provider_message_id: str
    provider_status: str
    status: str
    error_code: str
    raw: dict


@dataclass(frozen=True)
class OptOut:
    address: str
    reason: str
    occurred_at: datetime
    evidence: dict


@dataclass
class Delivery:
    """What one POST holds for this channel, read and checked before anything is stored."""

    events: list[Inbound | Status | OptOut] = field(default_factory=list)
    for_us: bool = False  # something in it names this channel's number or Page
    for_others: int = 0  # parts naming another number or Page (skipped)


class MetaWebhookView(WebhookView):
    """GET: Meta's verification handshake. POST: a signed delivery of events."""

    http_method_names = ["get", "post"]
    kind = ""

    def load(self, request: HttpRequest, **kwargs: object) -> Channel:
        channel = webhook_channel(channel_uuid=kwargs["channel_uuid"], kind=self.kind)
        if channel is None:
            raise Http404("No such channel.")
        return channel

    def get(self, request: HttpRequest, **kwargs: object) -> HttpResponse:
        channel = self.load(request, **kwargs)
        challenge = handshake_challenge(request.GET, channel.verify_token)
        if challenge is None:
            fresh = webhook_channel(channel_uuid=channel.uuid, kind=channel.kind, fresh=True)
            challenge = fresh and handshake_challenge(request.GET, fresh.verify_token)
        if not challenge:
            logger.warning("%s verification refused on channel %s", self.provider, channel.pk)
            return HttpResponseForbidden("Verification failed.")
        return HttpResponse(challenge, content_type="text/plain; charset=utf-8")

    def is_authentic(self, request: HttpRequest, context: object) -> bool:
        channel: Channel = context  # type: ignore[assignment]
        signature = request.headers.get("X-Hub-Signature-256", "")
        if not signature:
            return False
        if signature_valid(request.body, signature, channel.webhook_secret):
            return True
        # The kept channel may be a few seconds old: its app secret may just have been rotated.
        fresh = webhook_channel(channel_uuid=channel.uuid, kind=channel.kind, fresh=True)
        return fresh is not None and signature_valid(request.body, signature, fresh.webhook_secret)

    def handle(self, request: HttpRequest, context: object) -> HttpResponse:
        channel: Channel = context  # type: ignore[assignment]
        delivery = self.read(_json(request.body), channel)
        if delivery.for_others and not delivery.for_us:
            logger.warning(
                "%s delivery for another %s refused on channel %s",
                self.provider,
                "account" if self.kind == ChannelKind.WHATSAPP_CLOUD else "Page",
                channel.pk,
            )
            raise Http404("Not this channel's.")
        if delivery.for_others:
            logger.warning(
                "%s: %s parts for others skipped on channel %s",
                self.provider,
                delivery.for_others,
                channel.pk,
            )
        for event in delivery.events:
            _apply(channel, event)
        return HttpResponse("EVENT_RECEIVED", content_type="text/plain")

    def read(self, payload: dict, channel: Channel) -> Delivery:
        raise NotImplementedError


class WhatsAppCloudWebhookView(MetaWebhookView):
    provider = "whatsapp_cloud"
    kind = ChannelKind.WHATSAPP_CLOUD

    def read(self, payload: dict, channel: Channel) -> Delivery:
        """{"object": "whatsapp_business_account", "entry": [{"changes": [{"field":
        "messages", "value": {"metadata": {"phone_number_id"}, "messages", "statuses"}}]}]}"""
        delivery = Delivery()
        if payload.get("object") != "whatsapp_business_account":
            return delivery
        for e, entry in enumerate(_list(payload, "entry", "entry")):
            for c, change in enumerate(_list(entry, "changes", f"entry.{e}.changes")):
                where = f"entry.{e}.changes.{c}.value"
                change = _object(change, f"entry.{e}.changes.{c}")
                value = change.get("value")
                if change.get("field") != "messages" or not isinstance(value, dict):
                    continue  # account, template and quality updates: not ours to act on
                metadata = value.get("metadata") if isinstance(value.get("metadata"), dict) else {}
                if str(metadata.get("phone_number_id", "")) != channel.external_id:
                    delivery.for_others += 1
                    continue
                delivery.for_us = True
                for m, message in enumerate(_list(value, "messages", f"{where}.messages")):
                    inbound = _whatsapp_message(message, f"{where}.messages.{m}")
                    if inbound is not None:
                        delivery.events.append(inbound)
                for s, report in enumerate(_list(value, "statuses", f"{where}.statuses")):
                    delivery.events.extend(_whatsapp_status(report, f"{where}.statuses.{s}"))
        return delivery


class MessengerWebhookView(MetaWebhookView):
    provider = "messenger"
    kind = ChannelKind.MESSENGER

    def read(self, payload: dict, channel: Channel) -> Delivery:
        """{"object": "page", "entry": [{"id": PAGE_ID, "messaging": [{"sender",
        "timestamp", "message" | "postback" | "delivery" | "read" | …}]}]}"""
        delivery = Delivery()
        if payload.get("object") != "page":
            return delivery
        for e, entry in enumerate(_list(payload, "entry", "entry")):
            if not isinstance(entry, dict) or str(entry.get("id", "")) != channel.external_id:
                delivery.for_others += 1
                continue
            delivery.for_us = True
            for m, item in enumerate(_list(entry, "messaging", f"entry.{e}.messaging")):
                delivery.events.extend(_messenger_event(item, f"entry.{e}.messaging.{m}"))
        return delivery


def _apply(channel: Channel, event: Inbound | Status | OptOut) -> None:
    if isinstance(event, Inbound):
        inbound_receive(
            channel=channel,
            provider_message_id=event.provider_message_id,
            from_address=event.from_address,
            body=event.body,
            received_at=event.received_at,
            raw=event.raw,
        )
    elif isinstance(event, Status):
        status_receive(
            channel=channel,
            provider_message_id=event.provider_message_id,
            provider_status=event.provider_status,
            status=event.status,
            error_code=event.error_code,
            raw=event.raw,
        )
    else:
        consent_opt_out_reported(
            channel=channel,
            address=event.address,
            reason=event.reason,
            occurred_at=event.occurred_at,
            evidence=event.evidence,
        )


def _whatsapp_message(message: object, where: str) -> Inbound | None:
    message = _object(message, where)
    kind = message.get("type")
    text = _whatsapp_text(message, kind)
    if text is None:
        return None  # reactions, stickers, locations, media without a caption …
    sender = _identifier(message.get("from"), f"{where}.from", ADDRESS_MAX_LENGTH)
    if not sender.isdigit():
        raise InvalidInput("A WhatsApp number: digits only.", field=f"{where}.from")
    return Inbound(
        provider_message_id=_message_id(message.get("id"), f"{where}.id"),
        from_address="+" + sender,
        body=_body(text, f"{where}.{kind}"),
        received_at=_moment(message.get("timestamp"), f"{where}.timestamp", per_second=1),
        raw=without_personal(message, PERSONAL_KEYS),
    )


def _whatsapp_text(message: dict, kind: object) -> object:
    for holder, key in WHATSAPP_TEXT_OF.get(str(kind), ()):
        part = message.get(holder)
        found = part.get(key) if isinstance(part, dict) else None
        if isinstance(found, dict):  # an interactive reply: what the person tapped
            found = found.get("title")
        if found is not None:
            return found
    return None


def _whatsapp_status(report: object, where: str) -> list[Status | OptOut]:
    report = _object(report, where)
    provider_status = _identifier(report.get("status"), f"{where}.status", 32)
    errors = report.get("errors") if isinstance(report.get("errors"), list) else []
    first = errors[0] if errors and isinstance(errors[0], dict) else {}
    error_code = _identifier(str(first.get("code", "")), f"{where}.errors.0.code", 16, needed=False)
    occurred_at = _moment(report.get("timestamp"), f"{where}.timestamp", per_second=1)
    wamid = _message_id(report.get("id"), f"{where}.id")
    events: list[Status | OptOut] = [
        Status(
            provider_message_id=wamid,
            provider_status=provider_status,
            status=STATUS_OF_WHATSAPP.get(provider_status, UNKNOWN),
            error_code=error_code,
            raw=without_personal(report, PERSONAL_KEYS),
        )
    ]
    recipient = str(report.get("recipient_id") or "")
    if provider_status == "failed" and error_code == MARKETING_STOPPED and recipient.isdigit():
        events.append(
            OptOut(
                address="+" + recipient,
                reason=WHATSAPP_MARKETING_STOPPED,
                occurred_at=occurred_at,
                evidence={"provider_message_id": wamid, "error_code": error_code},
            )
        )
    return events


def _messenger_event(item: object, where: str) -> list[Inbound | Status]:
    item = _object(item, where)
    if isinstance(item.get("delivery"), dict):
        mids = item["delivery"].get("mids") or []
        if not isinstance(mids, list):
            raise InvalidInput("A list of message ids.", field=f"{where}.delivery.mids")
        return [
            Status(
                provider_message_id=_message_id(mid, f"{where}.delivery.mids.{n}"),
                provider_status="delivered",
                status=OutboundStatus.DELIVERED,
                error_code="",
                raw=without_personal(item, PERSONAL_KEYS),
            )
            for n, mid in enumerate(mids)
        ]
    message, postback = item.get("message"), item.get("postback")
    if isinstance(message, dict) and not message.get("is_echo") and "text" in message:
        mid = _message_id(message.get("mid"), f"{where}.message.mid")
        text = _body(message.get("text"), f"{where}.message.text")
    elif isinstance(postback, dict):
        # "Get Started" and menu buttons: their payload is what the person chose (a keyword).
        text = _body(postback.get("payload", ""), f"{where}.postback.payload")
        mid = postback.get("mid") or _postback_id(item)
        mid = _message_id(mid, f"{where}.postback.mid")
    else:
        return []  # echoes of our own sends, reads, reactions, opt-ins, referrals …
    sender = item.get("sender") if isinstance(item.get("sender"), dict) else {}
    psid = _identifier(str(sender.get("id", "")), f"{where}.sender.id", ADDRESS_MAX_LENGTH)
    return [
        Inbound(
            provider_message_id=mid,
            from_address=psid,
            body=text,
            received_at=_moment(item.get("timestamp"), f"{where}.timestamp", per_second=1000),
            raw=without_personal(item, PERSONAL_KEYS),
        )
    ]


def _postback_id(item: dict) -> str:
    # Older postbacks carry no mid: one made of what Meta repeats when it redelivers.
    seed = json.dumps([item.get("sender"), item.get("timestamp"), item.get("postback")])
    return "postback." + hashlib.sha256(seed.encode()).hexdigest()[:40]


def _json(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError) as error:
        raise InvalidInput("Not JSON.", field="body") from error
    if not isinstance(payload, dict):
        raise InvalidInput("A JSON object.", field="body")
    return payload


def _list(container: object, key: str, where: str) -> list:
    value = container.get(key) if isinstance(container, dict) else None
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInput("A list.", field=where)
    return value


def _object(value: object, where: str) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput("An object.", field=where)
    return value


def _message_id(value: object, where: str) -> str:
    return stored_id(_identifier(value, where, ID_MAX_LENGTH))


def _identifier(value: object, where: str, max_length: int, *, needed: bool = True) -> str:
    """An id or code as Meta sent it, refused (naming the field) rather than cut or mangled."""
    if value in (None, "") and not needed:
        return ""
    if not isinstance(value, str) or not value:
        raise InvalidInput("Required, as a string.", field=where)
    if "\x00" in value:
        raise InvalidInput("Contains a NUL character.", field=where)
    if len(value) > max_length:
        raise InvalidInput(f"At most {max_length} characters.", field=where)
    return value


def _body(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput("A text.", field=where)
    # A NUL is removed, not refused: refusing a text the person sent could lose a STOP.
    text = value.replace("\x00", "")
    if len(text) > BODY_MAX_LENGTH:
        raise InvalidInput(f"At most {BODY_MAX_LENGTH} characters.", field=where)
    return text


def _moment(value: object, where: str, *, per_second: int) -> datetime:
    """Meta's unix time (seconds for WhatsApp, milliseconds for Messenger); now if absent."""
    if value in (None, ""):
        return timezone.now()
    try:
        number = int(value)  # type: ignore[call-overload]
        return datetime.fromtimestamp(number / per_second, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError) as error:
        raise InvalidInput("A unix time.", field=where) from error
