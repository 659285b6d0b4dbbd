from django.contrib import admin

from apps.core.admin import ReadOnlyAdminMixin
from apps.reports.models import Report


@admin.register(Report)
class ReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: reports are requested through the API and written by their job."""

    list_display = ("__str__", "kind", "requested_by", "status", "progress", "start", "end", "created_at")
    list_select_related = ("requested_by",)
    list_filter = ("kind", "status")
