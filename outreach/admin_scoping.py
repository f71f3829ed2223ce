"""The Django admin as the managers' console: each member sees only their organizations.

Superusers see everything. Everyone else sees rows of the organizations they
belong to, may view with any staff role and change with the roles a ModelAdmin
names in `change_roles`.
"""

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from outreach.models import Membership, Organization, Role
from outreach.models.organizations import STAFF_ROLES


class OrganizationScopedAdmin(admin.ModelAdmin):
    organization_field = "organization"
    view_roles: frozenset[str] = STAFF_ROLES
    change_roles: frozenset[str] = frozenset({Role.ADMIN, Role.MANAGER})

    def get_queryset(self, request: HttpRequest) -> QuerySet[Model]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.organization_field}__in": _organizations_of(request)})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._has_role(request, self.view_roles)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._has_role(request, self.view_roles | self.change_roles, obj)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._has_role(request, self.change_roles)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._has_role(request, self.change_roles, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._has_role(request, self.change_roles, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.related_model is Organization and not request.user.is_superuser:
            kwargs["queryset"] = Organization.objects.filter(
                pk__in=self._organization_ids_with_role(request, self.change_roles)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _has_role(
        self, request: HttpRequest, roles: frozenset[str], obj: Model | None = None
    ) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        allowed = self._organization_ids_with_role(request, roles)
        if obj is None:
            return bool(allowed)
        return _organization_id_of(obj, self.organization_field) in allowed

    def _organization_ids_with_role(self, request: HttpRequest, roles: frozenset[str]) -> set[int]:
        return {org_id for org_id, role in _roles_of(request).items() if role in roles}


def _roles_of(request: HttpRequest) -> dict[int, str]:
    # One query per request, however many admin checks run.
    if not hasattr(request, "_amani_roles"):
        request._amani_roles = dict(  # type: ignore[attr-defined]
            Membership.objects.filter(user=request.user).values_list("organization_id", "role")
        )
    return request._amani_roles  # type: ignore[attr-defined]


def _organizations_of(request: HttpRequest) -> list[int]:
    return list(_roles_of(request))


def _organization_id_of(obj: Model, field: str) -> int | None:
    value: Any = obj
    for part in field.split("__"):
        value = getattr(value, part, None)
    return value.pk if isinstance(value, Model) else value
