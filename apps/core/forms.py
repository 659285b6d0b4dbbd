"""What the server-rendered pages share about forms."""

from __future__ import annotations

from django import forms

from apps.core.errors import DomainError


def form_add_domain_error(*, form: forms.Form, error: DomainError) -> None:
    """Show a service's DomainError on ``form``: field errors under their fields, the rest above the form."""
    for field, messages in error.fields.items():
        form.add_error(field if field in form.fields else None, messages)
    if not error.fields:
        form.add_error(None, error.message)
