"""The network's library: the versions a member may read, one version's page, writing one.

Staff read the library of their organization's networks: every version proposed there,
and their own drafts (another organization's draft is not found). A version's page shows
its texts with how each goes out per channel, where it stands in each country, every
review decision, its forks and what they changed, and what the waves that used it
achieved (figures about fewer than k people withheld). What a member may do there
depends on its role and place: the owner's managers propose, write the next version,
deprecate or withdraw; another member's focal point reviews against the do-no-harm
checklist; any member's manager forks it or adopts it into an unsent wave. Every change
goes through campaigns.services.library, the services the API calls.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from campaigns.models import (
    CountryState,
    LibraryTemplate,
    MemberStatus,
    TemplateVersion,
    VersionState,
)
from campaigns.selectors.library import (
    adopter_counts,
    adoption_waves,
    fork_changes,
    library_versions,
    member_networks,
    networks_of,
    notices_for,
    renderings,
    review_queue,
    template_for,
    version_for,
    visible_versions,
)
from campaigns.selectors.library_outcomes import FIGURES, OUTCOME_RATES, version_outcomes
from campaigns.services import library as services
from console.formatting import age_band_label, channel_family_name
from console.forms import through_service
from console.forms_library import (
    CHECKLIST_LABELS,
    AdoptForm,
    DeprecateForm,
    ForkForm,
    LibraryFilterForm,
    ProposeForm,
    ReviewForm,
    TemplateForm,
    TextsForm,
    WithdrawForm,
)
from console.forms_waves import language_name, renamed
from console.guard import member_view
from outreach.access import Action, may

FINAL = (VersionState.WITHDRAWN,)
OUTCOME_LABELS = {
    "targeted": gettext_lazy("People targeted"),
    "sent": gettext_lazy("Messages sent"),
    "delivered": gettext_lazy("Delivered"),
    "replies": gettext_lazy("Replies"),
    "opt_outs": gettext_lazy("Opt-outs"),
    "delivery_rate": gettext_lazy("Delivery rate"),
    "reply_rate": gettext_lazy("Reply rate"),
    "opt_out_rate": gettext_lazy("Opt-out rate"),
}


@member_view(Action.SEE_LIBRARY)
def index(request: HttpRequest) -> HttpResponse:
    """The library: the versions of the organization's networks, filtered."""
    organization = request.organization
    filters = LibraryFilterForm(request.GET)
    versions = list(library_versions(organization, **filters.filters()))
    adopters = adopter_counts(versions)
    rows = [
        {
            "version": version,
            "languages": [t.language for t in version.translations.all()],
            "countries": list(version.country_states.all()),
            "adopters": adopters.get(version.pk, 0),
            "own": version.template.owner_id == organization.pk,
        }
        for version in versions
    ]
    context = {
        "rows": rows,
        "filters": filters,
        "member": member_networks(organization).exists(),
        "may_share": may(request.membership.role, Action.SHARE_TEMPLATES),
        "waiting": len(_queue(request)),
        "focal": _is_focal_point(request),
        "unread": notices_for(organization, unread_only=True).count(),
    }
    return render(request, "console/library/index.html", context)


@member_view(Action.SEE_LIBRARY)
def reviews(request: HttpRequest) -> HttpResponse:
    """What waits for this organization's decision, for its focal point."""
    waiting = [
        {"version": version, "country": country, "owner": version.template.owner_name}
        for version, country in _queue(request)
    ]
    context = {"waiting": waiting, "focal": _is_focal_point(request)}
    return render(request, "console/library/reviews.html", context)


def _is_focal_point(request: HttpRequest) -> bool:
    """Whether the signed-in person is their organization's focal point in a network."""
    return any(
        place.focal_point_id == request.user.pk and place.status == MemberStatus.ACTIVE
        for place in networks_of(request.organization)
    )


@member_view(Action.SHARE_TEMPLATES)
def template_new(request: HttpRequest) -> HttpResponse:
    """Write a template: its first version, a draft the organization proposes when ready."""
    organization = request.organization
    networks = [(n.pk, n.name) for n in member_networks(organization)]
    languages = list(organization.languages)
    if request.method != "POST":
        form = TemplateForm(networks=networks, languages=languages)
        return _template_page(request, form)
    form = TemplateForm(request.POST, networks=networks, languages=languages)
    if form.is_valid():
        network = member_networks(organization).get(pk=form.cleaned_data["network"])
        data = form.cleaned_data
        call = partial(
            services.template_create,
            network=network,
            organization=organization,
            by=request.user,
            name=data["name"],
            purpose=data["purpose"],
            age_band=data["age_band"],
            tags=data["tags"],
            licence=data["licence"],
            translations=form.translations(),
            changelog=data["changelog"],
        )
        version = through_service(form, renamed(call, form.service_names()))
        if version is not None:
            messages.success(
                request, _("The template is saved as a draft: propose it when it is ready.")
            )
            return redirect("console:library-version", pk=version.pk)
    return _template_page(request, form, status=400)


@member_view(Action.SHARE_TEMPLATES)
def version_new(request: HttpRequest, pk: int) -> HttpResponse:
    """The next version of one of the organization's own templates."""
    template = _own_template(request, pk)
    latest = visible_versions(request.organization).filter(template=template).first()
    texts = {t.language: t.body for t in latest.translations.all()} if latest else {}
    languages = list(dict.fromkeys([*texts, *request.organization.languages]))
    if request.method != "POST":
        initial = {f"body_{code}": body for code, body in texts.items()}
        form = TextsForm(initial=initial, languages=languages)
        return _version_new_page(request, template, form)
    form = TextsForm(request.POST, languages=languages)
    if form.is_valid():
        call = partial(
            services.version_create,
            template=template,
            organization=request.organization,
            by=request.user,
            translations=form.translations(),
            changelog=form.cleaned_data["changelog"],
        )
        version = through_service(form, renamed(call, form.service_names()))
        if version is not None:
            messages.success(
                request, _("Version %(n)s is saved as a draft.") % {"n": version.number}
            )
            return redirect("console:library-version", pk=version.pk)
    return _version_new_page(request, template, form, status=400)


@member_view(Action.SEE_LIBRARY)
def version_page(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _own_version(request, pk))


@require_POST
@member_view(Action.SHARE_TEMPLATES)
def version_propose(request: HttpRequest, pk: int) -> HttpResponse:
    version = _own_version(request, pk)
    form = ProposeForm(request.POST)
    if form.is_valid():
        call = partial(
            services.version_propose,
            version=version,
            organization=request.organization,
            by=request.user,
            countries=form.codes(),
        )
        if through_service(form, renamed(call, form.service_names())) is not None:
            messages.success(
                request, _("Proposed: two other members' focal points review it per country.")
            )
            return redirect("console:library-version", pk=version.pk)
    return _page(request, version, bound={"propose": form}, status=400)


@require_POST
@member_view(Action.REVIEW_LIBRARY)
def version_review(request: HttpRequest, pk: int) -> HttpResponse:
    version = _own_version(request, pk)
    # every country it was proposed for: the service says why one is not for this member
    countries = [state.country for state in version.country_states.all()]
    form = ReviewForm(request.POST, countries=countries)
    if form.is_valid():
        data = form.cleaned_data
        call = partial(
            services.version_review,
            version=version,
            organization=request.organization,
            by=request.user,
            country=data["country"],
            decision=data["decision"],
            checklist=form.checklist(),
            reason=data["reason"],
        )
        if through_service(form, renamed(call, form.service_names())) is not None:
            messages.success(request, _("Your decision is logged."))
            if version_for(request.organization, version.pk) is None:  # a draft again
                return redirect("console:library-reviews")
            return redirect("console:library-version", pk=version.pk)
    return _page(request, version, bound={"review": form}, status=400)


@require_POST
@member_view(Action.SHARE_TEMPLATES)
def version_deprecate(request: HttpRequest, pk: int) -> HttpResponse:
    return _owner_act(
        request,
        pk,
        "deprecate",
        lambda version, data: services.version_deprecate(
            version=version, organization=request.organization, by=request.user, **data
        ),
        _("Deprecated: its adopters keep it, nobody new takes it."),
    )


@require_POST
@member_view(Action.SHARE_TEMPLATES)
def version_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _owner_act(
        request,
        pk,
        "withdraw",
        lambda version, data: services.version_withdraw(
            version=version, organization=request.organization, by=request.user, **data
        ),
        _("Withdrawn: every adopter is told, and their unsent waves that use it are held."),
    )


@require_POST
@member_view(Action.SHARE_TEMPLATES)
def version_fork(request: HttpRequest, pk: int) -> HttpResponse:
    """Make the organization's own template from this version (a draft that remembers it)."""
    version = _own_version(request, pk)
    form = ForkForm(request.POST)
    if form.is_valid():
        call = partial(
            services.template_fork,
            version=version,
            organization=request.organization,
            by=request.user,
            name=form.cleaned_data["name"],
        )
        fork = through_service(form, call)
        if fork is not None:
            messages.success(request, _("Forked: your template is a draft of its own."))
            return redirect("console:library-version", pk=fork.pk)
    return _page(request, version, bound={"fork": form}, status=400)


@require_POST
@member_view(Action.COMPOSE)
def version_adopt(request: HttpRequest, pk: int) -> HttpResponse:
    """Put the version's texts into one of the organization's unsent waves."""
    version = _own_version(request, pk)
    form = AdoptForm(request.POST, waves=_wave_choices(request, version))
    if form.is_valid():
        wave = adoption_waves(request.organization, version).get(pk=form.cleaned_data["wave"])
        call = partial(services.version_adopt, version=version, wave=wave, by=request.user)
        if through_service(form, call) is not None:
            messages.success(request, _("The wave's texts are the version's now."))
            return redirect("console:wave-compose", pk=wave.pk)
    return _page(request, version, bound={"adopt": form}, status=400)


# --- helpers -----------------------------------------------------------------------------


def _own_version(request: HttpRequest, pk: int) -> TemplateVersion:
    """A version the organization may read; any other (another's draft too) is not found."""
    version = version_for(request.organization, pk)
    if version is None:
        raise Http404(_("No such version."))
    return version


def _own_template(request: HttpRequest, pk: int) -> LibraryTemplate:
    """A template of the organization's networks that it wrote; any other is not found."""
    template = template_for(request.organization, pk)
    if template is None or template.owner_id != request.organization.pk:
        raise Http404(_("No such template."))
    return template


def _queue(request: HttpRequest) -> list[tuple[TemplateVersion, str]]:
    return review_queue(request.organization, request.user)


def _reviewable_countries(request: HttpRequest, version: TemplateVersion) -> list[str]:
    """The countries where this focal point's organization has a decision to make."""
    return [country for waiting, country in _queue(request) if waiting.pk == version.pk]


def _wave_choices(request: HttpRequest, version: TemplateVersion) -> list[tuple[int, str]]:
    return [
        (wave.pk, f"{wave.campaign.name} · {wave.name} ({wave.get_status_display()})")
        for wave in adoption_waves(request.organization, version)
    ]


OWNER_FORMS: dict[str, type[forms.Form]] = {
    "deprecate": DeprecateForm,
    "withdraw": WithdrawForm,
}


def _owner_act(
    request: HttpRequest,
    pk: int,
    name: str,
    call: Callable[[TemplateVersion, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    version = _own_version(request, pk)
    form = OWNER_FORMS[name](request.POST)
    if form.is_valid() and through_service(form, lambda: call(version, form.cleaned_data)):
        messages.success(request, done)
        return redirect("console:library-version", pk=version.pk)
    return _page(request, version, bound={name: form}, status=400)


def _page(
    request: HttpRequest,
    version: TemplateVersion,
    *,
    bound: dict[str, forms.Form] | None = None,
    status: int = 200,
) -> HttpResponse:
    version = version_for(request.organization, version.pk) or version  # read afresh
    organization, role = request.organization, request.membership.role
    template = version.template
    own = template.owner_id == organization.pk
    place = next(
        (p for p in networks_of(organization) if p.network_id == template.network_id), None
    )
    member = place is not None and place.status == MemberStatus.ACTIVE
    countries = _reviewable_countries(request, version)
    waves = _wave_choices(request, version) if may(role, Action.COMPOSE) and member else []
    open_ = version.state not in FINAL
    forms_ = {
        "propose": ProposeForm(initial={"countries": ", ".join(version.countries or ["KE"])}),
        "review": ReviewForm(countries=countries, auto_id="review-%s"),
        "deprecate": DeprecateForm(auto_id="deprecate-%s"),
        "withdraw": WithdrawForm(auto_id="withdraw-%s"),
        "fork": ForkForm(
            initial={"name": _("%(name)s (our version)") % {"name": template.name}},
            auto_id="fork-%s",
        ),
        "adopt": AdoptForm(waves=waves, auto_id="adopt-%s"),
    } | (bound or {})
    shares = may(role, Action.SHARE_TEMPLATES) and member
    context = {
        "version": version,
        "template": template,
        "age_band": age_band_label(template.age_band),
        "own": own,
        "translations": [
            {
                "language": t.language,
                "language_name": language_name(t.language),
                "body": t.body,
                "renderings": [
                    {"rendering": r, "name": channel_family_name(r.channel)} for r in renderings(t)
                ],
            }
            for t in version.translations.all()
        ],
        "countries": list(version.country_states.all()),
        "reviews": [_review_row(review) for review in version.review_log],
        "others": list(visible_versions(organization).filter(template=template)),
        "origin_changes": fork_changes(version),
        "forks": _forks(request, version),
        "outcomes": _outcomes(version),
        "forms": forms_,
        "may_propose": own and shares and version.state == VersionState.DRAFT,
        "may_new_version": own and shares,
        "may_deprecate": own
        and shares
        and version.state not in (VersionState.WITHDRAWN, VersionState.DEPRECATED),
        "may_withdraw": own and shares and open_,
        "may_review": bool(countries) and may(role, Action.REVIEW_LIBRARY),
        "may_fork": shares and open_,
        "may_adopt": bool(waves) and open_,
        "focal_point": place.focal_point if place else None,
    }
    return render(request, "console/library/version.html", context, status=status)


def _review_row(review: Any) -> dict[str, Any]:
    return {
        "review": review,
        "ticks": [
            (label, bool(review.checklist.get(key))) for key, label in CHECKLIST_LABELS.items()
        ],
    }


def _forks(request: HttpRequest, version: TemplateVersion) -> list[dict[str, Any]]:
    """The templates made from this version that the organization may read, with changes."""
    forks = []
    readable = visible_versions(request.organization).filter(template__forked_from=version)
    first = {}
    for fork in readable.order_by("template_id", "number"):
        first.setdefault(fork.template_id, fork)
    for fork in first.values():
        forks.append({"version": fork, "changes": fork_changes(fork)})
    return forks


def _outcomes(version: TemplateVersion) -> dict[str, Any]:
    """The version's outcomes as the page shows them: a figure, or why there is none."""
    outcome = version_outcomes(version)
    rows = []
    for name in (*FIGURES, *OUTCOME_RATES):
        value = outcome["figures"][name]
        if value is not None and name in OUTCOME_RATES:
            value = f"{value * 100:.1f} %"
        rows.append(
            {
                "name": name,
                "label": OUTCOME_LABELS[name],
                "value": value,
                "why": outcome["withheld"].get(name, ""),
            }
        )
    return {
        "k": outcome["k"],
        "adopters": outcome["adopters"],
        "waves": outcome["waves"],
        "forks": outcome["forks"],
        "rows": rows,
        "approved": any(s.state == CountryState.APPROVED for s in version.country_states.all()),
    }


def _template_page(request: HttpRequest, form: TemplateForm, *, status: int = 200) -> HttpResponse:
    return render(request, "console/library/template_new.html", {"form": form}, status=status)


def _version_new_page(
    request: HttpRequest, template: LibraryTemplate, form: TextsForm, *, status: int = 200
) -> HttpResponse:
    context = {"form": form, "template": template}
    return render(request, "console/library/version_new.html", context, status=status)


urlpatterns = [
    path("library/", index, name="library"),
    path("library/new/", template_new, name="library-new"),
    path("library/reviews/", reviews, name="library-reviews"),
    path(
        "library/templates/<int:pk>/versions/new/",
        version_new,
        name="library-template-version-new",
    ),
    path("library/<int:pk>/", version_page, name="library-version"),
    path("library/<int:pk>/propose/", version_propose, name="library-version-propose"),
    path("library/<int:pk>/review/", version_review, name="library-version-review"),
    path("library/<int:pk>/deprecate/", version_deprecate, name="library-version-deprecate"),
    path("library/<int:pk>/withdraw/", version_withdraw, name="library-version-withdraw"),
    path("library/<int:pk>/fork/", version_fork, name="library-version-fork"),
    path("library/<int:pk>/adopt/", version_adopt, name="library-version-adopt"),
]
