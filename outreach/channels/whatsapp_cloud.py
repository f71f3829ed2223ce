"""WhatsApp through Meta's Cloud API: send a text or an approved template, list templates.

The channel's `external_id` is the WhatsApp phone-number id it sends from, `account_sid`
the WhatsApp Business Account (WABA) id that owns its templates, `access_token` a system
user's token. Error codes are data (Meta's "WhatsApp Cloud API error codes" page).
"""

from datetime import datetime
from typing import Any

from outreach.channels.base import SendResult, TemplateCall, TemplateInfo, TransportError, no_lookup
from outreach.channels.meta_graph import (
    PERMANENT,
    TRANSIENT,
    ErrorKind,
    ErrorTable,
    answered_id,
    graph_request,
    stored_id,
    throttled,
)
from outreach.models import Channel, OutboundStatus, TemplateStatus

THROTTLED_FOR_SECONDS = 5.0
ERRORS: ErrorTable = {
    (1, None): TRANSIENT,  # API unknown
    (2, None): TRANSIENT,  # API service temporarily unavailable
    (4, None): throttled(60.0),  # the app's call limit
    (190, None): PERMANENT,  # the access token expired or was revoked
    (80007, None): throttled(60.0),  # the business account's rate limit
    (130429, None): throttled(THROTTLED_FOR_SECONDS),  # the number's throughput
    (131000, None): TRANSIENT,  # "Something went wrong"
    (131016, None): TRANSIENT,  # service unavailable
    (131026, None): PERMANENT,  # undeliverable (not on WhatsApp, old app, terms not accepted)
    # More than 24 hours since the person last wrote: only a template may go (a fallback).
    (131047, None): PERMANENT,
    (131049, None): PERMANENT,  # the person's marketing-message limit, for this message
    (131050, None): ErrorKind(permanent=True, unsubscribed=True),  # stopped marketing messages
    (131056, None): throttled(THROTTLED_FOR_SECONDS),  # too many to this one person
}
REENGAGEMENT_REQUIRED = "131047"
MARKETING_STOPPED = "131050"

# Statuses Meta's webhook reports for a message (a failed one carries errors[].code).
STATUS_OF_WHATSAPP = {
    "sent": OutboundStatus.SENT,
    "delivered": OutboundStatus.DELIVERED,
    "read": OutboundStatus.READ,
    "failed": OutboundStatus.FAILED,
}

# A template's review status as Meta words it, in ours; anything not listed cannot be sent.
TEMPLATE_STATUS_OF_WHATSAPP = {
    "APPROVED": TemplateStatus.APPROVED,
    "PENDING": TemplateStatus.PENDING,
    "IN_APPEAL": TemplateStatus.PENDING,
    "REJECTED": TemplateStatus.REJECTED,
    "PAUSED": TemplateStatus.PAUSED,
    "DISABLED": TemplateStatus.PAUSED,
    "LIMIT_EXCEEDED": TemplateStatus.PAUSED,
    "PENDING_DELETION": TemplateStatus.PAUSED,
}
TEMPLATE_PAGE_SIZE = 100
TEMPLATE_PAGES_AT_MOST = 100  # 10,000 templates: far above Meta's 250 per account


class WhatsAppCloudAdapter:
    def send(
        self,
        channel: Channel,
        *,
        to: str,
        body: str,
        status_callback: str,
        template: TemplateCall | None = None,
    ) -> SendResult:
        """POST /{phone-number-id}/messages; Meta reports the statuses to the channel's webhook."""
        if not channel.external_id:
            raise TransportError("The channel has no WhatsApp phone-number id.", permanent=True)
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": _wa_number(to),
            **(_template(template) if template else {"type": "text", "text": {"body": body}}),
        }
        answer = graph_request(
            channel, "POST", f"{channel.external_id}/messages", errors=ERRORS, json=payload
        )
        messages = answer.get("messages")
        first = messages[0] if isinstance(messages, list) and messages else {}
        wamid = answered_id(first.get("id") if isinstance(first, dict) else None, "message")
        return SendResult(provider_message_id=stored_id(wamid), status=OutboundStatus.SENDING)

    def find_sent(
        self, channel: Channel, *, to: str, body: str, since: datetime
    ) -> SendResult | None:
        """The Cloud API lists no sent messages: a send in doubt cannot be looked up."""
        raise no_lookup("The WhatsApp Cloud API")

    def list_templates(self, channel: Channel) -> list[TemplateInfo]:
        """GET /{waba-id}/message_templates, page after page (by the `after` cursor)."""
        if not channel.account_sid:
            raise TransportError("The channel has no WhatsApp Business Account id.", permanent=True)
        templates: list[TemplateInfo] = []
        params: dict[str, Any] = {
            "fields": "id,name,language,status,category,components",
            "limit": TEMPLATE_PAGE_SIZE,
        }
        for _ in range(TEMPLATE_PAGES_AT_MOST):
            page = graph_request(
                channel,
                "GET",
                f"{channel.account_sid}/message_templates",
                errors=ERRORS,
                params=params,
            )
            templates.extend(_template_info(item) for item in page.get("data") or [])
            paging = page.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            # Meta gives `next` only while there is more; its cursor is the way on.
            if not paging.get("next") or not after:
                break
            params = {**params, "after": after}
        return templates


def _wa_number(to: str) -> str:
    """An E.164 number as the Cloud API takes it: digits only, no '+'."""
    digits = to.removeprefix("+")
    if not digits.isdigit():
        raise TransportError("A WhatsApp address is an E.164 number.", permanent=True)
    return digits


def _template(template: TemplateCall) -> dict[str, Any]:
    call: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    if template.variables:
        parameters = [{"type": "text", "text": value} for value in template.variables]
        call["components"] = [{"type": "body", "parameters": parameters}]
    return {"type": "template", "template": call}


def _template_info(item: dict[str, Any]) -> TemplateInfo:
    body = next(
        (
            part.get("text") or ""
            for part in item.get("components") or []
            if str(part.get("type", "")).upper() == "BODY"
        ),
        "",
    )
    return TemplateInfo(
        name=str(item.get("name", "")),
        language=str(item.get("language", "")),
        provider_template_id=str(item.get("id", "")),
        status=TEMPLATE_STATUS_OF_WHATSAPP.get(
            str(item.get("status", "")).upper(), TemplateStatus.PAUSED
        ),
        category=str(item.get("category", "")),
        body=body,
    )
