"""A local, content-addressed cache of downloaded result files.

A file is kept under its sha256, so a second read of the same content, from
the same or a new ``SimulationResult`` in this process or a later one, costs
no download; changed content has another hash and is fetched afresh.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from idfkit.exceptions import IncompleteResultError, StorageError
from idfkit.simulation.fs.base import FileSystem, download_file, file_info
from idfkit.simulation.manifest import ManifestFile, hash_file

__all__ = ["cache_dir", "fetch"]


def cache_dir() -> Path:
    """``IDFKIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/idfkit``, else ``~/.cache/idfkit``."""
    explicit = os.environ.get("IDFKIT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "idfkit"


def fetch(fs: FileSystem, path: str, expected: ManifestFile | None, *, where: str) -> Path:
    """A local copy of ``path`` on ``fs``, checked against ``expected`` when given.

    With an expected hash the cache is looked up before any request; a
    download that differs from it raises ``IncompleteResultError`` and is
    not kept. Without one, the backend's version token (when it has one)
    keys the cache.
    """
    suffix = Path(path).suffix
    objects = cache_dir() / "objects"
    if expected is not None:
        target = objects / expected.sha256[:2] / f"{expected.sha256}{suffix}"
        if target.is_file():
            return target
        _download(fs, path, target, where=where, listed=True)
        size, digest = hash_file(target)
        if (size, digest) != (expected.size, expected.sha256):
            target.unlink()
            raise IncompleteResultError(
                f"{where} differs from its manifest entry (size {size} vs {expected.size}, "
                f"sha256 {digest[:12]}… vs {expected.sha256[:12]}…)"
            )
        return target
    info = file_info(fs, path)
    if info is not None:
        key = hashlib.sha256(f"{where}\0{info.version}\0{info.size}".encode()).hexdigest()
        target = objects / "unverified" / f"{key}{suffix}"
        if not target.is_file():
            _download(fs, path, target, where=where, listed=False)
        return target
    staging = objects / "unverified" / f"{os.getpid()}-{hashlib.sha256(where.encode()).hexdigest()}"
    _download(fs, path, staging, where=where, listed=False)
    _, digest = hash_file(staging)
    target = objects / digest[:2] / f"{digest}{suffix}"
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)
    return target


def _download(fs: FileSystem, path: str, target: Path, *, where: str, listed: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        download_file(fs, path, target)
    except FileNotFoundError as exc:
        if listed and not isinstance(exc, StorageError):  # a missing bucket is not a missing file
            raise IncompleteResultError(f"{where} is listed in the manifest but missing") from exc
        raise
