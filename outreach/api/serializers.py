"""Input and output shapes of the organization endpoints; no business rules here."""

import re
from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from outreach.models import Membership, Organization, Role
from outreach.validators import (
    validate_country_code,
    validate_language_code,
    validate_language_codes,
    validate_timezone,
)


class StrictInputSerializer(serializers.Serializer):
    """Rejects fields it does not know, so a typo ("timezon") is a 400, not a silent no-op."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                writable = ", ".join(name for name, f in self.fields.items() if not f.read_only)
                raise serializers.ValidationError(
                    {
                        name: [f"Unknown field; this endpoint accepts {writable}."]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)


class LocalDateTimeField(serializers.DateTimeField):
    """A date-time that keeps no offset when given none: the service reads it in local time."""

    def enforce_timezone(self, value: Any) -> Any:
        return value if value.tzinfo is None else super().enforce_timezone(value)


_TIME_OF_DAY = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?$"


@extend_schema_field({"type": "string", "pattern": _TIME_OF_DAY, "example": "21:00:00"})
class LocalTimeField(serializers.TimeField):
    """A time of day on the local clock, HH:MM[:SS]: no offset, which would say it was not local."""

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, str) and not re.match(_TIME_OF_DAY, value.strip()):
            self.fail("invalid", format="HH:MM or HH:MM:SS, local")
        return super().to_internal_value(value)


@extend_schema_field(
    {
        "anyOf": [{"type": "string", "format": "email"}, {"type": "string", "maxLength": 0}],
        "description": "An email address, or empty when there is none.",
    }
)
class EmailOrBlankField(serializers.EmailField):
    """A user's email as Django keeps it: an address, or "" when none was given."""


class OrganizationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = [
            "id",
            "name",
            "slug",
            "country",
            "timezone",
            "default_language",
            "languages",
            "minimum_age",
            "report_min_cell_size",
            "reply_attribution_hours",
            "created_at",
        ]
        read_only_fields = fields


class OrganizationUpdateSerializer(StrictInputSerializer):
    name = serializers.CharField(max_length=200, required=False)
    country = serializers.CharField(
        max_length=2, required=False, validators=[validate_country_code]
    )
    timezone = serializers.CharField(max_length=64, required=False, validators=[validate_timezone])
    default_language = serializers.CharField(
        max_length=3, required=False, validators=[validate_language_code]
    )
    languages = serializers.ListField(
        child=serializers.CharField(max_length=3),
        required=False,
        validators=[validate_language_codes],
    )
    report_min_cell_size = serializers.IntegerField(
        min_value=5, max_value=100, required=False, help_text="k of report suppression."
    )
    reply_attribution_hours = serializers.IntegerField(
        min_value=1,
        max_value=24 * 14,
        required=False,
        help_text="Hours a reply counts for a wave.",
    )


class MembershipOfUserSerializer(serializers.ModelSerializer):
    organization = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)

    class Meta:
        model = Membership
        fields = ["organization", "organization_name", "role"]


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    email = EmailOrBlankField()
    memberships = MembershipOfUserSerializer(many=True)


class MemberSerializer(serializers.ModelSerializer):
    user = serializers.IntegerField(
        source="user_id", read_only=True, help_text="The user's id (campaign funders name it)."
    )
    username = serializers.CharField(source="user.username", read_only=True)
    email = EmailOrBlankField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)

    class Meta:
        model = Membership
        fields = [
            "id",
            "user",
            "username",
            "email",
            "first_name",
            "last_name",
            "role",
            "created_at",
        ]
        read_only_fields = fields


class MemberCreateSerializer(StrictInputSerializer):
    username = serializers.RegexField(
        r"^[\w.@+-]+\Z",
        max_length=150,
        error_messages={"invalid": "Letters, digits and @/./+/-/_ only."},
    )
    email = serializers.EmailField(required=False, default="")
    first_name = serializers.CharField(max_length=150, required=False, default="")
    last_name = serializers.CharField(max_length=150, required=False, default="")
    role = serializers.ChoiceField(choices=Role.choices)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_null=True,
        default=None,
        style={"input_type": "password"},
        help_text="Optional: lets the member log in to the console. Without one, API token only.",
    )


class NewMemberSerializer(MemberSerializer):
    api_token = serializers.CharField(read_only=True, help_text="Shown once; keep it safe.")

    class Meta(MemberSerializer.Meta):
        fields = [*MemberSerializer.Meta.fields, "api_token"]
        read_only_fields = fields


class MemberRoleSerializer(StrictInputSerializer):
    role = serializers.ChoiceField(choices=Role.choices)
