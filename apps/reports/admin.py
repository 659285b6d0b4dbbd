from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from apps.core.admin import ReadOnlyAdminMixin
from apps.core.errors import DomainError
from apps.core.forms import form_add_domain_error
from apps.reports import services
from apps.reports.models import Report


class SalesReportForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), help_text="The first day, included.")
    end = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day, included; a day after today means today.",
    )


@admin.register(Report)
class ReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Sales reports are requested on the "Request a sales report" page (or through the API) and
    written by their job; a report's page shows its progress, live, then its download link."""

    list_display = ("__str__", "kind", "requested_by", "status", "progress", "start", "end", "created_at", "download")
    list_select_related = ("requested_by",)
    list_filter = ("kind", "status")
    fields = ("kind", "requested_by", "start", "end", "job_progress", "rows", "created_at", "finished_at")
    readonly_fields = ("job_progress",)

    class Media:
        js = ("js/job-progress.js",)

    @admin.display(description="File")
    def download(self, report: Report) -> str:
        url = _download_url(report)
        return format_html('<a href="{}">Download</a>', url) if url else "-"

    @admin.display(description="Progress")
    def job_progress(self, report: Report) -> str:
        # A user's orders export is theirs to poll and download (the API answers 404 to anyone else).
        if report.kind != Report.Kind.SALES:
            return f"{report.get_status_display()}, {report.progress}%"
        return render_to_string(
            "pages/_job_progress.html",
            {
                "job": report,
                "status_url": reverse("v1:report", kwargs={"pk": report.pk}),
                "download_url": _download_url(report),
                "label": f"Progress of report {report.pk}",
            },
        )

    def get_urls(self) -> list[URLPattern]:
        request_sales = path(
            "request-sales/", self.admin_site.admin_view(self.request_sales_view), name="reports_report_request_sales"
        )
        return [request_sales, *super().get_urls()]

    def request_sales_view(self, request: HttpRequest) -> HttpResponse:
        form = SalesReportForm(request.POST or None)
        if form.is_valid():
            try:
                report, is_new = services.sales_report_request(user=request.user, **form.cleaned_data)  # type: ignore[arg-type]
            except DomainError as error:
                form_add_domain_error(form=form, error=error)
            else:
                if is_new:
                    self.message_user(request, f"{report} is queued.", messages.SUCCESS)
                else:
                    self.message_user(request, f"The same report is still being written: {report}.", messages.WARNING)
                return redirect(reverse("admin:reports_report_change", args=[report.pk]))
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "title": "Request a sales report",
            "opts": self.opts,
            "form": form,
        }
        return TemplateResponse(request, "admin/reports/report/request_sales.html", context)


def _download_url(report: Report) -> str | None:
    if report.kind != Report.Kind.SALES or report.status != Report.Status.DONE:
        return None
    return reverse("v1:report-download", kwargs={"pk": report.pk})
