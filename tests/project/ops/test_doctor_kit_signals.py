"""Without Prometheus the doctor reads the kit's own signals from the ops page's minute counters."""

from __future__ import annotations

import pytest
from django.urls import reverse

from project.ops.doctor.sources.kit import read_kit_signals
from project.ops.doctor.verdict import diagnose, take_readings
from tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_without_prometheus_the_doctor_reads_p95_and_cache_ratios_from_the_minute_counters(client, settings):
    settings.PROMETHEUS_URL = ""
    CategoryFactory()
    for _ in range(3):
        client.get(reverse("v1:category-list"))

    reading = read_kit_signals()

    assert "v1:category-list" in reading.p95_seconds_by_route
    assert reading.response_cache_hit_ratio is not None and reading.response_cache_hit_ratio > 0
    assert reading.window == "1h"


def test_the_kit_signals_are_known_in_the_verdict_at_stage_1(client, settings):
    settings.PROMETHEUS_URL = ""
    client.get(reverse("v1:category-list"))

    verdict = diagnose(take_readings())

    assert "prometheus" not in {finding.id for finding in verdict.findings}
    assert {"cache.response", "cache.query"} <= {finding.id for finding in verdict.findings}


def test_with_the_minute_counters_off_and_no_prometheus_the_kit_signals_are_unknown(settings):
    settings.PROMETHEUS_URL = ""
    settings.OPS_MINUTE_BUCKETS = False

    with pytest.raises(LookupError, match="OPS_MINUTE_BUCKETS is off"):
        read_kit_signals()
