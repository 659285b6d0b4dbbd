"""The emails a worker wrote at stage 1 (the file backend, one file per message in EMAIL_FILE_PATH)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def mail_files_to(address: str) -> list[Path]:
    mail_dir = Path(settings.EMAIL_FILE_PATH)
    if not mail_dir.exists():
        return []
    return [path for path in mail_dir.iterdir() if f"To: {address}" in path.read_text(errors="replace")]
