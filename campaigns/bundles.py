"""Signed bundles: how one Amani server hands a network's vetted material to another, offline.

A bundle is one JSON document::

    {"format": "amani.bundle", "version": 1, "exported_at": "2027-07-01T09:00:00+00:00",
     "server": {"name", "key_id", "public_key"}, "network": {"slug", "name"},
     "templates": [...], "lexicon": [...], "presets": [...],
     "signature": {"alg": "Ed25519", "key_id", "value"}}

The signature is Ed25519 over the canonical JSON (`campaigns.content_hash.canonical_json`) of
everything but `signature`. Each template version, lexicon term and preset carries the hash of
its own content, which the importer recomputes. This server's key comes from
`AMANI_BUNDLE_SIGNING_KEY` (base64 of a 32-byte seed) or, when unset, from the secret key
(HKDF), so the demo needs nothing. A key is known by its key id: the first 16 hex digits of the
sha256 of its raw public key. Nothing here touches the database.
"""

import base64
import binascii
import hashlib
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from campaigns.content_hash import canonical_json, content_hash
from outreach.errors import InvalidInput

FORMAT = "amani.bundle"
VERSION = 1
ALGORITHM = "Ed25519"
MAX_BUNDLE_BYTES = 20 * 1024 * 1024
_SECTIONS = ("templates", "lexicon", "presets")


def signing_key() -> Ed25519PrivateKey:
    """This server's private key: from AMANI_BUNDLE_SIGNING_KEY, else derived from SECRET_KEY."""
    configured = settings.AMANI_BUNDLE_SIGNING_KEY
    if configured:
        try:
            seed = _decode_key(configured, "AMANI_BUNDLE_SIGNING_KEY")
        except InvalidInput as error:
            raise ImproperlyConfigured(f"AMANI_BUNDLE_SIGNING_KEY: {error.message}") from error
    else:
        seed = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"amani bundle signing key"
        ).derive(settings.SECRET_KEY.encode())
    return Ed25519PrivateKey.from_private_bytes(seed)


def server_identity() -> dict[str, str]:
    """This server as a bundle names it: its name, key id and public key (base64)."""
    public = public_key_text(signing_key().public_key())
    return {"name": settings.AMANI_SERVER_NAME, "key_id": key_id(public), "public_key": public}


def public_key_text(key: Ed25519PublicKey) -> str:
    """A public key as base64 of its 32 raw bytes, the form servers hand each other."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def key_id(public_key: str) -> str:
    """A public key's short fingerprint: 16 hex digits of the sha256 of its raw bytes."""
    return hashlib.sha256(_decode_key(public_key, "public_key")).hexdigest()[:16]


def checked_public_key(value: Any) -> str:
    """A public key given by a person, checked to be 32 bytes of base64; InvalidInput if not."""
    text = str(value or "").strip()
    _decode_key(text, "public_key")
    return text


def sign(document: dict[str, Any], key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    """The document with its signature (over all of it but any old signature)."""
    key = key or signing_key()
    body = {name: value for name, value in document.items() if name != "signature"}
    public = public_key_text(key.public_key())
    value = base64.b64encode(key.sign(canonical_json(body))).decode()
    return {**body, "signature": {"alg": ALGORITHM, "key_id": key_id(public), "value": value}}


def verify(document: dict[str, Any], public_key: str) -> None:
    """Check the document's signature against a trusted public key; InvalidInput if it fails."""
    signature = document["signature"]
    if signature.get("alg") != ALGORITHM:
        raise InvalidInput(f"Only {ALGORITHM} signatures are accepted.", field="signature.alg")
    if signature.get("key_id") != key_id(public_key):
        raise InvalidInput(
            "The bundle is signed with another key than its server's.", field="signature.key_id"
        )
    try:
        value = base64.b64decode(str(signature.get("value") or ""), validate=True)
        Ed25519PublicKey.from_public_bytes(_decode_key(public_key, "public_key")).verify(
            value, canonical_json({k: v for k, v in document.items() if k != "signature"})
        )
    except (InvalidSignature, binascii.Error, ValueError) as error:
        raise InvalidInput(
            "The signature does not match the bundle: it was changed after it was signed.",
            field="signature",
        ) from error


def parse(raw: bytes | str) -> dict[str, Any]:
    """A bundle's JSON text as a checked document (shape only, not yet its signature)."""
    if len(raw) > MAX_BUNDLE_BYTES:
        raise InvalidInput("The bundle is larger than 20 MB.", field="bundle")
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidInput(f"The bundle is not JSON: {error}.", field="bundle") from error
    return checked_shape(document)


def checked_shape(document: Any) -> dict[str, Any]:
    """The document if it has a bundle's shape; InvalidInput naming the first field that is off."""
    if not isinstance(document, dict):
        raise InvalidInput("A bundle is a JSON object.", field="bundle")
    if document.get("format") != FORMAT:
        raise InvalidInput(f'Not an Amani bundle: "format" must be "{FORMAT}".', field="format")
    if document.get("version") != VERSION:
        raise InvalidInput(
            f"This server reads bundles of version {VERSION}; this one says "
            f"{document.get('version')!r}.",
            field="version",
        )
    _text(document, "exported_at", "exported_at")
    for part, keys in (
        ("server", ("name", "key_id", "public_key")),
        ("network", ("slug", "name")),
        ("signature", ("alg", "key_id", "value")),
    ):
        if not isinstance(document.get(part), dict):
            raise InvalidInput(f"The bundle has no {part}.", field=part)
        for key in keys:
            _text(document[part], key, f"{part}.{key}")
    for section in _SECTIONS:
        items = document.get(section)
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise InvalidInput(f"{section} is a list of objects.", field=section)
    return document


def bundle_hash(document: dict[str, Any]) -> str:
    """The hash of the whole bundle, signature included: how an import names its source."""
    return content_hash(document)


def _text(part: dict[str, Any], key: str, field: str) -> str:
    value = part.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput("Missing, or not text.", field=field)
    return value


def _decode_key(text: str, field: str) -> bytes:
    try:
        raw = base64.b64decode(str(text).strip(), validate=True)
    except (binascii.Error, ValueError) as error:
        raise InvalidInput("An Ed25519 key is 32 bytes in base64.", field=field) from error
    if len(raw) != 32:
        raise InvalidInput("An Ed25519 key is 32 bytes in base64.", field=field)
    return raw
