"""Reads of reports: staff see every sales report, a user only their own orders exports."""

from __future__ import annotations

from apps.reports.models import Report
from apps.users.models import User


def sales_report(*, report_id: int) -> Report:
    """Raises Report.DoesNotExist (a 404) for an unknown id."""
    return Report.objects.get(pk=report_id, kind=Report.Kind.SALES)


def orders_export_for_user(*, user: User, report_id: int) -> Report:
    """Raises Report.DoesNotExist (a 404) for an unknown id or another user's export alike."""
    return Report.objects.get(pk=report_id, kind=Report.Kind.ORDERS, requested_by=user)
