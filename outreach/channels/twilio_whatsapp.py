"""WhatsApp through Twilio: the SMS adapter's SDK calls with `whatsapp:` addresses, approved
Content templates (ContentSid) outside the 24-hour window, and WhatsApp's error codes as data.

The channel's `from_number` is its WhatsApp sender (E.164), or `messaging_service_sid` a
Messaging Service holding it; templates are listed from Twilio's Content API.
"""

import json
from datetime import datetime
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.response import Response

from outreach.channels.base import SendResult, TemplateCall, TemplateInfo, TransportError
from outreach.channels.twilio_client import twilio_client
from outreach.channels.twilio_sms import (
    SMS_ERRORS,
    TwilioErrors,
    classify,
    message_create,
    message_find,
    sender_of,
)
from outreach.models import Channel, TemplateStatus

ADDRESS_PREFIX = "whatsapp:"  # how Twilio writes a WhatsApp address: whatsapp:+254712345678

# Free text more than 24 hours after the person last wrote: an approved template may still go.
OUTSIDE_WINDOW = 63016
MARKETING_OPTED_OUT = 63032  # the person stopped marketing messages
WHATSAPP_ERRORS = SMS_ERRORS | TwilioErrors(
    permanent=frozenset(
        {
            63003,  # Twilio could not find the To address on WhatsApp
            OUTSIDE_WINDOW,
            63024,  # invalid recipient (not a WhatsApp user)
            MARKETING_OPTED_OUT,
            63049,  # Meta chose not to deliver this marketing message
        }
    ),
    transient=frozenset({63018}),  # the sender's rate limit (or WhatsApp's messaging limit)
    unsubscribed=frozenset({MARKETING_OPTED_OUT}),
)

# A Content template's WhatsApp approval in our words; anything not listed cannot be sent.
TEMPLATE_STATUS_OF_TWILIO = {
    "approved": TemplateStatus.APPROVED,
    "pending": TemplateStatus.PENDING,
    "received": TemplateStatus.PENDING,
    "unsubmitted": TemplateStatus.PENDING,
    "rejected": TemplateStatus.REJECTED,
    "paused": TemplateStatus.PAUSED,
    "disabled": TemplateStatus.PAUSED,
}
CONTENT_AND_APPROVALS = "https://content.twilio.com/v1/ContentAndApprovals"
TEMPLATE_PAGE_SIZE = 50  # the Content API's default page
TEMPLATES_AT_MOST = 10_000  # far above WhatsApp's templates per account: a runaway stops


class TwilioWhatsAppAdapter:
    def send(
        self,
        channel: Channel,
        *,
        to: str,
        body: str,
        status_callback: str,
        template: TemplateCall | None = None,
    ) -> SendResult:
        """Send `body` as free text, or `template` as its ContentSid with numbered variables
        (`body` then is only what the person will read, for our records)."""
        params: dict[str, Any] = {
            "to": whatsapp_address(to),
            "status_callback": status_callback,
            **sender_of(channel, prefix=ADDRESS_PREFIX),
        }
        if template is None:
            params["body"] = body
        elif not template.provider_template_id:
            raise TransportError("The template has no Twilio ContentSid.", permanent=True)
        else:
            params["content_sid"] = template.provider_template_id
            params["content_variables"] = json.dumps(
                {str(number): value for number, value in enumerate(template.variables, start=1)}
            )
        return message_create(channel, params, WHATSAPP_ERRORS)

    def find_sent(
        self, channel: Channel, *, to: str, body: str, since: datetime
    ) -> SendResult | None:
        """Ask Twilio whether it already took this message (Twilio keeps a template's text as
        the message's body, which is what `body` is for a template too)."""
        return message_find(
            channel, to=whatsapp_address(to), body=body, since=since, errors=WHATSAPP_ERRORS
        )

    def list_templates(self, channel: Channel) -> list[TemplateInfo]:
        """Every Content template of the channel's account with its WhatsApp approval
        (GET content.twilio.com/v1/ContentAndApprovals, page after page)."""
        if not (channel.account_sid and channel.auth_token):
            raise TransportError(
                "The channel has no Twilio account SID or auth token.", permanent=True
            )
        client = twilio_client(channel.account_sid, channel.auth_token)
        try:
            contents = client.content.v1.content_and_approvals.list(
                limit=TEMPLATES_AT_MOST, page_size=TEMPLATE_PAGE_SIZE
            )
        except TwilioRestException as error:
            raise classify(error, WHATSAPP_ERRORS) from error
        except TwilioException as error:
            raise _page_refused(error) from error
        except requests.RequestException as error:
            raise TransportError(
                f"Twilio could not be asked: {type(error).__name__}", permanent=False
            ) from error
        return [_template_info(content) for content in contents]


def whatsapp_address(to: str) -> str:
    """An E.164 number as Twilio's WhatsApp wants it: whatsapp:+254712345678."""
    number = to.removeprefix(ADDRESS_PREFIX)
    if not (number.startswith("+") and number[1:].isdigit()):
        raise TransportError("A WhatsApp address is an E.164 number.", permanent=True)
    return ADDRESS_PREFIX + number


def _page_refused(error: TwilioException) -> TransportError:
    """A list page Twilio refused: the SDK raises it bare, with Twilio's answer beside it,
    which is classified like any other refusal (a wrong token is permanent, a 429 is not)."""
    response = error.args[1] if len(error.args) > 1 else None
    if not isinstance(response, Response):
        return TransportError(f"Twilio could not be asked: {error}", permanent=False)
    try:
        answer = json.loads(response.text)
    except ValueError:
        answer = {}
    answer = answer if isinstance(answer, dict) else {}
    refusal = TwilioRestException(
        response.status_code,
        CONTENT_AND_APPROVALS,
        msg=str(answer.get("message") or "Unable to fetch page"),
        code=answer.get("code") if isinstance(answer.get("code"), int) else None,
        method="GET",
    )
    return classify(refusal, WHATSAPP_ERRORS)


def _template_info(content: Any) -> TemplateInfo:
    approval = content.approval_requests if isinstance(content.approval_requests, dict) else {}
    return TemplateInfo(
        name=content.friendly_name or "",
        language=content.language or "",
        provider_template_id=content.sid or "",
        status=TEMPLATE_STATUS_OF_TWILIO.get(
            str(approval.get("status") or "").lower(), TemplateStatus.PENDING
        ),
        category=str(approval.get("category") or ""),
        body=_body_of(content.types if isinstance(content.types, dict) else {}),
    )


def _body_of(types: dict[str, Any]) -> str:
    """The text of a content: its twilio/text body, else the first other type's body."""
    ordered = sorted(types.items(), key=lambda item: item[0] != "twilio/text")
    for _, shape in ordered:
        if isinstance(shape, dict) and isinstance(shape.get("body"), str):
            return shape["body"]
    return ""
