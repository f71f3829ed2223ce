"""Console pages: setup (placeholder until the page is built)."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from console.guard import member_view
from outreach.access import Action


@member_view(Action.SEE_CHANNELS)
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", {})


urlpatterns = [path("setup/", index, name="setup")]
