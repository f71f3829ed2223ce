from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from outreach.admin_scoping import OrganizationScopedAdmin
from outreach.models import Membership, Organization, Role, ServiceHeartbeat, User
from outreach.selectors.organizations import is_last_admin


@admin.register(Organization)
class OrganizationAdmin(OrganizationScopedAdmin):
    organization_field = "pk"
    change_roles = frozenset({Role.ADMIN})
    list_display = ["name", "slug", "country", "timezone", "default_language", "member_count"]
    list_filter = ["country", "default_language"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Organization]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser  # new organizations come from `create_org`

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

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
class MembershipAdmin(OrganizationScopedAdmin):
    """Org admins change roles here; new members are added through the API or `create_org`."""

    form = MembershipForm
    change_roles = frozenset({Role.ADMIN})
    list_display = ["user", "organization", "role", "created_at"]
    list_filter = ["role", "organization"]
    search_fields = ["user__username", "user__email", "organization__name"]
    list_select_related = ["user", "organization"]
    readonly_fields = ["created_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fixed = ["user", "organization"] if obj is not None else []
        return [*fixed, *self.readonly_fields]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and (obj.user_id == request.user.pk or is_last_admin(obj)):
            return False
        return super().has_delete_permission(request, obj)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", "memberships__role"]


@admin.register(ServiceHeartbeat)
class ServiceHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "beat_at", "hostname"]
    search_fields = ["name", "hostname"]
    readonly_fields = ["name", "beat_at", "hostname"]
