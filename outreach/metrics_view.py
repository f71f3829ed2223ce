"""`GET /metrics`: the Prometheus scrape, for whoever holds AMANI_METRICS_TOKEN.

Unset, the endpoint does not exist (404). The token travels in the Authorization header
(`Bearer …`), never in the URL, so no access log keeps it.
"""

import hmac

from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from outreach.metrics import REGISTRY


@transaction.non_atomic_requests
@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Every figure of outreach.metrics in Prometheus's text format."""
    expected = settings.AMANI_METRICS_TOKEN
    if not expected:
        raise Http404
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        response = HttpResponse("A bearer token is required.", status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if not hmac.compare_digest(presented.strip().encode(), expected.encode()):
        return HttpResponse("Wrong token.", status=403)
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
