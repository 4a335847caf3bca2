from django.http import JsonResponse


class ApiError(Exception):
    """An error answered as Polytomic does: {"status", "message", "key", "metadata"}."""

    def __init__(self, status: int, message: str, key: str = "", metadata: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.key = key or default_key(status)
        self.metadata = metadata or {}


def default_key(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        422: "unprocessable",
        429: "rate_limited",
    }.get(status, "internal_error" if status >= 500 else "error")


def field_error(field: str, message: str, status: int = 400) -> ApiError:
    """A validation error that names the offending field."""
    return ApiError(
        status,
        f"{field}: {message}",
        key="validation_error",
        metadata={"errors": [{"field": field, "message": message}]},
    )


def error_response(status, message, key="", metadata=None) -> JsonResponse:
    body = {
        "status": status,
        "message": message,
        "key": key or default_key(status),
        "metadata": metadata or {},
    }
    return JsonResponse(body, status=status)


def api_error_response(error: ApiError) -> JsonResponse:
    return error_response(error.status, error.message, error.key, error.metadata)
