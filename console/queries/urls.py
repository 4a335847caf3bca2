from django.urls import path

from . import views

app_name = "queries"

# Included at "queries" without a slash: "" is /queries.
urlpatterns = [
    path("", views.query_page, name="page"),
    path("/<uuid:query_id>", views.query_detail, name="detail"),
    path("/<uuid:query_id>/result", views.query_result, name="result"),
    path("/<uuid:query_id>/cancel", views.query_cancel, name="cancel"),
]
