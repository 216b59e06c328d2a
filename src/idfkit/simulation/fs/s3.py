"""Amazon S3 (and S3-compatible services) through boto3.

boto3 is imported by the modules of this backend only (``_s3_*``), lazily, so
``idfkit.simulation`` imports without it. Beside this module: the process's
clients (``_s3_client``), the error table (``_s3_errors``), the retrying
reader (``_s3_reader``), the lean path for many small reads (``_s3_direct``),
the folder index shared with the other object stores (``_folder_index``) and
the log redaction (``_redact``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import re
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, TypeVar, cast
from urllib.parse import urlsplit

from pydantic import SecretStr

from idfkit.simulation._optional import optional_import
from idfkit.simulation.exceptions import BucketNotFoundError, StorageError
from idfkit.simulation.fs._folder_index import FolderIndex, folder_of
from idfkit.simulation.fs._s3_client import (
    check_endpoint,
    freeze_session,
    make_client,
    signing_credentials,
    transfer_config,
)
from idfkit.simulation.fs._s3_errors import (
    conditions_refused,
    error_code,
    is_404,
    too_large_to_copy_at_once,
    translated,
)
from idfkit.simulation.fs._s3_reader import download
from idfkit.simulation.fs.base import FileInfo, HashingReader, matching_paths, normalize_path

if TYPE_CHECKING:
    from boto3.session import Session
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CopySourceTypeDef

    from idfkit.simulation.fs._bulk import ReadOutcome

__all__ = ["S3FileSystem"]

T = TypeVar("T")

log = logging.getLogger(__name__)

_BUCKET_RE = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]\Z")
_MiB = 1024 * 1024


def _boto() -> Any:
    return optional_import("boto3", "S3FileSystem")


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
        session: Session | None = None,
        client: S3Client | None = None,
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
        check_endpoint(endpoint_url)
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
        self._client: S3Client | None = None
        self._client_pid = -1
        self._client_lock = threading.Lock()
        self._bucket_checked = False
        self._folders = FolderIndex(self.prefix)

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
            "_folders",
        ):
            state.pop(name)
        freeze_session(state)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_process_state()

    # -- client ----------------------------------------------------------
    @property
    def client(self) -> S3Client:
        """The boto3 S3 client of this process (made on first use)."""
        if self._user_client is not None:
            return self._user_client
        if self._client is None or self._client_pid != os.getpid():
            with self._client_lock:
                if self._client is None or self._client_pid != os.getpid():
                    self._client = self._make_client()
                    self._client_pid = os.getpid()
        return self._client

    def _make_client(self) -> S3Client:
        _boto()
        return make_client(self)

    def signing_credentials(self) -> Any:
        """The botocore credentials this file system's client signs with, or None.

        Reached through public API only: the given boto3 session's
        ``get_credentials()``, the explicit keys, or the process's shared
        session's chain (the object its clients use, refreshed as botocore
        refreshes it). None for a ready client, whose credentials only its
        internals hold, and when no credentials are found.
        """
        return signing_credentials(self)

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
        """The ``s3://`` URL of a path.

        Args:
            path: A path below this backend's prefix ("" for the prefix itself).
        """
        return f"s3://{self.bucket}/{self._key(path)}"

    def _translate(self, action: str, path: str | Path) -> AbstractContextManager[None]:
        """Run a request, raising its errors as the contract's (see ``_s3_errors``)."""
        return translated(self, action, path)

    def _bucket_exists(self) -> bool:
        """Tell a missing bucket from a missing key after a bare 404 (checked once)."""
        if self._bucket_checked:
            return True
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            # 403 and the like: the bucket is there, we just may not look.
            return not (is_404(exc) or error_code(exc) == "NoSuchBucket")
        self._bucket_checked = True
        return True

    # -- the nine methods --------------------------------------------------
    def read_bytes(self, path: str | Path) -> bytes:
        buffer = io.BytesIO()
        download(self, path, buffer)
        return buffer.getvalue()

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        key = self._placed_file_key(path)
        with self._translate("write", path):
            if len(data) < self.multipart_threshold:
                self._put(key, data, hashlib.sha256(data).digest())
            else:
                self._upload_stream(io.BytesIO(data), key)
        self._folders.note_written(key)
        log.debug("wrote s3://%s/%s (%d bytes)", self.bucket, key, len(data))

    def _put(self, key: str, data: bytes, sha256: bytes, **conditions: Any) -> str:
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
            cast("IO[bytes]", reader),  # boto3 takes it in order, through read() alone
            self.bucket,
            key,
            ExtraArgs=extra,
            Config=transfer_config(self),
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
        conditions: dict[str, Any] = {}
        if if_match is not None:
            conditions["IfMatch"] = if_match
        if if_none_match:
            conditions["IfNoneMatch"] = "*"
        try:
            with self._translate("write", path):
                return self._put(key, data, hashlib.sha256(data).digest(), **conditions)
        except StorageError as exc:
            refused = conditions_refused(self, exc, path) if conditions else None
            if refused is None:
                raise
            raise refused from exc
        except FileNotFoundError as exc:
            if isinstance(exc, BucketNotFoundError) or if_match is None:
                raise
            raise FileExistsError(f"{self.url(path)} is gone: another writer came first") from exc

    def version(self, path: str | Path) -> str | None:
        # One listing of the folder answers this and, for the files written next
        # into that folder, whether a folder stands in their place.
        key = self._require_file_key(path)
        files = self._list_folder(folder_of(key, self.prefix), path)
        if files is not None:
            return files.get(key)
        from botocore.exceptions import ClientError

        with self._translate("check", path):
            try:
                head = self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if is_404(exc) and self._bucket_exists():
                    return None
                raise
        return str(head.get("ETag", ""))

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
                    if not is_404(exc) or not self._bucket_exists():
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
        source: CopySourceTypeDef = {"Bucket": self.bucket, "Key": self._key(src)}
        if normalize_path(src) == normalize_path(dst):
            with self._translate("copy", src):
                # A missing source is still an error.
                self.client.head_object(Bucket=self.bucket, Key=source["Key"])
            return
        from botocore.exceptions import ClientError

        target = self._placed_file_key(dst)
        with self._translate("copy", src):
            try:  # one request for any object up to 5 GB ...
                self.client.copy_object(CopySource=source, Bucket=self.bucket, Key=target)
            except ClientError as exc:  # ... a larger one is copied in parts
                if not too_large_to_copy_at_once(exc):
                    raise
                self.client.copy(source, self.bucket, target, Config=transfer_config(self))
        self._folders.note_written(target)

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
        """Many small reads at once, over the lean GET path (see ``_s3_direct``).

        Args:
            paths: The files to read.
            handle: Called as ``handle(i, outcome, etag)`` for each ``paths[i]``
                (see ``fs._bulk.SupportsReadEach``).
            max_workers: Reads in flight at once.
        """
        from idfkit.simulation.fs import _s3_direct

        return _s3_direct.read_each(self, paths, handle, max_workers=max_workers)

    def versions_of(self, paths: Sequence[str], *, max_workers: int = 8) -> dict[str, str]:
        """ETags of ``paths`` from listings of their folders (see ``_s3_direct``).

        Args:
            paths: The files to ask about; those that do not exist are left out.
            max_workers: Listings in flight at once.
        """
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
        self._folders.note_written(key)
        log.debug("uploaded %s to s3://%s/%s", local_path, self.bucket, key)
        return digest

    def get_file(self, path: str | Path, local_path: str | Path) -> None:
        # One streamed GET, written in 1 MiB pieces: memory stays flat whatever the
        # size, and a read costs one request (a managed download adds a HEAD).
        with open(local_path, "w+b") as fh:
            download(self, path, fh)

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
        self._folders.check_placement(
            key,
            url=f"s3://{self.bucket}/",
            list_folder=lambda folder: self._list_folder(folder, path),
            holds_below=self._is_dir,
            holds_file=self._is_file,
        )
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
        self._folders.listed(folder, dirs, has_files=bool(files))
        return files

    def _is_file(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        with self._translate("check", key[len(self.prefix) :]):
            try:
                self.client.head_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if is_404(exc):
                    return False
                raise
        return True
