"""How S3's answers become the storage contract's errors: one table, one context manager.

Every request of the S3 backend runs inside `translated`, so botocore's
exceptions never reach a caller: a missing object is ``FileNotFoundError``
(``BucketNotFoundError`` for a missing bucket), a refusal is
``PermissionError``, an unreachable endpoint ``StorageConnectionError`` and
anything else ``StorageError`` (see `idfkit.simulation.fs.base`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from idfkit.simulation.exceptions import BucketNotFoundError, StorageConnectionError, StorageError

if TYPE_CHECKING:
    from botocore.exceptions import ClientError

    from idfkit.simulation.fs.s3 import S3FileSystem

__all__ = [
    "conditions_refused",
    "error_code",
    "is_404",
    "refuses_conditions",
    "too_large_to_copy_at_once",
    "translated",
]

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_DENIED = {
    "AccessDenied",
    "403",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "AllAccessDisabled",
}
_LOST_RACE = {"PreconditionFailed", "412", "ConditionalRequestConflict"}


@contextmanager
def translated(fs: S3FileSystem, action: str, path: str | Path) -> Iterator[None]:
    """Run a request of ``fs``, raising what it raises as the contract's errors.

    Args:
        fs: The backend that sends the request (its bucket and endpoint are named).
        action: What the request does, for the message ("read", "upload to", ...).
        path: The path it concerns.
    """
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        EndpointConnectionError,
        NoCredentialsError,
    )
    from botocore.exceptions import (
        ConnectionError as BotoConnectionError,
    )

    where = fs.url(path)
    try:
        yield
    except ClientError as exc:
        raise _client_error(fs, exc, action, where) from exc
    except NoCredentialsError as exc:
        raise PermissionError(
            f"no AWS credentials found to {action} {where}; set AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY, a profile, or pass them to S3FileSystem"
        ) from exc
    except (EndpointConnectionError, BotoConnectionError) as exc:
        endpoint = fs.client.meta.endpoint_url  # as configured, AWS_ENDPOINT_URL included
        raise StorageConnectionError(
            f"cannot reach S3 endpoint {endpoint} to {action} {where} "
            f"after {fs.max_attempts} attempts: {type(exc).__name__}"
        ) from exc
    except BotoCoreError as exc:
        raise StorageError(f"S3 failed to {action} {where}: {exc}") from exc
    except Exception as exc:
        mapped = _transfer_error(fs, exc, action, where)
        if mapped is None:
            raise
        raise mapped from exc


def _client_error(fs: S3FileSystem, exc: ClientError, action: str, where: str) -> OSError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code == "NoSuchBucket" or (code in _NOT_FOUND and not fs._bucket_exists()):
        return BucketNotFoundError(f"S3 bucket {fs.bucket!r} does not exist ({where})")
    if code in _NOT_FOUND or status == 404:
        return FileNotFoundError(f"no such object: {where}")
    if code in _LOST_RACE or status == 412:
        return FileExistsError(f"{where} changed meanwhile ({code}): another writer came first")
    if code in _DENIED or status == 403:
        return PermissionError(f"access denied ({code}) trying to {action} {where}")
    message = str(error.get("Message", ""))[:200]
    return StorageError(f"S3 error {code or status} trying to {action} {where}: {message}")


def _transfer_error(fs: S3FileSystem, exc: Exception, action: str, where: str) -> OSError | None:
    """A managed transfer's own exception as the contract's error; None for any other.

    ``upload_file`` raises ``S3UploadFailedError`` while handling the
    ``ClientError`` of the failed request (its ``__context__``): that answer
    goes through the one table above.
    """
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import ClientError
    from s3transfer.exceptions import RetriesExceededError

    if isinstance(exc, RetriesExceededError):
        return StorageConnectionError(f"S3 transfer to {action} {where} kept failing: {exc}")
    if not isinstance(exc, S3UploadFailedError):
        return None
    for inner in (exc.__cause__, exc.__context__):
        if isinstance(inner, ClientError):
            return _client_error(fs, inner, action, where)
    return StorageError(f"S3 upload failed ({where}): {str(exc)[:300]}")


def conditions_refused(
    fs: S3FileSystem, exc: StorageError, path: str | Path
) -> StorageError | None:
    """What to tell of a conditional write whose error says the server lacks conditions.

    Args:
        fs: The backend that wrote.
        exc: The translated error of the write.
        path: The path written.

    Returns:
        A `StorageError` naming the endpoint and the ``conditional_writes``
        switch when the server answered 501 (NotImplemented), else None.
    """
    cause = exc.__cause__
    if not (isinstance(cause, Exception) and refuses_conditions(cause)):
        return None
    endpoint = fs.client.meta.endpoint_url  # as configured, AWS_ENDPOINT_URL included
    return StorageError(
        f"the S3 server at {endpoint} does not support conditional writes "
        f"(it answered {error_code(cause) or 501} to If-Match/If-None-Match "
        f"writing {fs.url(path)}); pass S3FileSystem(..., conditional_writes="
        "False) to publish with one writer per folder"
    )


def error_code(exc: Exception) -> str:
    """The S3 error code of a botocore ``ClientError`` ("" for any other exception)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def too_large_to_copy_at_once(exc: Exception) -> bool:
    """S3's answer to one CopyObject of an object over 5 GB (and nothing else)."""
    response = getattr(exc, "response", None)
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    message = str(error.get("Message", "")).lower()
    return error_code(exc) == "EntityTooLarge" or (
        error_code(exc) == "InvalidRequest" and "larger than the maximum" in message
    )


def refuses_conditions(exc: Exception) -> bool:
    """A server's answer that it does not implement a conditional request (501)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 501 or str(response.get("Error", {}).get("Code", "")) == "NotImplemented"


def is_404(exc: Exception) -> bool:
    """Whether a botocore error says "not found" (by its code or its HTTP status)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error_code(exc) in _NOT_FOUND or status == 404
