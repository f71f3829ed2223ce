"""Twilio SMS through the official SDK. Errors are classified by data, not by if-chains."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from urllib3.exceptions import NameResolutionError, NewConnectionError

from outreach.channels.base import SendResult, TemplateCall, TransportError
from outreach.channels.twilio_client import twilio_client
from outreach.models import Channel, OutboundStatus
from outreach.privacy import mask_numbers_in_provider_text

# Twilio error codes no retry can fix (../shared/twilio/README.md).
PERMANENT_ERROR_CODES = frozenset(
    {21211, 21408, 21602, 21603, 21604, 21606, 21610, 21612, 21614, 30004, 30005, 30006, 30007}
)
UNSUBSCRIBED_ERROR_CODE = 21610
TRANSIENT_ERROR_CODES = frozenset({20429, 30001, 30003, 30008})
TRANSIENT_HTTP_STATUSES = frozenset({408, 409, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class TwilioErrors:
    """How a kind of Twilio channel reads Twilio's error codes; a code in none of them is
    judged by its HTTP status. Tables add up (`SMS_ERRORS | WHATSAPP_ERRORS`)."""

    permanent: frozenset[int]
    transient: frozenset[int] = frozenset()
    # The person opted out with Twilio or the channel: recorded as their opt-out.
    unsubscribed: frozenset[int] = frozenset()

    def __or__(self, other: "TwilioErrors") -> "TwilioErrors":
        return TwilioErrors(
            permanent=self.permanent | other.permanent,
            transient=self.transient | other.transient,
            unsubscribed=self.unsubscribed | other.unsubscribed,
        )


SMS_ERRORS = TwilioErrors(
    permanent=PERMANENT_ERROR_CODES,
    transient=TRANSIENT_ERROR_CODES,
    unsubscribed=frozenset({UNSUBSCRIBED_ERROR_CODE}),
)

# Our "queued" means "waiting in our database": once Twilio holds a message, it is "sending".
STATUS_OF_TWILIO = {
    "accepted": OutboundStatus.SENDING,
    "scheduled": OutboundStatus.SENDING,
    "queued": OutboundStatus.SENDING,
    "sending": OutboundStatus.SENDING,
    "sent": OutboundStatus.SENT,
    "delivered": OutboundStatus.DELIVERED,
    "partially_delivered": OutboundStatus.DELIVERED,
    "undelivered": OutboundStatus.UNDELIVERED,
    "failed": OutboundStatus.FAILED,
    "read": OutboundStatus.READ,
    "canceled": OutboundStatus.CANCELED,
}


class TwilioSmsAdapter:
    def send(
        self,
        channel: Channel,
        *,
        to: str,
        body: str,
        status_callback: str,
        template: TemplateCall | None = None,
    ) -> SendResult:
        """Send `body` as an SMS (templates are WhatsApp's: an SMS goes as its text)."""
        return message_create(
            channel,
            {"to": to, "body": body, "status_callback": status_callback, **sender_of(channel)},
            SMS_ERRORS,
        )

    def find_sent(
        self, channel: Channel, *, to: str, body: str, since: datetime
    ) -> SendResult | None:
        """Ask Twilio whether it already took this message (a worker died before recording)."""
        return message_find(channel, to=to, body=body, since=since, errors=SMS_ERRORS)


def sender_of(channel: Channel, prefix: str = "") -> dict[str, str]:
    """Who sends: the channel's Messaging Service if it has one, else its number."""
    if channel.messaging_service_sid:
        return {"messaging_service_sid": channel.messaging_service_sid}
    return {"from_": prefix + channel.from_number.removeprefix(prefix)}


def message_create(channel: Channel, params: dict[str, Any], errors: TwilioErrors) -> SendResult:
    """POST one message (`params` as the SDK's `messages.create` takes them); raises
    TransportError, classified by `errors`."""
    if not (channel.account_sid and channel.auth_token):
        raise TransportError("The channel has no Twilio account SID or auth token.", permanent=True)
    client = twilio_client(channel.account_sid, channel.auth_token)
    try:
        message = client.messages.create(**params)
    except TwilioRestException as error:
        raise classify(error, errors) from error
    except (requests.Timeout, requests.ConnectionError) as error:
        raise unreachable(error) from error
    except TwilioException as error:
        # An answer we cannot read: Twilio may well have taken the message.
        raise TransportError(
            f"Twilio answered unexpectedly: {mask_numbers_in_provider_text(str(error))}",
            permanent=False,
            outcome_unknown=True,
        ) from error
    if not getattr(message, "sid", None):
        raise TransportError("Twilio answered without a message SID.", permanent=True)
    return SendResult(
        provider_message_id=message.sid,
        status=STATUS_OF_TWILIO.get(message.status or "", OutboundStatus.SENDING),
        price=_price(message.price),
        price_unit=message.price_unit or "",
    )


def message_find(
    channel: Channel, *, to: str, body: str, since: datetime, errors: TwilioErrors
) -> SendResult | None:
    """Twilio's record of a message with this text to `to` (as Twilio writes it) since `since`."""
    client = twilio_client(channel.account_sid, channel.auth_token)
    try:
        recent = client.messages.list(to=to, limit=20)
    except TwilioRestException as error:
        raise classify(error, errors) from error
    except (requests.Timeout, requests.ConnectionError, TwilioException) as error:
        raise TransportError(
            f"Twilio could not be asked: {type(error).__name__}", permanent=False
        ) from error
    for message in recent:
        created = message.date_created
        if message.body == body and (created is None or created >= since):
            return SendResult(
                provider_message_id=message.sid,
                status=STATUS_OF_TWILIO.get(message.status or "", OutboundStatus.SENDING),
            )
    return None


def unreachable(error: requests.RequestException) -> TransportError:
    """A network failure: "not sent" only if the request never left (no connection made)."""
    return TransportError(
        f"Twilio unreachable: {type(error).__name__}",
        permanent=False,
        outcome_unknown=not _never_connected(error),
    )


def classify(error: TwilioRestException, errors: TwilioErrors = SMS_ERRORS) -> TransportError:
    """Permanent or transient, from Twilio's error code first and its HTTP status second."""
    code = error.code or 0
    if code in errors.permanent:
        permanent = True
    elif code in errors.transient:
        permanent = False
    else:
        permanent = error.status not in TRANSIENT_HTTP_STATUSES
    return TransportError(
        # Twilio's text may name the number (21211): masked here, so no log line shows it.
        f"Twilio {code or error.status}: {mask_numbers_in_provider_text(str(error.msg))}",
        permanent=permanent,
        provider_code=str(code or error.status),
        unsubscribed=code in errors.unsubscribed,
    )


def _never_connected(error: requests.RequestException) -> bool:
    if isinstance(error, requests.ConnectTimeout):
        return True
    if isinstance(error, requests.ConnectionError):
        reason = getattr(error.args[0] if error.args else None, "reason", None)
        return isinstance(reason, NewConnectionError | NameResolutionError)
    return False  # a read timeout: the request was written, Twilio may have taken it


def _price(value: object) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return abs(Decimal(str(value)))  # Twilio reports prices as negative amounts
    except InvalidOperation:
        return None
