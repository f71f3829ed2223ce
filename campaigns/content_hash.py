"""Canonical JSON and its sha256: how a library version, a lexicon term or a preset is named
by its content, the same on every server (and what a signed bundle's hashes are checked by).
The hash itself is outreach's (presets live there, and outreach never imports campaigns)."""

from typing import Any

from outreach.content_hash import canonical_json, content_hash

__all__ = ["canonical_json", "content_hash", "term_content", "version_content"]


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
