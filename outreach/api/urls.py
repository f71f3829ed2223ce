from django.urls import path
from rest_framework.routers import SimpleRouter

from outreach.api import views

router = SimpleRouter()
router.register("members", views.MemberViewSet, basename="member")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("organization/", views.OrganizationView.as_view(), name="organization"),
    *router.urls,
]
