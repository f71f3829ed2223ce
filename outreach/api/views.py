"""Thin views: parse input, call a service or selector, shape the output."""

import django_filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.access import Action
from outreach.api import serializers
from outreach.api.organization_context import ORGANIZATION_HEADER, current_organization
from outreach.api.viewsets import OrganizationScopedViewSet
from outreach.models import Membership, Role
from outreach.selectors.organizations import memberships_of
from outreach.services.organizations import (
    member_add,
    membership_remove,
    membership_set_role,
    organization_update,
)

ORGANIZATION_PARAMETER = OpenApiParameter(
    ORGANIZATION_HEADER,
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Slug of the organization to act in; needed only by members of several.",
)


class MeView(APIView):
    """Who the token belongs to, and their role in each organization."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=serializers.MeSerializer)
    def get(self, request: Request) -> Response:
        user = request.user
        data = {
            "id": user.pk,
            "username": user.username,
            "email": user.email,
            "memberships": memberships_of(user),
        }
        return Response(serializers.MeSerializer(data).data)


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class OrganizationView(APIView):
    """The organization the request acts in. Admins change its settings."""

    read_action = Action.SEE_ORGANIZATION
    write_action = Action.SETUP

    @extend_schema(responses=serializers.OrganizationSerializer)
    def get(self, request: Request) -> Response:
        return Response(serializers.OrganizationSerializer(current_organization(request)).data)

    @extend_schema(
        request=serializers.OrganizationUpdateSerializer,
        responses=serializers.OrganizationSerializer,
    )
    def patch(self, request: Request) -> Response:
        changes = serializers.OrganizationUpdateSerializer(data=request.data, partial=True)
        changes.is_valid(raise_exception=True)
        organization = organization_update(
            organization=current_organization(request), **changes.validated_data
        )
        return Response(serializers.OrganizationSerializer(organization).data)


class MemberFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["role"]


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class MemberViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OrganizationScopedViewSet,
):
    """Members of the organization and their roles. Admins add, re-role and remove members."""

    queryset = Membership.objects.select_related("user")
    serializer_class = serializers.MemberSerializer
    filterset_class = MemberFilter
    search_fields = ["user__username", "user__email", "user__first_name", "user__last_name"]
    ordering_fields = ["user__username", "role", "created_at"]
    ordering = ["user__username"]
    read_action = Action.SEE_MEMBERS
    write_action = Action.SETUP

    @extend_schema(
        request=serializers.MemberCreateSerializer, responses={201: serializers.NewMemberSerializer}
    )
    def create(self, request: Request) -> Response:
        payload = serializers.MemberCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        new_member = member_add(organization=self.organization, **payload.validated_data)
        membership = new_member.membership
        membership.api_token = new_member.api_token
        return Response(
            serializers.NewMemberSerializer(membership).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=serializers.MemberRoleSerializer, responses=serializers.MemberSerializer)
    def partial_update(self, request: Request, pk: str) -> Response:
        payload = serializers.MemberRoleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        membership = membership_set_role(
            membership=self.get_object(), role=payload.validated_data["role"]
        )
        return Response(serializers.MemberSerializer(membership).data)

    def perform_destroy(self, instance: Membership) -> None:
        membership_remove(membership=instance, acting_user=self.request.user)
