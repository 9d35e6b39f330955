"""Routes of the read-only API, mounted at /api/v1/. Every route, the schema and its
documentation page included, is for analysts only (api.IsAnalyst)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from . import api

app_name = "api"

router = DefaultRouter()
router.APIRootView = api.ApiRootView
router.register("grid-cells", api.GridCellViewSet, basename="grid-cell")
router.register("occupations", api.OccupationViewSet, basename="occupation")
router.register("runs", api.RunViewSet, basename="run")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(permission_classes=[api.IsAnalyst]), name="schema"),
    # Swagger UI from the drf-spectacular-sidecar package (SPECTACULAR_SETTINGS): no CDN.
    path(
        "docs/",
        # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[api.IsAnalyst]),
        name="docs",
    ),
    *router.urls,
]
