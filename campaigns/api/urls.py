from django.urls import path
from rest_framework.routers import SimpleRouter

from campaigns.api import bundles, campaigns, lexicon, library, network, reports, views, waves

router = SimpleRouter()
router.register("segments", views.SegmentViewSet, basename="segment")
router.register("campaigns", campaigns.CampaignViewSet, basename="campaign")
router.register("waves", waves.WaveViewSet, basename="wave")
router.register("reports/campaigns", reports.CampaignReportViewSet, basename="campaign-report")
router.register("networks", network.NetworkViewSet, basename="network")
router.register("library/templates", library.LibraryTemplateViewSet, basename="library-template")
router.register("library/versions", library.TemplateVersionViewSet, basename="library-version")
router.register("library/notices", library.NoticeViewSet, basename="library-notice")
router.register("library/lexicon", lexicon.LexiconViewSet, basename="library-term")

urlpatterns = [
    *router.urls,
    path(
        "library/reviews/waiting/", library.ReviewQueueView.as_view(), name="library-review-queue"
    ),
    path("networks/<int:pk>/bundle/", bundles.NetworkBundleView.as_view(), name="network-bundle"),
]
