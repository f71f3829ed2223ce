"""The Django admin: for superusers only, who see every organization's rows.

Members (admins, managers, reviewers, funders) work in the console at /console/, where
outreach.access decides who may do what; the admin lets no one else in, even with is_staff.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext_lazy as _

from outreach.models import (
    AnonymousTally,
    Channel,
    ChannelPrice,
    ConsentEvent,
    InboundMessage,
    Keyword,
    Membership,
    Organization,
    OutboundMessage,
    Region,
    Role,
    ServiceHeartbeat,
    Subscriber,
    SystemReply,
    User,
)
from outreach.privacy import mask_phone_number
from outreach.selectors.organizations import is_last_admin
from outreach.services.subscribers import EDITABLE_FIELDS, subscriber_update


def superusers_only(request: HttpRequest) -> bool:
    """The admin site's door: active superusers; members have the console."""
    return request.user.is_active and request.user.is_superuser


class SuperuserSignInForm(AdminAuthenticationForm):
    """The admin's sign-in refuses a member's password and points them to the console."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "not_superuser": _(
            "The admin is for superusers. Members sign in to the console at /console/."
        ),
    }

    def confirm_login_allowed(self, user: User) -> None:
        AuthenticationForm.confirm_login_allowed(self, user)  # active; is_staff is not enough
        if not user.is_superuser:
            raise ValidationError(self.error_messages["not_superuser"], code="not_superuser")


admin.site.has_permission = superusers_only  # type: ignore[method-assign]
admin.site.login_form = SuperuserSignInForm


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "country", "timezone", "default_language", "member_count"]
    list_filter = ["country", "default_language"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(ordering="member_count", description="members")
    def member_count(self, organization: Organization) -> int:
        return organization.member_count  # type: ignore[attr-defined]


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "organization", "role"]

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        if self.instance.pk and role != Role.ADMIN and is_last_admin(self.instance):
            raise forms.ValidationError("An organization must keep at least one admin.")
        return role


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    """A member's role; members are better added through the API or `create_org` (a token)."""

    form = MembershipForm
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    list_select_related = ["user", "organization"]
    readonly_fields = ["created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = ["user", "organization"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and (obj.user_id == request.user.pk or is_last_admin(obj)):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_superuser", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "memberships__role"]


@admin.register(ServiceHeartbeat)
class ServiceHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at", "hostname"]
    search_fields = ["name", "hostname"]
    readonly_fields = ["name", "beat_at", "hostname"]


class ChannelPriceInline(admin.TabularInline):
    model = ChannelPrice
    extra = 0


@admin.register(Channel)
class ChannelAdmin(admin.ModelAdmin):
    inlines = [ChannelPriceInline]
    list_display = ["name", "organization", "kind", "country", "from_number", "is_active"]
    list_filter = ["kind", "is_active", "country", "organization"]
    search_fields = ["name", "from_number", "account_sid"]
    readonly_fields = ["uuid", "created_at"]
    exclude = ["auth_token"]  # write-only: set through the API, never shown


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "organization"]
    list_filter = ["kind", "organization"]
    search_fields = ["name"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "masked_address",
        "consent_status",
        "language",
        "region",
        "age_band",
        "joined_at",
    ]
    list_filter = ["consent_status", "language", "age_band", "gender", "channel", "organization"]
    # No search by number: the admin's search is a GET (`?q=`), and every proxy logs URLs.
    # A person is found with the posted form of `lookup_view` instead.
    change_list_template = "admin/outreach/subscriber/change_list.html"
    list_select_related = ["region"]
    # Staff edit the profile only (the fields subscriber_update takes); everything else is
    # shown, never posted back: a page opened before a STOP or an onboarding answer must
    # not write the old values over them.
    fields = [
        "masked_address",
        "channel",
        *EDITABLE_FIELDS,
        "consent_status",
        "onboarding_step",
        "joined_at",
        "joined_keyword",
        "created_at",
        "updated_at",
        "last_inbound_at",
    ]
    readonly_fields = [name for name in fields if name not in EDITABLE_FIELDS]

    @admin.display(description="number")
    def masked_address(self, subscriber: Subscriber) -> str:
        return mask_phone_number(subscriber.address)

    def get_urls(self) -> list[URLPattern]:
        lookup = path(
            "lookup/",
            self.admin_site.admin_view(self.lookup_view),
            name="outreach_subscriber_lookup",
        )
        return [lookup, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> Any:
        context = {**(extra_context or {}), "can_look_up": self.has_change_permission(request)}
        return super().changelist_view(request, extra_context=context)

    def lookup_view(self, request: HttpRequest) -> HttpResponse:
        """A posted number (whole or local) leads to its subscriber, by id: no number in a URL."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_change_permission(request):
            raise PermissionDenied  # a lookup unmasks: only those who may change subscribers
        digits = "".join(ch for ch in request.POST.get("number", "") if ch.isdigit()).lstrip("0")
        found = list(
            self.get_queryset(request).filter(address__endswith=digits).values_list("pk", flat=True)
            if digits
            else []
        )
        if len(found) == 1:
            return redirect("admin:outreach_subscriber_change", found[0])
        listing = reverse("admin:outreach_subscriber_changelist")
        if not found:
            self.message_user(request, "No subscriber has that number.", messages.WARNING)
            return redirect(listing)
        return redirect(f"{listing}?id__in={','.join(map(str, found))}")

    def save_model(self, request: HttpRequest, obj: Subscriber, form: Any, change: bool) -> None:
        """Through the service, and only the fields this form changed."""
        edited = {name: form.cleaned_data[name] for name in form.changed_data}
        if edited:
            subscriber_update(subscriber=obj, **edited)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # subscribers join by keyword or by import, with consent evidence


@admin.register(ConsentEvent)
class ConsentEventAdmin(admin.ModelAdmin):
    """The ledger is append-only: readable here, never changed or deleted."""

    list_display = ["occurred_at", "kind", "source", "subscriber", "channel", "keyword_as_texted"]
    list_filter = ["kind", "source", "organization"]
    date_hierarchy = "occurred_at"

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _ReadOnlyMessageAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(InboundMessage)
class InboundMessageAdmin(_ReadOnlyMessageAdmin):
    list_display = ["received_at", "channel", "subscriber", "intent", "detected_language"]
    list_filter = ["intent", "channel", "organization"]
    search_fields = ["=provider_message_id"]
    exclude = ["from_address"]


@admin.register(OutboundMessage)
class OutboundMessageAdmin(_ReadOnlyMessageAdmin):
    list_display = [
        "created_at",
        "channel",
        "kind",
        "reply_key",
        "status",
        "segments",
        "error_code",
    ]
    list_filter = ["status", "kind", "channel", "organization"]
    search_fields = ["=provider_message_id"]
    exclude = ["to_address"]


@admin.register(Keyword)
class KeywordAdmin(admin.ModelAdmin):
    list_display = ["word", "intent", "language", "organization"]
    list_filter = ["intent", "language", "organization"]
    search_fields = ["word"]


@admin.register(SystemReply)
class SystemReplyAdmin(admin.ModelAdmin):
    list_display = ["key", "language", "organization"]
    list_filter = ["key", "language", "organization"]
    search_fields = ["text"]


@admin.register(AnonymousTally)
class AnonymousTallyAdmin(admin.ModelAdmin):
    list_display = ["day", "metric", "count", "organization"]
    list_filter = ["metric", "organization"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
