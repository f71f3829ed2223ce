"""Networks through the API: the organization's places, a network's members, invitations.

Staff read; admins create a network, invite an organization by its slug, accept, leave and
name the focal point. A network the organization has no place in is a 404, and a member
list shows organizations and their focal points' names only: never a subscriber.
"""

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.models import MemberStatus, Network, NetworkMember
from campaigns.selectors.library import network_for, network_members, networks_of
from campaigns.services import network as services
from outreach.access import Action
from outreach.api.organization_context import current_organization
from outreach.api.serializers import StrictInputSerializer
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.errors import InvalidInput, NotFound
from outreach.models import Organization, User

MAX_ID = 2**63 - 1


class NetworkScopedViewSet(viewsets.GenericViewSet):
    """A viewset over the networks the caller's organization is in; the services decide."""

    filter_backends: list[Any] = []  # filters are each endpoint's own, checked by name

    @property
    def organization(self) -> Organization:
        return current_organization(self.request)


def display_name(user: User | None) -> str | None:
    """How a member of another organization is named: their name, never their email."""
    if user is None:
        return None
    return user.get_full_name() or user.get_username()


class NetworkPlaceSerializer(serializers.Serializer):
    """The organization's place in one network."""

    id = serializers.IntegerField(source="network.id", help_text="The network's id.")
    name = serializers.CharField(source="network.name")
    slug = serializers.CharField(source="network.slug")
    description = serializers.CharField(source="network.description")
    min_cell_size = serializers.IntegerField(
        source="network.min_cell_size", help_text="k: outcome figures about fewer are withheld."
    )
    status = serializers.ChoiceField(choices=MemberStatus.choices)
    focal_point = serializers.IntegerField(
        source="focal_point_id", allow_null=True, help_text="The user id of who reviews for you."
    )
    focal_point_name = serializers.SerializerMethodField()
    invited_at = serializers.DateTimeField()
    joined_at = serializers.DateTimeField(allow_null=True)
    left_at = serializers.DateTimeField(allow_null=True)

    def get_focal_point_name(self, place: NetworkMember) -> str | None:
        return display_name(place.focal_point)


class NetworkMemberSerializer(serializers.Serializer):
    """A member organization, as the other members see it."""

    organization = serializers.CharField(source="organization.slug")
    organization_name = serializers.CharField(source="organization.name")
    status = serializers.ChoiceField(choices=MemberStatus.choices)
    focal_point_name = serializers.SerializerMethodField(
        help_text="Who reviews for it here; null until it has accepted."
    )
    invited_at = serializers.DateTimeField()
    joined_at = serializers.DateTimeField(allow_null=True)
    left_at = serializers.DateTimeField(allow_null=True)

    def get_focal_point_name(self, place: NetworkMember) -> str | None:
        return display_name(place.focal_point)


class NetworkDetailSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    slug = serializers.CharField()
    description = serializers.CharField()
    min_cell_size = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    your_status = serializers.ChoiceField(
        choices=MemberStatus.choices, help_text="Your organization's place in it."
    )
    members = NetworkMemberSerializer(many=True)


class NetworkInputSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    min_cell_size = serializers.IntegerField(
        min_value=5, max_value=100, required=False, help_text="k, 10 unless given."
    )


class InviteInputSerializer(StrictInputSerializer):
    organization = serializers.CharField(
        max_length=80, help_text="The slug of the organization to invite (on this server)."
    )


class AcceptInputSerializer(StrictInputSerializer):
    focal_point = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="User id of the member who reviews for you here; you, unless given.",
    )


class FocalPointInputSerializer(StrictInputSerializer):
    user = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        help_text="User id (from /members/) of an admin, manager or reviewer of yours.",
    )


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class NetworkViewSet(NetworkScopedViewSet):
    """Networks of organizations sharing a library: staff read, admins act for the organization."""

    queryset = Network.objects.none()  # each read goes through the library's selectors
    read_action = Action.SEE_LIBRARY
    write_action = Action.MANAGE_NETWORK

    @extend_schema(responses=NetworkPlaceSerializer(many=True))
    def list(self, request: Request) -> Response:
        """The organization's places: member, invited, or gone."""
        page = self.paginate_queryset(networks_of(self.organization))
        return self.get_paginated_response(NetworkPlaceSerializer(page, many=True).data)

    @extend_schema(request=NetworkInputSerializer, responses={201: NetworkDetailSerializer})
    def create(self, request: Request) -> Response:
        """Start a network: the organization is its first member, you its focal point."""
        payload = NetworkInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        network = services.network_create(
            organization=self.organization, by=request.user, **payload.validated_data
        )
        return Response(self._detail(network), status=status.HTTP_201_CREATED)

    @extend_schema(responses=NetworkDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        """The network and its members, each with its focal point's name."""
        return Response(self._detail(self._network(pk)))

    @extend_schema(request=InviteInputSerializer, responses={201: NetworkMemberSerializer})
    @action(detail=True, methods=["post"])
    def invite(self, request: Request, pk: str) -> Response:
        """Invite an organization by its slug; one of its admins accepts."""
        payload = InviteInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        place = services.network_invite(
            network=self._network(pk),
            organization=self.organization,
            by=request.user,
            invitee=payload.validated_data["organization"],
        )
        return Response(NetworkMemberSerializer(place).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AcceptInputSerializer, responses=NetworkPlaceSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str) -> Response:
        """Accept the invitation; the focal point is you unless another is named."""
        payload = AcceptInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        chosen = payload.validated_data.get("focal_point")
        focal_point = None
        if chosen is not None:
            focal_point = User.objects.filter(pk=chosen).first()
            if focal_point is None:
                raise InvalidInput("No such member.", field="focal_point")
        place = services.network_accept(
            network=self._network(pk),
            organization=self.organization,
            by=request.user,
            focal_point=focal_point,
        )
        return Response(NetworkPlaceSerializer(_place(place)).data)

    @extend_schema(request=None, responses=NetworkPlaceSerializer)
    @action(detail=True, methods=["post"])
    def leave(self, request: Request, pk: str) -> Response:
        """Leave the network (or decline its invitation); what was adopted stays."""
        place = services.network_leave(
            network=self._network(pk), organization=self.organization, by=request.user
        )
        return Response(NetworkPlaceSerializer(_place(place)).data)

    @extend_schema(request=FocalPointInputSerializer, responses=NetworkPlaceSerializer)
    @action(detail=True, methods=["post"], url_path="focal-point")
    def focal_point(self, request: Request, pk: str) -> Response:
        """Name the member who reviews for the organization in this network."""
        payload = FocalPointInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            place = services.network_set_focal_point(
                network=self._network(pk),
                organization=self.organization,
                by=request.user,
                user_id=payload.validated_data["user"],
            )
        except InvalidInput as error:
            raise InvalidInput(error.message, field="user") from error
        return Response(NetworkPlaceSerializer(_place(place)).data)

    def _network(self, pk: str) -> Network:
        """A network the organization is in or invited to; any other is a 404."""
        network = network_for(self.organization, pk)
        if (
            network is None
            or not NetworkMember.objects.filter(
                network=network,
                organization=self.organization,
                status__in=[MemberStatus.ACTIVE, MemberStatus.INVITED],
            ).exists()
        ):
            raise NotFound("No such network among your organization's.")
        return network

    def _detail(self, network: Network) -> dict[str, Any]:
        members = list(network_members(network))
        own = next(m for m in members if m.organization_id == self.organization.pk)
        return NetworkDetailSerializer(
            {
                "id": network.pk,
                "name": network.name,
                "slug": network.slug,
                "description": network.description,
                "min_cell_size": network.min_cell_size,
                "created_at": network.created_at,
                "your_status": own.status,
                "members": members,
            }
        ).data


def _place(place: NetworkMember) -> NetworkMember:
    return NetworkMember.objects.select_related("network", "focal_point").get(pk=place.pk)
