"""Reports' API routes, included under /api/v1/ by project/api_urls.py (URL names in namespace "v1").

Jobs behind the API: each POST answers 202 and a job does the work (docs/jobs.md).
"""

from django.urls import path, re_path

from apps.core.api import ID_PATTERN
from apps.reports import api

urlpatterns = [
    path("reports/", api.SalesReportsApi.as_view(), name="reports"),
    re_path(rf"^reports/(?P<pk>{ID_PATTERN})/$", api.SalesReportApi.as_view(), name="report"),
    re_path(rf"^reports/(?P<pk>{ID_PATTERN})/download/$", api.SalesReportDownloadApi.as_view(), name="report-download"),
    path("orders/exports/", api.OrdersExportsApi.as_view(), name="orders-exports"),
    re_path(rf"^orders/exports/(?P<pk>{ID_PATTERN})/$", api.OrdersExportApi.as_view(), name="orders-export"),
    re_path(
        rf"^orders/exports/(?P<pk>{ID_PATTERN})/download/$",
        api.OrdersExportDownloadApi.as_view(),
        name="orders-export-download",
    ),
]
