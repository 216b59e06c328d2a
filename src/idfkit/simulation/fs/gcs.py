"""Google Cloud Storage through Google's ``google-cloud-storage``.

The library is imported here and nowhere else, lazily, so ``idfkit.simulation``
imports without it (``pip install "idfkit[gcs]"``).
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from idfkit.simulation._optional import optional_import, require
from idfkit.simulation.exceptions import BucketNotFoundError, StorageConnectionError, StorageError
from idfkit.simulation.fs._object_store import (
    Listing,
    ObjectStoreFileSystem,
    StoredObject,
    read_environment_once,
)
from idfkit.simulation.fs.base import normalize_path

__all__ = ["GCSFileSystem"]

_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9._\-]{1,220}[a-z0-9]\Z")
_MiB = 1024 * 1024

# HTTP status -> what the contract calls it.
_BY_STATUS = {404: "missing", 412: "race", 403: "denied", 401: "denied"}


def _storage() -> Any:
    return optional_import("google.cloud.storage", "GCSFileSystem")


class GCSFileSystem(ObjectStoreFileSystem):
    """Objects in one Cloud Storage bucket, under an optional name prefix.

    Credentials follow Google's chain (``GOOGLE_APPLICATION_CREDENTIALS``,
    gcloud's application-default login, the metadata server of a VM, Cloud
    Run or GKE) unless ``credentials`` or ``service_account_file`` is given.
    ``endpoint_url``, or ``STORAGE_EMULATOR_HOST`` in the environment, points
    at an emulator, reached without credentials. Versions are Cloud Storage
    generations, so conditional writes are ``ifGenerationMatch``. Files from
    ``multipart_threshold`` up are sent as resumable uploads in
    ``block_size`` pieces and fetched in ranges, ``max_concurrency`` at once.
    Every write stores the content's SHA-256 as object metadata.

    Args:
        bucket: The bucket name.
        prefix: A name prefix under which every path lives.
        project: The Google Cloud project (for the client; objects need none).
        credentials: A ``google.auth`` credentials object.
        service_account_file: A service account key file to sign in with.
        endpoint_url: An emulator's or a private endpoint's URL.
        retry_timeout: Seconds within which a failed request is retried.
        max_attempts: Kept for symmetry with the S3 backend: the number of
            attempts shown in a connection error (Cloud Storage retries by time).
        connect_timeout: Seconds to wait for a connection.
        read_timeout: Seconds to wait for a response.
        max_concurrency: Ranges fetched at once for a large file.
        multipart_threshold: Size from which files go in pieces.
        block_size: Size of each piece (a multiple of 256 KiB).
        **client_kwargs: Any other keyword of ``google.cloud.storage.Client``
            (``client_options``, ``extra_headers``, ``_http``, ...).
    """

    scheme = "gs"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        project: str | None = None,
        credentials: Any = None,
        service_account_file: str | Path | None = None,
        endpoint_url: str | None = None,
        retry_timeout: float = 60.0,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_concurrency: int = 8,
        multipart_threshold: int = 16 * _MiB,
        block_size: int = 8 * _MiB,
        **client_kwargs: Any,
    ) -> None:
        if not isinstance(bucket, str) or not _BUCKET_RE.match(bucket) or ".." in bucket:
            raise ValueError(
                f"invalid Cloud Storage bucket name {bucket!r}: 3-222 characters of lowercase "
                "letters, digits, '.', '_' and '-', starting and ending with a letter or digit"
            )
        if block_size % (256 * 1024):
            raise ValueError(f"block_size {block_size} is not a multiple of 256 KiB")
        require("google.cloud.storage", "GCSFileSystem")
        self.container = bucket
        normalized = normalize_path(prefix)
        self.prefix = f"{normalized}/" if normalized else ""
        self.project = project
        self._credentials = credentials
        self.service_account_file = str(service_account_file) if service_account_file else None
        self.endpoint_url = endpoint_url or os.environ.get("STORAGE_EMULATOR_HOST") or None
        self.retry_timeout = retry_timeout
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_concurrency = max_concurrency
        self.multipart_threshold = multipart_threshold
        self.block_size = block_size
        self._client_kwargs = dict(client_kwargs)
        self._init_process_state()

    @property
    def bucket(self) -> str:
        """The bucket name."""
        return self.container

    def __repr__(self) -> str:
        where = f", endpoint_url={self.endpoint_url!r}" if self.endpoint_url else ""
        return f"GCSFileSystem(bucket={self.container!r}, prefix={self.prefix!r}{where})"

    _PROCESS_STATE = (*ObjectStoreFileSystem._PROCESS_STATE, "_bucket", "_bucket_checked")

    def _init_process_state(self) -> None:
        super()._init_process_state()
        self._bucket: Any = None
        self._bucket_checked = False

    # -- client ----------------------------------------------------------------
    def _make_client(self) -> Any:
        storage = _storage()
        options: dict[str, Any] = dict(self._client_kwargs)
        if self.endpoint_url:
            url = self.endpoint_url
            options["client_options"] = {"api_endpoint": url if "://" in url else f"http://{url}"}
        if self.service_account_file:
            return storage.Client.from_service_account_json(
                self.service_account_file, project=self.project, **options
            )
        credentials = self._credentials
        if credentials is None and self.endpoint_url:
            from google.auth.credentials import AnonymousCredentials

            credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            options["use_auth_w_custom_endpoint"] = False
        project = self.project or ("<none>" if self.endpoint_url else None)
        client = storage.Client(project=project, credentials=credentials, **options)
        if "_http" not in self._client_kwargs:
            read_environment_once(client._http)
        return client

    @property
    def _bucket_handle(self) -> Any:
        client = self.client
        if self._bucket is None or self._bucket.client is not client:
            self._bucket = client.bucket(self.container)
        return self._bucket

    @property
    def _timeout(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    @property
    def _retry(self) -> Any:
        from google.cloud.storage.retry import DEFAULT_RETRY

        return DEFAULT_RETRY.with_timeout(self.retry_timeout)

    # -- the one place where the library's errors become the contract's ---------
    @contextmanager
    def _translate(self, action: str, path: str | Path) -> Iterator[None]:
        from google.api_core.exceptions import GoogleAPICallError, RetryError
        from google.auth.exceptions import DefaultCredentialsError, RefreshError
        from requests.exceptions import ConnectionError as RequestsConnectionError
        from requests.exceptions import Timeout

        where = self.url(path)
        try:
            yield
        except GoogleAPICallError as exc:
            raise self._response_error(exc, action, where) from exc
        except (DefaultCredentialsError, RefreshError) as exc:
            raise PermissionError(
                f"no usable Google Cloud credentials to {action} {where}; set "
                "GOOGLE_APPLICATION_CREDENTIALS, run `gcloud auth application-default login`, "
                f"or pass them to GCSFileSystem ({type(exc).__name__})"
            ) from exc
        except (RequestsConnectionError, Timeout, RetryError) as exc:
            endpoint = self.endpoint_url or "the default Cloud Storage endpoint"
            raise StorageConnectionError(
                f"cannot reach Cloud Storage endpoint {endpoint} to {action} {where} "
                f"within {self.retry_timeout:g} s: {type(exc).__name__}"
            ) from exc

    def _response_error(self, exc: Any, action: str, where: str) -> OSError:
        status = int(getattr(exc, "code", 0) or 0)
        kind = _BY_STATUS.get(status)
        if kind == "missing":
            if not self._bucket_exists():
                return BucketNotFoundError(
                    f"Cloud Storage bucket {self.container!r} does not exist ({where})"
                )
            return FileNotFoundError(f"no such object: {where}")
        if kind == "race":
            return FileExistsError(f"{where} changed meanwhile (412): another writer came first")
        if kind == "denied":
            return PermissionError(f"access denied ({status}) trying to {action} {where}")
        message = str(getattr(exc, "message", exc)).splitlines()[0][:200]
        return StorageError(f"Cloud Storage error {status} trying to {action} {where}: {message}")

    def _bucket_exists(self) -> bool:
        """Tell a missing bucket from a missing object after a 404 (checked once)."""
        if self._bucket_checked:
            return True
        from google.api_core.exceptions import Forbidden

        try:
            found = bool(self._bucket_handle.exists(timeout=self._timeout, retry=self._retry))
        except Forbidden:
            return True  # it is there; we just may not look
        self._bucket_checked = found
        return found

    def _container_exists(self) -> bool:
        with self._translate("check", ""):
            return self._bucket_exists()

    # -- store requests ----------------------------------------------------------
    def _store_get(self, key: str, sink: IO[bytes]) -> None:
        """The first ``block_size`` bytes in one request (all of a small file); a larger
        file's other pieces then come in parallel, all of the generation first read."""
        bucket = self._bucket_handle
        blob = bucket.blob(key)
        start = sink.tell()
        options = {"timeout": self._timeout, "retry": self._retry, "checksum": None}
        from google.api_core.exceptions import RequestRangeNotSatisfiable

        try:
            blob.download_to_file(sink, start=0, end=self.block_size - 1, **options)
        except RequestRangeNotSatisfiable:
            return  # an empty object has no first byte to start from
        received = sink.tell() - start
        if received < self.block_size:
            return
        pinned = bucket.get_blob(key, generation=blob.generation, **_no_checksum(options))
        if pinned is None:
            raise _gone(key)
        size = int(pinned.size or 0)
        offsets = range(received, size, self.block_size)
        lock = threading.Lock()

        def fetch(offset: int) -> None:
            piece = io.BytesIO()
            end = min(offset + self.block_size, size) - 1
            bucket.blob(key, generation=pinned.generation).download_to_file(
                piece, start=offset, end=end, **options
            )
            if piece.tell() != end - offset + 1:
                raise StorageError(f"{self.url(key[len(self.prefix) :])}: a piece came back short")
            with lock:
                sink.seek(start + offset)
                sink.write(piece.getbuffer())

        with ThreadPoolExecutor(max(1, self.max_concurrency)) as pool:
            for done in [pool.submit(fetch, offset) for offset in offsets]:
                done.result()
        sink.seek(start + size)

    def _store_put(
        self,
        key: str,
        data: bytes | IO[bytes],
        sha256: str,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        blob = self._bucket_handle.blob(key)
        blob.metadata = {"sha256": sha256}
        conditions: dict[str, Any] = {}
        if if_match is not None:
            conditions["if_generation_match"] = _generation(if_match)
        elif if_none_match:
            conditions["if_generation_match"] = 0
        # An upload is retried only with a condition (else a retry might clobber
        # another writer); a plain write's condition is "at the generation it
        # replaces", which the library cannot know, so a plain write is sent once.
        retry = self._retry if conditions else None
        if isinstance(data, bytes):
            blob.upload_from_string(
                data, timeout=self._timeout, retry=retry, checksum=None, **conditions
            )
        else:
            blob.chunk_size = self.block_size
            size = os.fstat(data.fileno()).st_size
            blob.upload_from_file(data, size=size, timeout=self._timeout, retry=retry, **conditions)
        return str(blob.generation)

    def _store_head(self, key: str) -> StoredObject | None:
        blob = self._bucket_handle.get_blob(key, timeout=self._timeout, retry=self._retry)
        if blob is None:
            return None
        return StoredObject(
            size=int(blob.size or 0),
            version=str(blob.generation),
            sha256=(blob.metadata or {}).get("sha256"),
        )

    def _store_list(self, folder: str, *, limit: int | None = None) -> Listing:
        files: dict[str, str] = {}
        folders: set[str] = set()
        found = self.client.list_blobs(
            self.container,
            prefix=folder or None,
            delimiter="/",
            timeout=self._timeout,
            retry=self._retry,
            page_size=limit,
        )
        for count, page in enumerate(found.pages):
            if limit is not None and count:
                return Listing(files, folders, complete=False)
            for blob in page:
                files[str(blob.name)] = str(blob.generation)
            folders.update(str(p)[len(folder) : -1] for p in page.prefixes)
        return Listing(files, folders)

    def _store_any_below(self, folder: str) -> bool:
        found = self.client.list_blobs(
            self.container,
            prefix=folder or None,
            max_results=1,
            timeout=self._timeout,
            retry=self._retry,
        )
        return any(True for _ in found)

    def _store_copy(self, src: str, dst: str) -> None:
        bucket = self._bucket_handle
        source = bucket.blob(src)
        target = bucket.blob(dst)
        token, _, _ = target.rewrite(source, timeout=self._timeout, retry=self._retry)
        while token is not None:  # a large object is copied in several calls
            token, _, _ = target.rewrite(
                source, token=token, timeout=self._timeout, retry=self._retry
            )

    def _store_delete(self, key: str) -> None:
        self._bucket_handle.blob(key).delete(timeout=self._timeout, retry=self._retry)

    def create_bucket(self) -> None:
        """Create the bucket (for tests and first runs); no error if it is there."""
        from google.api_core.exceptions import Conflict

        with self._translate("create", ""), suppress(Conflict):
            self.client.create_bucket(self.container, timeout=self._timeout)


def _no_checksum(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items() if k != "checksum"}


def _gone(key: str) -> Exception:
    from google.api_core.exceptions import NotFound

    return NotFound(f"{key} was replaced while it was read")  # type: ignore[no-untyped-call]


def _generation(version: str) -> int:
    try:
        return int(version)
    except ValueError:
        raise ValueError(
            f"{version!r} is not a Cloud Storage generation (a whole number)"
        ) from None
