from django.urls import path
from rest_framework.routers import SimpleRouter

from campaigns.api import bundles, campaigns, reports, views, waves

router = SimpleRouter()
router.register("segments", views.SegmentViewSet, basename="segment")
router.register("campaigns", campaigns.CampaignViewSet, basename="campaign")
router.register("waves", waves.WaveViewSet, basename="wave")
router.register("reports/campaigns", reports.CampaignReportViewSet, basename="campaign-report")

urlpatterns = [
    *router.urls,
    path("networks/<int:pk>/bundle/", bundles.NetworkBundleView.as_view(), name="network-bundle"),
]
