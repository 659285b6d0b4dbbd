"""Shared storage for media and job files: django-storages' S3 backend, reading as a stream.

django-storages' S3File downloads a whole object into a temporary file, by default in memory,
before its first read returns. A report served through the download view or a product CSV read
by the import job can be tens of megabytes, so a file opened here for reading (``rb``) is the
object's HTTP body instead, read as the caller reads: memory stays flat, the first bytes come
at once, and ``tell()`` counts what was read (the import's progress). Writes and other modes
are django-storages' own.
"""

from __future__ import annotations

import io
from typing import Any

from botocore.exceptions import ClientError
from django.core.files import File
from storages.backends.s3 import S3Storage, _filter_download_params
from storages.utils import clean_name

# Bytes asked of the HTTP body per read: large enough to keep the CSV reader and FileResponse
# (64 KiB blocks) from making small reads, small enough not to matter in memory.
READ_BUFFER_BYTES = 256 * 1024


class StreamingS3Storage(S3Storage):  # type: ignore[misc]  # django-storages is untyped
    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        if mode != "rb":
            opened: File[Any] = super()._open(name, mode)
            return opened
        key = self._normalize_name(clean_name(name))
        params = _filter_download_params(self.get_object_parameters(name))
        try:
            response = self.bucket.Object(key).get(**params)
        except ClientError as error:
            if error.response["ResponseMetadata"]["HTTPStatusCode"] == 404:
                raise FileNotFoundError(f"File does not exist: {key}") from error
            raise
        stream = File(io.BufferedReader(_StreamingBody(response["Body"]), buffer_size=READ_BUFFER_BYTES), name=name)
        stream.size = response["ContentLength"]  # File would seek to the end to learn it; a stream cannot
        return stream


class _StreamingBody(io.RawIOBase):
    """botocore's StreamingBody as a raw, forward-only binary file."""

    def __init__(self, body: Any) -> None:
        self.body, self.position = body, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def close(self) -> None:
        if not self.closed:
            self.body.close()  # a download stopped early must not hold its connection open
        super().close()
