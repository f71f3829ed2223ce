"""Input and output shapes of the campaigns endpoints; no business rules here."""

from rest_framework import serializers

from campaigns.models import Segment
from outreach.api.serializers import StrictInputSerializer
from outreach.models import AgeBand, Gender

MAX_ID = 2**63 - 1  # a larger number is no id, and SQLite cannot even compare it


class SegmentSerializer(serializers.ModelSerializer):
    languages = serializers.ListField(child=serializers.CharField(), read_only=True)
    regions = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    age_bands = serializers.ListField(child=serializers.CharField(), read_only=True)
    genders = serializers.ListField(child=serializers.CharField(), read_only=True)
    channels = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    tags = serializers.ListField(child=serializers.CharField(), read_only=True)
    count = serializers.IntegerField(
        source="live_count", read_only=True, help_text="Opted-in subscribers it reaches right now."
    )

    class Meta:
        model = Segment
        fields = [
            "id",
            "name",
            "description",
            "languages",
            "regions",
            "age_bands",
            "genders",
            "channels",
            "tags",
            "joined_since",
            "count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class SegmentFiltersSerializer(StrictInputSerializer):
    """Who a segment reaches. Each filter left out or empty means "any"."""

    languages = serializers.ListField(
        child=serializers.CharField(max_length=3),
        required=False,
        max_length=50,
        help_text="ISO 639 codes among the organization's languages.",
    )
    regions = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=500,
        help_text="Region ids; each takes in its sub-regions.",
    )
    # Plain strings, checked by the service: the choice sets' enums belong to the subscriber.
    age_bands = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        help_text=f"Any of {', '.join(AgeBand.values)}.",
    )
    genders = serializers.ListField(
        child=serializers.CharField(max_length=20),
        required=False,
        help_text=f"Any of {', '.join(Gender.values)}.",
    )
    channels = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        max_length=100,
        help_text="Channel ids.",
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=40),
        required=False,
        max_length=50,
        help_text="A subscriber with any one of them matches.",
    )
    joined_since = serializers.DateField(
        required=False,
        allow_null=True,
        help_text="Joined on or after this day, in the organization's time zone.",
    )


class SegmentInputSerializer(SegmentFiltersSerializer):
    name = serializers.CharField(max_length=100)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class SegmentBreakdownSerializer(serializers.Serializer):
    count = serializers.IntegerField(
        help_text="People reached right now (opted in on an address; a person on SMS and "
        "WhatsApp counts once)."
    )
    by_language = serializers.DictField(child=serializers.IntegerField())
    by_region = serializers.DictField(
        child=serializers.IntegerField(),
        help_text='By region name; "unknown" counts those who never gave one.',
    )
