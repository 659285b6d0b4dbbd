"""Prints the figures of one `scripts/loadtest` run from locust's CSV statistics."""

from __future__ import annotations

import csv
import sys
from pathlib import Path


def summary(stats_csv: Path) -> str:
    rows = {row["Name"]: row for row in csv.DictReader(stats_csv.open())}
    lines = [f"{'request':<42} {'count':>7} {'fails':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'rps':>7}"]
    for name, row in rows.items():
        label = "all requests" if name == "Aggregated" else f"{row['Type']} {name}"
        lines.append(
            f"{label:<42} {row['Request Count']:>7} {row['Failure Count']:>6} {row['50%']:>6} {row['95%']:>6} "
            f"{row['99%']:>6} {float(row['Requests/s']):>7.1f}"
        )
    total = rows["Aggregated"]
    lines.append("")
    lines.append(
        f"p50 {total['50%']} ms, p95 {total['95%']} ms, p99 {total['99%']} ms, {float(total['Requests/s']):.1f} requests/s, "
        f"{total['Failure Count']} errors in {total['Request Count']} requests"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    print(summary(Path(sys.argv[1])))
