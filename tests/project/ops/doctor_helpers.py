"""Reading the doctor's verdict in tests: one finding by id, and PostgreSQL statistics made visible."""

from __future__ import annotations

from django.db import connection

from project.ops.doctor.findings import Finding, Verdict


def finding(verdict: Verdict, finding_id: str) -> Finding:
    found = [f for f in verdict.findings if f.id == finding_id]
    assert found, f"no finding {finding_id!r} in {[f.id for f in verdict.findings]}"
    return found[0]


def findings_starting(verdict: Verdict, prefix: str) -> list[Finding]:
    return [f for f in verdict.findings if f.id.startswith(prefix)]


def flush_own_statistics() -> None:
    """This connection's counters reach pg_stat_* when it goes idle, at most once a second: force it
    now, so a reading sees everything the test ran before it and nothing of it lands later."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_force_next_flush()")
        cursor.execute("SELECT 1")
