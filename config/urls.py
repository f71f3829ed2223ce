from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from campaigns.views import short_link
from outreach import health, metrics_view

handler400 = "outreach.api.errors.bad_request"
handler403 = "outreach.api.errors.permission_denied"
handler404 = "outreach.api.errors.page_not_found"
handler500 = "outreach.api.errors.server_error"

# The Django admin is for superusers only (outreach/admin.py); members have the console.
admin.site.site_header = "Amani admin"
admin.site.site_title = "Amani admin"
admin.site.index_title = "Every organization's data, for superusers"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="console:home", permanent=False)),
    path("console/", include("console.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("healthz", health.healthz, name="healthz"),
    path("l/<str:code>", short_link, name="short-link"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_view.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("api/v1/", include("outreach.api.urls")),
    path("api/v1/", include("campaigns.api.urls")),
    path("webhooks/", include("outreach.webhooks.urls")),
]
