"""`manage.py doctor`: the stage, what hurts and the next step, with figures (project/ops/doctor/).

Exits 1 when a finding is red, so it can run from cron or CI; `--json` prints the same for scripts.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from project.ops.doctor import render
from project.ops.doctor.findings import Severity
from project.ops.doctor.verdict import diagnose


class Command(BaseCommand):
    help = "Say which stage this deployment is at, what hurts, and the next step, with the figures."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="print the verdict as JSON")

    def handle(self, *args: Any, json: bool, **options: Any) -> None:
        verdict = diagnose()
        if json:
            self.stdout.write(render.as_json(verdict), ending="")
        else:
            colour = self.stdout.isatty() and not options.get("no_color")
            self.stdout.write(render.as_text(verdict, colour=colour), ending="")
        if verdict.worst is Severity.RED:
            raise SystemExit(1)
