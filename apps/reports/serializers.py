from django.urls import reverse
from rest_framework import serializers

from apps.reports.models import Report


class SalesReportInputSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class ReportOutputSerializer(serializers.ModelSerializer):
    """``download_url`` is set once the file is ready; ``progress`` is in percent."""

    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = [
            "id",
            "kind",
            "status",
            "progress",
            "start",
            "end",
            "rows",
            "created_at",
            "finished_at",
            "download_url",
        ]

    def get_download_url(self, report: Report) -> str | None:
        if report.status != Report.Status.DONE:
            return None
        name = "v1:report-download" if report.kind == Report.Kind.SALES else "v1:orders-export-download"
        return self.context["request"].build_absolute_uri(reverse(name, kwargs={"pk": report.pk}))
