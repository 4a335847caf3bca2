"""Conventions every /api/ request shares: version header, JSON bodies,
idempotency keys and the error shape, whatever view answers."""

import hashlib
import json
import logging
import re
from datetime import timedelta

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, OperationalError, transaction
from django.http import HttpResponse
from django.utils import timezone

from console.crypto import fernet
from console.throttle import wait_seconds

from .errors import error_response
from .inputs import text_refusal, too_deep, url_refusal
from .models import IdempotencyRecord

logger = logging.getLogger(__name__)

VERSIONS = ("2025-09-18", "2024-02-08", "2023-04-25", "2022-12-12", "2021-05-23")
CURRENT_VERSION = VERSIONS[0]
VERSION_HEADER = "X-Polytomic-Version"
MUTATING = ("POST", "PUT", "PATCH", "DELETE")
IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{8,255}$")
IDEMPOTENCY_RETENTION = timedelta(hours=24)
IN_FLIGHT_TIMEOUT = timedelta(minutes=5)


class ApiConventionsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/"):
            return self.get_response(request)
        version = request.headers.get(VERSION_HEADER, CURRENT_VERSION).strip()
        if version not in VERSIONS:
            response = error_response(
                400,
                f"Unsupported {VERSION_HEADER} '{version}'. Supported: {', '.join(VERSIONS)}.",
                key="unsupported_version",
                metadata={"supported_versions": list(VERSIONS)},
            )
            response[VERSION_HEADER] = CURRENT_VERSION
            return response
        request.api_version = version
        wait = over_budget(request)
        if wait:
            response = error_response(
                429, f"Too many requests. Retry in {wait:.0f} seconds.", key="rate_limited"
            )
            response["Retry-After"] = str(max(1, round(wait)))
        else:
            response = self.handle(request)
        response[VERSION_HEADER] = version
        return as_api_error(response)

    def handle(self, request):
        invalid = url_refusal(request) or invalid_json_response(request)
        if invalid:
            return invalid
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method not in MUTATING:
            return self.get_response(request)
        return self.idempotent(request, key)

    def idempotent(self, request, key):
        if not IDEMPOTENCY_KEY.match(key):
            return error_response(
                400,
                "Idempotency-Key must be 8 to 255 characters of letters, digits, '-' or '_'.",
                key="invalid_idempotency_key",
            )
        scope = sha256(request.headers.get("Authorization", ""))
        fingerprint = sha256(f"{request.method} {request.get_full_path()}\n", request.body)
        IdempotencyRecord.objects.filter(
            created_at__lt=timezone.now() - IDEMPOTENCY_RETENTION
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            return self.replay(scope, key, fingerprint)
        try:
            response = as_api_error(self.get_response(request))
        except Exception:
            record.delete()
            raise
        if getattr(response, "streaming", False) or "Retry-After" in response:
            record.delete()  # an answer that asks to be sent again (429, a busy database) is not kept
            return response
        record.status_code = response.status_code
        record.content_type = response.get("Content-Type", "")
        record.body = fernet().encrypt(response.content)  # an answer may hold a key shown once
        record.save(update_fields=["status_code", "content_type", "body"])
        return response

    def replay(self, scope, key, fingerprint):
        record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if record is None:
            return error_response(409, "A request with this Idempotency-Key is in progress.")
        if record.status_code is None:
            if record.created_at < timezone.now() - IN_FLIGHT_TIMEOUT:
                record.delete()
            return error_response(
                409,
                "A request with this Idempotency-Key is in progress.",
                key="idempotency_key_in_use",
            )
        if record.fingerprint != fingerprint:
            return error_response(
                422,
                "This Idempotency-Key was already used with a different request.",
                key="idempotency_key_reused",
            )
        try:
            body = fernet().decrypt(bytes(record.body))
        except InvalidToken:
            return error_response(409, "The kept outcome of this Idempotency-Key can no longer be read (the "
                                       "encryption keys changed); send the request with a new key.",
                                  key="idempotency_key_unreadable")
        response = HttpResponse(body, status=record.status_code, content_type=record.content_type)
        response["Idempotent-Replayed"] = "true"
        return response

    def process_exception(self, request, exception):
        if request.path.startswith("/api/") and database_busy(exception):
            response = error_response(409, "The database is busy with other writes; send the request again.",
                                      key="database_busy")
            response["Retry-After"] = "1"
            return response
        if request.path.startswith("/api/"):
            logger.exception("Unhandled error in %s %s", request.method, request.path)
            return error_response(500, "Internal server error.")
        return None


def database_busy(exception) -> bool:
    """SQLite's answer when another writer held the database for longer than its timeout."""
    return isinstance(exception, OperationalError) and "database is locked" in str(exception)


def over_budget(request) -> float:
    caller = request.headers.get("Authorization") or request.META.get("REMOTE_ADDR", "")
    return wait_seconds(f"api:{caller}", settings.API_RATE_LIMIT_PER_MINUTE, 60)


def sha256(*parts) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part if isinstance(part, bytes) else part.encode())
    return digest.hexdigest()


def invalid_json_response(request):
    if request.method not in ("POST", "PUT", "PATCH"):
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return error_response(413, "Request body is larger than this API accepts.", key="request_too_large")
    if not body.strip():
        return None
    if "json" not in request.content_type and request.content_type not in ("", "text/plain"):
        return None
    try:
        refusal = too_deep(body.decode("utf-8"))
        if refusal:
            return refusal
        document = json.loads(body)
    except UnicodeDecodeError:
        return error_response(400, "Request body is not valid UTF-8.", key="invalid_json")
    except json.JSONDecodeError as error:
        return error_response(
            400,
            f"Request body is not valid JSON: {error.msg} at line {error.lineno} "
            f"column {error.colno}.",
            key="invalid_json",
            metadata={"line": error.lineno, "column": error.colno, "position": error.pos},
        )
    return text_refusal(document)


def as_api_error(response):
    """Django's own 404/405/500 pages become the API's JSON error shape."""
    if response.status_code < 400 or "json" in response.get("Content-Type", ""):
        return response
    messages = {404: "Not found.", 405: "Method not allowed.", 500: "Internal server error."}
    status = response.status_code
    replaced = error_response(status, messages.get(status, response.reason_phrase))
    for header in ("Allow", "Retry-After"):
        if header in response:
            replaced[header] = response[header]
    return replaced
