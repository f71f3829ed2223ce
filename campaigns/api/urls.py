from rest_framework.routers import SimpleRouter

from campaigns.api import campaigns, views, waves

router = SimpleRouter()
router.register("segments", views.SegmentViewSet, basename="segment")
router.register("campaigns", campaigns.CampaignViewSet, basename="campaign")
router.register("waves", waves.WaveViewSet, basename="wave")

urlpatterns = [*router.urls]
