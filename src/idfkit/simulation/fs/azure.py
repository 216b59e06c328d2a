"""Azure Blob Storage through Microsoft's ``azure-storage-blob``.

The library is imported here and nowhere else, lazily, so ``idfkit.simulation``
imports without it (``pip install "idfkit[azure]"``).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from pydantic import SecretStr

from idfkit.simulation._optional import optional_import, require
from idfkit.simulation.exceptions import BucketNotFoundError, StorageConnectionError, StorageError
from idfkit.simulation.fs._object_store import (
    Listing,
    ObjectStoreFileSystem,
    StoredObject,
    read_environment_once,
)

__all__ = ["AzureBlobFileSystem"]

_CONTAINER_RE = re.compile(r"[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,62}\Z")
_MiB = 1024 * 1024

# The library's error codes, by what the contract calls them (checked in this order).
_ERRORS: tuple[tuple[frozenset[str], str], ...] = (
    (frozenset({"ContainerNotFound", "ContainerBeingDeleted"}), "container"),
    (frozenset({"ConditionNotMet", "BlobAlreadyExists", "TargetConditionNotMet"}), "race"),
    (frozenset({"BlobNotFound", "ResourceNotFound", "CannotVerifyCopySource"}), "missing"),
    (
        frozenset(
            {
                "AuthenticationFailed",
                "AuthorizationFailure",
                "AuthorizationPermissionMismatch",
                "InsufficientAccountPermissions",
                "AccountIsDisabled",
                "InvalidAuthenticationInfo",
            }
        ),
        "denied",
    ),
)
_BY_STATUS = {404: "missing", 412: "race", 409: "race", 403: "denied", 401: "denied"}


def _blob() -> Any:
    return optional_import("azure.storage.blob", "AzureBlobFileSystem")


class AzureBlobFileSystem(ObjectStoreFileSystem):
    """Blobs in one Azure Storage container, under an optional name prefix.

    Credentials, in order: an explicit ``connection_string``; an
    ``account_url`` with ``credential`` (an account key, a SAS token, or an
    ``azure.identity`` credential); ``AZURE_STORAGE_CONNECTION_STRING`` (how
    Azurite, the emulator, is reached); ``AZURE_STORAGE_ACCOUNT`` (or
    ``account_url``) with ``AZURE_STORAGE_KEY`` or, when ``azure-identity`` is
    installed, its ``DefaultAzureCredential`` chain. Requests are retried by
    the library (``max_attempts``); files from ``multipart_threshold`` up are
    sent and fetched in blocks, ``max_concurrency`` at once. Every write
    stores the content's SHA-256 as blob metadata, so ``stat`` tells it.

    Args:
        container: The container name.
        prefix: A name prefix under which every path lives.
        connection_string: A storage connection string.
        account_url: ``https://ACCOUNT.blob.core.windows.net`` (or an
            emulator's URL).
        credential: What ``azure-storage-blob`` takes as a credential.
        max_attempts: Attempts per request, the first included.
        connect_timeout: Seconds to wait for a connection.
        read_timeout: Seconds to wait for a response.
        max_concurrency: Blocks sent or fetched at once for a large file.
        multipart_threshold: Size from which files go in blocks.
        block_size: Size of each block.
        **client_kwargs: Any other keyword of ``ContainerClient`` (a
            ``transport``, ``proxies``, ``raw_response_hook``, ...).
    """

    scheme = "az"

    def __init__(
        self,
        container: str,
        prefix: str = "",
        *,
        connection_string: str | None = None,
        account_url: str | None = None,
        credential: Any = None,
        max_attempts: int = 5,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_concurrency: int = 8,
        multipart_threshold: int = 16 * _MiB,
        block_size: int = 8 * _MiB,
        **client_kwargs: Any,
    ) -> None:
        if not isinstance(container, str) or not (
            container == "$root" or _CONTAINER_RE.match(container)
        ):
            raise ValueError(
                f"invalid Azure container name {container!r}: 3-63 characters of lowercase "
                "letters, digits and single '-', starting and ending with a letter or digit"
            )
        require("azure.storage.blob", "AzureBlobFileSystem")
        from idfkit.simulation.fs.base import normalize_path

        self.container = container
        normalized = normalize_path(prefix)
        self.prefix = f"{normalized}/" if normalized else ""
        conn = connection_string or (
            None if account_url else os.environ.get("AZURE_STORAGE_CONNECTION_STRING")
        )
        self._connection_string = SecretStr(conn) if conn else None
        account = os.environ.get("AZURE_STORAGE_ACCOUNT")
        if account_url is None and conn is None and account:
            account_url = f"https://{account}.blob.core.windows.net"
        if conn is None and account_url is None:
            raise ValueError(
                "AzureBlobFileSystem needs a connection_string or account_url, or "
                "AZURE_STORAGE_CONNECTION_STRING or AZURE_STORAGE_ACCOUNT in the environment"
            )
        self.account_url = account_url
        if isinstance(credential, str):
            credential = SecretStr(credential)
        elif credential is None and conn is None and os.environ.get("AZURE_STORAGE_KEY"):
            credential = SecretStr(os.environ["AZURE_STORAGE_KEY"])
        self._credential = credential
        self.max_attempts = max_attempts
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_concurrency = max_concurrency
        self.multipart_threshold = multipart_threshold
        self.block_size = block_size
        self._client_kwargs = dict(client_kwargs)
        self._init_process_state()

    def __repr__(self) -> str:
        where = self.account_url or _endpoint_of(self._connection_string)
        return (
            f"AzureBlobFileSystem(container={self.container!r}, prefix={self.prefix!r}, "
            f"at={where!r})"
        )

    # -- client ----------------------------------------------------------------
    def _make_client(self) -> Any:
        blob = _blob()
        # The library's default waits 15 s before its first retry: start at half a second.
        retries = max(0, self.max_attempts - 1)
        retry = blob.ExponentialRetry(
            initial_backoff=0.5, increment_base=2, retry_total=retries, random_jitter_range=1
        )
        options: dict[str, Any] = {
            "retry_policy": retry,
            "retry_total": retries,
            "retry_connect": retries,
            "retry_read": retries,
            "retry_status": retries,
            "connection_timeout": self.connect_timeout,
            "read_timeout": self.read_timeout,
            "max_single_put_size": self.multipart_threshold,
            "max_block_size": self.block_size,
            "max_single_get_size": self.multipart_threshold,
            "max_chunk_get_size": self.block_size,
            **self._client_kwargs,
        }
        if "transport" not in options:
            options["transport"] = self._transport()
        if self._connection_string is not None:
            return blob.ContainerClient.from_connection_string(
                self._connection_string.get_secret_value(), self.container, **options
            )
        credential = self._credential
        if isinstance(credential, SecretStr):
            credential = credential.get_secret_value()
        elif credential is None:
            try:
                from azure.identity import DefaultAzureCredential
            except ImportError:
                credential = None  # anonymous: public containers only
            else:
                credential = DefaultAzureCredential()
        return blob.ContainerClient(
            self.account_url, self.container, credential=credential, **options
        )

    def _transport(self) -> Any:
        """The library's requests transport, on a session sized for parallel blocks."""
        import requests
        from azure.core.pipeline.transport import RequestsTransport

        session = read_environment_once(requests.Session())
        pool = max(10, 2 * self.max_concurrency)
        for scheme in ("http://", "https://"):
            session.mount(scheme, requests.adapters.HTTPAdapter(pool_maxsize=pool))
        return RequestsTransport(session=session, session_owner=True)

    # -- the one place where the library's errors become the contract's ---------
    @contextmanager
    def _translate(self, action: str, path: str | Path) -> Iterator[None]:
        from azure.core.exceptions import (
            ClientAuthenticationError,
            HttpResponseError,
            ServiceRequestError,
            ServiceResponseError,
        )

        where = self.url(path)
        try:
            yield
        except HttpResponseError as exc:
            raise self._response_error(exc, action, where) from exc
        except ClientAuthenticationError as exc:
            raise PermissionError(f"Azure refused the credentials to {action} {where}") from exc
        except (ServiceRequestError, ServiceResponseError) as exc:
            endpoint = self.account_url or _endpoint_of(self._connection_string)
            raise StorageConnectionError(
                f"cannot reach Azure Blob endpoint {endpoint} "
                f"to {action} {where} after {self.max_attempts} attempts: {type(exc).__name__}"
            ) from exc

    def _response_error(self, exc: Any, action: str, where: str) -> OSError:
        raw = getattr(exc, "error_code", "") or ""
        code = str(getattr(raw, "value", raw))
        status = getattr(exc, "status_code", None)
        kind = next((k for codes, k in _ERRORS if code in codes), None) or _BY_STATUS.get(
            status or 0
        )
        if kind == "container":
            return BucketNotFoundError(
                f"Azure container {self.container!r} does not exist ({where})"
            )
        if kind == "missing":
            return FileNotFoundError(f"no such blob: {where}")
        if kind == "race":
            return FileExistsError(
                f"{where} changed meanwhile ({code or status}): another writer came first"
            )
        if kind == "denied":
            return PermissionError(f"access denied ({code or status}) trying to {action} {where}")
        message = str(getattr(exc, "message", exc)).splitlines()[0][:200]
        return StorageError(f"Azure error {code or status} trying to {action} {where}: {message}")

    # -- store requests ----------------------------------------------------------
    def _store_get(self, key: str, sink: IO[bytes]) -> None:
        downloader = self.client.get_blob_client(key).download_blob(
            max_concurrency=self.max_concurrency
        )
        downloader.readinto(sink)

    def _store_put(
        self,
        key: str,
        data: bytes | IO[bytes],
        sha256: str,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        from azure.core import MatchConditions

        conditions: dict[str, Any] = {"overwrite": not if_none_match}
        if if_match is not None:
            conditions.update(
                etag=f'"{_etag(if_match)}"', match_condition=MatchConditions.IfNotModified
            )
        reply = self.client.get_blob_client(key).upload_blob(
            data,
            metadata={"sha256": sha256},
            max_concurrency=self.max_concurrency,
            **conditions,
        )
        return _etag(reply["etag"])

    def _store_head(self, key: str) -> StoredObject | None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            props = self.client.get_blob_client(key).get_blob_properties()
        except ResourceNotFoundError as exc:
            if getattr(exc, "error_code", None) == "ContainerNotFound":
                raise
            return None
        return StoredObject(
            size=int(props.size),
            version=_etag(props.etag),
            sha256=(props.metadata or {}).get("sha256"),
        )

    def _store_list(self, folder: str, *, limit: int | None = None) -> Listing:
        blob = _blob()
        files: dict[str, str] = {}
        folders: set[str] = set()
        pages = self.client.walk_blobs(name_starts_with=folder or None, delimiter="/").by_page()
        for count, page in enumerate(pages):
            if limit is not None and count:
                return Listing(files, folders, complete=False)
            for item in page:
                name = str(item.name)
                if isinstance(item, blob.BlobPrefix):
                    folders.add(name[len(folder) : -1])
                else:
                    files[name] = _etag(item.etag)
        return Listing(files, folders)

    def _store_any_below(self, folder: str) -> bool:
        pages = self.client.list_blobs(
            name_starts_with=folder or None, results_per_page=1
        ).by_page()
        return any(True for _ in next(pages, []))

    def _store_copy(self, src: str, dst: str) -> None:
        source = self.client.get_blob_client(src)
        target = self.client.get_blob_client(dst)
        target.start_copy_from_url(source.url, requires_sync=None)
        deadline = time.monotonic() + 600
        while True:
            copy = target.get_blob_properties().copy
            if copy.status in (None, "success"):
                return
            if copy.status != "pending" or time.monotonic() > deadline:
                raise StorageError(
                    f"Azure copy to {self.url(dst[len(self.prefix) :])} {copy.status}"
                )
            time.sleep(0.2)

    def _store_delete(self, key: str) -> None:
        self.client.get_blob_client(key).delete_blob()

    def _container_exists(self) -> bool:
        with self._translate("check", ""):
            return bool(self.client.exists())

    def create_container(self) -> None:
        """Create the container (for tests and first runs); no error if it is there."""
        from azure.core.exceptions import ResourceExistsError

        with self._translate("create", ""), suppress(ResourceExistsError):
            self.client.create_container()


def _etag(value: object) -> str:
    """An ETag without its quotes: Azure quotes it in some replies and not in listings."""
    return str(value).strip('"')


def _endpoint_of(connection_string: SecretStr | None) -> str:
    """The blob endpoint named in a connection string, never its key."""
    if connection_string is None:
        return "?"
    fields = dict(
        part.split("=", 1)
        for part in connection_string.get_secret_value().split(";")
        if "=" in part
    )
    if "BlobEndpoint" in fields:
        return fields["BlobEndpoint"]
    if fields.get("UseDevelopmentStorage") == "true":
        return "http://127.0.0.1:10000/devstoreaccount1"
    account = fields.get("AccountName", "?")
    return f"https://{account}.blob.{fields.get('EndpointSuffix', 'core.windows.net')}"
