"""Emails rendered from templates/emails/, each sent at most once per idempotency key."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from apps.core.models import IdempotencyKey


def email_send_once(*, key: str, to: str, subject: str, template: str, context: dict[str, Any]) -> bool:
    """Send ``emails/<template>.txt`` and ``.html`` to ``to``, unless ``key`` was sent already.

    The key row is inserted in the transaction that sends, and commits only after the mail server
    accepted the message: a redelivered message blocks on the row, then finds it and sends nothing;
    a job killed before the server accepted commits nothing, so the retry sends. One killed
    between the server's acceptance and the commit sends twice (docs/jobs.md). Returns whether
    this call sent. A failure to send (SMTP down) raises, and the job is retried.
    """
    context = {**context, "site_url": settings.SITE_URL}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        to=[to],
        # The same Message-ID on every attempt lets a mail provider drop a duplicate.
        headers={"Message-ID": _message_id(key)},
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    try:
        # The transaction ends first: the commit follows the server's "250" at once, and QUIT
        # waits until after it, so a worker killed between acceptance and commit is rare.
        with get_connection() as connection, transaction.atomic():
            IdempotencyKey.objects.create(key=key)
            connection.send_messages([message])
    except IntegrityError:
        return False  # sent before: this is a redelivery
    return True


def _message_id(key: str) -> str:
    local = re.sub(r"[^A-Za-z0-9.-]", ".", key)
    return f"<{local}@{urlsplit(settings.SITE_URL).hostname or 'localhost'}>"
