"""The periodic schedule: every job that runs by the clock, in one place.

`manage.py crontab` (dramatiq-crontab, docs/jobs.md) imports every installed app's ``tasks``
module; this is the only one. The scheduler only *sends* messages at these times (cron syntax,
in settings.TIME_ZONE); workers run them. Only one scheduler runs at a time: it holds a Redis
lock (settings.DRAMATIQ_CRONTAB), and a second one waits for it.
"""

from dramatiq_crontab import cron

from apps.core.actors import prune_idempotent_requests, prune_job_log, relay_outbox
from apps.orders.actors import refresh_daily_sales
from apps.products.actors import expire_product_imports
from apps.reports.actors import expire_reports
from apps.users.actors import delete_expired_api_tokens

# Messages kept while the broker was unreachable (apps.core.jobs.send_on_commit).
cron("* * * * *")(relay_outbox)
# Yesterday's sales, and any earlier day whose orders changed, into the rollup that reports read.
cron("15 * * * *")(refresh_daily_sales)
# The admin's job log keeps JOB_LOG_MAX_AGE seconds of history.
cron("30 3 * * *")(prune_job_log)
# Reports, exports and uploaded imports (rows and files) are kept MEDIA_RETENTION_DAYS days.
cron("45 3 * * *")(expire_reports)
cron("50 3 * * *")(expire_product_imports)
# Expired API tokens no longer authenticate; their rows go (apps/users/authentication.py).
cron("55 3 * * *")(delete_expired_api_tokens)
# Responses kept for Idempotency-Key retries are kept a day (apps.core.services.IDEMPOTENCY_KEY_TTL).
cron("45 * * * *")(prune_idempotent_requests)
