"""Canonical JSON and its sha256: how a library version, a lexicon term or a preset is named
by its content, the same on every server (and what a signed bundle's hashes are checked by)."""

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """One byte string per value: keys sorted, no spaces, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def content_hash(value: Any) -> str:
    """The sha256 of the value's canonical JSON, in hex."""
    return hashlib.sha256(canonical_json(value)).hexdigest()


def version_content(
    *, template_uid: str, number: int, changelog: str, translations: dict[str, str]
) -> dict[str, Any]:
    """What a template version's hash covers: its template, number, changelog and texts."""
    return {
        "template": str(template_uid),
        "number": number,
        "changelog": changelog,
        "translations": dict(sorted(translations.items())),
    }


def term_content(
    *, country: str, language: str, term: str, note: str, alternatives: list[str]
) -> dict[str, Any]:
    """What a lexicon term's hash covers."""
    return {
        "country": country,
        "language": language,
        "term": term,
        "note": note,
        "alternatives": list(alternatives),
    }
