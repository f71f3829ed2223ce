"""Campaigns, waves and segments in the Django admin, for superusers (members have the console)."""

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils import timezone

from campaigns.models import (
    BlackoutWindow,
    Campaign,
    LexiconTerm,
    LibraryReview,
    Network,
    NetworkMember,
    Segment,
    TemplateTranslation,
    TemplateVersion,
    Variant,
    Wave,
    WaveComment,
    WaveTransition,
)
from campaigns.selectors.send_gate import wave_window_hold
from campaigns.services.segments import FILTER_FIELDS, segment_filters_clean
from outreach.errors import InvalidInput


class SegmentForm(forms.ModelForm):
    """Runs the same checks as the API, so the console cannot save what the API refuses."""

    class Meta:
        model = Segment
        fields = [
            "organization",
            "name",
            "description",
            "languages",
            "regions",
            "age_bands",
            "genders",
            "channels",
            "tags",
            "joined_since",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        organization = cleaned.get("organization") or getattr(self.instance, "organization", None)
        filters = {field: cleaned[field] for field in FILTER_FIELDS if field in cleaned}
        if organization is None or not filters:
            return cleaned
        try:
            cleaned.update(segment_filters_clean(organization=organization, **filters))
        except InvalidInput as error:
            self.add_error(error.field if error.field in self.fields else None, error.message)
        return cleaned


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentForm
    list_display = ["name", "organization", "created_at"]
    list_filter = ["organization"]
    search_fields = ["name"]
    filter_horizontal = ["regions", "channels"]
    list_select_related = ["organization"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Segment, form: Any, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


class BlackoutWindowInline(admin.TabularInline):
    model = BlackoutWindow
    extra = 0


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "country", "election_date", "timezone"]
    list_filter = ["country", "organization"]
    search_fields = ["name"]
    inlines = [BlackoutWindowInline]
    filter_horizontal = ["target_regions"]


class VariantInline(admin.StackedInline):
    model = Variant
    extra = 0


class WaveTransitionInline(admin.TabularInline):
    model = WaveTransition
    extra = 0
    readonly_fields = ["from_status", "to_status", "by", "at", "note"]
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class WaveCommentInline(admin.TabularInline):
    model = WaveComment
    extra = 0
    readonly_fields = ["author", "created_at"]


@admin.register(Wave)
class WaveAdmin(admin.ModelAdmin):
    """Read the state here; status changes go through the API (two-person rule, transitions)."""

    list_display = ["name", "campaign", "status", "priority", "scheduled_for", "created_by"]
    list_filter = ["status", "priority", "campaign", "organization"]
    search_fields = ["name"]
    readonly_fields = [
        "status",
        "held",
        "paused_from",
        "requested_at",
        "scheduled_for",
        "approved_by",
        "approved_at",
        "blackout_approved_by",
        "blackout_approved_at",
        "blackout_approval_reason",
        "created_by",
    ]
    exclude = ["fanout_enqueued_at"]  # the tick's bookkeeping of a lost fan-out, not for staff
    inlines = [VariantInline, WaveCommentInline, WaveTransitionInline]

    def has_add_permission(self, request: HttpRequest, *args: object) -> bool:
        return False  # composing goes through the API, where variants are checked

    @admin.display(description="Held by its sending window")
    def held(self, wave: Wave) -> str:
        hold = wave_window_hold(wave, timezone.now())
        return hold.reason if hold is not None else "No"

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False  # an edit must send the wave back to review: the API does that


class ReadOnlyAdmin(admin.ModelAdmin):
    """The library's records are written by its services (review rule, hashes): read here only."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TranslationInline(admin.TabularInline):
    model = TemplateTranslation
    extra = 0
    can_delete = False
    readonly_fields = ["language", "body"]


class ReviewInline(admin.TabularInline):
    model = LibraryReview
    fk_name = "version"
    extra = 0
    can_delete = False
    fields = ["country", "organization_name", "reviewer_name", "decision", "reason", "at"]
    readonly_fields = fields


@admin.register(Network)
class NetworkAdmin(ReadOnlyAdmin):
    list_display = ["name", "min_cell_size", "created_at"]
    search_fields = ["name"]


@admin.register(NetworkMember)
class NetworkMemberAdmin(ReadOnlyAdmin):
    list_display = ["network", "organization", "status", "focal_point", "joined_at"]
    list_filter = ["status"]
    search_fields = ["organization__name", "network__name"]


@admin.register(TemplateVersion)
class TemplateVersionAdmin(ReadOnlyAdmin):
    list_display = ["template", "number", "state", "countries", "content_hash"]
    list_filter = ["state"]
    search_fields = ["template__name", "content_hash"]
    inlines = [TranslationInline, ReviewInline]


@admin.register(LexiconTerm)
class LexiconTermAdmin(ReadOnlyAdmin):
    list_display = ["term", "country", "language", "state", "network"]
    list_filter = ["state", "country", "language"]
    search_fields = ["term"]
