"""What the doctor says: findings, each with a severity, its figures and the next step; and the verdict."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    GREEN = "green"  # healthy, or a step not needed yet
    AMBER = "amber"  # a step to take soon
    RED = "red"  # broken, or hurting now: the command exits non-zero
    UNKNOWN = "unknown"  # its source could not be read

    @property
    def rank(self) -> int:
        return [Severity.GREEN, Severity.UNKNOWN, Severity.AMBER, Severity.RED].index(self)


@dataclass(frozen=True)
class Finding:
    id: str  # stable, for scripts: "postgres.read_share", "queue.default"
    severity: Severity
    message: str  # what was measured, with the figures
    next_step: str = ""  # what to do about it; empty when nothing
    doc: str = ""  # where the step is explained (docs/<file>.md#anchor)


@dataclass(frozen=True)
class Stage:
    number: str  # "1", "2", "3" ...
    name: str
    variables_set: dict[str, bool]
    extras: list[str] = field(default_factory=list)  # "2b RabbitMQ", "2c CDN", "3b shared files"


@dataclass(frozen=True)
class Verdict:
    stage: Stage
    findings: list[Finding]
    generated_at: str

    @property
    def worst(self) -> Severity:
        return max((finding.severity for finding in self.findings), key=lambda s: s.rank, default=Severity.GREEN)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stage": asdict(self.stage),
            "worst": self.worst.value,
            "generated_at": self.generated_at,
            "findings": [{**asdict(finding), "severity": finding.severity.value} for finding in self.findings],
        }
