"""The Polytomic-compatible REST API: one NinjaAPI, routers from each app."""

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

from console.access.api import router as access_router
from console.accounts.api import router as identity_router
from console.accounts.organizations_api import router as organizations_router
from console.accounts.record_logging_api import router as record_logging_router
from console.audit.api import router as audit_router
from console.bulk.api import router as bulk_router
from console.connections.connect_api import router as connect_router
from console.connections.api import router as connections_router
from console.connections.sharing_api import router as sharing_router
from console.connections.probes import ProbesBusy
from console.datamodels.api import router as models_router
from console.engine.api import router as engine_router
from console.proxy.api import router as proxy_router
from console.queries.api import router as queries_router
from console.schemas.api import router as schemas_router
from console.syncs.api import router as syncs_router
from console.system.api import router as system_router
from console.targets.api import router as targets_router

from .auth import ApiKeyAuth
from .errors import ApiError, api_error_response, error_response
from .middleware import CURRENT_VERSION

api = NinjaAPI(
    title="Data-sync console API",
    version=CURRENT_VERSION,
    description="Wire-compatible with the Polytomic REST API.",
    auth=ApiKeyAuth(),
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url="/docs",
)

api.add_router("", identity_router)
api.add_router("", organizations_router)
api.add_router("", record_logging_router)
api.add_router("", system_router)
api.add_router("", connect_router)
api.add_router("", connections_router)
api.add_router("", sharing_router)
api.add_router("", models_router)
api.add_router("", syncs_router)
api.add_router("", targets_router)
api.add_router("", engine_router)
api.add_router("", bulk_router)
api.add_router("", audit_router)
api.add_router("", access_router)
api.add_router("", schemas_router)
api.add_router("", queries_router)
api.add_router("", proxy_router)


@api.exception_handler(ApiError)
def on_api_error(request, exc):
    return api_error_response(exc)


@api.exception_handler(ProbesBusy)
def on_probes_busy(request, exc):
    response = error_response(429, str(exc), key=exc.key)
    response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    has_header = bool(request.headers.get("Authorization"))
    message = "Invalid or revoked API key." if has_header else "Missing API key."
    return error_response(401, message, key="unauthorized")


@api.exception_handler(AuthorizationError)
@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return error_response(403, str(exc) or "Forbidden.", key="forbidden")


@api.exception_handler(Http404)
@api.exception_handler(ObjectDoesNotExist)
def on_not_found(request, exc):
    return error_response(404, "Not found.", key="not_found")


@api.exception_handler(HttpError)
def on_http_error(request, exc):
    return error_response(exc.status_code, str(exc))


@api.exception_handler(ValidationError)
def on_validation_error(request, exc):
    errors = [
        {"field": field_path(error.get("loc", ())), "message": error.get("msg", "is invalid")}
        for error in exc.errors
    ]
    first = errors[0] if errors else {"field": "", "message": "is invalid"}
    return error_response(
        400,
        f"{first['field']}: {first['message']}" if first["field"] else first["message"],
        key="validation_error",
        metadata={"errors": errors},
    )


def field_path(loc) -> str:
    """('body', 'payload', 'configuration', 'account') -> 'configuration.account'."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
        if parts and parts[0] in ("payload", "body", "filters"):
            parts = parts[1:]
    return ".".join(parts)
