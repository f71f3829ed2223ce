"""Segments: saved audiences with a live count. Thin views over services and selectors."""

from collections.abc import Iterable

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns.api import serializers
from campaigns.models import Segment
from campaigns.selectors.segments import (
    audience_breakdown,
    segment_breakdown,
    segment_count,
    subscribers_matching,
)
from campaigns.services.segments import (
    segment_create,
    segment_delete,
    segment_filters_clean,
    segment_update,
)
from outreach.access import Action
from outreach.api.views import ORGANIZATION_PARAMETER
from outreach.api.viewsets import OrganizationScopedViewSet


@extend_schema(parameters=[ORGANIZATION_PARAMETER])
class SegmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, OrganizationScopedViewSet):
    """Saved audiences. Each shows how many opted-in subscribers it reaches right now."""

    queryset = Segment.objects.select_related("organization").prefetch_related(
        "regions", "channels"
    )
    serializer_class = serializers.SegmentSerializer
    search_fields = ["name"]
    ordering_fields = ["name", "created_at", "updated_at"]
    ordering = ["name"]
    read_action = Action.SEE_AUDIENCE
    write_action = Action.CHANGE_AUDIENCE
    actions_by_action = {"preview": Action.SEE_AUDIENCE}  # a POST that changes nothing
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def list(self, request: Request) -> Response:
        segments = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(segments)
        shown = segments if page is None else page
        data = serializers.SegmentSerializer(_counted(shown), many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def retrieve(self, request: Request, pk: str) -> Response:
        (segment,) = _counted([self.get_object()])
        return Response(serializers.SegmentSerializer(segment).data)

    @extend_schema(
        request=serializers.SegmentInputSerializer, responses={201: serializers.SegmentSerializer}
    )
    def create(self, request: Request) -> Response:
        payload = serializers.SegmentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        segment = segment_create(
            organization=self.organization, created_by=request.user, **payload.validated_data
        )
        (segment,) = _counted([segment])
        return Response(serializers.SegmentSerializer(segment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.SegmentInputSerializer, responses=serializers.SegmentSerializer
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        payload = serializers.SegmentInputSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        segment = segment_update(segment=self.get_object(), **payload.validated_data)
        (segment,) = _counted([segment])
        return Response(serializers.SegmentSerializer(segment).data)

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk: str) -> Response:
        segment_delete(segment=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=serializers.SegmentBreakdownSerializer)
    @action(detail=True, methods=["get"])
    def breakdown(self, request: Request, pk: str) -> Response:
        """How many the segment reaches now, by language and by region."""
        breakdown = segment_breakdown(self.get_object())
        return Response(serializers.SegmentBreakdownSerializer(breakdown).data)

    @extend_schema(
        request=serializers.SegmentFiltersSerializer,
        responses=serializers.SegmentBreakdownSerializer,
    )
    @action(detail=False, methods=["post"])
    def preview(self, request: Request) -> Response:
        """Count and break down an audience while composing it; nothing is saved."""
        payload = serializers.SegmentFiltersSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        filters = segment_filters_clean(organization=self.organization, **payload.validated_data)
        members = subscribers_matching(self.organization, **filters)
        return Response(serializers.SegmentBreakdownSerializer(audience_breakdown(members)).data)


def _counted(segments: Iterable[Segment]) -> list[Segment]:
    """The segments, each carrying its live count for the serializer."""
    counted = list(segments)
    for segment in counted:
        segment.live_count = segment_count(segment)  # type: ignore[attr-defined]
    return counted
