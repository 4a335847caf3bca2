"""Secrets at rest: Fernet with the keys from settings, newest first.

Rotation: put a new key in front of ENCRYPTION_KEYS; old values still decrypt,
and `rotate()` re-encrypts a value under the newest key.
"""

import json
from functools import cache

from cryptography.fernet import InvalidToken, MultiFernet, Fernet
from django.conf import settings


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(key.strip().encode()) for key in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.ENCRYPTION_KEYS))


def encrypt_json(value: dict) -> str:
    if not value:
        return ""
    return fernet().encrypt(json.dumps(value).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(fernet().decrypt(token.encode()))
    except InvalidToken:
        raise ValueError("stored secrets cannot be decrypted with the configured keys") from None


def rotate(token: str) -> str:
    return fernet().rotate(token.encode()).decode() if token else token
