"""Any fsspec filesystem (GCS, Azure, memory, ...) as a FileSystem.

fsspec is imported here and nowhere else (the `fsspec` extra)
plus the fsspec plugin of the store (gcsfs, adlfs, ...).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from idfkit.simulation._optional import optional_import
from idfkit.simulation.exceptions import StorageConnectionError, StorageError
from idfkit.simulation.fs.base import FileInfo, ancestors, matching_paths, normalize_path

__all__ = ["FsspecFileSystem"]

#: What an fsspec plugin's error becomes, by its type, first match wins. The builtin
#: types pass through as they are; anything else that is an OSError is a StorageError.
_BY_TYPE: tuple[tuple[type[BaseException], type[OSError] | None], ...] = (
    (FileNotFoundError, None),
    (PermissionError, None),
    (IsADirectoryError, None),
    (NotADirectoryError, None),
    (FileExistsError, None),
    (ConnectionError, StorageConnectionError),
    (TimeoutError, StorageConnectionError),
    (OSError, StorageError),
)
#: Fields of a plugin's ``info`` that change with the content, by preference (HTTP says ``ETag``).
_VERSION_FIELDS = ("etag", "ETag", "mtime", "created")
#: HTTP statuses that plugins carry on their own error types (``status``, ``code``).
_BY_STATUS: dict[int, type[OSError]] = {
    401: PermissionError,
    403: PermissionError,
    404: FileNotFoundError,
    500: StorageError,
    502: StorageConnectionError,
    503: StorageConnectionError,
    504: StorageConnectionError,
}


def _fsspec() -> Any:
    return optional_import("fsspec", "FsspecFileSystem")


class FsspecFileSystem:
    """A FileSystem over an ``fsspec.AbstractFileSystem``, rooted at ``root`` on it.

    Args:
        fs: The fsspec filesystem (an ``fsspec.AbstractFileSystem``).
        root: The folder on it below which every path lives ("" for its top).
    """

    def __init__(self, fs: Any, root: str = "") -> None:
        self.fs = fs
        self.root = root.rstrip("/")

    @classmethod
    def from_url(cls, url: str, **storage_options: Any) -> FsspecFileSystem:
        """E.g. ``FsspecFileSystem.from_url("gs://bucket/prefix", token=...)``.

        Args:
            url: An fsspec URL; its path becomes the root.
            **storage_options: Passed to the fsspec filesystem (credentials, ...).
        """
        fs, root = _fsspec().core.url_to_fs(url, **storage_options)
        return cls(fs, root)

    def __repr__(self) -> str:
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        return f"FsspecFileSystem({protocol}://{self.root})"

    @property
    def store_id(self) -> str | None:
        """The fsspec filesystem's own ``fsid`` and the root; None when it states no fsid."""
        try:
            fsid = self.fs.fsid
        except (NotImplementedError, AttributeError):
            return None
        return f"fsspec:{fsid}|{self.root}" if isinstance(fsid, str) and fsid else None

    @contextmanager
    def _translate(self, action: str, full: str) -> Iterator[None]:
        """The one place where a plugin's errors become the contract's (see `_BY_TYPE`)."""
        try:
            yield
        except Exception as exc:
            mapped = _mapped(exc)
            if mapped is None:
                raise
            raise mapped(f"{self!r} failed to {action} {full}: {exc}") from exc

    def _kind(self, full: str) -> str | None:
        """``"file"``, ``"directory"`` or None (not found); any other failure raises.

        fsspec's own ``isfile``/``isdir``/``exists`` answer False for every
        error, so a refused or unreachable store would read as empty.
        """
        try:
            with self._translate("look up", full):
                info = self.fs.info(full)
        except FileNotFoundError:
            return None
        return "directory" if info.get("type") == "directory" else "file"

    def _file(self, path: str | Path) -> str:
        """The full path of a file to write: no folder there, no file above it."""
        rel = normalize_path(path)
        if not rel:
            raise IsADirectoryError(f"{path!r} names the root {self.root or '/'}, not a file")
        full = self._full(rel)
        if self._kind(full) == "directory":
            raise IsADirectoryError(f"{full} is a directory")
        for parent in ancestors(rel):
            if self._kind(self._full(parent)) == "file":
                raise NotADirectoryError(f"{full}: {self._full(parent)} is a file")
        return full

    def _full(self, path: str | Path) -> str:
        rel = normalize_path(path)
        if not rel:
            return self.root or "/"
        return f"{self.root}/{rel}" if self.root else rel

    def _existing_file(self, path: str | Path) -> str:
        full = self._full(path)
        kind = self._kind(full)
        if kind != "file":
            if not normalize_path(path) or kind == "directory":
                raise IsADirectoryError(f"{full} is a directory")
            raise FileNotFoundError(f"no such file: {full}")
        return full

    def read_bytes(self, path: str | Path) -> bytes:
        full = self._existing_file(path)
        with self._translate("read", full):
            data: bytes = self.fs.cat_file(full)
        return data

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        full = self._file(path)
        parent = full.rsplit("/", 1)[0]
        with self._translate("write", full):
            if parent and parent != full:
                self.fs.makedirs(parent, exist_ok=True)
            self.fs.pipe_file(full, data)

    def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding)

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(path, text.encode(encoding))

    def exists(self, path: str | Path) -> bool:
        full = self._full(path)
        kind = self._kind(full)
        if kind != "directory":
            return kind == "file"
        with self._translate("list", full):
            return bool(self.fs.ls(full, detail=False))

    def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        full = self._full(path)
        if not exist_ok and self.exists(path):
            raise FileExistsError(f"{full} exists")
        with self._translate("make", full):
            self.fs.makedirs(full, exist_ok=True)

    def copy(self, src: str | Path, dst: str | Path) -> None:
        data = self.read_bytes(src)
        if normalize_path(src) != normalize_path(dst):
            self.write_bytes(dst, data)

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        rel = normalize_path(path)
        full = self._full(rel)
        if self._kind(full) != "directory":
            return []
        with self._translate("list", full):
            entries = self.fs.ls(full, detail=False)
        names = {str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in entries}
        return matching_paths(rel, names, pattern, where=repr(self))

    def remove(self, path: str | Path) -> None:
        full = self._full(path)
        if self._kind(full) != "file":
            raise FileNotFoundError(f"no such file: {full}")
        with self._translate("remove", full):
            self.fs.rm_file(full)

    def put_file(self, local_path: str | Path, path: str | Path) -> None:
        full = self._file(path)
        parent = full.rsplit("/", 1)[0]
        with self._translate("upload to", full):
            if parent and parent != full:
                self.fs.makedirs(parent, exist_ok=True)
            self.fs.put_file(os.fspath(local_path), full)

    def get_file(self, path: str | Path, local_path: str | Path) -> None:
        full = self._existing_file(path)
        with self._translate("download", full):
            self.fs.get_file(full, os.fspath(local_path))

    def stat(self, path: str | Path) -> FileInfo:
        full = self._full(path)
        with self._translate("stat", full):
            try:
                info = self.fs.info(full)
            except FileNotFoundError:
                raise FileNotFoundError(f"no such file: {full}") from None
        if info.get("type") == "directory":
            raise FileNotFoundError(f"no such file: {full} (a directory)")
        token = next((info[k] for k in _VERSION_FIELDS if info.get(k)), None)
        version = f"{token}-{info['size']}" if token is not None else ""  # "": no token
        return FileInfo(size=int(info["size"]), version=version)


def _mapped(exc: Exception) -> type[OSError] | None:
    """The contract's error type for a plugin's error; None to let it through unchanged."""
    for kind, mapped in _BY_TYPE:
        if isinstance(exc, kind):
            return mapped
    status = getattr(exc, "status", None) or getattr(exc, "status_code", None)
    if status is None:
        status = getattr(exc, "code", None)
    return _BY_STATUS.get(status) if isinstance(status, int) else None
