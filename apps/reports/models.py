"""Files made by jobs on request: staff sales reports and each user's orders export."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.core.models import JobStatus


class Report(models.Model):
    """One requested file: its job's status and progress (the status store of the API), then the file."""

    class Kind(models.TextChoices):
        SALES = "sales", "Sales by day and product (staff)"
        ORDERS = "orders", "A user's orders"

    Status = JobStatus

    kind = models.CharField(max_length=16, choices=Kind.choices)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reports")
    start = models.DateField(null=True, blank=True)
    end = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(default=0)
    # The name in default_storage (MEDIA_ROOT, or the MEDIA_S3_BUCKET bucket); served only by the download view.
    file = models.CharField(max_length=255, blank=True)
    rows = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(progress__lte=100), name="reports_report_progress_lte_100"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} report {self.pk}"
