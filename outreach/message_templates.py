"""Provider message templates (WhatsApp): what the person reads once the variables are in."""

import re
from collections.abc import Sequence

from outreach.models import MessageTemplate

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


def template_text(template: MessageTemplate, variables: Sequence[object]) -> str:
    """The template's body with {{1}}, {{2}}… replaced by `variables` (a missing one stays)."""

    def fill(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return str(variables[index]) if 0 <= index < len(variables) else match.group(0)

    return _PLACEHOLDER.sub(fill, template.body)
