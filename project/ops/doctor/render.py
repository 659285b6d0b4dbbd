"""The verdict as a table for people (coloured in a terminal) and as JSON for scripts."""

from __future__ import annotations

import json

from project.ops.doctor.findings import Severity, Verdict

COLOURS = {
    Severity.GREEN: "\033[32m",
    Severity.AMBER: "\033[33m",
    Severity.RED: "\033[31m",
    Severity.UNKNOWN: "\033[90m",
}
RESET = "\033[0m"


def as_text(verdict: Verdict, *, colour: bool) -> str:
    def paint(severity: Severity, text: str) -> str:
        return f"{COLOURS[severity]}{text}{RESET}" if colour else text

    stage = verdict.stage
    lines = [
        f"Headroom doctor, {verdict.generated_at}",
        f"stage {stage.number} ({stage.name})" + (f", with {', '.join(stage.extras)}" if stage.extras else ""),
        "",
    ]
    for finding in verdict.findings:
        line = finding.message
        if finding.next_step:
            line += f" → {finding.next_step}"
        if finding.doc:
            line += f" ({finding.doc})"
        lines.append(f"{paint(finding.severity, f'{finding.severity.value:<7}')}  {line}")
    lines += ["", f"worst: {paint(verdict.worst, verdict.worst.value)}"]
    return "\n".join(lines) + "\n"


def as_json(verdict: Verdict) -> str:
    return json.dumps(verdict.as_dict(), indent=2) + "\n"
