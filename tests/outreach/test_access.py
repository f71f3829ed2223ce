"""The README's role table, the API and outreach/access.py say the same thing.

Every operation the README's table lists is resolved to the view that serves it, and the
view's own permission classes are asked, for each role, whether it may: the answer must be
the table's tick or dash. The views name actions of outreach.access, never role sets of their own,
so changing who may do what is one line in access.py, and the table then fails here until
it says so too.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.urls import URLResolver, get_resolver, resolve
from rest_framework.permissions import SAFE_METHODS
from rest_framework.test import APIRequestFactory

from outreach.access import Action
from outreach.api.permissions import HasOrganizationRole
from outreach.errors import NotAllowed
from outreach.models import Role

README = Path(__file__).resolve().parents[2] / "README.md"
ROLES = (Role.ADMIN, Role.MANAGER, Role.REVIEWER, Role.FUNDER)
HEADER = "| endpoint | admin | manager | reviewer | funder |"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
# A POST that only reads: the table's "read" covers it.
READING_POSTS = {"/api/v1/segments/preview/"}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str

    @property
    def reads(self) -> bool:
        return self.method in SAFE_METHODS or self.path in READING_POSTS

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]


def _everything(operation: Operation) -> bool:
    return True


def _nothing(operation: Operation) -> bool:
    return False


def _reads(operation: Operation) -> bool:
    return operation.reads


def _named(*names: str):
    return lambda operation: operation.name in names


# What each cell of the table means; a cell this test does not know fails it.
CELLS = {
    "✓": _everything,
    "\N{EN DASH}": _nothing,
    "read": _reads,
    "masked numbers": _reads,  # what they see is masked; which operations is the question here
    "read, masked": _reads,
    "preview, comment": _named("preview", "comment"),
    "shared campaigns, suppressed": _everything,  # which campaigns is the selectors' concern
}


@dataclass(frozen=True)
class Row:
    endpoints: str
    operations: tuple[Operation, ...]
    cells: dict[str, str]


def readme_rows() -> list[Row]:
    """The API rows of the README's role table, each with the operations its first cell names."""
    lines = README.read_text().splitlines()
    start = lines.index(HEADER) + 2  # past the header and its |---| line
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        endpoints, *cells = (cell.strip() for cell in line.strip("|").split(" | "))
        operations = _operations(endpoints)
        if operations:  # the public short link is no API operation
            rows.append(Row(endpoints, tuple(operations), dict(zip(ROLES, cells, strict=True))))
    return rows


def _operations(endpoints: str) -> list[Operation]:
    """`GET /api/v1/x/` · `POST`, `PATCH` · `/{id}/y/` · `z/` (remarks in brackets left out)."""
    operations: list[Operation] = []
    base_method, base_path = "", ""
    for piece in _without_remarks(endpoints).split(" · "):
        if not piece.strip().startswith("`"):
            continue  # prose ("detail with `uuid` …")
        for token in re.findall(r"`([^`]+)`", piece):
            method, _, target = token.partition(" ") if token[:1].isupper() else ("", "", token)
            if method and method not in METHODS:
                break
            if target.startswith("/api/"):
                path = target
                if method:
                    base_method, base_path = method, target
            elif target.startswith("/"):  # below the row's first path
                path = base_path + target.removeprefix("/")
            elif target:  # beside the previous operation's path
                path = operations[-1].path.rstrip("/").rsplit("/", 1)[0] + "/" + target
            elif method in ("PATCH", "PUT", "DELETE") and "{id}" not in base_path:
                path = base_path + "{id}/"  # a bare PATCH or DELETE is on one object
            else:
                path = base_path
            if not path.startswith("/api/"):
                break
            previous = operations[-1].method if operations and not target.startswith("/") else ""
            operations.append(Operation(method or previous or base_method, path))
    return operations


def _without_remarks(text: str) -> str:
    while (shorter := re.sub(r"\([^()]*\)", "", text)) != text:  # innermost first
        text = shorter
    return text


def may_call(role: str, operation: Operation) -> bool:
    """Whether the view serving `operation` lets a member with `role` through."""
    match = resolve(operation.path.replace("{id}", "1"))
    view_class = match.func.cls
    actions = getattr(match.func, "actions", None)
    view = view_class()
    if actions is not None:
        assert operation.method.lower() in actions, f"no view serves {operation}"
        view.action_map, view.action = actions, actions[operation.method.lower()]
    else:
        assert hasattr(view_class, operation.method.lower()), f"no view serves {operation}"
    http = APIRequestFactory().generic(operation.method, operation.path)
    request = view.initialize_request(http)
    request.user = SimpleNamespace(is_authenticated=True)
    request.membership = SimpleNamespace(role=role)  # as organization_context caches it
    view.request, view.args, view.kwargs = request, (), match.kwargs
    try:
        return all(
            permission.has_permission(request, view) for permission in view.get_permissions()
        )
    except NotAllowed:
        return False


ROWS = readme_rows()


def test_the_readme_table_lists_the_api_and_this_test_reads_every_row():
    assert len(ROWS) >= 25
    operations = [operation for row in ROWS for operation in row.operations]
    assert Operation("POST", "/api/v1/waves/{id}/cancel/") in operations
    assert Operation("DELETE", "/api/v1/regions/{id}/") in operations
    assert Operation("GET", "/api/v1/reports/campaigns/{id}/pdf/") in operations
    assert Operation("POST", "/api/v1/segments/preview/") in operations
    assert Operation("GET", "/api/v1/segments/{id}/breakdown/") in operations
    assert Operation("POST", "/api/v1/waves/{id}/test-send/") in operations


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.operations[0].path)
def test_each_role_may_call_exactly_what_the_readme_table_says(row):
    wrong = []
    for role, cell in row.cells.items():
        assert cell in CELLS, f"the table says {cell!r} for {role}: teach CELLS what it means"
        for operation in row.operations:
            expected = CELLS[cell](operation)
            if may_call(role, operation) != expected:
                wrong.append(f"{role} {'may not' if expected else 'may'} {operation}")
    assert not wrong, f"{row.endpoints}: the API differs from the README: {wrong}"


def api_view_classes() -> set[type]:
    classes: set[type] = set()

    def walk(patterns: list, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif prefix.startswith("api/v1/") and hasattr(pattern.callback, "cls"):
                classes.add(pattern.callback.cls)

    walk(get_resolver().url_patterns, "")
    return classes


def test_every_api_view_names_its_actions_from_outreach_access():
    guarded = [
        view
        for view in api_view_classes()
        if any(issubclass(kind, HasOrganizationRole) for kind in view.permission_classes)
    ]

    assert len(guarded) >= 15
    for view in guarded:
        name = view.__name__
        for old in ("read_roles", "write_roles", "roles_by_action"):
            assert not hasattr(view, old), f"{name} declares {old}: name an Action instead"
        assert isinstance(view.read_action, Action), f"{name}: read_action"
        assert view.write_action is None or isinstance(view.write_action, Action), name
        for action in getattr(view, "actions_by_action", {}).values():
            assert isinstance(action, Action), f"{name}: {action!r} is not an Action"


def test_the_table_parser_knows_sibling_and_bare_operations():
    assert _operations("`POST /api/v1/waves/{id}/submit/` · `schedule/` · `pause/`") == [
        Operation("POST", "/api/v1/waves/{id}/submit/"),
        Operation("POST", "/api/v1/waves/{id}/schedule/"),
        Operation("POST", "/api/v1/waves/{id}/pause/"),
    ]
    assert _operations("`GET /api/v1/keywords/` · `POST`, `PATCH` (own)") == [
        Operation("GET", "/api/v1/keywords/"),
        Operation("POST", "/api/v1/keywords/"),
        Operation("PATCH", "/api/v1/keywords/{id}/"),
    ]
    assert _operations("`GET /l/{code}` (a tracked short link)") == []
