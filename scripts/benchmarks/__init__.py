"""The cache benchmark (scripts/bench-cache): bench-only settings, URLs, views and seed data.

Nothing here is part of the product: gunicorn imports it only when scripts/bench-cache puts
scripts/ on PYTHONPATH and sets DJANGO_SETTINGS_MODULE=benchmarks.settings.
"""
