"""Reads for reviewing waves: the queue, and what changed since a wave was last reviewed.

Amani keeps a wave's current texts only, not earlier versions of them: what changed since
the last review is told by its history (each status change, with who and why), the
comments made since, and which variants were saved after that review (a composer saves
every variant it shows, so a variant saved may read as before).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from campaigns.models import Variant, Wave, WaveComment, WaveStatus, WaveTransition
from outreach.models import Organization, User


@dataclass(frozen=True)
class SinceLastReview:
    """A wave's history around its last review (None: it was never reviewed before)."""

    last_review: WaveTransition | None
    transitions: list[WaveTransition]  # the whole history, oldest first
    since: list[WaveTransition]  # after the last review
    comments_since: list[WaveComment]
    saved_languages: list[str]  # variants written or saved again after the last review

    @property
    def reviewed_before(self) -> bool:
        return self.last_review is not None


def waves_in_review(organization: Organization) -> QuerySet[Wave]:
    """The organization's waves waiting for a review, the longest waiting first."""
    return (
        Wave.objects.filter(organization=organization, status=WaveStatus.IN_REVIEW)
        .select_related("campaign", "created_by")
        .order_by("updated_at", "pk")
    )


def waves_awaiting_review_by(organization: Organization, user: User) -> QuerySet[Wave]:
    """Waves in review that `user` may approve: those someone else wrote (two-person rule)."""
    return waves_in_review(organization).exclude(created_by=user)


def since_last_review(wave: Wave) -> SinceLastReview:
    """What happened to `wave` since a reviewer last approved it or asked for changes."""
    transitions = list(wave.transitions.select_related("by"))
    reviews = [t for t in transitions if t.from_status == WaveStatus.IN_REVIEW]
    last = reviews[-1] if reviews else None
    after: datetime | None = last.at if last else None
    comments = wave.comments.select_related("author")
    variants = Variant.objects.filter(wave=wave)
    if after is not None:
        comments = comments.filter(created_at__gt=after)
        variants = variants.filter(updated_at__gt=after)
    return SinceLastReview(
        last_review=last,
        transitions=transitions,
        since=[t for t in transitions if after is not None and t.at > after],
        comments_since=list(comments) if after is not None else [],
        saved_languages=sorted(variants.values_list("language", flat=True)) if after else [],
    )
