"""One S3 object read into a file, started over when its body breaks off.

botocore retries a request that fails, but not a response whose body breaks
off after it began (a connection reset, a read time-out mid-stream): that
case is retried here, as many times as the backend's ``max_attempts``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from idfkit.simulation.exceptions import BucketNotFoundError, StorageError
from idfkit.simulation.fs.base import normalize_path

if TYPE_CHECKING:
    from idfkit.simulation.fs.s3 import S3FileSystem

__all__ = ["download"]

log = logging.getLogger("idfkit.simulation.fs.s3")

_MiB = 1024 * 1024


def download(fs: S3FileSystem, path: str | Path, sink: IO[bytes]) -> None:
    """One streamed GET of ``path`` into ``sink``, written in 1 MiB pieces.

    Args:
        fs: The backend to read from.
        path: The file to read.
        sink: Where its bytes go; emptied again before a retry.

    Raises:
        IsADirectoryError: ``path`` is the root or a folder.
        FileNotFoundError: Nothing is stored at ``path``.
    """
    from botocore.exceptions import (
        ConnectionClosedError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )
    from urllib3.exceptions import HTTPError as Urllib3Error

    rel = normalize_path(path)
    if not rel:
        raise IsADirectoryError(f"{fs.url()} is the root, not a file")
    key = fs.prefix + rel
    for attempt in range(1, fs.max_attempts + 1):
        body = None
        try:
            with fs._translate("read", path):
                body = fs.client.get_object(Bucket=fs.bucket, Key=key)["Body"]
                for chunk in body.iter_chunks(_MiB):
                    sink.write(chunk)
            log.debug("read s3://%s/%s (attempt %d)", fs.bucket, key, attempt)
            return
        except FileNotFoundError as exc:
            if not isinstance(exc, BucketNotFoundError) and fs._is_dir(key):
                raise IsADirectoryError(f"{fs.url(rel)} is a directory") from None
            raise
        except (StorageError, Urllib3Error, ConnectionError) as exc:
            cause = exc.__cause__ if isinstance(exc, StorageError) else exc
            broken_body = (
                ResponseStreamingError,
                IncompleteReadError,
                ReadTimeoutError,
                ConnectionClosedError,
                Urllib3Error,
                ConnectionError,
            )
            if not isinstance(cause, broken_body) or attempt == fs.max_attempts:
                raise
            log.debug("s3://%s/%s: body broke off (%s), retrying", fs.bucket, key, cause)
            sink.seek(0)
            sink.truncate()
            time.sleep(min(2.0, 0.1 * 2**attempt))
        finally:
            if body is not None:
                body.close()
