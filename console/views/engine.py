"""The Engine page: the engine's health at a glance, for the server's operators only.

Queues, the status inbox, recent sends, provider errors, rate-limiter waits and webhook
latency, read by outreach.selectors.engine, the same readings /metrics serves, and a verdict
in one line. The figures span every organization of the server, so the page is for the
server's operators: superusers, as the Django admin is (`is_staff` will not do: every
organization's admins, managers and reviewers have it); others get the console's forbidden
page. The health fragment reloads itself every 5 seconds (htmx).
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from console.formatting import duration_words, kind_label
from console.guard import forbidden
from outreach.selectors.engine import EngineHealth, Problem, engine_health

POLL_EVERY = "5s"
# Problems that mean work waits too long; the others mean a figure could not be read.
LATENESS = {"queue_age", "inbox_lag", "webhook_p99"}

View = Callable[..., HttpResponse]


def operator_view(view: View) -> View:
    """Wrap a view for the server's operators (superusers): anonymous users go to sign-in,
    other signed-in users get the console's forbidden page."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not request.user.is_superuser:
            return forbidden(request, reason=_("This page is for the server's operators."))
        return view(request, *args, **kwargs)

    guarded.console_operators_only = True  # type: ignore[attr-defined]
    return guarded


@require_GET
@operator_view
def engine_page(request: HttpRequest) -> HttpResponse:
    return render(request, "console/engine/page.html", engine_context())


@require_GET
@operator_view
def engine_fragment(request: HttpRequest) -> HttpResponse:
    return render(request, "console/engine/health.html", engine_context())


def engine_context() -> dict[str, Any]:
    """What the health fragment shows: the verdict, then each figure as rows."""
    health = engine_health()
    return {
        "health": health,
        "verdict": verdict(health),
        "falling_behind": any(p.kind in LATENESS for p in health.problems),
        "queues": [
            {"name": q.name, "depth": q.depth, "age": duration_words(q.oldest_age_seconds)}
            for q in health.queues.queues
        ],
        "inbox_lag": duration_words(health.inbox.lag_seconds),
        "sends": _sends(health),
        "errors": [
            {"kind": kind_label(kind), "code": code, "n": n}
            for (kind, code), n in sorted(health.counters.provider_errors.items())
        ],
        "waits": [
            {
                "channel": channel,
                "refusals": health.counters.rate_limit_refusals.get(channel, 0),
                "seconds": round(health.counters.rate_limit_wait_seconds.get(channel, 0.0), 1),
            }
            for channel in sorted(
                {*health.counters.rate_limit_refusals, *health.counters.rate_limit_wait_seconds},
                key=lambda c: (len(c), c),
            )
        ],
        "webhooks": [
            {
                "name": latency.webhook,
                "count": latency.count,
                "p50": milliseconds(latency.quantile(0.5)),
                "p99": milliseconds(latency.quantile(0.99)),
            }
            for latency in health.counters.webhooks
        ],
        "poll_every": POLL_EVERY,
    }


def verdict(health: EngineHealth) -> str:
    """The page's one line: "Healthy", or what is behind, worst first."""
    if health.healthy:
        return _("Healthy")
    reasons = "; ".join(problem_words(p) for p in health.problems)
    if any(p.kind in LATENESS for p in health.problems):
        return _("Falling behind: %(reasons)s") % {"reasons": reasons}
    return _("Partly unknown: %(reasons)s") % {"reasons": reasons}


def problem_words(problem: Problem) -> str:
    if problem.kind == "queue_age":
        return _("the %(queue)s queue's oldest task is %(age)s old") % {
            "queue": problem.subject,
            "age": duration_words(problem.seconds),
        }
    if problem.kind == "inbox_lag":
        return _("the status inbox's oldest report has waited %(age)s") % {
            "age": duration_words(problem.seconds)
        }
    if problem.kind == "webhook_p99":
        return _("the %(webhook)s webhook's p99 is %(ms)s ms") % {
            "webhook": problem.subject,
            "ms": milliseconds(problem.seconds),
        }
    if problem.kind == "queues_unreadable":
        return _("the broker does not answer, so the queues cannot be read")
    return _("the event counters (Redis) cannot be read")


def milliseconds(seconds: float | None) -> str:
    return "—" if seconds is None else f"{seconds * 1000:.0f}"


def _sends(health: EngineHealth) -> list[dict[str, Any]]:
    recent, total = health.recent, health.counters.sent
    kinds = sorted({*recent.last_minute, *recent.last_hour, *total})
    return [
        {
            "kind": kind_label(kind),
            "minute": recent.last_minute.get(kind, 0),
            "hour": recent.last_hour.get(kind, 0),
            "total": total.get(kind, 0),
        }
        for kind in kinds
    ]


urlpatterns = [
    path("engine/", engine_page, name="engine"),
    path("engine/health/", engine_fragment, name="engine-health"),
]
