from csp.decorators import csp_update
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.users.limits import limit_posts_per_ip
from project.ops.doctor.views import DoctorView
from project.ops.metrics import metrics_view
from project.ops.readiness import readyz


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness only: no dependency is checked, so a slow database never restarts the app."""
    return JsonResponse({"status": "ok"})


# Swagger UI under the site's CSP: its init script comes from ?script (the split view), its page
# style from a static file, and only this view allows data: images, which its stylesheet's icons are.
api_docs = csp_update({"img-src": ["data:"]})(
    SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="api_docs/swagger_ui.html")
)


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # The scaling doctor's verdict, for staff (docs/doctor.md).
    path("ops/doctor.json", DoctorView.as_view(), name="ops-doctor"),
    # Prometheus exposition: a 404 unless METRICS_TOKEN or METRICS_ALLOWED_NETWORKS is set (docs/observability.md).
    path("metrics", metrics_view, name="metrics"),
    # The ops page, for staff: current values, the last hour, the doctor's verdict (docs/observability.md).
    path("ops/", include("project.ops.urls")),
    path("api/v1/", include(("project.api_urls", "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", api_docs, name="swagger-ui"),
    # The admin's login, limited per client IP like every other way in (axes locks per account).
    path("admin/login/", limit_posts_per_ip(admin.site.login)),
    path("admin/", admin.site.urls),
    path("", include(("project.page_urls", "pages"), namespace="pages")),
]

handler400 = "apps.core.api.handler400"
handler403 = "apps.core.api.handler403"
handler404 = "apps.core.api.handler404"
handler500 = "apps.core.api.handler500"
