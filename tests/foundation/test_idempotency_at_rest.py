"""A kept outcome of an Idempotency-Key is encrypted (an answer may hold a key shown once);
one that cannot be decrypted any more is a 409 asking for a new key, never a 500 or a replay of garbage."""

import json

from cryptography.fernet import Fernet

from console.api.models import IdempotencyRecord
from tests.foundation.test_api_conventions import counter, post_with_key  # noqa: F401  (fixture)


def test_the_kept_outcome_is_encrypted_and_an_unreadable_one_is_a_409(api, counter, settings):  # noqa: F811
    first = post_with_key(api, "key-0001-rest", {"n": 1})
    kept = bytes(IdempotencyRecord.objects.get(key="key-0001-rest").body)
    assert kept and first.content not in kept and b'"n"' not in kept

    settings.ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the keys that wrote it are gone
    again = post_with_key(api, "key-0001-rest", {"n": 1})
    assert again.status_code == 409
    assert json.loads(again.content)["key"] == "idempotency_key_unreadable"
    assert len(counter) == 1
