"""Jobs about users. Actors load by id and call a service; nothing else."""

import dramatiq

from apps.users import services


@dramatiq.actor(max_retries=5, time_limit=30_000)
def send_welcome_email(*, user_id: int) -> None:
    services.welcome_email_send(user_id=user_id)
