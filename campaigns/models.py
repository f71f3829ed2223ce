"""What to say, to whom, when. So far: segments, the saved audiences a wave is sent to."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from outreach.models import Channel, OrganizationOwned, Region


class Segment(OrganizationOwned):
    """A saved audience: filters on subscribers' profiles, each empty one meaning "any".

    Filters of different kinds combine with AND, the values of one kind with OR. Only
    subscribers who opted in are ever members (see `campaigns.selectors.segments`).
    """

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    languages = models.JSONField(default=list, blank=True, help_text="ISO 639 codes; empty: any.")
    regions = models.ManyToManyField(
        Region, blank=True, related_name="+", help_text="With their sub-regions; none: any."
    )
    age_bands = models.JSONField(default=list, blank=True, help_text="Empty: any.")
    genders = models.JSONField(default=list, blank=True, help_text="Empty: any.")
    channels = models.ManyToManyField(Channel, blank=True, related_name="+", help_text="None: any.")
    tags = models.JSONField(
        default=list, blank=True, help_text="A member has at least one of them; empty: any."
    )
    joined_since = models.DateField(
        null=True, blank=True, help_text="In the organization's time zone; empty: any."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                models.F("organization"),
                Lower("name"),
                name="segment_name_per_org",
                violation_error_message="A segment of that name exists already.",
            ),
        ]

    def __str__(self) -> str:
        return self.name
