"""One base for every provider webhook: CSRF-exempt, POST only, authenticated before anything.

A provider view names its signature check and what to do with a verified request.
A request that fails the check gets 403 and nothing is stored.
"""

import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

logger = logging.getLogger(__name__)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class WebhookView(View):
    http_method_names = ["post"]
    provider = "unknown"

    def post(self, request: HttpRequest, **kwargs: object) -> HttpResponse:
        context = self.load(request, **kwargs)
        if not self.is_authentic(request, context):
            logger.warning("%s webhook refused: bad or missing signature", self.provider)
            return HttpResponseForbidden("Invalid signature.")
        return self.handle(request, context)

    def load(self, request: HttpRequest, **kwargs: object) -> object:
        """Find what the URL names (e.g. the channel and its secret); 404 when there is none."""
        raise NotImplementedError

    def is_authentic(self, request: HttpRequest, context: object) -> bool:
        raise NotImplementedError

    def handle(self, request: HttpRequest, context: object) -> HttpResponse:
        raise NotImplementedError
