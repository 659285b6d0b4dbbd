"""Where the doctor's figures come from: one module per service, each returning a reading or raising.

A source that raises is reported as "unknown" (project/ops/doctor/verdict.py) and the others
still run. Kit-level signals (cache hit ratios, latency per route, CPU) come from Prometheus
(``prometheus``); the services are read directly.
"""
