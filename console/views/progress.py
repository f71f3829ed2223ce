"""A wave's page: its status, times and texts, and its live progress per channel.

The progress fragment reloads itself every 2 seconds (htmx) while the wave is scheduled,
sending or paused, and stops once it is sent or cancelled; while it reloads it shows the
wave's send rate over the last minute and the time left at that rate. Schedule, pause, resume and
cancel (after a confirmation page) call the same services as the API.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.models import Wave, WaveStatus
from campaigns.selectors.progress import wave_pace, wave_progress
from campaigns.selectors.recipients import wave_channels
from campaigns.services import waves as services
from console.formatting import duration_words
from console.forms import through_service
from console.guard import member_view
from outreach.access import Action, may

# While a wave is in one of these, its numbers move: the page keeps asking.
LIVE = {WaveStatus.SCHEDULED, WaveStatus.SENDING, WaveStatus.PAUSED}
POLL_EVERY = "2s"
# The composer's page (another area's): the first of these names that exists.
COMPOSER_URL_NAMES = ("console:wave-edit", "console:wave-compose", "console:composer")


@member_view(Action.SEE_CAMPAIGNS)
def wave_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, own_wave(request, pk))


@member_view(Action.SEE_CAMPAIGNS)
def wave_progress_fragment(request: HttpRequest, pk: int) -> HttpResponse:
    wave = own_wave(request, pk)
    return render(request, "console/progress/progress.html", progress_context(wave))


@require_POST
@member_view(Action.RUN_WAVES)
def wave_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(request, pk, services.wave_schedule, _("The wave is scheduled."))


@require_POST
@member_view(Action.RUN_WAVES)
def wave_pause(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(request, pk, services.wave_pause, _("The wave is paused."))


@require_POST
@member_view(Action.RUN_WAVES)
def wave_resume(request: HttpRequest, pk: int) -> HttpResponse:
    return _run(request, pk, services.wave_resume, _("The wave goes on."))


@member_view(Action.RUN_WAVES)
def wave_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation step; POST (with `confirm`): cancel, for good."""
    wave = own_wave(request, pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        return _run(request, pk, services.wave_cancel, _("The wave is cancelled."))
    progress = wave_progress(wave, now=timezone.now())
    unsent = progress.totals.queued + progress.totals.held + progress.totals.sending
    return render(
        request,
        "console/progress/cancel.html",
        {"wave": wave, "unsent": unsent, "final": wave.status in services.FINAL},
    )


def own_wave(request: HttpRequest, pk: int) -> Wave:
    """The session organization's wave `pk`; another organization's is not found (404)."""
    return get_object_or_404(
        Wave.objects.select_related("campaign", "created_by", "approved_by"),
        organization=request.organization,
        pk=pk,
    )


def progress_context(wave: Wave) -> dict[str, Any]:
    """What the progress fragment shows: the status, the counts per channel, the hold, and
    while the wave is under way its send rate and the time left at it."""
    now = timezone.now()
    progress = wave_progress(wave, now=now)
    pace = wave_pace(wave, progress) if wave.status in LIVE else None
    left = pace.seconds_left if pace else None
    return {
        "wave": wave,
        "progress": progress,
        "live": wave.status in LIVE,
        "poll_every": POLL_EVERY,
        "pace": pace,
        "time_left": duration_words(left) if left is not None else None,
        "finishes_at": now + timedelta(seconds=left) if left is not None else None,
    }


def composer_url(wave: Wave) -> str | None:
    """Where a draft is edited, if the composer's page exists."""
    for name in COMPOSER_URL_NAMES:
        try:
            return reverse(name, args=[wave.pk])
        except NoReverseMatch:
            continue
    return None


def _page(
    request: HttpRequest, wave: Wave, *, form: forms.Form | None = None, status: int = 200
) -> HttpResponse:
    role = request.membership.role
    context = {
        **progress_context(wave),
        "times": services.wave_times(wave),
        "variants": list(wave.variants.all()),
        "channels": wave_channels(wave),
        "composer_url": composer_url(wave) if wave.status == WaveStatus.DRAFT else None,
        "may_run": may(role, Action.RUN_WAVES),
        "may_compose": may(role, Action.COMPOSE),
        "may_schedule": wave.status == WaveStatus.APPROVED,
        "may_pause": wave.status in {WaveStatus.SCHEDULED, WaveStatus.SENDING},
        "may_resume": wave.status == WaveStatus.PAUSED,
        "may_cancel": wave.status not in services.FINAL,
        "form": form,
    }
    return render(request, "console/progress/wave.html", context, status=status)


def _run(request: HttpRequest, pk: int, service: Callable[..., Wave], done: str) -> HttpResponse:
    wave = own_wave(request, pk)
    form = forms.Form(request.POST)
    form.is_valid()
    if through_service(form, lambda: service(wave=wave, by=request.user)) is None:
        wave.refresh_from_db()
        return _page(request, wave, form=form, status=400)
    messages.success(request, done)
    return redirect("console:wave", pk=wave.pk)


urlpatterns = [
    path("waves/<int:pk>/", wave_page, name="wave"),
    path("waves/<int:pk>/progress/", wave_progress_fragment, name="wave-progress"),
    path("waves/<int:pk>/schedule/", wave_schedule, name="wave-schedule"),
    path("waves/<int:pk>/pause/", wave_pause, name="wave-pause"),
    path("waves/<int:pk>/resume/", wave_resume, name="wave-resume"),
    path("waves/<int:pk>/cancel/", wave_cancel, name="wave-cancel"),
]
