"""Inbox: what subscribers texted (language, intent, the wave it answers), a filter for the
free replies needing a look, and a reply from the console through the channel they wrote on.

Numbers are masked unless the role may see them in full; only Action.REPLY may answer.
"""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from console.forms import through_service
from console.guard import member_view
from outreach.access import Action, may
from outreach.models import InboundMessage
from outreach.privacy import mask_phone_number
from outreach.selectors.inbox import inbox_messages
from outreach.services.staff_replies import BODY_MAX_LENGTH, staff_reply_send

PER_PAGE = 50


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Your reply"),
        max_length=BODY_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


@member_view(Action.SEE_INBOX)
def index(request: HttpRequest) -> HttpResponse:
    needing_a_look = request.GET.get("look") == "1"
    full = may(request.membership.role, Action.SEE_FULL_NUMBERS)
    page = Paginator(
        inbox_messages(request.organization, needing_a_look=needing_a_look), PER_PAGE
    ).get_page(request.GET.get("page"))
    rows = [_row(message, full) for message in page]
    context = {"rows": rows, "page": page, "needing_a_look": needing_a_look}
    return render(request, "console/inbox/list.html", context)


@member_view(Action.REPLY)
def reply(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the message and a reply form; POST: queue the reply."""
    inbound = get_object_or_404(
        InboundMessage.objects.select_related("channel", "subscriber"),
        organization=request.organization,
        pk=pk,
    )
    form = ReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sent = through_service(
            form,
            lambda: staff_reply_send(
                inbound=inbound, body=form.cleaned_data["body"], by=request.user
            ),
        )
        if sent is not None:
            messages.success(request, _("Reply queued; it goes ahead of campaign waves."))
            return redirect("console:inbox")
    full = may(request.membership.role, Action.SEE_FULL_NUMBERS)
    context = {"row": _row(inbound, full), "form": form, "replies": inbound.replies.order_by("pk")}
    status = 400 if form.is_bound else 200
    return render(request, "console/inbox/reply.html", context, status=status)


def _row(message: InboundMessage, full: bool) -> dict[str, Any]:
    subscriber = message.subscriber
    if subscriber is None:
        address = ""
    else:
        address = subscriber.address if full else mask_phone_number(subscriber.address)
    return {"message": message, "address": address}


urlpatterns = [
    path("inbox/", index, name="inbox"),
    path("inbox/<int:pk>/reply/", reply, name="inbox-reply"),
]
