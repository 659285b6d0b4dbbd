"""The scaling doctor: which stage the deployment is at, what hurts, and the next step, with figures.

``sources/`` read the services (and Prometheus, when PROMETHEUS_URL is set), ``rules`` turn the
readings into findings against thresholds from settings, ``verdict.diagnose()`` runs both.
`manage.py doctor` (project/management/commands/doctor.py) and /ops/doctor.json (``views``) show
it. Every finding, its rule, threshold and source: docs/doctor.md.
"""
