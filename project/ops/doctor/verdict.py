"""The verdict: every source read (each in isolation: one that fails is "unknown"), then the rules."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.utils import timezone

from project.ops.doctor import rules
from project.ops.doctor.findings import Verdict
from project.ops.doctor.sources.jobs import read_jobs
from project.ops.doctor.sources.kit import read_kit_signals
from project.ops.doctor.sources.postgres import read_postgres
from project.ops.doctor.sources.queues import read_queues
from project.ops.doctor.sources.redis_server import read_redis
from project.ops.doctor.sources.replicas import read_replicas
from project.ops.doctor.sources.stage import read_workers, variables_in_effect

logger = logging.getLogger(__name__)
Reading = TypeVar("Reading")


def diagnose(readings: rules.Readings | None = None) -> Verdict:
    """The verdict on ``readings`` (the ops page keeps them to show their figures), or on fresh ones."""
    readings = take_readings() if readings is None else readings
    stage = rules.stage_of(readings.variables)
    return Verdict(stage=stage, findings=rules.all_findings(stage, readings), generated_at=timezone.now().isoformat())


def take_readings() -> rules.Readings:
    readings = rules.Readings(variables=variables_in_effect())

    def read(source: str, reader: Callable[[], Reading]) -> Reading | None:
        try:
            return reader()
        except Exception as error:  # any failure of one source: reported as unknown, the others still run
            logger.debug("doctor: %s unknown: %r", source, error)
            readings.unknown[source] = _reason(error)
            return None

    readings.workers = read("workers", read_workers)
    readings.postgres = read("postgres", read_postgres)
    if readings.variables["DATABASE_REPLICA_URLS"]:
        readings.replicas = read("replicas", read_replicas)
    readings.redis = read("redis", read_redis)
    readings.queues = read("queues", read_queues)
    readings.jobs = read("jobs", read_jobs)
    readings.prometheus = read("prometheus", read_kit_signals)
    return readings


def _reason(error: Any) -> str:
    """The error in one line: its class and first line (hosts and ports of a URL included, for staff)."""
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return (
        f"{type(error).__name__}: {text}"
        if text and not isinstance(error, LookupError)
        else text or type(error).__name__
    )
