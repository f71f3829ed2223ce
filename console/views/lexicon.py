"""The network's lexicons: terms that inflame, per country and language, and what to say instead.

Staff read the lexicons of their organization's networks; managers propose a term; the
focal point of another member reviews it (two other members' approvals adopt it, as for a
template version); the proposing member may withdraw it. Approved terms warn the composer.
Every change goes through campaigns.services.lexicon, the services the API calls.
"""

import re
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

from campaigns.models import Decision, LexiconTerm, TermState
from campaigns.selectors.library import lexicon_terms, member_networks, networks_of, term_for
from campaigns.services.lexicon import term_propose, term_review, term_withdraw
from console.forms import through_service
from console.forms_waves import renamed
from console.guard import member_view
from outreach.access import Action, may

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class TermForm(forms.Form):
    """A term proposed for one network's lexicon of one country and language."""

    network = forms.TypedChoiceField(label=gettext_lazy("Network"), coerce=int)
    country = forms.CharField(label=gettext_lazy("Country (ISO code, e.g. KE)"), max_length=2)
    language = forms.CharField(label=gettext_lazy("Language (code, e.g. sw)"), max_length=3)
    term = forms.CharField(label=gettext_lazy("Word or phrase"), max_length=120)
    note = forms.CharField(
        label=gettext_lazy("Why it inflames (the composer shows it)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    alternatives = forms.CharField(
        label=gettext_lazy("What to say instead (one a line)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, networks: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = networks

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "country": data["country"],
            "language": data["language"],
            "term": data["term"],
            "note": data["note"],
            "alternatives": [line.strip() for line in data["alternatives"].splitlines()],
        }


class TermReviewForm(forms.Form):
    """A focal point's decision on a proposed term, with its reason (logged)."""

    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"), choices=Decision.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


@member_view(Action.SEE_LIBRARY)
def lexicon(request: HttpRequest) -> HttpResponse:
    return _list(request)


@member_view(Action.SHARE_TEMPLATES)
def lexicon_propose(request: HttpRequest) -> HttpResponse:
    """GET: the form; POST: propose the term (it waits for two other members' approval)."""
    organization = request.organization
    networks = [(n.pk, n.name) for n in member_networks(organization)]
    if request.method != "POST":
        initial = {"country": organization.country, "language": organization.default_language}
        return _propose_page(request, TermForm(initial=initial, networks=networks))
    form = TermForm(request.POST, networks=networks)
    if form.is_valid():
        network = member_networks(organization).get(pk=form.cleaned_data["network"])
        values = form.values()
        call = partial(
            term_propose, network=network, organization=organization, by=request.user, **values
        )
        names = {f"alternatives.{i}": "alternatives" for i in range(len(values["alternatives"]))}
        entry = through_service(form, renamed(call, names))
        if entry is not None:
            messages.success(
                request,
                _("“%(term)s” is proposed: it counts once two other members approve it.")
                % {"term": entry.term},
            )
            return redirect("console:lexicon")
    return _propose_page(request, form, status=400)


@require_POST
@member_view(Action.REVIEW_LIBRARY)
def lexicon_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The focal point's decision on one term of the organization's networks."""
    entry = _own_term(request, pk)
    form = TermReviewForm(request.POST)
    if form.is_valid():
        call = partial(
            term_review,
            term=entry,
            organization=request.organization,
            by=request.user,
            decision=form.cleaned_data["decision"],
            reason=form.cleaned_data["reason"],
        )
        reviewed = through_service(form, call)
        if reviewed is not None:
            messages.success(request, _("Your decision is logged."))
            return redirect("console:lexicon")
    return _list(request, failed=(entry.pk, form), status=400)


@require_POST
@member_view(Action.SHARE_TEMPLATES)
def lexicon_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """The proposing member takes its term out of the lexicon."""
    entry = _own_term(request, pk)
    form = forms.Form({})
    form.is_valid()  # an empty form, bound: the service's refusal is added to it
    call = partial(term_withdraw, term=entry, organization=request.organization, by=request.user)
    if through_service(form, call) is None:
        for error in form.non_field_errors():
            messages.error(request, error)
        return _list(request, status=400)
    messages.success(request, _("“%(term)s” is withdrawn.") % {"term": entry.term})
    return redirect("console:lexicon")


# --- helpers -----------------------------------------------------------------------------


def _own_term(request: HttpRequest, pk: int) -> LexiconTerm:
    """A term of the session organization's networks; any other is not found (404)."""
    entry = term_for(request.organization, pk)
    if entry is None:
        raise Http404(_("No such term."))
    return entry


def _list(
    request: HttpRequest,
    *,
    failed: tuple[int, TermReviewForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = request.organization
    chosen = _filters(request)
    places = {place.network_id: place for place in networks_of(organization)}
    may_share = may(request.membership.role, Action.SHARE_TEMPLATES)
    rows = []
    for entry in lexicon_terms(organization, **chosen).order_by(
        "country", "language", "term", "network__name"
    ):
        own = entry.proposed_by_organization_id == organization.pk
        place = places.get(entry.network_id)
        decided = any(
            r.organization_id == organization.pk and r.country == entry.country
            for r in entry.reviews.all()
        )
        refused = failed[1] if failed and failed[0] == entry.pk else None
        rows.append(
            {
                "term": entry,
                "reviews": sorted(entry.reviews.all(), key=lambda r: r.at),
                "may_review": entry.state == TermState.IN_REVIEW
                and not own
                and not decided
                and place is not None
                and place.focal_point_id == request.user.pk,
                "may_withdraw": own and may_share and entry.state != TermState.WITHDRAWN,
                "form": refused or TermReviewForm(auto_id=f"term-{entry.pk}-%s"),
                "refused": refused,
            }
        )
    return render(
        request,
        "console/lexicon/list.html",
        {
            "rows": rows,
            "chosen": chosen,
            "states": TermState.choices,
            "may_share": may_share and bool(places),
        },
        status=status,
    )


def _filters(request: HttpRequest) -> dict[str, str]:
    """The list's filters from the query string; a value that cannot be one is ignored."""
    country = request.GET.get("country", "").strip().upper()
    language = request.GET.get("language", "").strip().lower()
    state = request.GET.get("state", "").strip()
    return {
        "country": country if re.fullmatch(r"[A-Z]{2}", country) else "",
        "language": language if _LANGUAGE.match(language) else "",
        "state": state if state in TermState.values else "",
    }


def _propose_page(request: HttpRequest, form: TermForm, *, status: int = 200) -> HttpResponse:
    return render(request, "console/lexicon/propose.html", {"form": form}, status=status)


urlpatterns = [
    path("library/lexicon/", lexicon, name="lexicon"),
    path("library/lexicon/propose/", lexicon_propose, name="lexicon-propose"),
    path("library/lexicon/<int:pk>/review/", lexicon_review, name="lexicon-review"),
    path("library/lexicon/<int:pk>/withdraw/", lexicon_withdraw, name="lexicon-withdraw"),
]
