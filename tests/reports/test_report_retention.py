"""Retention: finished reports and exports older than MEDIA_RETENTION_DAYS are deleted, rows and
files, by a daily job; recent and unfinished ones stay (on S3: tests/reports/test_reports_on_s3.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from apps.core.services import rows_with_files_delete
from apps.reports import actors, services
from apps.reports.models import Report
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _export(*, days_old: int, status: str = Report.Status.DONE) -> Report:
    """An export made as a request and its job make one, then aged ``days_old`` days."""
    report, _ = services.orders_export_request(user=UserFactory())
    if status == Report.Status.DONE:
        services.report_generate(report_id=report.pk)
    else:
        Report.objects.filter(pk=report.pk).update(status=status)
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - timedelta(days=days_old))
    return Report.objects.filter(pk=report.pk).first()


def test_finished_exports_older_than_the_cutoff_go_with_their_files_and_the_rest_stay():
    old_done, old_failed, recent = _export(days_old=40), _export(days_old=40, status="failed"), _export(days_old=2)
    old_unfinished = [_export(days_old=40, status=status) for status in ("pending", "running")]

    deleted = services.reports_expire(older_than=timezone.now() - timedelta(days=30))

    assert deleted == 2
    assert set(Report.objects.values_list("pk", flat=True)) == {recent.pk, *(report.pk for report in old_unfinished)}
    assert not default_storage.exists(old_done.file)
    assert default_storage.exists(recent.file)
    assert old_failed.file == ""


def test_the_daily_job_keeps_media_retention_days_of_reports(settings):
    settings.MEDIA_RETENTION_DAYS = 7
    expired, kept = _export(days_old=8), _export(days_old=6)

    actors.expire_reports()  # what the scheduler sends daily

    assert list(Report.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not default_storage.exists(expired.file)


def test_expiring_again_or_after_a_file_is_already_gone_deletes_the_rows_and_never_fails():
    report = _export(days_old=40)
    default_storage.delete(report.file)  # as a run that failed after deleting the files leaves it
    cutoff = timezone.now() - timedelta(days=30)

    assert services.reports_expire(older_than=cutoff) == 1
    assert services.reports_expire(older_than=cutoff) == 0


def test_rows_and_files_are_deleted_batch_after_batch_until_none_is_left():
    reports = [_export(days_old=40) for _ in range(5)]

    deleted = rows_with_files_delete(rows=Report.objects.all(), batch_size=2)

    assert deleted == 5 and not Report.objects.exists()
    assert not any(default_storage.exists(report.file) for report in reports)
