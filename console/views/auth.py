"""Sign-in, sign-out and switching organization."""

from contextlib import suppress

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from console.guard import member_view
from console.membership import organization_switch
from outreach.access import Action
from outreach.errors import NotFound


class SignIn(auth_views.LoginView):
    template_name = "console/sign_in.html"
    redirect_authenticated_user = True

    def get_default_redirect_url(self) -> str:
        return reverse("console:home")


class SignOut(auth_views.LogoutView):
    next_page = "console:sign-in"


@require_POST
@member_view(Action.SEE_REPORTS)  # every role: funders too
def switch_organization(request: HttpRequest) -> HttpResponse:
    # An organization not one's own leaves the current one; the switcher lists only one's own.
    with suppress(NotFound):
        organization_switch(request, slug=request.POST.get("organization", ""))
    return redirect("console:home")


urlpatterns = [
    path("sign-in/", SignIn.as_view(), name="sign-in"),
    path("sign-out/", SignOut.as_view(), name="sign-out"),
    path("organization/", switch_organization, name="switch-organization"),
]
