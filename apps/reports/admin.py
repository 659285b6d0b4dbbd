from django.contrib import admin

from apps.reports.models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Read-only: reports are requested through the API and written by their job."""

    list_display = ("__str__", "kind", "requested_by", "status", "progress", "start", "end", "created_at")
    list_select_related = ("requested_by",)
    list_filter = ("kind", "status")
    readonly_fields = [field.name for field in Report._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
