"""The wave composer: one column per campaign language, live stats, a poll, preview, test send.

As the manager types, each column's text is posted to the check endpoint (htmx), which
answers with that variant's stats: encoding, characters, SMS segments and cost with the
opt-out footer, the API's numbers (campaigns.selectors.composer), and the network lexicons'
warnings. Saving and submitting call the API's services (wave_create, wave_update,
wave_submit); "start from a library template" calls version_adopt, which fills the variants.
"""

from functools import partial
from typing import Any

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from campaigns.models import Adoption, Campaign, TemplateVersion, Wave
from campaigns.selectors.composer import (
    DraftStats,
    composer_channels,
    composer_segments,
    draft_stats,
    wave_adoption,
)
from campaigns.selectors.library import adoptable_versions
from campaigns.selectors.recipients import wave_channels
from campaigns.selectors.waves import longest_region_name, variant_previews, wave_audience
from campaigns.services import waves as services
from campaigns.services.library import version_adopt
from campaigns.services.test_sends import wave_test_send
from console.forms import through_service
from console.forms_waves import (
    FIRST_POLL_ROWS,
    MAX_POLL_ROWS,
    AdoptForm,
    TestSendForm,
    WaveForm,
    language_name,
    library_choices,
    renamed,
    wave_initial,
)
from console.guard import member_view
from console.views.campaigns import own_campaign
from outreach.access import Action
from outreach.models import User


@member_view(Action.COMPOSE)
def wave_new(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    return _composer(request, own_campaign(request, campaign_pk), None)


@member_view(Action.COMPOSE)
def wave_compose(request: HttpRequest, pk: int) -> HttpResponse:
    wave = own_wave(request, pk)
    return _composer(request, wave.campaign, wave)


@require_POST
@member_view(Action.COMPOSE)
def wave_compose_check(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    """One variant's stats fragment for the text typed so far (not saved)."""
    campaign = own_campaign(request, campaign_pk)
    language = request.POST.get("language", "")
    if language not in campaign.languages:
        raise Http404(_("No such language in this campaign."))
    chosen = [int(pk) for pk in request.POST.getlist("channels") if pk.isdigit()]
    return render(
        request,
        "console/waves/compose_stats.html",
        {"s": _stats(request.POST.get(f"body_{language}", ""), language, campaign, chosen)},
    )


@require_POST
@member_view(Action.COMPOSE)
def wave_adopt(request: HttpRequest, pk: int) -> HttpResponse:
    """Start the wave from a library version: its texts replace the wave's variants."""
    wave = own_wave(request, pk)
    form = _adopt_form(request, wave.campaign)
    if form.is_valid():
        call = partial(version_adopt, version=form.chosen(), wave=wave, by=request.user)
        if through_service(form, call) is not None:
            messages.success(request, _("The texts are the library template's now."))
            return redirect("console:wave-compose", pk=wave.pk)
    return _composer_page(request, wave.campaign, wave, adopt_form=form, status=400)


@require_POST
@member_view(Action.COMPOSE)
def wave_new_adopt(request: HttpRequest, campaign_pk: int) -> HttpResponse:
    """A new draft wave started from a library version (created and adopted together)."""
    campaign = own_campaign(request, campaign_pk)
    form = _adopt_form(request, campaign)
    if form.is_valid():
        version = form.chosen()
        name = form.cleaned_data["name"].strip() or version.template.name
        adopted = through_service(
            form,
            partial(
                _create_and_adopt, campaign=campaign, version=version, name=name, by=request.user
            ),
        )
        if adopted is not None:
            messages.success(request, _("The wave is saved as a draft from the library template."))
            return redirect("console:wave-compose", pk=adopted.wave_id)
    return _composer_page(request, campaign, None, adopt_form=form, status=400)


@member_view(Action.SEE_CAMPAIGNS)
def wave_preview(request: HttpRequest, pk: int) -> HttpResponse:
    return _preview(request, own_wave(request, pk))


@require_POST
@member_view(Action.COMPOSE)
def wave_test(request: HttpRequest, pk: int) -> HttpResponse:
    wave = own_wave(request, pk)
    channels = wave_channels(wave)
    form = TestSendForm(request.POST, wave=wave, channels=channels)
    if form.is_valid():
        names = {f"numbers.{i}": "numbers" for i in range(10)}
        call = renamed(partial(wave_test_send, wave=wave, by=request.user, **form.values()), names)
        queued = through_service(form, call)
        if queued is not None:
            return _preview(request, wave, test_form=form, queued=queued)
    return _preview(request, wave, test_form=form, status=400)


def own_wave(request: HttpRequest, pk: int) -> Wave:
    """The session organization's wave `pk`; another organization's is not found (404)."""
    wave = (
        Wave.objects.select_related("campaign")
        .filter(organization=request.organization, pk=pk)
        .first()
    )
    if wave is None:
        raise Http404(_("No such wave."))
    return wave


# --- the composer ------------------------------------------------------------------------


def _composer(request: HttpRequest, campaign: Campaign, wave: Wave | None) -> HttpResponse:
    choices = _choices(request, campaign)
    if request.method != "POST":
        return _composer_page(request, campaign, wave)
    rows = _posted_rows(request)
    if "add_option" in request.POST:
        # One more poll row; nothing saved, nothing checked yet.
        rows = min(rows + 1, MAX_POLL_ROWS)
        initial = {**_as_initial(request), "option_rows": rows}
        form = WaveForm(initial=initial, poll_rows=rows, **choices)
        return _render(request, form, campaign, wave, initial)
    form = WaveForm(request.POST, poll_rows=rows, **choices)
    posted = _as_initial(request)
    if not form.is_valid():
        return _render(request, form, campaign, wave, posted, status=400)
    values, names = form.values()
    if wave is None:
        save = partial(services.wave_create, campaign=campaign, created_by=request.user, **values)
    else:
        save = partial(services.wave_update, wave=wave, by=request.user, **values)
    saved = through_service(form, renamed(save, names))
    if saved is None:
        return _render(request, form, campaign, wave, posted, status=400)
    if request.POST.get("action") != "submit":
        messages.success(request, _("The wave is saved as a draft."))
        return redirect("console:wave-compose", pk=saved.pk)
    submitted = through_service(
        form, renamed(partial(services.wave_submit, wave=saved, by=request.user), names)
    )
    if submitted is None:
        saved.refresh_from_db()
        return _render(request, form, campaign, saved, posted, status=400)
    messages.success(request, _("The wave is submitted: it waits for another member's review."))
    return redirect("console:campaign", pk=campaign.pk)


def _composer_page(
    request: HttpRequest,
    campaign: Campaign,
    wave: Wave | None,
    *,
    adopt_form: AdoptForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The composer as saved (or empty, for a new wave)."""
    initial, rows = (
        wave_initial(wave) if wave else ({"option_rows": FIRST_POLL_ROWS}, FIRST_POLL_ROWS)
    )
    form = WaveForm(initial=initial, poll_rows=rows, **_choices(request, campaign))
    return _render(request, form, campaign, wave, initial, adopt_form=adopt_form, status=status)


def _choices(request: HttpRequest, campaign: Campaign) -> dict[str, Any]:
    organization = request.organization
    return {
        "campaign": campaign,
        "segments": composer_segments(organization),
        "channels": composer_channels(organization),
    }


def _adopt_form(request: HttpRequest, campaign: Campaign) -> AdoptForm:
    data = request.POST if request.method == "POST" else None
    return AdoptForm(data, versions=adoptable_versions(request.organization, campaign))


def _create_and_adopt(
    *, campaign: Campaign, version: TemplateVersion, name: str, by: User
) -> Adoption:
    # Both or neither: a refused adoption leaves no empty wave behind.
    with transaction.atomic():
        wave = services.wave_create(campaign=campaign, created_by=by, name=name)
        return version_adopt(version=version, wave=wave, by=by)


def _render(
    request: HttpRequest,
    form: WaveForm,
    campaign: Campaign,
    wave: Wave | None,
    texts: dict[str, Any],
    *,
    adopt_form: AdoptForm | None = None,
    status: int = 200,
) -> HttpResponse:
    chosen = [int(pk) for pk in texts.get("channels") or []]
    columns = [
        {
            "language": language,
            "name": language_name(language),
            "field": field,
            "stats": _stats(texts.get(f"body_{language}") or "", language, campaign, chosen),
        }
        for language, field in form.variant_fields()
    ]
    adopt_form = adopt_form or _adopt_form(request, campaign)
    return render(
        request,
        "console/waves/compose.html",
        {
            "form": form,
            "campaign": campaign,
            "wave": wave,
            "columns": columns,
            "more_options": form.poll_rows < MAX_POLL_ROWS,
            "sensitive_terms": services.sensitive_terms_in(wave) if wave else [],
            "adopt_form": adopt_form,
            "library": library_choices(list(adopt_form.versions.values()), campaign),
            "adoption": wave_adoption(wave) if wave else None,
        },
        status=status,
    )


def _stats(text: str, language: str, campaign: Campaign, channel_ids: list[int]) -> DraftStats:
    return draft_stats(
        text,
        language=language,
        campaign=campaign,
        channel_ids=channel_ids,
        max_segments=services.MAX_SEGMENTS,
    )


def _posted_rows(request: HttpRequest) -> int:
    try:
        rows = int(request.POST.get("option_rows") or FIRST_POLL_ROWS)
    except ValueError:
        rows = FIRST_POLL_ROWS
    return max(0, min(rows, MAX_POLL_ROWS))


def _as_initial(request: HttpRequest) -> dict[str, Any]:
    """What was posted, as a form's initial values (to re-show it without checking it)."""
    initial: dict[str, Any] = {key: request.POST.get(key) for key in request.POST}
    initial["channels"] = [int(pk) for pk in request.POST.getlist("channels") if pk.isdigit()]
    return initial


# --- preview and test send ---------------------------------------------------------------


def _preview(
    request: HttpRequest,
    wave: Wave,
    *,
    test_form: TestSendForm | None = None,
    queued: int | None = None,
    status: int = 200,
) -> HttpResponse:
    channels = wave_channels(wave)
    texts = variant_previews(wave, longest_region=longest_region_name(wave.organization_id))
    audience = wave_audience(wave)
    by_language = audience.get("by_language", {})
    return render(
        request,
        "console/waves/preview.html",
        {
            "wave": wave,
            "campaign": wave.campaign,
            "audience": audience,
            "by_channel": list(audience.get("by_channel", {}).values()),
            "languages": [
                {
                    "code": language,
                    "name": language_name(language),
                    "text": text,
                    "people": by_language.get(language, {}),
                }
                for language, text in texts.items()
            ],
            "channels": channels,
            "test_form": test_form or TestSendForm(wave=wave, channels=channels),
            "queued": queued,
            "editable": wave.status in services.EDITABLE,
        },
        status=status,
    )


urlpatterns = [
    path("campaigns/<int:campaign_pk>/waves/new/", wave_new, name="wave-new"),
    path(
        "campaigns/<int:campaign_pk>/waves/check/",
        wave_compose_check,
        name="wave-compose-check",
    ),
    path(
        "campaigns/<int:campaign_pk>/waves/new/from-library/",
        wave_new_adopt,
        name="wave-new-adopt",
    ),
    path("waves/<int:pk>/compose/", wave_compose, name="wave-compose"),
    path("waves/<int:pk>/adopt/", wave_adopt, name="wave-adopt"),
    path("waves/<int:pk>/preview/", wave_preview, name="wave-preview"),
    path("waves/<int:pk>/test-send/", wave_test, name="wave-test-send"),
]
