"""Base views for objects that belong to an organization."""

from django.db.models import Model, QuerySet
from rest_framework import viewsets

from outreach.api.organization_context import current_organization
from outreach.models import Organization


class OrganizationScopedMixin:
    """Limits every query to the caller's organization, so other organizations' rows are 404s."""

    organization_field = "organization"

    @property
    def organization(self) -> Organization:
        return current_organization(self.request)  # type: ignore[attr-defined]

    def get_queryset(self) -> QuerySet[Model]:
        queryset = super().get_queryset()  # type: ignore[misc]
        return queryset.filter(**{self.organization_field: self.organization})


class OrganizationScopedViewSet(OrganizationScopedMixin, viewsets.GenericViewSet):
    pass
