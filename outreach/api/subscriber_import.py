"""POST /api/v1/subscribers/import/: paper sign-ups from a CSV, a dry run unless told otherwise."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from outreach.access import Action
from outreach.api.errors import error_body
from outreach.api.organization_context import current_organization
from outreach.api.serializers import StrictInputSerializer
from outreach.errors import InvalidInput
from outreach.models import Channel
from outreach.services.subscriber_import import (
    OPTIONAL_COLUMNS,
    REQUIRED_COLUMNS,
    ImportReport,
    subscribers_import,
)

MAX_FILE_BYTES = 50 * 1024 * 1024


class ImportInputSerializer(StrictInputSerializer):
    file = serializers.FileField(
        help_text=(
            f"UTF-8 CSV (a byte order mark is fine). Columns: {', '.join(REQUIRED_COLUMNS)} "
            f"(required); {', '.join(OPTIONAL_COLUMNS)}."
        )
    )
    channel = serializers.IntegerField(help_text="Id of the channel the subscribers join on.")
    dry_run = serializers.BooleanField(
        default=True, help_text="Check and report only; the default. Send false to import."
    )


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="Data row, from 1; the header is not counted.")
    field = serializers.CharField(allow_null=True)
    reason = serializers.CharField()


class ImportSkipSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    reason = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    valid = serializers.IntegerField()
    created = serializers.IntegerField()
    merged = serializers.IntegerField()
    skipped = ImportSkipSerializer(many=True)
    errors = ImportErrorSerializer(many=True)
    imported = serializers.BooleanField()


class SubscriberImportView(APIView):
    """Import paper sign-ups with their consent evidence: every row, or none if one is bad.

    200 with the report for a dry run; 201 with it once imported; 400 in the error shape,
    the report inside `error.report`, when any row has an error (nothing is imported).
    """

    parser_classes = [MultiPartParser, FormParser]
    read_action = Action.SEE_AUDIENCE
    write_action = Action.CHANGE_AUDIENCE

    @extend_schema(
        request={"multipart/form-data": ImportInputSerializer},
        responses={200: ImportReportSerializer, 201: ImportReportSerializer},
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
            return Response(_refusal(report), status=status.HTTP_400_BAD_REQUEST)
        code = status.HTTP_200_OK if report.dry_run else status.HTTP_201_CREATED
        return Response(report.as_dict(), status=code)


def _refusal(report: ImportReport) -> dict:
    first = report.errors[0]
    where = f"row {first['row']}" + (f", {first['field']}" if first["field"] else "")
    message = (
        f"{len(report.errors)} error(s) in the file, so nothing was imported; "
        f"the first: {where}: {first['reason']}"
    )
    body = error_body({"file": [message]}, code="import_invalid", status_code=400)
    body["error"]["report"] = report.as_dict()
    return body
