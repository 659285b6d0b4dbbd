"""Jobs about orders. Actors load by id and call a service; nothing else."""

import dramatiq

from apps.core.jobs import EMAIL_JOB_OPTIONS, HEAVY_QUEUE, INTERACTIVE_QUEUE
from apps.orders import services


@dramatiq.actor(queue_name=INTERACTIVE_QUEUE, **EMAIL_JOB_OPTIONS)
def send_order_confirmation(*, order_id: int) -> None:
    services.order_confirmation_email_send(order_id=order_id)


@dramatiq.actor(queue_name=HEAVY_QUEUE, max_retries=3, time_limit=15 * 60_000)
def refresh_daily_sales() -> None:
    """Scheduled hourly (project/tasks.py); a run that missed its hour is caught up by the next."""
    services.daily_sales_refresh()
