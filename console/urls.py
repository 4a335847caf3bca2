from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path

from console.api.api import api
from console.system.views import status_page

urlpatterns = [
    path("api/", api.urls),
    # The console serves its own few static files; no separate web server needed.
    re_path(r"^static/(?P<path>.*)$", serve_static, {"insecure": True}),
    path("status", status_page, name="status"),
    path("connections/<uuid:connection_id>/schemas", include("console.schemas.urls")),
    path("connections/<uuid:connection_id>/proxy", include("console.proxy.urls")),
    path("connections", include("console.connections.urls")),
    path("connect", include("console.connections.connect_urls")),
    path("models", include("console.datamodels.urls")),
    path("", include("console.engine.urls")),
    path("syncs", include("console.syncs.urls")),
    path("bulk", include("console.bulk.urls")),
    path("queries", include("console.queries.urls")),
    path("audit", include("console.audit.urls")),
    path("", include("console.access.urls")),
    path("", include("console.accounts.urls")),
]
