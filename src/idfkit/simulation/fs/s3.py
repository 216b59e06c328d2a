"""Amazon S3 (and S3-compatible services) through boto3.

boto3 is imported here and nowhere else, lazily, so ``idfkit.simulation``
imports without it.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import SecretStr

from idfkit.simulation._arguments import NAME, argument_error
from idfkit.simulation._optional import optional_import
from idfkit.simulation.exceptions import BucketNotFoundError, StorageConnectionError, StorageError
from idfkit.simulation.fs.base import (
    FileInfo,
    HashingReader,
    ancestors,
    matching_paths,
    normalize_path,
)

if TYPE_CHECKING:
    from idfkit.simulation.fs._bulk import ReadOutcome

__all__ = ["S3FileSystem"]

T = TypeVar("T")

log = logging.getLogger(__name__)

_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]\Z")
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
_LISTING_TTL = 10.0  # seconds a folder listing stands in for a check before a write
_LOST_RACE = {"PreconditionFailed", "412", "ConditionalRequestConflict"}
_MiB = 1024 * 1024


def _boto() -> Any:
    return optional_import("boto3", "S3FileSystem")


def _check_endpoint(endpoint_url: str | None) -> None:
    """Refuse an endpoint without a scheme (boto3 says only "Invalid endpoint")."""
    if endpoint_url is not None and "://" not in endpoint_url:
        raise argument_error(
            ValueError,
            f"{NAME} {endpoint_url!r} has no scheme",
            parameter="endpoint_url",
            advice=f"pass endpoint_url='http://{endpoint_url}' (or https://)",
        )
    for variable in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"):
        value = os.environ.get(variable)
        if endpoint_url is None and value and "://" not in value:
            raise ValueError(
                f"{variable}={value!r} has no scheme; set it to http://{value} (or https://)"
            )


class S3FileSystem:
    """Objects in one S3 bucket, under an optional key prefix.

    Credentials follow boto3's chain (explicit arguments, environment, shared
    files, instance role) unless a ready ``session`` or ``client`` is given.
    Requests are retried by botocore (``retry_mode``, ``max_attempts``);
    large files go through boto3's managed transfer in parallel parts. The
    boto3 client is made lazily, once per process, so the object pickles;
    every instance of a process shares one boto3 session, so building one
    costs milliseconds.

    Args:
        bucket: The bucket name.
        prefix: A key prefix under which every path lives.
        endpoint_url: An S3-compatible endpoint (MinIO, Ceph, R2, a local
            server); AWS by default.
        region_name: The bucket's region.
        aws_access_key_id: Explicit credentials (with the two below);
            otherwise boto3's chain.
        aws_secret_access_key: See ``aws_access_key_id``.
        aws_session_token: See ``aws_access_key_id``.
        session: A ready boto3 session to make the client from.
        client: A ready boto3 S3 client (such an instance does not pickle).
        retry_mode: botocore's retry mode.
        max_attempts: Attempts per request, the first included.
        connect_timeout: Seconds to wait for a connection.
        read_timeout: Seconds to wait for a response.
        max_concurrency: Threads per managed (multipart) transfer.
        multipart_threshold: Size from which uploads go in parts.
        multipart_chunksize: Size of each part.
        checksum: ``"when_supported"`` sends each upload's SHA-256 as an S3
            checksum that the server verifies; ``"when_required"`` sends
            none, for servers that reject checksum headers.
        conditional_writes: Whether the server honours ``If-Match`` and
            ``If-None-Match`` on uploads (AWS S3 and moto do). Set it to
            False for a server that ignores or refuses them: no conditional
            request is then sent, and publishing relies on one writer per
            folder. A server that answers 501 to them is named in a
            `StorageError` when a run marks its folder, before EnergyPlus runs.
        **boto_kwargs: Any other keyword of `boto3.client("s3", ...)`
            (`verify`, `use_ssl`, `config`, ...), as idfkit takes them; a
            botocore `Config` given here is merged over the settings above.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        session: Any = None,
        client: Any = None,
        retry_mode: Literal["standard", "adaptive", "legacy"] = "standard",
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_concurrency: int = 8,
        multipart_threshold: int = 16 * _MiB,
        multipart_chunksize: int = 8 * _MiB,
        checksum: Literal["when_supported", "when_required"] = "when_supported",
        conditional_writes: bool = True,
        **boto_kwargs: Any,
    ) -> None:
        if not isinstance(bucket, str) or not _BUCKET_RE.match(bucket) or ".." in bucket:
            raise ValueError(
                f"invalid S3 bucket name {bucket!r}: 3-63 characters of lowercase letters, "
                "digits, '.' and '-', starting and ending with a letter or digit"
            )
        _check_endpoint(endpoint_url)
        self.bucket = bucket
        normalized = normalize_path(prefix)
        self.prefix = f"{normalized}/" if normalized else ""
        self.endpoint_url = endpoint_url
        self.region_name = region_name
        self._access_key = SecretStr(aws_access_key_id) if aws_access_key_id else None
        self._secret_key = SecretStr(aws_secret_access_key) if aws_secret_access_key else None
        self._session_token = SecretStr(aws_session_token) if aws_session_token else None
        self._user_session = session
        self._user_client = client
        self.retry_mode = retry_mode
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_concurrency = max_concurrency
        self.multipart_threshold = multipart_threshold
        self.multipart_chunksize = multipart_chunksize
        self.checksum = checksum
        self.conditional_writes = conditional_writes
        self._boto_kwargs = dict(boto_kwargs)
        self._init_process_state()

    def _init_process_state(self) -> None:
        self._client: Any = None
        self._client_pid = -1
        self._client_lock = threading.Lock()
        self._bucket_checked = False
        self._known_dirs: set[str] = set()  # keys seen to be folders: no file check needed
        # Folder key -> (when listed, names of its subfolders): one listing answers the
        # "is a folder there?" check for every file then written into that folder.
        self._subfolders: dict[str, tuple[float, set[str]]] = {}

    def __repr__(self) -> str:
        where = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"S3FileSystem(bucket={self.bucket!r}, prefix={self.prefix!r}{where})"

    # -- pickling: the client stays behind, made again in the new process ----
    def __getstate__(self) -> dict[str, Any]:
        if self._user_client is not None:
            raise TypeError(
                "an S3FileSystem built from a ready boto3 client cannot be pickled; "
                "build it from endpoint_url/credentials or a boto3 session instead"
            )
        state = self.__dict__.copy()
        for name in (
            "_client",
            "_client_pid",
            "_client_lock",
            "_bucket_checked",
            "_known_dirs",
            "_subfolders",
        ):
            state.pop(name)
        session = state.pop("_user_session")
        if session is not None:
            creds = session.get_credentials()
            if creds is not None:
                frozen = creds.get_frozen_credentials()
                state["_access_key"] = SecretStr(frozen.access_key)
                state["_secret_key"] = SecretStr(frozen.secret_key)
                state["_session_token"] = SecretStr(frozen.token) if frozen.token else None
            state["region_name"] = state["region_name"] or session.region_name
        state["_user_session"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_process_state()

    # -- client ----------------------------------------------------------
    @property
    def client(self) -> Any:
        """The boto3 S3 client of this process (made on first use)."""
        if self._user_client is not None:
            return self._user_client
        if self._client is None or self._client_pid != os.getpid():
            with self._client_lock:
                if self._client is None or self._client_pid != os.getpid():
                    self._client = self._make_client()
                    self._client_pid = os.getpid()
        return self._client

    def _make_client(self) -> Any:
        _boto()
        from botocore.config import Config

        config = Config(
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_pool_connections=max(10, self.max_concurrency * 2),
            request_checksum_calculation=self.checksum,
            response_checksum_validation=self.checksum,
        )
        extra = dict(self._boto_kwargs)
        if extra.get("config") is not None:
            config = config.merge(extra["config"])
        extra["config"] = config
        _REDACTOR.install()
        if self._user_session is not None:
            return self._user_session.client(
                "s3", endpoint_url=self.endpoint_url, region_name=self.region_name, **extra
            )
        return _shared_client(
            endpoint_url=self.endpoint_url,
            region_name=self.region_name,
            aws_access_key_id=_reveal(self._access_key),
            aws_secret_access_key=_reveal(self._secret_key),
            aws_session_token=_reveal(self._session_token),
            **extra,
        )

    def signing_credentials(self) -> Any:
        """The botocore credentials this file system's client signs with, or None.

        Reached through public API only: the given boto3 session's
        ``get_credentials()``, the explicit keys, or the process's shared
        session's chain (the object its clients use, refreshed as botocore
        refreshes it). None for a ready client, whose credentials only its
        internals hold, and when no credentials are found.
        """
        if self._user_client is not None:
            return None
        self.client  # noqa: B018 - made first: the shared session is then this process's
        if self._user_session is not None:
            return self._user_session.get_credentials()
        if self._access_key is not None or self._secret_key is not None:
            if self._access_key is None or self._secret_key is None:
                return None
            from botocore.credentials import Credentials

            return Credentials(
                self._access_key.get_secret_value(),
                self._secret_key.get_secret_value(),
                _reveal(self._session_token),
            )
        with _SHARED_LOCK:
            session = _SHARED["session"] if _SHARED["pid"] == os.getpid() else None
        return session.get_credentials() if session is not None else None

    def _transfer_config(self) -> Any:
        from boto3.s3.transfer import TransferConfig

        return TransferConfig(
            multipart_threshold=self.multipart_threshold,
            multipart_chunksize=self.multipart_chunksize,
            max_concurrency=self.max_concurrency,
            use_threads=True,
        )

    # -- paths -----------------------------------------------------------
    def _key(self, path: str | Path) -> str:
        return self.prefix + normalize_path(path)

    @property
    def store_id(self) -> str:
        """Endpoint, bucket and prefix: two instances with these equal name the same objects.

        The endpoint is the one the client talks to (a ready client's, or the
        environment's), not the argument, which may be unset for either.
        """
        endpoint = urlsplit(str(self.client.meta.endpoint_url))
        host = f"{endpoint.scheme}://{endpoint.netloc}".lower()  # a path may be case-sensitive
        where = host + endpoint.path.rstrip("/")
        return f"s3:{where}|{self.bucket}/{self.prefix}"

    def url(self, path: str | Path = "") -> str:
        """The ``s3://`` URL of a path."""
        return f"s3://{self.bucket}/{self._key(path)}"

    # -- the one place where boto3 errors become builtin ones ---------------
    @contextmanager
    def _translate(self, action: str, path: str | Path) -> Iterator[None]:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            EndpointConnectionError,
            NoCredentialsError,
        )
        from botocore.exceptions import (
            ConnectionError as BotoConnectionError,
        )

        where = self.url(path)
        try:
            yield
        except ClientError as exc:
            raise self._client_error(exc, action, where) from exc
        except NoCredentialsError as exc:
            raise PermissionError(
                f"no AWS credentials found to {action} {where}; set AWS_ACCESS_KEY_ID/"
                "AWS_SECRET_ACCESS_KEY, a profile, or pass them to S3FileSystem"
            ) from exc
        except (EndpointConnectionError, BotoConnectionError) as exc:
            endpoint = self.client.meta.endpoint_url  # as configured, AWS_ENDPOINT_URL included
            raise StorageConnectionError(
                f"cannot reach S3 endpoint {endpoint} to {action} {where} "
                f"after {self.max_attempts} attempts: {type(exc).__name__}"
            ) from exc
        except BotoCoreError as exc:
            raise StorageError(f"S3 failed to {action} {where}: {exc}") from exc
        except Exception as exc:
            mapped = self._transfer_error(exc, action, where)
            if mapped is None:
                raise
            raise mapped from exc

    def _client_error(self, exc: Any, action: str, where: str) -> OSError:
        error = exc.response.get("Error", {})
        code = str(error.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if code == "NoSuchBucket" or (code in _NOT_FOUND and not self._bucket_exists()):
            return BucketNotFoundError(f"S3 bucket {self.bucket!r} does not exist ({where})")
        if code in _NOT_FOUND or status == 404:
            return FileNotFoundError(f"no such object: {where}")
        if code in _LOST_RACE or status == 412:
            return FileExistsError(f"{where} changed meanwhile ({code}): another writer came first")
        if code in _DENIED or status == 403:
            return PermissionError(f"access denied ({code}) trying to {action} {where}")
        message = str(error.get("Message", ""))[:200]
        return StorageError(f"S3 error {code or status} trying to {action} {where}: {message}")

    def _transfer_error(self, exc: Exception, action: str, where: str) -> OSError | None:
        """Managed transfers wrap client errors in their own types; unwrap them."""
        from boto3.exceptions import S3UploadFailedError
        from s3transfer.exceptions import RetriesExceededError

        if isinstance(exc, RetriesExceededError):
            return StorageConnectionError(f"S3 transfer to {action} {where} kept failing: {exc}")
        if not isinstance(exc, S3UploadFailedError):
            return None
        text = str(exc)
        if "NoSuchBucket" in text:
            return BucketNotFoundError(f"S3 bucket {self.bucket!r} does not exist ({where})")
        if any(code in text for code in _DENIED):
            return PermissionError(f"access denied trying to {action} {where}")
        return StorageError(f"S3 upload failed ({where}): {text[:300]}")

    def _bucket_exists(self) -> bool:
        """Tell a missing bucket from a missing key after a bare 404 (checked once)."""
        if self._bucket_checked:
            return True
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            # 403 and the like: the bucket is there, we just may not look.
            return not (_is_404(exc) or _error_code(exc) == "NoSuchBucket")
        self._bucket_checked = True
        return True

    # -- the nine methods --------------------------------------------------
    def read_bytes(self, path: str | Path) -> bytes:
        buffer = io.BytesIO()
        self._download(path, buffer)
        return buffer.getvalue()

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        key = self._placed_file_key(path)
        with self._translate("write", path):
            if len(data) < self.multipart_threshold:
                self._put(key, data, hashlib.sha256(data).digest())
            else:
                self._upload_stream(io.BytesIO(data), key)
        self._note_written(key)
        log.debug("wrote s3://%s/%s (%d bytes)", self.bucket, key, len(data))

    def _put(self, key: str, data: bytes, sha256: bytes, **conditions: str) -> str:
        """One PUT carrying the content's SHA-256 (the server checks it); returns the ETag."""
        extra: dict[str, Any] = {"Metadata": {"sha256": sha256.hex()}}
        if self.checksum == "when_supported":
            extra["ChecksumSHA256"] = base64.b64encode(sha256).decode()
        response = self.client.put_object(
            Bucket=self.bucket, Key=key, Body=data, **extra, **conditions
        )
        return str(response.get("ETag", ""))

    def _upload_stream(self, stream: IO[bytes], key: str) -> str:
        """A managed (multipart) upload read once from ``stream``; returns its SHA-256."""
        reader = HashingReader(stream)
        extra = {"ChecksumAlgorithm": "SHA256"} if self.checksum == "when_supported" else {}
        self.client.upload_fileobj(
            reader, self.bucket, key, ExtraArgs=extra, Config=self._transfer_config()
        )
        return reader.digest.hexdigest()

    def write_bytes_if(
        self,
        path: str | Path,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        key = self._require_file_key(path)
        conditions: dict[str, str] = {}
        if if_match is not None:
            conditions["IfMatch"] = if_match
        if if_none_match:
            conditions["IfNoneMatch"] = "*"
        try:
            with self._translate("write", path):
                return self._put(key, data, hashlib.sha256(data).digest(), **conditions)
        except StorageError as exc:
            cause = exc.__cause__
            if conditions and isinstance(cause, Exception) and _refuses_conditions(cause):
                endpoint = self.client.meta.endpoint_url  # as configured, AWS_ENDPOINT_URL included
                raise StorageError(
                    f"the S3 server at {endpoint} does not support conditional writes "
                    f"(it answered {_error_code(cause) or 501} to If-Match/If-None-Match "
                    f"writing {self.url(path)}); pass S3FileSystem(..., conditional_writes="
                    "False) to publish with one writer per folder"
                ) from exc
            raise
        except FileNotFoundError as exc:
            if isinstance(exc, BucketNotFoundError) or if_match is None:
                raise
            raise FileExistsError(f"{self.url(path)} is gone: another writer came first") from exc

    def version(self, path: str | Path) -> str | None:
        # One listing of the folder answers this and, for the files written next
        # into that folder, whether a folder stands in their place.
        key = self._require_file_key(path)
        files = self._list_folder(_folder_of(key, self.prefix), path)
        if files is not None:
            return files.get(key)
        from botocore.exceptions import ClientError

        with self._translate("check", path):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _is_404(exc) and self._bucket_exists():
                    return None
                raise
        return str(head.get("ETag", ""))

    def _download(self, path: str | Path, sink: IO[bytes]) -> None:
        """One streamed GET into ``sink``; a connection cut mid-body starts it over.

        botocore retries failed requests, but not a body that breaks off after
        the response began, so that case is retried here, as many times.
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
            raise IsADirectoryError(f"{self.url()} is the root, not a file")
        key = self.prefix + rel
        for attempt in range(1, self.max_attempts + 1):
            body = None
            try:
                with self._translate("read", path):
                    body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
                    for chunk in body.iter_chunks(_MiB):
                        sink.write(chunk)
                log.debug("read s3://%s/%s (attempt %d)", self.bucket, key, attempt)
                return
            except FileNotFoundError as exc:
                if not isinstance(exc, BucketNotFoundError) and self._is_dir(key):
                    raise IsADirectoryError(f"{self.url(rel)} is a directory") from None
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
                if not isinstance(cause, broken_body) or attempt == self.max_attempts:
                    raise
                log.debug("s3://%s/%s: body broke off (%s), retrying", self.bucket, key, cause)
                sink.seek(0)
                sink.truncate()
                time.sleep(min(2.0, 0.1 * 2**attempt))
            finally:
                if body is not None:
                    body.close()

    def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding)

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(path, text.encode(encoding))

    def exists(self, path: str | Path) -> bool:
        rel = normalize_path(path)
        key = self.prefix + rel
        with self._translate("check", path):
            if rel:
                try:
                    self.client.head_object(Bucket=self.bucket, Key=key)
                    return True
                except Exception as exc:  # only a clean 404 means "no such file"
                    if not _is_404(exc) or not self._bucket_exists():
                        raise
            listing = self.client.list_objects_v2(
                Bucket=self.bucket, Prefix=f"{key}/" if rel else key, MaxKeys=1
            )
            return bool(listing.get("KeyCount", 0))

    def _is_dir(self, key: str) -> bool:
        """Whether something is stored below ``key`` (one listing request)."""
        with self._translate("list", key[len(self.prefix) :]):
            listing = self.client.list_objects_v2(Bucket=self.bucket, Prefix=f"{key}/", MaxKeys=1)
        return bool(listing.get("KeyCount", 0))

    def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        rel = normalize_path(path)
        if not exist_ok and self.exists(rel):
            raise FileExistsError(f"{self.url(rel)} exists")

    def copy(self, src: str | Path, dst: str | Path) -> None:
        source = {"Bucket": self.bucket, "Key": self._key(src)}
        if normalize_path(src) == normalize_path(dst):
            with self._translate("copy", src):
                self.client.head_object(**source)  # a missing source is still an error
            return
        from botocore.exceptions import ClientError

        target = self._placed_file_key(dst)
        with self._translate("copy", src):
            try:  # one request for any object up to 5 GB ...
                self.client.copy_object(CopySource=source, Bucket=self.bucket, Key=target)
            except ClientError as exc:  # ... a larger one is copied in parts
                if not _too_large_to_copy_at_once(exc):
                    raise
                self.client.copy(source, self.bucket, target, Config=self._transfer_config())
        self._note_written(target)

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        rel = normalize_path(path)
        base = self.prefix + (f"{rel}/" if rel else "")
        names: list[str] = []
        with self._translate("list", path):
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=base, Delimiter="/"):
                names += [c["Prefix"][len(base) : -1] for c in page.get("CommonPrefixes", [])]
                names += [o["Key"][len(base) :] for o in page.get("Contents", [])]
        return matching_paths(rel, names, pattern, where=self.url(rel))

    def remove(self, path: str | Path) -> None:
        key = self._require_file_key(path)
        with self._translate("remove", path):
            self.client.head_object(Bucket=self.bucket, Key=key)
            self.client.delete_object(Bucket=self.bucket, Key=key)

    # -- capabilities ----------------------------------------------------
    def read_each(
        self,
        paths: Sequence[str],
        handle: Callable[[int, ReadOutcome, str | None], T],
        *,
        max_workers: int = 32,
    ) -> list[T]:
        from idfkit.simulation.fs import _s3_direct

        return _s3_direct.read_each(self, paths, handle, max_workers=max_workers)

    def versions_of(self, paths: Sequence[str], *, max_workers: int = 8) -> dict[str, str]:
        from idfkit.simulation.fs import _s3_direct

        return _s3_direct.versions_of(self, paths, max_workers=max_workers)

    def put_file(self, local_path: str | Path, path: str | Path) -> str:
        key = self._placed_file_key(path)
        # Read once: hashed as it is sent, and the digest goes into the manifest.
        with self._translate("upload to", path), open(local_path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size < self.multipart_threshold:
                data = fh.read()
                sha256 = hashlib.sha256(data)
                self._put(key, data, sha256.digest())
                digest = sha256.hexdigest()
            else:
                digest = self._upload_stream(fh, key)
        self._note_written(key)
        log.debug("uploaded %s to s3://%s/%s", local_path, self.bucket, key)
        return digest

    def get_file(self, path: str | Path, local_path: str | Path) -> None:
        # One streamed GET, written in 1 MiB pieces: memory stays flat whatever the
        # size, and a read costs one request (a managed download adds a HEAD).
        with open(local_path, "w+b") as fh:
            self._download(path, fh)

    def stat(self, path: str | Path) -> FileInfo:
        with self._translate("stat", path):
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(path))
        return FileInfo(
            size=int(head["ContentLength"]),
            version=str(head.get("ETag", "")),
            sha256=head.get("Metadata", {}).get("sha256"),
        )

    def _require_file_key(self, path: str | Path) -> str:
        rel = normalize_path(path)
        if not rel:
            raise IsADirectoryError(f"{self.url()} is the root, not a file")
        return self.prefix + rel

    def _placed_file_key(self, path: str | Path) -> str:
        """The key of a file to write, after checking that no folder is there and no
        file lies above it (as on a disk). What a recent listing showed costs no request."""
        key = self._require_file_key(path)
        folder = _folder_of(key, self.prefix)
        seen = self._subfolders.get(folder)
        if seen is None or time.monotonic() - seen[0] > _LISTING_TTL:
            self._list_folder(folder, path)
            seen = self._subfolders.get(folder)
        name = key[len(folder) :]
        if (name in seen[1]) if seen is not None else self._is_dir(key):
            raise IsADirectoryError(f"{self.url(path)} is a directory")
        for parent in ancestors(key[len(self.prefix) :]):
            parent_key = self.prefix + parent
            if parent_key in self._known_dirs:
                continue
            if self._is_file(parent_key):
                raise NotADirectoryError(f"{self.url(path)}: {self.url(parent)} is a file")
            self._known_dirs.add(parent_key)
        return key

    def _list_folder(self, folder: str, path: str | Path) -> dict[str, str] | None:
        """ETags of the files directly in ``folder`` (a key ending in ``/``, or the prefix),
        remembering its subfolders; None when it holds more than one page."""
        with self._translate("list", path):
            page = self.client.list_objects_v2(Bucket=self.bucket, Prefix=folder, Delimiter="/")
        if page.get("IsTruncated"):
            return None
        files = {o["Key"]: str(o.get("ETag", "")) for o in page.get("Contents", [])}
        dirs = {c["Prefix"][len(folder) : -1] for c in page.get("CommonPrefixes", [])}
        if not files and not dirs:
            # Some servers (s3rver) list nested folders of an otherwise empty folder
            # as nothing: an empty listing answers nothing about subfolders.
            self._subfolders.pop(folder, None)
            return files
        self._subfolders[folder] = (time.monotonic(), dirs)
        if folder != self.prefix:
            # Something is stored below it: it and all above it are folders.
            self._known_dirs.update(
                self.prefix + a for a in [*ancestors(folder[len(self.prefix) :] + "x")]
            )
        return files

    def _note_written(self, key: str) -> None:
        """Keep the remembered listings true to this instance's own writes."""
        rel = key[len(self.prefix) :]
        for parent in ancestors(rel):
            self._known_dirs.add(self.prefix + parent)
            folder, _, name = (self.prefix + parent).rpartition("/")
            listed = self._subfolders.get(f"{folder}/" if folder else "")
            if listed is not None:
                listed[1].add(name)

    def _is_file(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        with self._translate("check", key[len(self.prefix) :]):
            try:
                self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _is_404(exc):
                    return False
                raise
        return True


class _Redactor(logging.Filter):
    """Blanks secrets out of the DEBUG records of botocore and its HTTP stack.

    It goes by where a secret sits, not by its value, so credentials that
    botocore refreshes later (role credentials, AssumeRole, SSO) are blanked
    too: the ``x-amz-security-token`` header or query parameter, the
    signature of an ``Authorization`` header or a presigned URL, and any
    field whose name looks secret (``SecretAccessKey``, ``SessionToken``,
    ``Password``, ...) in XML, JSON, Python reprs or query strings.
    """

    LOGGERS = (
        "botocore.auth",
        "botocore.awsrequest",
        "botocore.client",
        "botocore.credentials",
        "botocore.endpoint",
        "botocore.hooks",
        "botocore.httpchecksum",
        "botocore.httpsession",
        "botocore.parsers",
        "botocore.retryhandler",
        "botocore.utils",
        "s3transfer.copies",
        "s3transfer.download",
        "s3transfer.futures",
        "s3transfer.manager",
        "s3transfer.tasks",
        "s3transfer.upload",
        "s3transfer.utils",
        "urllib3.connectionpool",
    )
    _SECRET_NAME = (
        r"(?:x-amz-security-token|security[_-]?token|session[_-]?token|"
        r"secret[_-]?access[_-]?key|secret[_-]?key|aws[_-]?secret[_-]?access[_-]?key|"
        r"sse[_-]?customer[_-]?key|password|client[_-]?secret|(?<![a-z_-])token)"
    )
    PATTERNS = (
        # name: value / name=value / 'name': b'value' / "name": "value" / <name>value<
        re.compile(
            r"(?i)(" + _SECRET_NAME + r"""['"]?\s*(?:[:=]|>)\s*(?:b?['"])?)"""
            r"""([^'"<>\s,&;}\\]+)"""
        ),
        # The signature proves knowledge of the secret key: never log it.
        re.compile(r"(?i)((?:signature|x-amz-signature)\s*[=:]\s*)([0-9a-f]{16,})"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.installed = False
        self.lock = threading.Lock()

    def install(self) -> None:
        with self.lock:
            if not self.installed:
                for name in self.LOGGERS:
                    logging.getLogger(name).addFilter(self)
                self.installed = True

    @classmethod
    def redact(cls, text: str) -> str:
        for pattern in cls.PATTERNS:
            text = pattern.sub(r"\1***", text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


_REDACTOR = _Redactor()


def _folder_of(key: str, prefix: str) -> str:
    """The folder key (ending in ``/``, or the prefix itself) that holds ``key``."""
    folder, sep, _ = key.rpartition("/")
    return f"{folder}/" if sep and len(folder) >= len(prefix) else prefix


_SHARED: dict[str, Any] = {"pid": -1, "session": None}
_SHARED_LOCK = threading.Lock()


def _shared_client(**options: Any) -> Any:
    """A client from this process's one boto3 session.

    The session holds the loaded service description and endpoint data, so
    every S3FileSystem after the first builds its client in milliseconds.
    Sessions are not thread-safe, so clients are made under a lock; a forked
    child makes its own session.
    """
    import boto3.session

    with _SHARED_LOCK:
        if _SHARED["pid"] != os.getpid() or _SHARED["session"] is None:
            _SHARED["session"] = boto3.session.Session()
            _SHARED["pid"] = os.getpid()
        return _SHARED["session"].client("s3", **options)


def _reveal(secret: SecretStr | None) -> str | None:
    return secret.get_secret_value() if secret is not None else None


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def _too_large_to_copy_at_once(exc: Exception) -> bool:
    """S3's answer to one CopyObject of an object over 5 GB (and nothing else)."""
    response = getattr(exc, "response", None)
    error = response.get("Error", {}) if isinstance(response, dict) else {}
    message = str(error.get("Message", "")).lower()
    return _error_code(exc) == "EntityTooLarge" or (
        _error_code(exc) == "InvalidRequest" and "larger than the maximum" in message
    )


def _refuses_conditions(exc: Exception) -> bool:
    """A server's answer that it does not implement a conditional request (501)."""
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status == 501 or str(response.get("Error", {}).get("Code", "")) == "NotImplemented"


def _is_404(exc: Exception) -> bool:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return False
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return _error_code(exc) in _NOT_FOUND or status == 404
