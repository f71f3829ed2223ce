"""The home page: where a member lands after signing in."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path

from console.guard import member_view
from outreach.access import Action, may


@member_view(Action.SEE_REPORTS)  # every role lands here; funders go on to their dashboard
def home(request: HttpRequest) -> HttpResponse:
    if not may(request.membership.role, Action.SEE_CAMPAIGNS):
        return redirect("console:funder-home")
    return render(request, "console/home.html", {})


urlpatterns = [path("", home, name="home")]
