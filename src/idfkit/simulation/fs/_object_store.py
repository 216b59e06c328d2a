"""What an object store needs to keep the FileSystem contract, written once.

`ObjectStoreFileSystem` turns a handful of store requests (get, put, head,
list one level, copy, delete) into the nine methods and the capabilities of
``fs.base``. A cloud's backend (Azure Blob, Cloud Storage) implements those
requests on its client library and maps the library's errors; the folder
rules, the path checks and the request-saving memory of listings live here.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from idfkit.simulation.exceptions import BucketNotFoundError
from idfkit.simulation.fs._folder_index import FolderIndex, folder_of
from idfkit.simulation.fs.base import FileInfo, matching_paths, normalize_path

__all__ = ["Listing", "ObjectStoreFileSystem", "StoredObject", "read_environment_once"]

log = logging.getLogger(__name__)

_MiB = 1024 * 1024


_PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


def read_environment_once(session: Any) -> Any:
    """Spare a ``requests`` session its scan of the environment on every request.

    With ``trust_env`` a session looks up proxy variables (and a CA bundle)
    for each request, a fifth of the client's CPU per small request. Where no
    proxy variable is set, the session stops looking and takes the CA bundle
    variables now; where one is set, it keeps looking, as ``requests`` does.
    """
    names = {name.lower() for name in os.environ}
    if any(name in names for name in _PROXY_VARIABLES):
        return session
    session.trust_env = False
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    return session


@dataclass(frozen=True)
class StoredObject:
    """What a store says of one object without sending its content."""

    size: int
    version: str
    sha256: str | None


@dataclass(frozen=True)
class Listing:
    """One level of a folder: its files (key -> version) and its subfolder names."""

    files: dict[str, str]
    folders: set[str]
    complete: bool = True


class ObjectStoreFileSystem:
    """The FileSystem contract on top of a store's object requests.

    Subclasses set ``scheme`` and ``container`` and implement the ``_store_*``
    methods and ``_translate``; keys passed to them are full keys (prefix
    included). Every client is made lazily, once per process, so an instance
    pickles and works again in a worker process.
    """

    scheme = ""
    container = ""
    prefix = ""
    multipart_threshold = 16 * _MiB

    # -- what a backend provides --------------------------------------------
    def _make_client(self) -> Any:
        raise NotImplementedError

    def _translate(self, action: str, path: str | Path) -> AbstractContextManager[None]:
        """Map the library's errors to the contract's (see ``fs.base``)."""
        raise NotImplementedError

    def _store_get(self, key: str, sink: IO[bytes]) -> None:
        raise NotImplementedError

    def _store_put(
        self,
        key: str,
        data: bytes | IO[bytes],
        sha256: str,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        """Store ``data`` (bytes, or a file to stream) with its SHA-256; return its version."""
        raise NotImplementedError

    def _store_head(self, key: str) -> StoredObject | None:
        """None when no object is at ``key``."""
        raise NotImplementedError

    def _store_list(self, folder: str, *, limit: int | None = None) -> Listing:
        """The files and subfolders directly in ``folder`` (a key ending in ``/``, or ``""``)."""
        raise NotImplementedError

    def _store_any_below(self, folder: str) -> bool:
        """Whether any object's key starts with ``folder``."""
        raise NotImplementedError

    def _store_copy(self, src: str, dst: str) -> None:
        raise NotImplementedError

    def _store_delete(self, key: str) -> None:
        raise NotImplementedError

    def _container_exists(self) -> bool:
        raise NotImplementedError

    # -- process state -------------------------------------------------------
    def _init_process_state(self) -> None:
        self._client: Any = None
        self._client_pid = -1
        self._client_lock = threading.Lock()
        self._folders = FolderIndex(self.prefix)

    _PROCESS_STATE: tuple[str, ...] = (
        "_client",
        "_client_pid",
        "_client_lock",
        "_folders",
    )

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in self._PROCESS_STATE:
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._init_process_state()

    @property
    def client(self) -> Any:
        """The library's client of this process (made on first use)."""
        if self._client is None or self._client_pid != os.getpid():
            with self._client_lock:
                if self._client is None or self._client_pid != os.getpid():
                    self._client = self._make_client()
                    self._client_pid = os.getpid()
        return self._client

    # -- paths ---------------------------------------------------------------
    def _key(self, path: str | Path) -> str:
        return self.prefix + normalize_path(path)

    def url(self, path: str | Path = "") -> str:
        """The URL of a path (``az://container/key`` or ``gs://bucket/key``).

        Args:
            path: A path relative to the backend's root ("" for the root).
        """
        return f"{self.scheme}://{self.container}/{self._key(path)}"

    def _require_file_key(self, path: str | Path) -> str:
        rel = normalize_path(path)
        if not rel:
            raise IsADirectoryError(f"{self.url()} is the root, not a file")
        return self.prefix + rel

    def _missing_container(self) -> BucketNotFoundError:
        return BucketNotFoundError(f"{self.scheme}://{self.container} does not exist")

    # -- the nine methods ------------------------------------------------------
    def read_bytes(self, path: str | Path) -> bytes:
        sink = io.BytesIO()
        self._download(path, sink)
        return sink.getvalue()

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        key = self._placed_file_key(path)
        with self._translate("write", path):
            self._store_put(key, data, hashlib.sha256(data).hexdigest())
        self._folders.note_written(key)
        log.debug("wrote %s (%d bytes)", self.url(path), len(data))

    def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding)

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(path, text.encode(encoding))

    def exists(self, path: str | Path) -> bool:
        rel = normalize_path(path)
        key = self.prefix + rel
        with self._translate("check", path):
            if rel and self._store_head(key) is not None:
                return True
            # A listing in a missing container fails: an empty one means "not found".
            return self._store_any_below(f"{key}/" if rel else key)

    def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        rel = normalize_path(path)
        if not exist_ok and self.exists(rel):
            raise FileExistsError(f"{self.url(rel)} exists")

    def copy(self, src: str | Path, dst: str | Path) -> None:
        source = self._require_file_key(src)
        if normalize_path(src) == normalize_path(dst):
            with self._translate("copy", src):
                found = self._store_head(source)
            if found is None:
                raise self._not_found(src)
            return
        target = self._placed_file_key(dst)
        with self._translate("copy", src):
            self._store_copy(source, target)
        self._folders.note_written(target)

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        rel = normalize_path(path)
        folder = self.prefix + (f"{rel}/" if rel else "")
        with self._translate("list", path):
            listing = self._store_list(folder)
        names = [key[len(folder) :] for key in listing.files] + sorted(listing.folders)
        return matching_paths(rel, names, pattern, where=self.url(rel))

    def remove(self, path: str | Path) -> None:
        key = self._require_file_key(path)
        with self._translate("remove", path):
            self._store_delete(key)

    # -- capabilities ----------------------------------------------------------
    def put_file(self, local_path: str | Path, path: str | Path) -> str:
        """Upload a local file: small ones in one request, large ones streamed in parts."""
        key = self._placed_file_key(path)
        with open(local_path, "rb") as fh:
            if os.fstat(fh.fileno()).st_size < self.multipart_threshold:
                data = fh.read()
                digest = hashlib.sha256(data).hexdigest()
                with self._translate("upload to", path):
                    self._store_put(key, data, digest)
            else:
                # The digest travels with the upload as metadata, so it is known first.
                digest = hashlib.file_digest(fh, "sha256").hexdigest()
                fh.seek(0)
                with self._translate("upload to", path):
                    self._store_put(key, fh, digest)
        self._folders.note_written(key)
        return digest

    def get_file(self, path: str | Path, local_path: str | Path) -> None:
        with open(local_path, "w+b") as fh:
            self._download(path, fh)

    def stat(self, path: str | Path) -> FileInfo:
        key = self._require_file_key(path)
        with self._translate("stat", path):
            found = self._store_head(key)
        if found is None:
            raise self._not_found(path)
        return FileInfo(size=found.size, version=found.version, sha256=found.sha256)

    def write_bytes_if(
        self,
        path: str | Path,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        key = self._require_file_key(path)
        digest = hashlib.sha256(data).hexdigest()
        try:
            with self._translate("write", path):
                version = self._store_put(
                    key, data, digest, if_match=if_match, if_none_match=if_none_match
                )
        except FileNotFoundError as exc:
            if isinstance(exc, BucketNotFoundError) or if_match is None:
                raise
            raise FileExistsError(f"{self.url(path)} is gone: another writer came first") from exc
        self._folders.note_written(key)
        return version

    def version(self, path: str | Path) -> str | None:
        key = self._require_file_key(path)
        folder = folder_of(key, self.prefix)
        listing = self._list_folder(folder, path)
        if listing.complete:  # (a listing in a missing container fails)
            return listing.files.get(key)
        with self._translate("check", path):
            found = self._store_head(key)
        return None if found is None else found.version

    # -- helpers ---------------------------------------------------------------
    def _not_found(self, path: str | Path) -> FileNotFoundError:
        if not self._container_exists():
            return self._missing_container()
        return FileNotFoundError(f"no such object: {self.url(path)}")

    def _download(self, path: str | Path, sink: IO[bytes]) -> None:
        rel = normalize_path(path)
        if not rel:
            raise IsADirectoryError(f"{self.url()} is the root, not a file")
        key = self.prefix + rel
        try:
            with self._translate("read", path):
                self._store_get(key, sink)
        except FileNotFoundError as exc:
            if isinstance(exc, BucketNotFoundError):
                raise
            with self._translate("list", path):
                below = self._store_any_below(f"{key}/")
            if below:
                raise IsADirectoryError(f"{self.url(rel)} is a directory") from None
            raise
        log.debug("read %s", self.url(rel))

    def _placed_file_key(self, path: str | Path) -> str:
        """The key of a file to write, after checking that no folder is there and no
        file lies above it (as on a disk). What a recent listing showed costs no request."""
        key = self._require_file_key(path)

        def holds_below(key: str) -> bool:
            with self._translate("list", path):
                return self._store_any_below(f"{key}/")

        def holds_file(parent_key: str) -> bool:
            with self._translate("check", parent_key[len(self.prefix) :]):
                return self._store_head(parent_key) is not None

        self._folders.check_placement(
            key,
            url=f"{self.scheme}://{self.container}/",
            list_folder=lambda folder: self._list_folder(folder, path),
            holds_below=holds_below,
            holds_file=holds_file,
        )
        return key

    def _list_folder(self, folder: str, path: str | Path) -> Listing:
        """One level of ``folder``, remembering its subfolders for the writes that follow."""
        with self._translate("list", path):
            listing = self._store_list(folder, limit=1000)
        if listing.complete:
            self._folders.listed(folder, listing.folders, has_files=bool(listing.files))
        return listing


def iter_chunks(stream: IO[bytes], size: int = _MiB) -> Iterator[bytes]:
    """Pieces of ``stream`` until it ends."""
    while chunk := stream.read(size):
        yield chunk
