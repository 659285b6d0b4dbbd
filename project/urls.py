from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.users.limits import limit_posts_per_ip
from project.readiness import readyz


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness only: no dependency is checked, so a slow database never restarts the app."""
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("api/v1/", include(("project.api_urls", "api"), namespace="v1")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # The admin's login, limited per client IP like every other way in (axes locks per account).
    path("admin/login/", limit_posts_per_ip(admin.site.login)),
    path("admin/", admin.site.urls),
    path("", include(("project.page_urls", "pages"), namespace="pages")),
]

handler400 = "apps.core.api.handler400"
handler403 = "apps.core.api.handler403"
handler404 = "apps.core.api.handler404"
handler500 = "apps.core.api.handler500"
