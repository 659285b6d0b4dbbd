"""Reports over HTTP: request one (202, a job makes it), poll its status, download its file.

A request while the caller's same report is still unfinished answers 200 with that one, and
requests are throttled per user (REPORT_REQUEST_THROTTLE_RATE): exports cannot be queued by the
thousand. Downloads are gzipped for a client that accepts it (a CSV shrinks about 5 times).
"""

from __future__ import annotations

from pathlib import PurePosixPath

from django.core.files.storage import default_storage
from django.http import FileResponse
from django.utils.decorators import method_decorator
from django.views.decorators.gzip import gzip_page
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from apps.core.api import validated_input
from apps.core.errors import DomainError
from apps.core.schema import RETRY_AFTER, error_responses
from apps.reports import selectors, services
from apps.reports.models import Report
from apps.reports.serializers import ReportOutputSerializer, SalesReportInputSerializer

CSV_RESPONSE = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="The CSV file")}
QUEUED = OpenApiResponse(ReportOutputSerializer, description="Queued: a job writes the file")
UNFINISHED = OpenApiResponse(
    ReportOutputSerializer, description="The caller's same request, still pending or running; nothing queued"
)


class ReportRequestThrottle(UserRateThrottle):
    """Report and export requests per user; over the rate: 429 with Retry-After."""

    scope = "report_requests"


class SalesReportsApi(APIView):
    summaries = {"post": "Request a sales report (staff)"}
    permission_classes = [IsAdminUser]
    throttle_classes = [ReportRequestThrottle]

    @extend_schema(
        request=SalesReportInputSerializer,
        responses={202: QUEUED, 200: UNFINISHED, **error_responses(400, 401, 403, 429)},
        parameters=[RETRY_AFTER],
    )
    def post(self, request: Request) -> Response:
        data = validated_input(SalesReportInputSerializer, request)
        report, is_new = services.sales_report_request(user=request.user, **data)
        return _requested(report, request, is_new=is_new)


class SalesReportApi(APIView):
    summaries = {"get": "Read the progress of a sales report (staff)"}
    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: ReportOutputSerializer, **error_responses(401, 403, 404)})
    def get(self, request: Request, pk: str) -> Response:
        return Response(_out(selectors.sales_report(report_id=int(pk)), request))


# Compressed as it streams (Django's GZipMiddleware, on these views only): Content-Encoding: gzip,
# Vary: Accept-Encoding, no Content-Length; a client that does not accept gzip gets the file as stored.
@method_decorator(gzip_page, name="dispatch")
class SalesReportDownloadApi(APIView):
    summaries = {"get": "Download a sales report (staff)"}
    permission_classes = [IsAdminUser]

    @extend_schema(responses={**CSV_RESPONSE, **error_responses(401, 403, 404, 409)})
    def get(self, request: Request, pk: str) -> FileResponse:
        return _download(selectors.sales_report(report_id=int(pk)))

    def perform_content_negotiation(self, request: Request, force: bool = False):
        return super().perform_content_negotiation(request, force=True)  # any Accept gets the file


class OrdersExportsApi(APIView):
    summaries = {"post": "Export my orders as CSV"}
    permission_classes = [IsAuthenticated]
    throttle_classes = [ReportRequestThrottle]

    @extend_schema(
        request=None, responses={202: QUEUED, 200: UNFINISHED, **error_responses(401, 429)}, parameters=[RETRY_AFTER]
    )
    def post(self, request: Request) -> Response:
        report, is_new = services.orders_export_request(user=request.user)
        return _requested(report, request, is_new=is_new)


class OrdersExportApi(APIView):
    summaries = {"get": "Read the progress of my export"}
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: ReportOutputSerializer, **error_responses(401, 404)})
    def get(self, request: Request, pk: str) -> Response:
        return Response(_out(selectors.orders_export_for_user(user=request.user, report_id=int(pk)), request))


@method_decorator(gzip_page, name="dispatch")
class OrdersExportDownloadApi(APIView):
    summaries = {"get": "Download my export"}
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={**CSV_RESPONSE, **error_responses(401, 404, 409)})
    def get(self, request: Request, pk: str) -> FileResponse:
        return _download(selectors.orders_export_for_user(user=request.user, report_id=int(pk)))

    def perform_content_negotiation(self, request: Request, force: bool = False):
        return super().perform_content_negotiation(request, force=True)


def _out(report: Report, request: Request) -> dict:
    return ReportOutputSerializer(report, context={"request": request}).data


def _requested(report: Report, request: Request, *, is_new: bool) -> Response:
    return Response(_out(report, request), status=status.HTTP_202_ACCEPTED if is_new else status.HTTP_200_OK)


def _download(report: Report) -> FileResponse:
    if report.status != Report.Status.DONE:
        raise DomainError(code="not_ready", message=f"Report {report.pk} is {report.status}.", status=409)
    # Streamed from storage (on S3 straight from the object's body): the app never holds the whole file.
    file = default_storage.open(report.file, "rb")
    response = FileResponse(
        file, as_attachment=True, filename=PurePosixPath(report.file).name, content_type="text/csv; charset=utf-8"
    )
    if not response.has_header("Content-Length"):  # FileResponse learns it only from a seekable file
        response["Content-Length"] = str(file.size)
    response["Cache-Control"] = "private, no-store"
    return response
