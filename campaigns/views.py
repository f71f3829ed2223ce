"""Public pages: the short-link redirect, /l/<code>. No login, no session, no CSRF."""

from django.http import HttpRequest, HttpResponse, HttpResponseNotFound, HttpResponseRedirect
from django.views.decorators.http import require_safe

from campaigns.links import is_link_preview, link_click_record, tracked_link_by_code

_NOT_FOUND = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Link not found</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><p>This link does not exist or has expired.</p></body></html>
"""


@require_safe
def short_link(request: HttpRequest, code: str) -> HttpResponse:
    """Redirect to the link's URL, counting the click unless it is a preview or a crawler."""
    link = tracked_link_by_code(code)
    if link is None:
        response: HttpResponse = HttpResponseNotFound(_NOT_FOUND)
    else:
        if not is_link_preview(request):
            link_click_record(link)
        response = HttpResponseRedirect(link.url)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response
