"""Any fsspec filesystem (GCS, Azure, memory, ...) as a FileSystem.

fsspec is imported here and nowhere else (the `fsspec` extra)
plus the fsspec plugin of the store (gcsfs, adlfs, ...).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from idfkit.simulation._optional import optional_import
from idfkit.simulation.fs.base import FileInfo, ancestors, matching_paths, normalize_path

__all__ = ["FsspecFileSystem"]


def _fsspec() -> Any:
    return optional_import("fsspec", "FsspecFileSystem")


class FsspecFileSystem:
    """A FileSystem over an ``fsspec.AbstractFileSystem``, rooted at ``root`` on it."""

    def __init__(self, fs: Any, root: str = "") -> None:
        self.fs = fs
        self.root = root.rstrip("/")

    @classmethod
    def from_url(cls, url: str, **storage_options: Any) -> FsspecFileSystem:
        """E.g. ``FsspecFileSystem.from_url("gs://bucket/prefix", token=...)``."""
        fs, root = _fsspec().core.url_to_fs(url, **storage_options)
        return cls(fs, root)

    def __repr__(self) -> str:
        protocol = self.fs.protocol if isinstance(self.fs.protocol, str) else self.fs.protocol[0]
        return f"FsspecFileSystem({protocol}://{self.root})"

    def _file(self, path: str | Path) -> str:
        """The full path of a file to write: no folder there, no file above it."""
        rel = normalize_path(path)
        if not rel:
            raise IsADirectoryError(f"{path!r} names the root {self.root or '/'}, not a file")
        full = self._full(rel)
        if self.fs.isdir(full):
            raise IsADirectoryError(f"{full} is a directory")
        for parent in ancestors(rel):
            if self.fs.isfile(self._full(parent)):
                raise NotADirectoryError(f"{full}: {self._full(parent)} is a file")
        return full

    def _full(self, path: str | Path) -> str:
        rel = normalize_path(path)
        if not rel:
            return self.root or "/"
        return f"{self.root}/{rel}" if self.root else rel

    def _existing_file(self, path: str | Path) -> str:
        full = self._full(path)
        if not self.fs.isfile(full):
            if not normalize_path(path) or self.fs.isdir(full):
                raise IsADirectoryError(f"{full} is a directory")
            raise FileNotFoundError(f"no such file: {full}")
        return full

    def read_bytes(self, path: str | Path) -> bytes:
        full = self._existing_file(path)
        data: bytes = self.fs.cat_file(full)
        return data

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        full = self._file(path)
        parent = full.rsplit("/", 1)[0]
        if parent and parent != full:
            self.fs.makedirs(parent, exist_ok=True)
        self.fs.pipe_file(full, data)

    def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding)

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(path, text.encode(encoding))

    def exists(self, path: str | Path) -> bool:
        full = self._full(path)
        if self.fs.isfile(full):
            return True
        return bool(self.fs.isdir(full) and self.fs.ls(full, detail=False))

    def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        full = self._full(path)
        if not exist_ok and self.exists(path):
            raise FileExistsError(f"{full} exists")
        self.fs.makedirs(full, exist_ok=True)

    def copy(self, src: str | Path, dst: str | Path) -> None:
        data = self.read_bytes(src)
        if normalize_path(src) != normalize_path(dst):
            self.write_bytes(dst, data)

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        rel = normalize_path(path)
        full = self._full(rel)
        if not self.fs.isdir(full):
            return []
        names = {
            str(entry).rstrip("/").rsplit("/", 1)[-1] for entry in self.fs.ls(full, detail=False)
        }
        return matching_paths(rel, names, pattern, where=repr(self))

    def remove(self, path: str | Path) -> None:
        full = self._full(path)
        if not self.fs.isfile(full):
            raise FileNotFoundError(f"no such file: {full}")
        self.fs.rm_file(full)

    def put_file(self, local_path: str | Path, path: str | Path) -> None:
        full = self._file(path)
        parent = full.rsplit("/", 1)[0]
        if parent and parent != full:
            self.fs.makedirs(parent, exist_ok=True)
        self.fs.put_file(os.fspath(local_path), full)

    def get_file(self, path: str | Path, local_path: str | Path) -> None:
        full = self._existing_file(path)
        self.fs.get_file(full, os.fspath(local_path))

    def stat(self, path: str | Path) -> FileInfo:
        full = self._full(path)
        if not self.fs.isfile(full):
            raise FileNotFoundError(f"no such file: {full}")
        info = self.fs.info(full)
        version = info.get("etag") or info.get("mtime") or info.get("created") or ""
        return FileInfo(size=int(info["size"]), version=f"{version}-{info['size']}")
