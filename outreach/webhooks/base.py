"""One base for every provider webhook: CSRF-exempt, POST only, authenticated before anything.

A provider view names its signature check and what to do with a verified request.
A request that fails the check gets 403 and nothing is stored; a verified one whose fields
we cannot take (the view raises InvalidInput before it writes) gets 400 naming the field.
"""

import logging
import time

from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseForbidden
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from outreach import metrics
from outreach.errors import InvalidInput

logger = logging.getLogger(__name__)


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(transaction.non_atomic_requests, name="dispatch")
class WebhookView(View):
    http_method_names = ["post"]
    provider = "unknown"

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        started = time.perf_counter()
        try:
            return super().dispatch(request, *args, **kwargs)
        finally:
            # Named by its route (twilio-status, telegram-update …), never by its channel.
            webhook = request.resolver_match.url_name if request.resolver_match else ""
            metrics.webhook_handled(
                webhook=webhook or self.provider, seconds=time.perf_counter() - started
            )

    def post(self, request: HttpRequest, **kwargs: object) -> HttpResponse:
        context = self.load(request, **kwargs)
        if not self.is_authentic(request, context):
            logger.warning("%s webhook refused: bad or missing signature", self.provider)
            return HttpResponseForbidden("Invalid signature.")
        try:
            return self.handle(request, context)
        except InvalidInput as error:
            logger.warning("%s webhook refused: %s", self.provider, error.field)
            return HttpResponseBadRequest(
                f"{error.field}: {error.message}", content_type="text/plain; charset=utf-8"
            )

    def load(self, request: HttpRequest, **kwargs: object) -> object:
        """Find what the URL names (e.g. the channel and its secret); 404 when there is none."""
        raise NotImplementedError

    def is_authentic(self, request: HttpRequest, context: object) -> bool:
        raise NotImplementedError

    def handle(self, request: HttpRequest, context: object) -> HttpResponse:
        """Act on a verified request; raise InvalidInput (naming the field) before any write."""
        raise NotImplementedError
