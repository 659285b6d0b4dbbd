"""Each read replica's lag and whether it is in rotation, as the router sees it (project/routing/routers.py)."""

from __future__ import annotations

from dataclasses import dataclass

from project.ops.doctor.sources.stage import replica_aliases
from project.routing.routers import pool


@dataclass(frozen=True)
class ReplicaReading:
    alias: str
    lag_seconds: float
    lag_bytes: int
    in_rotation: bool
    reachable: bool


def read_replicas() -> list[ReplicaReading]:
    readings = []
    for alias in replica_aliases():
        pool.check(alias)  # now, not the router's last look, which may be an interval old
        health = pool.health(alias)
        reachable = not pool.is_down(alias)
        readings.append(
            ReplicaReading(
                alias=alias,
                lag_seconds=health.lag_seconds,
                lag_bytes=health.lag_bytes,
                in_rotation=reachable and pool.in_rotation(alias),
                reachable=reachable,
            )
        )
    return readings
