"""Jobs about users. Actors load by id and call a service; nothing else."""

import dramatiq

from apps.core.jobs import EMAIL_JOB_OPTIONS, HEAVY_QUEUE, INTERACTIVE_QUEUE
from apps.users import services


@dramatiq.actor(queue_name=INTERACTIVE_QUEUE, **EMAIL_JOB_OPTIONS)
def send_welcome_email(*, user_id: int) -> None:
    services.welcome_email_send(user_id=user_id)


@dramatiq.actor(queue_name=INTERACTIVE_QUEUE, **EMAIL_JOB_OPTIONS)
def send_verification_email(*, email: str, request_id: str) -> None:
    services.verification_email_send(email=email, request_id=request_id)


@dramatiq.actor(queue_name=INTERACTIVE_QUEUE, **EMAIL_JOB_OPTIONS)
def send_password_reset_email(*, email: str, request_id: str) -> None:
    services.password_reset_email_send(email=email, request_id=request_id)


@dramatiq.actor(queue_name=HEAVY_QUEUE, max_retries=3, time_limit=300_000)
def delete_expired_api_tokens() -> None:
    services.api_tokens_delete_expired()
