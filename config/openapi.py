"""How the OpenAPI document reads: every error answer in the one error shape, operations by area.

`AutoSchema` (DRF's DEFAULT_SCHEMA_CLASS) adds the 4xx answers a view can give to each of its
operations; `group_by_area` (a drf-spectacular postprocessing hook) tags each operation with
the area of its resource and lists the areas, with what they hold, in the document.
"""

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework.permissions import IsAuthenticated

from outreach.api.errors import ErrorSerializer
from outreach.api.permissions import HasOrganizationRole

# Area name -> (what it holds, the resources under /api/v1/ in it).
AREAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "Organization": (
        "Who you are, your organization's settings, and its members and their roles.",
        ("me", "organization", "members"),
    ),
    "Channels": (
        "The accounts messages go out on (a Twilio number, the console) and the organization's "
        "own keywords on top of the built-in ones.",
        ("channels", "keywords"),
    ),
    "Subscribers": (
        "The young people who joined: find, filter, look up by number (in a body), edit, erase, "
        "their consent history, and paper sign-ups imported from a CSV.",
        ("subscribers",),
    ),
    "Audiences": (
        "Who a wave reaches: saved segments with their live counts, and the organization's "
        "regions they and onboarding use.",
        ("segments", "regions"),
    ),
    "Campaigns and waves": (
        "Campaigns around an election, the country presets they start from, and their waves: "
        "compose in several languages, review (two people), schedule, pause, resume, cancel.",
        ("campaigns", "waves", "presets"),
    ),
    "Networks and library": (
        "Networks of organizations that share vetted templates and lexicons, and the signed "
        "bundles that carry them between servers.",
        ("networks", "library"),
    ),
    "Reports": (
        "Aggregate figures only: campaign reports (funders see shared campaigns, small cells "
        "suppressed) and staff's safeguarding counts.",
        ("reports", "safeguarding"),
    ),
}

ERROR_ANSWERS = {
    "400": "Invalid input, named in `error.fields`; or a member of several organizations "
    "named none in `X-Organization`.",
    "401": "No credentials, or a token that is not ours (`not_authenticated`, "
    "`authentication_failed`).",
    "403": "Your role may not do this (`permission_denied`); funders reach reports only.",
    "404": "No such object here: it does not exist, or it is another organization's "
    "(`not_found`); or no organization of yours has the `X-Organization` slug.",
    "429": "Too many requests (`throttled`); try again later.",
}

_AREA_OF_RESOURCE = {
    resource: area for area, (_, resources) in AREAS.items() for resource in resources
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's schema, plus the error answers each operation can give."""

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self._error_codes():
            error = OpenApiResponse(response=ErrorSerializer, description=ERROR_ANSWERS[code])
            responses.setdefault(
                code, self._get_response_for_code(error, code, ["application/json"], direction)
            )
        return responses

    def _error_codes(self) -> list[str]:
        permissions = [p for p in self.view.permission_classes if isinstance(p, type)]
        codes = []
        if any(issubclass(p, (HasOrganizationRole, IsAuthenticated)) for p in permissions):
            codes.append("401")
        if any(issubclass(p, HasOrganizationRole) for p in permissions):
            codes += ["400", "403", "404"]  # the organization is resolved, then the role checked
        if self.view.throttle_classes:
            codes.append("429")
        return sorted(codes)


def group_by_area(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """Postprocessing hook: tag each operation with its area, and describe the areas."""
    for path, operations in result["paths"].items():
        resource = path.removeprefix("/api/v1/").split("/")[0]
        for operation in operations.values():
            operation["tags"] = [_AREA_OF_RESOURCE.get(resource, resource)]
    result["tags"] = [
        {"name": area, "description": description} for area, (description, _) in AREAS.items()
    ]
    return result
