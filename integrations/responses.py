"""The provider's own words from an error answer, kept short, for messages and record errors.

    raise ConnectorError(f"Gong answered {response.status_code}: {provider_words(response)}")

HTTP API targets and webhooks may point anywhere: their errors quote status and reason only,
never this.
"""

from __future__ import annotations

import httpx

LIMIT = 500
KEYS = ("message", "error_description", "errorMessage", "error")


def provider_words(response: httpx.Response) -> str:
    """The message in an error answer's body (JSON or text), or its status when it has none."""
    try:
        body = response.json()
    except ValueError:
        return (response.text or response.reason_phrase or f"HTTP {response.status_code}")[:LIMIT]
    return words_in(body) or f"HTTP {response.status_code}"


def words_in(body) -> str:
    """The message of a decoded error body: {"message"}, OAuth's error_description, Rails'
    {"errors": {field: [...]}}, Salesforce's [{"errorCode", "message"}] and nestings of these."""
    if isinstance(body, list):
        return "; ".join(filter(None, (words_in(item) for item in body)))[:LIMIT]
    if not isinstance(body, dict):
        return str(body)[:LIMIT]
    errors = body.get("errors")
    if isinstance(errors, dict):
        return "; ".join(
            (message if field == "base" else f"{field} {message}")
            for field, messages in errors.items()
            for message in (messages if isinstance(messages, list) else [messages])
        )[:LIMIT]
    if isinstance(errors, list) and errors:
        return "; ".join(words_in(e) if isinstance(e, dict) else str(e) for e in errors)[:LIMIT]
    code = body.get("errorCode") or body.get("statusCode")
    if isinstance(code, str) and body.get("message"):
        return f"{code}: {body['message']}"[:LIMIT]
    for key in KEYS:
        value = body.get(key)
        if isinstance(value, dict):
            return words_in(value)
        if value:
            return str(value)[:LIMIT]
    return str(body)[:LIMIT]
