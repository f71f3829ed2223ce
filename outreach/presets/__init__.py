"""The country presets this server ships: one JSON document per country beside this module.

`manage.py presets_load` and the migration that seeds a fresh database both read them here.
"""

import json
from pathlib import Path
from typing import Any

SHIPPED_FILES = ("kenya.json", "mexico.json")


def shipped_presets() -> list[dict[str, Any]]:
    """The shipped preset documents, as parsed (not yet checked: see presets.document)."""
    here = Path(__file__).resolve().parent
    return [json.loads((here / name).read_text(encoding="utf-8")) for name in SHIPPED_FILES]
