"""Secrets at rest (a channel's auth token): Fernet, with key rotation.

Keys come from FIELD_ENCRYPTION_KEYS (comma-separated Fernet keys, newest first);
without it one key is derived from DJANGO_SECRET_KEY, so rotating that secret
means re-entering channel tokens.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as error:
        raise ValueError("A stored secret cannot be decrypted with the configured keys.") from error


class EncryptedTextField(models.TextField):
    """A text column stored encrypted; Python code only ever sees the plaintext."""

    def from_db_value(
        self, value: str | None, expression: object, connection: object
    ) -> str | None:
        return decrypt(value) if value else value

    def get_prep_value(self, value: object) -> str | None:
        value = super().get_prep_value(value)
        return encrypt(value) if value else value


@cache
def _fernet() -> MultiFernet:
    keys = [key for key in settings.FIELD_ENCRYPTION_KEYS if key]
    if not keys:
        digest = hashlib.sha256(f"amani-field-encryption:{settings.SECRET_KEY}".encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])
