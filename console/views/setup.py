"""Setup pages: channels, members and roles, keywords and regions.

Managers see channels (credentials only as "set" / "not set", never their values) and the
webhook URLs to paste at the provider, as the API's ChannelSerializer computes them;
admins create and change channels and members (Action.SETUP). Keywords and regions follow
their own actions, as in the API. Every change goes through the services the API calls.
"""

import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from console.forms import through_service
from console.guard import forbidden, member_view
from outreach.access import Action, may
from outreach.api.channels import ChannelSerializer, RegionSerializer
from outreach.api.keywords import KeywordSerializer
from outreach.channel_kinds import KINDS, TWILIO_KINDS
from outreach.keywords import Intent
from outreach.models import Channel, ChannelKind, Keyword, Membership, Region, Role
from outreach.selectors.presets import region_preset_names
from outreach.services.channels import (
    REQUIRED_OF_KIND,
    channel_create,
    channel_update,
    regions_load_preset,
)
from outreach.services.keywords import keyword_create
from outreach.services.organizations import member_add, membership_remove, membership_set_role

# The provider settings each kind uses, besides name, country, rate and active.
SETTINGS_OF_KIND: dict[str, tuple[str, ...]] = {
    ChannelKind.TWILIO_SMS: ("account_sid", "auth_token", "from_number", "messaging_service_sid"),
    ChannelKind.TWILIO_WHATSAPP: (
        "account_sid",
        "auth_token",
        "from_number",
        "messaging_service_sid",
    ),
    ChannelKind.WHATSAPP_CLOUD: ("external_id", "access_token", "webhook_secret", "verify_token"),
    ChannelKind.MESSENGER: ("external_id", "access_token", "webhook_secret", "verify_token"),
    ChannelKind.TELEGRAM: ("access_token",),
}
SECRETS = ("auth_token", "access_token", "webhook_secret", "verify_token")
LABELS = {
    "account_sid": gettext_lazy("Account SID"),
    "auth_token": gettext_lazy("Auth token"),
    "from_number": gettext_lazy("From number"),
    "messaging_service_sid": gettext_lazy("Messaging service SID"),
    "external_id": gettext_lazy("Provider id (phone-number id, Page id)"),
    "access_token": gettext_lazy("Access token"),
    "webhook_secret": gettext_lazy("App secret (signs the webhooks)"),
    "verify_token": gettext_lazy("Verify token"),
}
FIRST_PASSWORD_BYTES = 12


class ChannelForm(forms.Form):
    """One kind's settings; secrets are write-only (never filled back, blank keeps them)."""

    name = forms.CharField(max_length=100, label=gettext_lazy("Name"))
    country = forms.CharField(max_length=2, label=gettext_lazy("Country (ISO code, e.g. KE)"))
    messages_per_second = forms.IntegerField(
        min_value=1,
        max_value=1000,
        required=False,
        label=gettext_lazy("Messages per second"),
        help_text=gettext_lazy("Blank: the provider's own limit for the kind."),
    )
    is_active = forms.BooleanField(required=False, initial=True, label=gettext_lazy("Active"))

    def __init__(self, *args: Any, kind: str, channel: Channel | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kind, self.channel = kind, channel
        required = {field for field, _need in REQUIRED_OF_KIND.get(kind, ())}
        for name in SETTINGS_OF_KIND.get(kind, ()):
            if name in SECRETS:
                is_set = bool(channel and getattr(channel, name))
                self.fields[name] = forms.CharField(
                    max_length=1024,
                    required=False,
                    label=LABELS[name],
                    widget=forms.PasswordInput(render_value=False),
                    help_text=_("Set: leave blank to keep it.") if is_set else _("Not set."),
                )
            else:
                self.fields[name] = forms.CharField(
                    max_length=64, required=False, label=LABELS[name]
                )
            if name in required:
                self.fields[name].widget.attrs["aria-required"] = "true"
        provider = list(SETTINGS_OF_KIND.get(kind, ()))
        self.order_fields(["name", "country", *provider, "messages_per_second", "is_active"])

    def changes(self) -> dict[str, Any]:
        """What to hand the service: blank secrets and a blank rate are left as they are."""
        data = dict(self.cleaned_data)
        if data.get("messages_per_second") is None:
            data.pop("messages_per_second", None)
        for name in SECRETS:
            if name in data and not data[name]:
                data.pop(name)
        data["country"] = data["country"].upper()
        return data


class MemberForm(forms.Form):
    username = forms.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        label=gettext_lazy("Username"),
        error_messages={"invalid": gettext_lazy("Letters, digits and @/./+/-/_ only.")},
    )
    email = forms.EmailField(required=False, label=gettext_lazy("Email"))
    first_name = forms.CharField(max_length=150, required=False, label=gettext_lazy("First name"))
    last_name = forms.CharField(max_length=150, required=False, label=gettext_lazy("Last name"))
    role = forms.ChoiceField(choices=Role.choices, label=gettext_lazy("Role"))


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices, label=gettext_lazy("Role"))


class KeywordForm(forms.Form):
    word = forms.CharField(max_length=40, label=gettext_lazy("Word"))
    intent = forms.ChoiceField(
        choices=[(intent.value, intent.value) for intent in Intent], label=gettext_lazy("Intent")
    )
    language = forms.ChoiceField(required=False, label=gettext_lazy("Language"))

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("Any"))] + [
            (code, code) for code in organization.languages
        ]


class RegionForm(forms.Form):
    name = forms.CharField(max_length=100, label=gettext_lazy("Name"))
    kind = forms.CharField(max_length=40, initial="county", label=gettext_lazy("Kind"))
    parent = forms.ModelChoiceField(
        queryset=Region.objects.none(), required=False, label=gettext_lazy("Inside")
    )
    aliases = forms.CharField(
        required=False,
        label=gettext_lazy("Other names"),
        help_text=gettext_lazy("Separated by commas, e.g. Nairobi City, NBI."),
    )

    def __init__(self, *args: Any, organization: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = Region.objects.filter(organization=organization)


def _region_preset_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in region_preset_names()]


class PresetForm(forms.Form):
    # Read when the form is drawn: the presets are rows (KE-counties, MX-states …).
    preset = forms.ChoiceField(choices=_region_preset_choices, label=gettext_lazy("Preset"))


# --- channels ------------------------------------------------------------------------------


@member_view(Action.SEE_CHANNELS)
def index(request: HttpRequest) -> HttpResponse:
    """The organization's channels, and (for admins) the kinds a new one can be."""
    channels = Channel.objects.filter(organization=request.organization).order_by("name")
    context = {
        "section": "channels",
        "channels": [(channel, ChannelSerializer(channel).data) for channel in channels],
        "kinds": [(kind, spec.label) for kind, spec in KINDS.items()],
        "may_setup": may(request.membership.role, Action.SETUP),
    }
    return render(request, "console/setup/channels.html", context)


@member_view(Action.SETUP)
def channel_new(request: HttpRequest) -> HttpResponse:
    kind = request.POST.get("kind") or request.GET.get("kind", "")
    if kind not in KINDS:
        return redirect("console:setup")
    form = ChannelForm(request.POST or None, kind=kind, initial={"country": "KE"})
    if request.method == "POST" and form.is_valid():
        organization = request.organization
        channel = through_service(
            form, lambda: channel_create(organization=organization, kind=kind, **form.changes())
        )
        if channel is not None:
            messages.success(request, _("The channel is saved."))
            return redirect("console:setup-channel", pk=channel.pk)
    status = 400 if request.method == "POST" else 200
    return _channel_page(request, form, channel=None, status=status)


@member_view(Action.SEE_CHANNELS)
def channel_page(request: HttpRequest, pk: int) -> HttpResponse:
    """A channel's settings and webhook URLs; admins change it here (POST)."""
    channel = get_object_or_404(Channel, organization=request.organization, pk=pk)
    if request.method == "POST":
        if not may(request.membership.role, Action.SETUP):
            return forbidden(request, reason=None)
        form = ChannelForm(request.POST, kind=channel.kind, channel=channel)
        if form.is_valid():
            changes = form.changes()
            if through_service(form, lambda: channel_update(channel=channel, **changes)):
                messages.success(request, _("The channel is saved."))
                return redirect("console:setup-channel", pk=channel.pk)
        channel.refresh_from_db()
        return _channel_page(request, form, channel=channel, status=400)
    form = ChannelForm(initial=_initial(channel), kind=channel.kind, channel=channel)
    return _channel_page(request, form, channel=channel)


def _channel_page(
    request: HttpRequest, form: ChannelForm, *, channel: Channel | None, status: int = 200
) -> HttpResponse:
    context = {
        "section": "channels",
        "form": form,
        "channel": channel,
        "facts": ChannelSerializer(channel).data if channel else None,
        "kind_label": KINDS[form.kind].label,
        "kind": form.kind,
        "twilio": form.kind in TWILIO_KINDS,
        "secrets": [
            (LABELS[name], bool(channel and getattr(channel, name)))
            for name in SETTINGS_OF_KIND.get(form.kind, ())
            if name in SECRETS
        ],
        "may_setup": may(request.membership.role, Action.SETUP),
    }
    return render(request, "console/setup/channel.html", context, status=status)


def _initial(channel: Channel) -> dict[str, Any]:
    fields = ["name", "country", "messages_per_second", "is_active"]
    fields += [name for name in SETTINGS_OF_KIND.get(channel.kind, ()) if name not in SECRETS]
    return {name: getattr(channel, name) for name in fields}


# --- members -------------------------------------------------------------------------------


@member_view(Action.SEE_MEMBERS)
def members(request: HttpRequest) -> HttpResponse:
    """The members and their roles; an admin adds one (POST), whose first password shows once."""
    form = MemberForm(request.POST or None)
    if request.method == "POST":
        if not may(request.membership.role, Action.SETUP):
            return forbidden(request, reason=None)
        if form.is_valid():
            password = secrets.token_urlsafe(FIRST_PASSWORD_BYTES)
            organization = request.organization
            added = through_service(
                form,
                lambda: member_add(
                    organization=organization, password=password, **form.cleaned_data
                ),
            )
            if added is not None:
                return _members_page(
                    request, MemberForm(), added=added.membership, password=password
                )
        return _members_page(request, form, status=400)
    return _members_page(request, form)


@require_POST
@member_view(Action.SETUP)
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _own_membership(request, pk)
    form = RoleForm(request.POST)
    if form.is_valid() and through_service(
        form, lambda: membership_set_role(membership=membership, role=form.cleaned_data["role"])
    ):
        messages.success(request, _("The role is changed."))
        return redirect("console:setup-members")
    return _members_page(request, MemberForm(), problem=_form_problem(form), status=400)


@member_view(Action.SETUP)
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation step; POST (with `confirm`): remove them from the organization."""
    membership = _own_membership(request, pk)
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        form = forms.Form(request.POST)
        form.is_valid()
        acting = request.user
        if through_service(
            form, lambda: membership_remove(membership=membership, acting_user=acting) or True
        ):
            messages.success(request, _("The member is removed."))
            return redirect("console:setup-members")
        return _members_page(request, MemberForm(), problem=_form_problem(form), status=400)
    return render(
        request, "console/setup/member_remove.html", {"section": "members", "member": membership}
    )


def _own_membership(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"), organization=request.organization, pk=pk
    )


def _members_page(
    request: HttpRequest,
    form: MemberForm,
    *,
    added: Membership | None = None,
    password: str = "",
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "section": "members",
        "members": Membership.objects.filter(organization=request.organization)
        .select_related("user")
        .order_by("user__username"),
        "roles": Role.choices,
        "form": form,
        "added": added,
        "password": password,
        "problem": problem,
        "may_setup": may(request.membership.role, Action.SETUP),
    }
    return render(request, "console/setup/members.html", context, status=status)


def _form_problem(form: forms.Form) -> str:
    return " ".join(str(error) for errors in form.errors.values() for error in errors)


# --- keywords ------------------------------------------------------------------------------


@member_view(Action.SEE_KEYWORDS)
def keywords(request: HttpRequest) -> HttpResponse:
    """The organization's own keywords, on top of the built-in ones; managers add them."""
    organization = request.organization
    form = KeywordForm(request.POST or None, organization=organization)
    status = 200
    if request.method == "POST":
        if not may(request.membership.role, Action.CHANGE_KEYWORDS):
            return forbidden(request, reason=None)
        if form.is_valid():
            checked = _through_serializer(
                form, KeywordSerializer, context={"organization": organization}
            )
            if checked is not None and through_service(
                form, lambda: keyword_create(organization=organization, **checked)
            ):
                messages.success(request, _("The keyword is added."))
                return redirect("console:setup-keywords")
        status = 400
    context = {
        "section": "keywords",
        "keywords": Keyword.objects.filter(organization=organization).order_by("word"),
        "form": form,
        "may_change": may(request.membership.role, Action.CHANGE_KEYWORDS),
    }
    return render(request, "console/setup/keywords.html", context, status=status)


# --- regions -------------------------------------------------------------------------------


@member_view(Action.SEE_AUDIENCE)
def regions(request: HttpRequest) -> HttpResponse:
    """The organization's regions (onboarding asks for one); managers add them or a preset."""
    organization = request.organization
    form = RegionForm(request.POST or None, organization=organization)
    status = 200
    if request.method == "POST":
        if not may(request.membership.role, Action.CHANGE_AUDIENCE):
            return forbidden(request, reason=None)
        if form.is_valid():
            data = {
                **form.cleaned_data,
                "parent": form.cleaned_data["parent"].pk if form.cleaned_data["parent"] else None,
                "aliases": [a for a in form.cleaned_data["aliases"].split(",") if a.strip()],
            }
            serializer = RegionSerializer(data=data, context={"organization": organization})
            if _valid(form, serializer):
                serializer.save(organization=organization)  # as the API's region view does
                messages.success(request, _("The region is added."))
                return redirect("console:setup-regions")
        status = 400
    return _regions_page(request, form, PresetForm(), status=status)


@require_POST
@member_view(Action.CHANGE_AUDIENCE)
def regions_preset(request: HttpRequest) -> HttpResponse:
    organization = request.organization
    form = PresetForm(request.POST)
    if form.is_valid():
        preset = form.cleaned_data["preset"]
        added = through_service(
            form, lambda: regions_load_preset(organization=organization, preset=preset)
        )
        if added is not None:
            messages.success(request, _("%(n)s regions added.") % {"n": added})
            return redirect("console:setup-regions")
    return _regions_page(request, RegionForm(organization=organization), form, status=400)


def _regions_page(
    request: HttpRequest, form: RegionForm, preset_form: PresetForm, *, status: int = 200
) -> HttpResponse:
    context = {
        "section": "regions",
        "regions": Region.objects.filter(organization=request.organization)
        .select_related("parent")
        .order_by("name"),
        "form": form,
        "preset_form": preset_form,
        "may_change": may(request.membership.role, Action.CHANGE_AUDIENCE),
    }
    return render(request, "console/setup/regions.html", context, status=status)


def _through_serializer(form: forms.Form, serializer_class: Any, **kwargs: Any) -> Any:
    """The API's own checks on the form's data: errors go next to the form's fields."""
    serializer = serializer_class(data=form.cleaned_data, **kwargs)
    return serializer.validated_data if _valid(form, serializer) else None


def _valid(form: forms.Form, serializer: Any) -> bool:
    if serializer.is_valid():
        return True
    for field, errors in serializer.errors.items():
        name = field if field in form.fields else None
        for error in errors if isinstance(errors, list) else [errors]:
            form.add_error(name, str(error))
    return False


urlpatterns = [
    path("setup/", index, name="setup"),
    path("setup/channels/new/", channel_new, name="setup-channel-new"),
    path("setup/channels/<int:pk>/", channel_page, name="setup-channel"),
    path("setup/members/", members, name="setup-members"),
    path("setup/members/<int:pk>/role/", member_role, name="setup-member-role"),
    path("setup/members/<int:pk>/remove/", member_remove, name="setup-member-remove"),
    path("setup/keywords/", keywords, name="setup-keywords"),
    path("setup/regions/", regions, name="setup-regions"),
    path("setup/regions/preset/", regions_preset, name="setup-regions-preset"),
]
