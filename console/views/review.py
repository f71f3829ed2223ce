"""Review: the queue of waves in review, and a wave's review page.

The page shows the texts per language, what changed since the last review (the wave's
history, comments, the variants saved since: earlier texts are not kept), comments,
approve or request changes — the two-person rule explained next to the button when the
service refuses — and an admin's approval to send an urgent wave inside a blackout.
"""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from campaigns.models import Wave, WavePriority, WaveStatus
from campaigns.selectors.review import since_last_review, waves_in_review
from campaigns.selectors.waves import longest_region_name, variant_previews
from campaigns.services import waves as services
from console.forms import through_service
from console.guard import member_view
from console.views.progress import own_wave
from outreach.access import Action, may


class ApproveForm(forms.Form):
    pass


class RequestChangesForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("What needs to change"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Comment"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )


class BlackoutForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Why it must go out inside the blackout"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


FORMS: dict[str, type[forms.Form]] = {
    "approve": ApproveForm,
    "request_changes": RequestChangesForm,
    "comment": CommentForm,
    "blackout": BlackoutForm,
}


@member_view(Action.REVIEW)
def index(request: HttpRequest) -> HttpResponse:
    waves = list(waves_in_review(request.organization))
    for wave in waves:
        wave.mine = wave.created_by_id == request.user.pk
    return render(request, "console/review/queue.html", {"waves": waves})


@member_view(Action.SEE_CAMPAIGNS)
def wave_review(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, own_wave(request, pk))


@require_POST
@member_view(Action.REVIEW)
def wave_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request, pk, "approve", lambda wave, data: services.wave_approve(wave=wave, by=request.user)
    )


@require_POST
@member_view(Action.REVIEW)
def wave_request_changes(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "request_changes",
        lambda wave, data: services.wave_request_changes(
            wave=wave, by=request.user, comment=data["comment"]
        ),
    )


@require_POST
@member_view(Action.COMMENT)
def wave_comment(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "comment",
        lambda wave, data: services.wave_comment(wave=wave, by=request.user, body=data["body"]),
    )


@require_POST
@member_view(Action.APPROVE_BLACKOUT)
def wave_approve_blackout(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        "blackout",
        lambda wave, data: services.wave_approve_blackout(
            wave=wave, by=request.user, reason=data["reason"]
        ),
    )


DONE = {
    "approve": gettext_lazy("Approved: the wave may now be scheduled."),
    "request_changes": gettext_lazy("Sent back to its author with your comment."),
    "comment": gettext_lazy("Comment added."),
    "blackout": gettext_lazy("Approved for the blackout window, with your reason recorded."),
}


def _act(
    request: HttpRequest, pk: int, name: str, call: Callable[[Wave, dict[str, Any]], object]
) -> HttpResponse:
    wave = own_wave(request, pk)
    form = FORMS[name](request.POST)
    if form.is_valid() and through_service(form, lambda: call(wave, form.cleaned_data)):
        messages.success(request, str(DONE[name]))
        return redirect("console:wave-review", pk=wave.pk)
    wave.refresh_from_db()
    return _page(request, wave, bound={name: form}, status=400)


def _page(
    request: HttpRequest,
    wave: Wave,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    role = request.membership.role
    history = since_last_review(wave)
    previews = variant_previews(wave, longest_region=longest_region_name(wave.organization_id))
    variants = [
        {
            "language": v.language,
            "body": v.body,
            "as_sent": previews.get(v.language, ""),
            "changed": v.language in history.saved_languages,
        }
        for v in wave.variants.all()
    ]
    in_review = wave.status == WaveStatus.IN_REVIEW
    forms_ = {name: form() for name, form in FORMS.items()} | (bound or {})
    context = {
        "wave": wave,
        "variants": variants,
        "history": history,
        "comments": list(wave.comments.select_related("author")),
        "forms": forms_,
        "may_review": may(role, Action.REVIEW) and in_review,
        "mine": wave.created_by_id == request.user.pk,
        "may_comment": may(role, Action.COMMENT),
        "may_approve_blackout": may(role, Action.APPROVE_BLACKOUT)
        and wave.status not in services.FINAL,
        "urgent": wave.priority == WavePriority.URGENT,
        "sensitive_terms": services.sensitive_terms_in(wave),
        "blackout_note": _("Only urgent waves may go out inside a blackout window."),
    }
    return render(request, "console/review/wave.html", context, status=status)


urlpatterns = [
    path("review/", index, name="review-queue"),
    path("waves/<int:pk>/review/", wave_review, name="wave-review"),
    path("waves/<int:pk>/review/approve/", wave_approve, name="wave-approve"),
    path(
        "waves/<int:pk>/review/request-changes/",
        wave_request_changes,
        name="wave-request-changes",
    ),
    path("waves/<int:pk>/review/comment/", wave_comment, name="wave-comment"),
    path(
        "waves/<int:pk>/review/approve-blackout/",
        wave_approve_blackout,
        name="wave-approve-blackout",
    ),
]
