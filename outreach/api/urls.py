from django.db import transaction
from django.urls import path
from rest_framework.routers import SimpleRouter

from outreach.api import (
    channels,
    conversations,
    keywords,
    presets,
    safeguarding,
    subscriber_import,
    subscribers,
    templates,
    views,
)

router = SimpleRouter()
router.register("members", views.MemberViewSet, basename="member")
router.register("channels", channels.ChannelViewSet, basename="channel")
router.register("regions", channels.RegionViewSet, basename="region")
router.register("subscribers", subscribers.SubscriberViewSet, basename="subscriber")
router.register("keywords", keywords.KeywordViewSet, basename="keyword")
router.register("presets", presets.PresetViewSet, basename="preset")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("organization/", views.OrganizationView.as_view(), name="organization"),
    path(
        "subscribers/import/",
        subscriber_import.SubscriberImportView.as_view(),
        name="subscriber-import",
    ),
    path(
        "subscribers/<int:pk>/conversation/",
        conversations.SubscriberConversationView.as_view(),
        name="subscriber-conversation",
    ),
    path(
        "channels/<int:pk>/templates/",
        templates.ChannelTemplatesView.as_view(),
        name="channel-templates",
    ),
    path(
        "channels/<int:pk>/templates/sync/",
        templates.ChannelTemplatesSyncView.as_view(),
        name="channel-templates-sync",
    ),
    path("safeguarding/", safeguarding.SafeguardingView.as_view(), name="safeguarding"),
    *router.urls,
]

# A simulated text commits as it arrives, as a webhook's would, so its routing and replies
# run (in-process in the demo, on the workers otherwise) while the request waits for them.
for pattern in urlpatterns:
    if getattr(pattern, "name", "") == "channel-simulate-inbound":
        transaction.non_atomic_requests(pattern.callback)
