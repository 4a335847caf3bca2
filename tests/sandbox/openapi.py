"""The providers' published OpenAPI specs, for checking the sandbox's answers (tests/contract/openapi.py)."""

import pytest

from tests.contract.openapi import Contract, published


def published_or_skip(type_id) -> Contract:
    contract = published(type_id)
    if contract is None:
        pytest.skip(f"{type_id}'s published spec is not in shared/reference/providers")
    return contract
