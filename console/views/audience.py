"""Audience: the subscribers list, one person's page (consent history, conversation,
erasure), segments built with a form and a live count, and the CSV import with its dry run.

Numbers are masked unless the role may see them in full (the API's rule); a number is
never in a URL: the lookup by number is a POST form.
"""

import os
import tempfile
import time
import uuid
from contextlib import suppress
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from campaigns.models import Segment
from campaigns.selectors.segments import people_in, segment_count, subscribers_matching
from campaigns.services.segments import segment_create, segment_filters_clean, segment_update
from console.forms import through_service
from console.guard import member_view
from outreach.access import Action, may
from outreach.errors import AmaniError
from outreach.models import (
    AgeBand,
    Channel,
    ConsentEvent,
    ConsentStatus,
    Gender,
    Region,
    Subscriber,
)
from outreach.privacy import mask_phone_number
from outreach.selectors.inbound import subscriber_conversation
from outreach.services.subscriber_import import subscribers_import
from outreach.services.subscribers import subscriber_erase

PER_PAGE = 50
MAX_FILE_BYTES = 50 * 1024 * 1024  # as the API's import
IMPORT_SESSION_KEY = "console_import"

KEPT_FOR_SECONDS = 3600  # a checked file waits this long for its import, then goes


# Subscribers --------------------------------------------------------------------------


class SubscriberFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Status"), required=False, choices=[("", "—"), *ConsentStatus.choices]
    )
    language = forms.ChoiceField(label=gettext_lazy("Language"), required=False)
    region = forms.TypedChoiceField(
        label=gettext_lazy("Region"), required=False, coerce=int, empty_value=None
    )
    tag = forms.CharField(label=gettext_lazy("Tag"), required=False, max_length=40)

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", "—")] + [
            (code, code) for code in organization.languages
        ]
        self.fields["region"].choices = [("", "—")] + [
            (r.pk, r.name) for r in Region.objects.filter(organization=organization)
        ]


class LookupForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("Number"), max_length=40)

    def clean_number(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["number"] if ch.isdigit()).lstrip("0")
        if not digits:
            raise forms.ValidationError(_("A number needs digits other than leading zeros."))
        return digits


@member_view(Action.SEE_AUDIENCE)
def index(request: HttpRequest) -> HttpResponse:
    """The list, filtered by GET params (never a number); POST is the lookup by number."""
    organization = request.organization
    full = may(request.membership.role, Action.SEE_FULL_NUMBERS)
    if "number" in request.GET:
        return render(
            request,
            "console/forbidden.html",
            {"reason": _("A number never goes in a URL: use the lookup form.")},
            status=400,
        )
    queryset = Subscriber.objects.filter(organization=organization).select_related(
        "region", "channel"
    )
    filters = SubscriberFilterForm(request.GET or None, organization=organization)
    lookup = LookupForm(request.POST or None) if full else None
    if filters.is_valid():
        data = filters.cleaned_data
        if data["status"]:
            queryset = queryset.filter(consent_status=data["status"])
        if data["language"]:
            queryset = queryset.filter(language=data["language"])
        if data["region"]:
            queryset = queryset.filter(region_id=data["region"])
        if data["tag"]:
            queryset = queryset.filter(tags__contains=[data["tag"].strip().lower()])
    status = 200
    if request.method == "POST":
        if lookup is None:
            return render(request, "console/forbidden.html", {"reason": None}, status=403)
        if lookup.is_valid():
            queryset = queryset.filter(address__endswith=lookup.cleaned_data["number"])
        else:
            status = 400
    page = Paginator(queryset.order_by("-created_at", "-pk"), PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [_row(subscriber, full) for subscriber in page]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filters": filters,
        "lookup": lookup,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
    }
    return render(request, "console/audience/list.html", context, status=status)


def _row(subscriber: Subscriber, full: bool) -> dict[str, Any]:
    return {
        "subscriber": subscriber,
        "address": subscriber.address if full else mask_phone_number(subscriber.address),
    }


# One person ---------------------------------------------------------------------------


@member_view(Action.SEE_AUDIENCE)
def person(request: HttpRequest, pk: int) -> HttpResponse:
    """A person (contact `pk`): addresses, profile, consent history and conversation."""
    addresses = _addresses(request, pk)
    full = may(request.membership.role, Action.SEE_FULL_NUMBERS)
    events = (
        ConsentEvent.objects.filter(subscriber__in=addresses)
        .select_related("channel", "recorded_by")
        .order_by("-occurred_at", "-pk")
    )
    conversation = []
    for address in addresses:
        conversation.extend(
            subscriber_conversation(organization=request.organization, subscriber_id=address.pk)
        )
    conversation.sort(key=lambda message: (message.received_at, message.pk), reverse=True)
    context = {
        "pk": pk,
        "profile": addresses[0],
        "addresses": [_row(address, full) for address in addresses],
        "events": events,
        "conversation": conversation,
    }
    return render(request, "console/audience/person.html", context)


@member_view(Action.CHANGE_AUDIENCE)
def person_erase(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirm step naming what goes; POST: erase every address of the person."""
    addresses = _addresses(request, pk)
    if request.method == "POST":
        subscriber_erase(subscriber=addresses[0])
        messages.success(request, _("The person was erased; anonymous counts remain."))
        return redirect("console:audience")
    full = may(request.membership.role, Action.SEE_FULL_NUMBERS)
    context = {"pk": pk, "addresses": [_row(address, full) for address in addresses]}
    return render(request, "console/audience/erase.html", context)


def _addresses(request: HttpRequest, pk: int) -> list[Subscriber]:
    """The session organization's addresses of contact `pk`; none means not found (404)."""
    addresses = list(
        Subscriber.objects.filter(organization=request.organization, contact_id=pk)
        .select_related("region", "channel")
        .order_by("pk")
    )
    if not addresses:
        raise Http404
    return addresses


# Segments -----------------------------------------------------------------------------


class SegmentForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100, required=False)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Languages"), required=False, widget=forms.CheckboxSelectMultiple
    )
    age_bands = forms.MultipleChoiceField(
        label=gettext_lazy("Age bands"),
        required=False,
        choices=AgeBand.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    genders = forms.MultipleChoiceField(
        label=gettext_lazy("Genders"),
        required=False,
        choices=Gender.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    regions = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Regions"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    channels = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Channels"),
        required=False,
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
    )
    tags = forms.CharField(
        label=gettext_lazy("Tags"),
        required=False,
        help_text=gettext_lazy("Separated by commas; any of them matches."),
    )

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["languages"].choices = [(code, code) for code in organization.languages]
        self.fields["regions"].choices = [
            (r.pk, r.name) for r in Region.objects.filter(organization=organization)
        ]
        self.fields["channels"].choices = [
            (c.pk, c.name) for c in Channel.objects.filter(organization=organization)
        ]

    def filters(self) -> dict[str, Any]:
        """The filters as the segment services take them."""
        data = self.cleaned_data
        tags = [tag.strip() for tag in data["tags"].split(",") if tag.strip()]
        return {
            "languages": data["languages"],
            "age_bands": data["age_bands"],
            "genders": data["genders"],
            "regions": data["regions"],
            "channels": data["channels"],
            "tags": tags,
        }


def _initial(segment: Segment) -> dict[str, Any]:
    return {
        "name": segment.name,
        "description": segment.description,
        "languages": segment.languages,
        "age_bands": segment.age_bands,
        "genders": segment.genders,
        "regions": [r.pk for r in segment.regions.all()],
        "channels": [c.pk for c in segment.channels.all()],
        "tags": ", ".join(segment.tags),
    }


@member_view(Action.SEE_AUDIENCE)
def segments(request: HttpRequest) -> HttpResponse:
    shown = list(Segment.objects.filter(organization=request.organization).order_by("name"))
    for segment in shown:
        segment.live_count = segment_count(segment)  # type: ignore[attr-defined]
    return render(request, "console/audience/segments.html", {"segments": shown})


@member_view(Action.CHANGE_AUDIENCE)
def segment_new(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    form = SegmentForm(request.POST or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        saved = through_service(
            form,
            lambda: segment_create(
                organization=organization,
                created_by=request.user,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                **form.filters(),
            ),
        )
        if saved is not None:
            messages.success(request, _("Segment saved."))
            return redirect("console:segments")
    return _segment_page(request, form, None)


@member_view(Action.CHANGE_AUDIENCE)
def segment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    organization = request.organization
    segment = get_object_or_404(Segment, organization=organization, pk=pk)
    form = SegmentForm(request.POST or None, organization=organization, initial=_initial(segment))
    if request.method == "POST" and form.is_valid():
        saved = through_service(
            form,
            lambda: segment_update(
                segment=segment,
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                **form.filters(),
            ),
        )
        if saved is not None:
            messages.success(request, _("Segment saved."))
            return redirect("console:segments")
    return _segment_page(request, form, segment)


def _segment_page(request: HttpRequest, form: SegmentForm, segment: Segment | None) -> HttpResponse:
    status = 400 if form.is_bound else 200
    if segment is not None and not form.is_bound:
        count, error = segment_count(segment), None
    else:
        count, error = _count(request, form)
    context = {"form": form, "segment": segment, "count": count, "error": error}
    return render(request, "console/audience/segment_form.html", context, status=status)


@require_POST
@member_view(Action.SEE_AUDIENCE)
def segment_count_fragment(request: HttpRequest) -> HttpResponse:
    """The live count: people the form's filters reach now; nothing is saved."""
    form = SegmentForm(request.POST, organization=request.organization)
    count, error = _count(request, form)
    return render(request, "console/audience/_count.html", {"count": count, "error": error})


def _count(request: HttpRequest, form: SegmentForm) -> tuple[int | None, str | None]:
    organization = request.organization
    if not form.is_bound:
        return people_in(subscribers_matching(organization)), None
    if not form.is_valid():
        return None, _("Check the highlighted choices.")
    try:
        filters = segment_filters_clean(organization=organization, **form.filters())
    except AmaniError as error:
        return None, error.message
    return people_in(subscribers_matching(organization, **filters)), None


# Import -------------------------------------------------------------------------------


class ImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))
    channel = forms.TypedChoiceField(label=gettext_lazy("Channel they join on"), coerce=int)

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [
            (c.pk, c.name) for c in Channel.objects.filter(organization=organization)
        ]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(_("At most 50 MB in one file; split it."))
        return upload


@member_view(Action.CHANGE_AUDIENCE)
def subscriber_import(request: HttpRequest) -> HttpResponse:
    """Step 1: upload and dry-run, showing the report; the file waits in a private temp file
    (its name in the session, never its content) for step 2."""
    organization = request.organization
    form = ImportForm(request.POST or None, request.FILES or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        channel = Channel.objects.get(organization=organization, pk=form.cleaned_data["channel"])
        content = form.cleaned_data["file"].read()
        report = through_service(
            form,
            lambda: subscribers_import(
                organization=organization,
                channel=channel,
                file=content,
                dry_run=True,
                recorded_by=request.user,
            ),
        )
        if report is not None:
            earlier = request.session.get(IMPORT_SESSION_KEY)
            if earlier:
                _take(earlier["token"])  # a file checked before and never imported goes
            token = _keep(content)
            request.session[IMPORT_SESSION_KEY] = {"token": token, "channel": channel.pk}
            context = {"report": report.as_dict(), "channel": channel}
            return render(request, "console/audience/import_report.html", context)
    status = 400 if form.is_bound else 200
    return render(request, "console/audience/import.html", {"form": form}, status=status)


@require_POST
@member_view(Action.CHANGE_AUDIENCE)
def subscriber_import_confirm(request: HttpRequest) -> HttpResponse:
    """Step 2: import the file the dry run checked, for real."""
    organization = request.organization
    kept = request.session.pop(IMPORT_SESSION_KEY, None)
    content = _take(kept["token"]) if kept else None
    channel = (
        Channel.objects.filter(organization=organization, pk=kept["channel"]).first()
        if kept
        else None
    )
    if content is None or channel is None:
        messages.error(request, _("The checked file is gone: upload it again."))
        return redirect("console:import")
    try:
        report = subscribers_import(
            organization=organization,
            channel=channel,
            file=content,
            dry_run=False,
            recorded_by=request.user,
        )
    except AmaniError as error:
        messages.error(request, error.message)
        return redirect("console:import")
    context = {"report": report.as_dict(), "channel": channel}
    return render(request, "console/audience/import_report.html", context)


def _keep(content: bytes) -> str:
    _sweep_abandoned()
    token = uuid.uuid4().hex
    # Created readable by this user only: the file holds numbers until it is imported.
    descriptor = os.open(_kept_path(token), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as kept:
        kept.write(content)
    return token


def _sweep_abandoned() -> None:
    """Files checked and never imported go within the hour (each holds numbers)."""
    cutoff = time.time() - KEPT_FOR_SECONDS
    for kept in Path(_kept_folder()).glob("amani-import-*.csv"):
        with suppress(OSError):  # another process may have taken it meanwhile
            if kept.stat().st_mtime < cutoff:
                kept.unlink()


def _take(token: str) -> bytes | None:
    kept = _kept_path(token)
    try:
        with open(kept, "rb") as file:
            return file.read()
    except OSError:
        return None
    finally:
        if os.path.exists(kept):
            os.remove(kept)


def _kept_path(token: str) -> str:
    if not token.isalnum():
        raise Http404
    return os.path.join(_kept_folder(), f"amani-import-{token}.csv")


def _kept_folder() -> str:
    return settings.FILE_UPLOAD_TEMP_DIR or tempfile.gettempdir()


urlpatterns = [
    path("audience/", index, name="audience"),
    path("audience/people/<int:pk>/", person, name="person"),
    path("audience/people/<int:pk>/erase/", person_erase, name="person-erase"),
    path("audience/segments/", segments, name="segments"),
    path("audience/segments/new/", segment_new, name="segment-new"),
    path("audience/segments/<int:pk>/", segment_edit, name="segment-edit"),
    path("audience/segments/count/", segment_count_fragment, name="segment-count"),
    path("audience/import/", subscriber_import, name="import"),
    path("audience/import/confirm/", subscriber_import_confirm, name="import-confirm"),
]
