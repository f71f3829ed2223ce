"""Guards campaigns keeps on what outreach deletes."""

from typing import Any

from django.db.models.signals import pre_delete
from django.dispatch import receiver

from campaigns.models import Segment
from outreach.errors import InvalidInput
from outreach.models import Channel, Region


@receiver(pre_delete, sender=Region, dispatch_uid="campaigns.region_in_segment")
@receiver(pre_delete, sender=Channel, dispatch_uid="campaigns.channel_in_segment")
def refuse_to_widen_a_segment(sender: type, instance: Region | Channel, **kwargs: Any) -> None:
    """A segment that lost its only region would reach everyone: refuse the deletion instead."""
    field = "regions" if sender is Region else "channels"
    names = list(Segment.objects.filter(**{field: instance}).values_list("name", flat=True)[:3])
    if names:
        raise InvalidInput(
            f"Used by the segment(s) {', '.join(names)}; change them first.",
            field=field.rstrip("s"),
        )
