"""Canonical JSON and its sha256: how a shared document (a library version, a lexicon term, a
country preset) is named by its content, the same on every server.

It lives in outreach because presets do and outreach never imports campaigns; campaigns'
own content_hash module builds on it."""

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
