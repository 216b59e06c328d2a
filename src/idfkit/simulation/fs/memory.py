"""A real in-memory backend, one store per instance: for tests, docs and notebooks."""

from __future__ import annotations

import hashlib
import threading
import uuid
from pathlib import Path
from typing import Any

from idfkit.simulation.fs.base import FileInfo, ancestors, matching_paths, normalize_path

__all__ = ["MemoryFileSystem"]


class MemoryFileSystem:
    """Files held in a dict. Thread-safe; a pickled copy carries its files along."""

    def __init__(self) -> None:
        self._files: dict[str, bytes] = {}
        self._dirs: set[str] = set()
        self._versions: dict[str, int] = {}
        self._counter = 0
        self._lock = threading.Lock()
        self._id = uuid.uuid4().hex

    @property
    def store_id(self) -> str:
        """Unique to this instance: two stores never share a cached file."""
        return f"memory:{self._id}"

    def __repr__(self) -> str:
        return f"<MemoryFileSystem with {len(self._files)} files>"

    def __getstate__(self) -> dict[str, Any]:
        with self._lock:
            state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self._id = uuid.uuid4().hex  # a copy is a store of its own from now on

    def read_bytes(self, path: str | Path) -> bytes:
        key = normalize_path(path)
        with self._lock:
            try:
                return self._files[key]
            except KeyError:
                if not key or key in self._dirs or self._has_children(key):
                    raise IsADirectoryError(f"{key!r} is a directory") from None
                raise FileNotFoundError(f"no such file: {key!r}") from None

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        key = normalize_path(path)
        with self._lock:
            self._check_file_path(key)
            self._store(key, bytes(data))

    def _check_file_path(self, key: str) -> None:
        """A file may go at ``key``: it is no directory and no file lies above it."""
        if not key or key in self._dirs or self._has_children(key):
            raise IsADirectoryError(f"{key!r} is a directory")
        for parent in ancestors(key):
            if parent in self._files:
                raise NotADirectoryError(f"{key!r}: {parent!r} is a file")

    def _store(self, key: str, data: bytes) -> int:
        self._files[key] = data
        self._counter += 1
        self._versions[key] = self._counter
        return self._counter

    def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding)

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(path, text.encode(encoding))

    def exists(self, path: str | Path) -> bool:
        key = normalize_path(path)
        with self._lock:
            return not key or key in self._files or key in self._dirs or self._has_children(key)

    def _has_children(self, key: str) -> bool:
        prefix = key + "/"
        return any(k.startswith(prefix) for k in self._files) or any(
            d.startswith(prefix) for d in self._dirs
        )

    def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        key = normalize_path(path)
        with self._lock:
            if key in self._files:
                raise FileExistsError(f"{key!r} is a file")
            for parent in ancestors(key):
                if parent in self._files:
                    raise NotADirectoryError(f"{key!r}: {parent!r} is a file")
            if (key in self._dirs or self._has_children(key) or not key) and not exist_ok:
                raise FileExistsError(f"directory {key!r} exists")
            if key:
                self._dirs.add(key)

    def copy(self, src: str | Path, dst: str | Path) -> None:
        source, target = normalize_path(src), normalize_path(dst)
        data = self.read_bytes(source)
        if source != target:
            self.write_bytes(target, data)

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        base = normalize_path(path)
        prefix = f"{base}/" if base else ""
        names: set[str] = set()
        with self._lock:
            for key in [*self._files, *self._dirs]:
                if key.startswith(prefix) and key != base:
                    names.add(key[len(prefix) :].split("/", 1)[0])
        return matching_paths(base, names, pattern, where=repr(self))

    def remove(self, path: str | Path) -> None:
        key = normalize_path(path)
        with self._lock:
            if self._files.pop(key, None) is None:
                raise FileNotFoundError(f"no such file: {key!r}")
            self._versions.pop(key, None)

    def write_bytes_if(
        self,
        path: str | Path,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        key = normalize_path(path)
        with self._lock:
            self._check_file_path(key)
            current = str(self._versions[key]) if key in self._files else None
            if if_none_match and current is not None:
                raise FileExistsError(f"{key!r} exists (version {current})")
            if if_match is not None and current != if_match:
                raise FileExistsError(f"{key!r} is at version {current}, not {if_match}")
            return str(self._store(key, bytes(data)))

    def version(self, path: str | Path) -> str | None:
        key = normalize_path(path)
        with self._lock:
            return str(self._versions[key]) if key in self._files else None

    def stat(self, path: str | Path) -> FileInfo:
        key = normalize_path(path)
        with self._lock:
            if key not in self._files:
                raise FileNotFoundError(f"no such file: {key!r}")
            data = self._files[key]
            return FileInfo(
                size=len(data),
                version=str(self._versions[key]),
                sha256=hashlib.sha256(data).hexdigest(),
            )
