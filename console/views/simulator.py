"""The phone simulator: text as a pretend subscriber through a console channel.

A manager picks one of the organization's console channels and a made-up sender (kept in
the session, never in a URL). Each text goes through the real inbound path, as the API's
simulate-inbound does (`inbound_receive`, then `inbound_replies`), and the chat pane
reloads the conversation every 2 seconds (htmx), so replies and later wave messages (a
poll) appear as they are sent, with their status.
"""

import uuid
from typing import Any

from django import forms
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from console.forms import through_service
from console.guard import member_view
from outreach.access import Action
from outreach.channel_kinds import KINDS
from outreach.models import Channel
from outreach.selectors.inbound import inbound_replies
from outreach.selectors.simulation import simulated_conversation
from outreach.services.inbound import inbound_receive
from outreach.simulation import simulated_sender

SESSION_KEY = "console.simulator"
POLL_EVERY = "2s"
REPLY_WAIT = 2.0  # seconds a text waits for its replies before the pane answers (then polls)
CONSOLE_KINDS = [kind for kind, spec in KINDS.items() if spec.console]
STATUS_LABELS = {
    "queued": _("queued"),
    "held": _("held"),
    "sending": _("sending"),
    "sent": _("sent"),
    "delivered": _("delivered"),
    "read": _("read"),
    "undelivered": _("undelivered"),
    "failed": _("failed"),
    "canceled": _("cancelled"),
}


class PretendSenderForm(forms.Form):
    channel = forms.ModelChoiceField(
        queryset=Channel.objects.none(), label=_("Console channel"), empty_label=None
    )
    sender = forms.CharField(
        max_length=32,
        label=_("Pretend sender"),
        help_text=_("A made-up phone number (SMS, WhatsApp) or chat id, digits only."),
    )

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].queryset = console_channels(organization)
        self.fields["channel"].label_from_instance = lambda channel: channel.name


class TextForm(forms.Form):
    body = forms.CharField(
        max_length=1600, required=False, label=_("Message"), widget=forms.TextInput
    )


@member_view(Action.SIMULATE)
def index(request: HttpRequest) -> HttpResponse:
    """GET: the phone; POST: choose the channel and the pretend sender."""
    if request.method == "POST":
        channel_id = request.POST.get("channel", "")
        if channel_id.isdigit():  # another organization's channel is not found
            get_object_or_404(Channel, organization=request.organization, pk=channel_id)
        form = PretendSenderForm(request.POST, organization=request.organization)
        if form.is_valid():
            channel = form.cleaned_data["channel"]
            sender = through_service(
                form, lambda: simulated_sender(channel, form.cleaned_data["sender"])
            )
            if sender is not None:
                request.session[SESSION_KEY] = {"channel": channel.pk, "sender": sender}
                return redirect("console:simulator")
        return _page(request, form, status=400)
    channel, sender = chosen(request)
    initial = {"channel": channel.pk, "sender": sender} if channel else {}
    return _page(request, PretendSenderForm(initial=initial, organization=request.organization))


@transaction.non_atomic_requests  # the text commits as it arrives, as a webhook's would
@require_POST
@member_view(Action.SIMULATE)
def send(request: HttpRequest) -> HttpResponse:
    """Text as the pretend sender; answers with the conversation, replies included."""
    channel, sender = chosen(request)
    if channel is None:
        return redirect("console:simulator")
    form = TextForm(request.POST)
    if not form.is_valid():
        return render(request, "console/simulator/text_error.html", {"form": form}, status=400)
    inbound, _created = inbound_receive(
        channel=channel,
        provider_message_id=f"console-{uuid.uuid4().hex}",
        from_address=sender,
        body=form.cleaned_data["body"],
        received_at=timezone.now(),
    )
    inbound_replies(inbound, wait=REPLY_WAIT)
    if not request.htmx:  # without JavaScript: back to the whole page
        return redirect("console:simulator")
    return _conversation(request, channel, sender)


@member_view(Action.SIMULATE)
def conversation(request: HttpRequest) -> HttpResponse:
    """The chat pane's bubbles: what the htmx poll reloads."""
    channel, sender = chosen(request)
    if channel is None:
        return HttpResponse(status=204)
    return _conversation(request, channel, sender)


def console_channels(organization: Any) -> Any:
    """The organization's console channels: the only ones that take simulated texts."""
    return Channel.objects.filter(organization=organization, kind__in=CONSOLE_KINDS).order_by(
        "name"
    )


def chosen(request: HttpRequest) -> tuple[Channel | None, str]:
    """The session's console channel (if still the organization's) and pretend sender."""
    choice = request.session.get(SESSION_KEY) or {}
    channel = console_channels(request.organization).filter(pk=choice.get("channel")).first()
    return channel, (choice.get("sender", "") if channel else "")


def _lines(channel: Channel, sender: str) -> list[dict[str, Any]]:
    return [
        {"line": line, "status": STATUS_LABELS.get(line.status, line.status)}
        for line in simulated_conversation(channel=channel, address=sender)
    ]


def _page(request: HttpRequest, form: PretendSenderForm, *, status: int = 200) -> HttpResponse:
    channel, sender = chosen(request)
    context = {
        "form": form,
        "channel": channel,
        "sender": sender,
        "has_channels": console_channels(request.organization).exists(),
        "lines": _lines(channel, sender) if channel else [],
        "text_form": TextForm(),
        "poll_every": POLL_EVERY,
    }
    return render(request, "console/simulator/index.html", context, status=status)


def _conversation(request: HttpRequest, channel: Channel, sender: str) -> HttpResponse:
    context = {"lines": _lines(channel, sender)}
    return render(request, "console/simulator/conversation.html", context)


urlpatterns = [
    path("simulator/", index, name="simulator"),
    path("simulator/send/", send, name="simulator-send"),
    path("simulator/conversation/", conversation, name="simulator-conversation"),
]
