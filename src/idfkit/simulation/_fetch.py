"""Local copies of stored result files, checked before anyone sees them.

Two jobs, both about trusting what is on local disk:

- `check_local` tells whether a local file is the one a manifest entry
  describes, by size and SHA-256. Digests are remembered per file identity
  (device, inode, size, mtime, ctime), process-wide, so reading the same
  unchanged file again costs one `stat`.
- `fetch` downloads a file from any backend into a content-addressed cache.
  A download lands under a private name unique to the call, is verified, and
  only then is renamed to its trusted name: a concurrent reader never sees
  unverified bytes, and a process killed in between leaves only a staging
  file that nothing reads.

A cold read of a stored result needs its manifest and then a file: a
`Prefetch` starts the file's download while the manifest is read, so both
cost one round trip. The prefetched bytes stay a staging file until `fetch`
has checked them against the manifest entry, exactly as its own download.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from collections import OrderedDict
from pathlib import Path

from idfkit.simulation._cache_dirs import cache_root
from idfkit.simulation.exceptions import IncompleteResultError, StorageError
from idfkit.simulation.fs.base import (
    FileInfo,
    FileSystem,
    download_file,
    file_info,
    normalize_path,
    store_identity,
)
from idfkit.simulation.manifest import ManifestFile, hash_file

__all__ = ["Prefetch", "check_local", "fetch", "file_sha256", "worth_prefetching"]

_MEMO_SIZE = 65536
_memo: OrderedDict[tuple[int, int, int, int, int], str] = OrderedDict()
_memo_lock = threading.Lock()


def _identity(st: os.stat_result) -> tuple[int, int, int, int, int]:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def file_sha256(path: Path) -> str:
    """The SHA-256 of a local file, remembered while the file stays unchanged.

    Args:
        path: The local file.

    Returns:
        The lowercase hex digest.

    Raises:
        FileNotFoundError: The file does not exist.
    """
    before = _identity(os.stat(path))
    with _memo_lock:
        known = _memo.get(before)
        if known is not None:
            _memo.move_to_end(before)
            return known
    size, digest = hash_file(path)
    # Remember it only if nothing touched the file while it was read.
    if size == before[2] and _identity(os.stat(path)) == before:
        with _memo_lock:
            _memo[before] = digest
            if len(_memo) > _MEMO_SIZE:
                _memo.popitem(last=False)
    return digest


def check_local(path: Path, expected: ManifestFile, *, where: str) -> None:
    """Raise unless the local file at `path` has `expected`'s size and SHA-256.

    Raises:
        IncompleteResultError: The file is missing, or its size or digest differs.
    """
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise IncompleteResultError(f"{where} is listed in the manifest but missing") from None
    if not path.is_file():
        raise IncompleteResultError(f"{where} is listed in the manifest but is not a file")
    if size != expected.size:
        raise IncompleteResultError(f"{where} is {size} bytes, manifest says {expected.size}")
    digest = file_sha256(path)
    if digest != expected.sha256:
        raise IncompleteResultError(
            f"{where} differs from its manifest entry "
            f"(sha256 {digest[:12]}… vs {expected.sha256[:12]}…)"
        )


def fetch(
    fs: FileSystem,
    path: str,
    expected: ManifestFile | None,
    *,
    where: str,
    fresh: bool = False,
    staged: Path | None = None,
) -> Path:
    """A local copy of `path` on `fs`, checked against `expected` when given.

    With an expected entry the cache is looked up (and the cached copy
    checked) before any request; a download that differs raises
    `IncompleteResultError` and is never kept. Without one, a backend that
    names its store (`store_identity`) and versions its files has the copy
    cached under the store's identity, the path and the version, so two
    stores never share a cached file, if the file is still at that version
    once downloaded; any other download is kept under its content's hash.

    Args:
        fs: The backend holding the file.
        path: The file's path on `fs`.
        expected: The file's manifest entry, or None for a folder without one.
        where: The file's location, named in errors.
        fresh: Download and check the stored object even when a checked
            copy is cached (`verify(deep=True)` checks the store, not the cache).
        staged: The file's content already downloaded (a `Prefetch`), unchecked:
            it is checked against `expected` like a download, and removed
            when not used.

    Returns:
        The local path of the cached copy.
    """
    suffix = _suffix(path)
    objects = cache_root() / "objects"
    if expected is not None:
        target = objects / expected.sha256[:2] / f"{expected.sha256}{suffix}"
        if not fresh and _holds(target, expected):
            if staged is not None:
                staged.unlink(missing_ok=True)
            return target
        if staged is None:
            staged = _stage(fs, path, where=where, listed=True)
        placed = _place_verified(staged, target, expected, where=where)
        _note_cached(fs, path, expected.sha256)
        return placed
    if staged is not None:  # without an entry to check it by, it is read the usual way
        staged.unlink(missing_ok=True)
    store = store_identity(fs)
    info = file_info(fs, path) if store is not None and not fresh else None
    if store is not None and info is not None and info.version:
        identity = "\0".join((store, normalize_path(path), info.version, str(info.size)))
        key = hashlib.sha256(identity.encode()).hexdigest()
        target = objects / "unverified" / f"{key}{suffix}"
        if target.is_file():
            return target
        staging = _stage(fs, path, where=where, listed=False)
        if _unchanged(fs, path, info):  # else what arrived may not be that version's
            return _place(staging, target)
    else:
        staging = _stage(fs, path, where=where, listed=False)
    digest = file_sha256(staging)
    return _place(staging, objects / digest[:2] / f"{digest}{suffix}")


def _holds(target: Path, expected: ManifestFile) -> bool:
    try:
        check_local(target, expected, where=str(target))
    except IncompleteResultError:
        return False
    return True


def _place_verified(staging: Path, target: Path, expected: ManifestFile, *, where: str) -> Path:
    """Place a downloaded staging file at `target` if it is `expected`'s content; else refuse it."""
    try:
        size, digest = hash_file(staging)
        if (size, digest) != (expected.size, expected.sha256):
            raise IncompleteResultError(
                f"{where} differs from its manifest entry (size {size} vs {expected.size}, "
                f"sha256 {digest[:12]}… vs {expected.sha256[:12]}…)"
            )
        return _place(staging, target)
    finally:
        staging.unlink(missing_ok=True)


def _stage(fs: FileSystem, path: str, *, where: str, listed: bool) -> Path:
    """Download `path` under a name no other call uses; the caller places or removes it."""
    staging = cache_root() / "objects" / "staging" / f"{uuid.uuid4().hex}.part"
    staging.parent.mkdir(parents=True, exist_ok=True)
    try:
        download_file(fs, path, staging)
    except FileNotFoundError as exc:
        if listed and not isinstance(exc, StorageError):  # a missing bucket is not a missing file
            raise IncompleteResultError(f"{where} is listed in the manifest but missing") from exc
        raise
    return staging


class Prefetch:
    """A file's download started before its manifest entry is known, into a staging file.

    Nothing trusts it until `fetch` checks it against the entry. A prefetch
    that no read takes is abandoned: its download is waited for and its
    staging file removed, so nothing of it outlives the read that started it.

    Args:
        fs: The backend holding the file.
        path: The file's path on `fs`.
        where: The file's location, named in errors.
    """

    def __init__(self, fs: FileSystem, path: str, *, where: str) -> None:
        self.path = path
        self._staging: Path | None = None
        self._lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._download, args=(fs, where), name="idfkit-prefetch", daemon=True
        )
        self._thread.start()

    def _download(self, fs: FileSystem, where: str) -> None:
        try:
            self._staging = _stage(fs, self.path, where=where, listed=False)
        except Exception:  # noqa: BLE001 (the read that takes it downloads again, and raises as it would)
            return

    def take(self) -> Path | None:
        """The staging file once downloaded (now the caller's), or None if the download failed."""
        self._thread.join()
        with self._lock:  # one taker: the read that uses it, or the abandoning one
            staging, self._staging = self._staging, None
        return staging

    def abandon(self) -> None:
        """Wait for the download and remove what it staged (nothing, once taken)."""
        staging = self.take()
        if staging is not None:
            staging.unlink(missing_ok=True)


def worth_prefetching(fs: FileSystem, path: str) -> bool:
    """Whether a cold read of `path` should start its download before the manifest arrives.

    Only on a backend that names its store, and not when the last checked
    download of `path` from that store is still cached: the manifest then
    most likely names that copy, and downloading it again would be waste.

    Args:
        fs: The backend holding the file.
        path: The file's path on `fs`.
    """
    hint = _hint_path(fs, path)
    if hint is None:
        return False
    try:
        digest = hint.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return True
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return True
    return not (cache_root() / "objects" / digest[:2] / f"{digest}{_suffix(path)}").is_file()


def _hint_path(fs: FileSystem, path: str) -> Path | None:
    """Where the digest of the last checked download of `path` is noted (by store and path)."""
    store = store_identity(fs)
    if store is None:
        return None
    key = hashlib.sha256("\0".join((store, normalize_path(path))).encode()).hexdigest()
    return cache_root() / "paths" / key[:2] / key


def _note_cached(fs: FileSystem, path: str, digest: str) -> None:
    """Note that `path`'s checked content (`digest`) is cached; only a hint, so failures pass."""
    hint = _hint_path(fs, path)
    if hint is None:
        return
    partial = hint.with_name(f".{hint.name}.{uuid.uuid4().hex}.part")
    try:
        hint.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(digest, encoding="ascii")
        os.replace(partial, hint)
    except OSError:
        partial.unlink(missing_ok=True)


def _unchanged(fs: FileSystem, path: str, info: FileInfo) -> bool:
    """Whether `path` on `fs` is still at the size and version `info` found."""
    try:
        return file_info(fs, path) == info
    except FileNotFoundError:
        return False


def _place(staging: Path, target: Path) -> Path:
    """Rename a checked staging file to its trusted name (atomic; a racing twin is identical)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staging, target)
    return target


def _suffix(path: str) -> str:
    """The file's extension, kept so that tools that go by it still work; only plain ones."""
    suffix = Path(path).suffix
    return suffix if len(suffix) <= 16 and suffix[1:].isalnum() else ""
