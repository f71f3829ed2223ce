"""POST /api/v1/subscribers/import/: paper sign-ups from a CSV, dry run first."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.api.organization_context import current_organization
from outreach.api.serializers import StrictInputSerializer
from outreach.errors import InvalidInput
from outreach.models import Channel, Role
from outreach.services.subscriber_import import REQUIRED_COLUMNS, subscribers_import

MAX_FILE_BYTES = 50 * 1024 * 1024


class ImportInputSerializer(StrictInputSerializer):
    file = serializers.FileField(
        help_text=f"UTF-8 CSV; required columns: {', '.join(REQUIRED_COLUMNS)}."
    )
    channel = serializers.IntegerField(help_text="The channel the subscribers will be reached on.")
    dry_run = serializers.BooleanField(default=True, help_text="Check only (the default).")


class SubscriberImportView(APIView):
    """Import paper sign-ups with their consent evidence: every valid row, or none."""

    parser_classes = [MultiPartParser, FormParser]
    write_roles = frozenset({Role.ADMIN, Role.MANAGER})

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer}, responses={200: dict, 201: dict}
    )
    def post(self, request: Request) -> Response:
        payload = ImportInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        organization = current_organization(request)
        channel = Channel.objects.filter(
            organization=organization, pk=payload.validated_data["channel"]
        ).first()
        if channel is None:
            raise InvalidInput("No such channel in this organization.", field="channel")
        upload = payload.validated_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise InvalidInput("At most 50 MB in one file; split it.", field="file")
        report = subscribers_import(
            organization=organization,
            channel=channel,
            file=upload.read(),
            dry_run=payload.validated_data["dry_run"],
            recorded_by=request.user,
        )
        if report.errors and not report.dry_run:
            first = report.errors[0]
            message = (
                f"{len(report.errors)} row(s) have errors, so nothing was imported; "
                f"row {first['row']}, {first['field']}: {first['reason']}"
            )
            body = {"code": "import_invalid", "message": message, "fields": {"file": [message]}}
            return Response({"error": {**body, "report": report.as_dict()}}, status=400)
        code = status.HTTP_200_OK if report.dry_run else status.HTTP_201_CREATED
        return Response(report.as_dict(), status=code)
