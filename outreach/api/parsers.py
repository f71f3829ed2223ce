"""The API's JSON parser: DRF's, refusing nesting deeper than any of our inputs needs.

Python's JSON parser recurses once per level, so a small body of brackets (`[[[[…]]]]`) is a
RecursionError, and a body just shallow enough to parse still trips whatever walks it next.
"""

from collections.abc import Mapping
from typing import IO, Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_JSON_DEPTH = 32  # our deepest input (a wave's variants, a segment's filters) nests 3 levels
_TOO_DEEP = f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels."


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser; nesting deeper than MAX_JSON_DEPTH is a ParseError (400), not a 500."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(_TOO_DEEP) from error
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise ParseError(_TOO_DEEP)
        return data


def _depth_exceeds(data: Any, limit: int) -> bool:
    # Iterative, so that checking a deep value cannot itself recurse too deep.
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
