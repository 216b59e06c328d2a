"""The storage contract: the ``FileSystem`` protocol and its optional speed-ups.

Every backend honours these rules; the contract test suite checks each one on
every built-in backend.

Paths
    A path is a POSIX-style string (``"case-42/eplusout.sql"``) or a
    ``PurePath``, relative to the backend's root (for S3: bucket and prefix).
    ``""`` names the root itself. Backslashes are taken as separators, ``.``
    segments are dropped and ``..`` segments are resolved; a path that would
    leave the root, an absolute path on a rooted backend, a segment of only
    white space, or a path holding a NUL byte raises ``ValueError``. Build
    paths with `join` or ``PurePosixPath``, never ``pathlib.Path``.

Directories
    Object stores have none. A directory exists while something is stored
    below it; ``makedirs`` only promises that writing below it will work.

Errors
    Not found is ``FileNotFoundError`` (or a subclass, such as
    ``BucketNotFoundError``) on every backend. Missing permission is
    ``PermissionError``. An unreachable endpoint is ``ConnectionError`` (as
    ``StorageConnectionError``). ``exists()`` answers False only for "not
    found"; any other failure raises.

Listing
    ``glob(path, pattern)`` matches ``fnmatch`` patterns, case-sensitively,
    against the names directly inside ``path`` (files and directories, never
    recursively), and returns sorted paths that the same backend accepts back.
    A directory that does not exist lists as empty. A stored name that no
    path can name (``" "``, ``".."``, one holding a backslash, ...), put
    there by another tool, is left out and logged once, never fatal.

Files and directories
    A file and a directory never share a path, on any backend: writing or
    copying a file where a directory is raises ``IsADirectoryError``, and
    writing below a file raises ``NotADirectoryError``. Reading a directory,
    the root included, raises ``IsADirectoryError``. ``copy(a, a)`` changes
    nothing.

Optional capabilities
    The nine methods of `FileSystem` are the whole required protocol. A
    backend may also offer `SupportsLocalTransfer` (stream a local file in or
    out without holding it in memory), `SupportsStat` (size and a version
    token without a download) and `SupportsConditionalWrite` (writes that the
    store refuses unless the file is at a given version, which makes
    publishing a run a commit). Callers go through `upload_file`,
    `download_file` and `file_info`, which use a capability when present and
    fall back to the nine methods, and through `writes_conditionally`: a
    backend that has the methods may still switch the capability off with
    ``conditional_writes = False`` (an S3-compatible server that ignores or
    refuses conditional requests).

Identity and local files
    A backend may name the store it reads with ``store_id``, a string equal
    for two instances exactly when a path names the same object on both
    (bucket, prefix and endpoint; a root folder). Local copies of its files
    are then cached by that identity and the file's version; a backend
    without one has each download cached by its content's hash only;
    `same_store` compares two backends by it. A backend whose files already
    lie on local disk offers `SupportsLocalPath`, the one way a reader gets a
    local path for one of them, under the backend's own rules (a symbolic
    link out of a root is refused like ``..``), and the folder its paths
    start from. Callers ask these capabilities, never a backend's class:
    `is_plain_local` tells the default local disk (paths are the caller's
    own) from a rooted one.
"""

from __future__ import annotations

import fnmatch
import hashlib
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import IO, Protocol, TypeGuard, runtime_checkable

__all__ = [
    "FileInfo",
    "FileSystem",
    "HashingReader",
    "SupportsConditionalWrite",
    "SupportsLocalPath",
    "SupportsLocalTransfer",
    "SupportsStat",
    "download_file",
    "file_info",
    "hash_file",
    "is_plain_local",
    "join",
    "matching_paths",
    "normalize_path",
    "same_store",
    "sha256_file",
    "store_identity",
    "upload_file",
    "writes_conditionally",
]

PathLike = str | PurePath


@runtime_checkable
class FileSystem(Protocol):
    """Where simulation inputs and results are kept (see the module docstring)."""

    def read_bytes(self, path: str | Path) -> bytes:
        """The whole content of a file. ``FileNotFoundError`` if absent.

        Args:
            path: The file, relative to the backend's root.
        """
        ...

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        """Create or replace a file; parent directories are created as needed.

        Readers never see a partly written file: they see the old content or
        the new one.

        Args:
            path: The file, relative to the backend's root.
            data: The new content.
        """
        ...

    def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        """``read_bytes`` decoded with ``encoding``.

        Args:
            path: The file, relative to the backend's root.
            encoding: The text encoding of the file.
        """
        ...

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        """``write_bytes`` of ``text`` encoded with ``encoding``.

        Args:
            path: The file, relative to the backend's root.
            text: The new content.
            encoding: The text encoding to write it in.
        """
        ...

    def exists(self, path: str | Path) -> bool:
        """True for an existing file or non-empty directory; False only for not found.

        Args:
            path: A file or directory, relative to the backend's root.
        """
        ...

    def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        """Prepare a directory. ``FileExistsError`` if it exists and not ``exist_ok``.

        Args:
            path: The directory, relative to the backend's root.
            exist_ok: Accept a directory that already exists.
        """
        ...

    def copy(self, src: str | Path, dst: str | Path) -> None:
        """Copy one file within this backend. ``FileNotFoundError`` names ``src``.

        Args:
            src: The file to copy.
            dst: The copy's path; a file there is replaced.
        """
        ...

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        """Sorted paths of the names directly inside ``path`` that match ``pattern``.

        Args:
            path: The directory to look in ("" for the root).
            pattern: A shell-style pattern (``*.sql``) matched against each name.
        """
        ...

    def remove(self, path: str | Path) -> None:
        """Delete one file. ``FileNotFoundError`` if it does not exist.

        Args:
            path: The file, relative to the backend's root.
        """
        ...


@runtime_checkable
class SupportsLocalTransfer(Protocol):
    """Streams whole files between local disk and the backend."""

    def put_file(self, local_path: str | Path, path: str | Path) -> str | None:
        """Upload a local file to ``path``, reading it in pieces.

        Args:
            local_path: The file on local disk.
            path: Where it goes on the backend.

        Returns:
            The SHA-256 hex digest of the uploaded content when the backend
            computed it while reading the file (so that the caller need not
            read it again), else None.
        """
        ...

    def get_file(self, path: str | Path, local_path: str | Path) -> None:
        """Download ``path`` to a local file, writing it in pieces.

        Args:
            path: The file on the backend.
            local_path: Where it goes on local disk; a file there is replaced.
        """
        ...


@dataclass(frozen=True)
class FileInfo:
    """Size in bytes, a token that changes whenever the content changes, and,
    where the backend knows it without a download, the content's SHA-256.

    An empty ``version`` means the backend has no such token for the file:
    nothing is then cached by it.
    """

    size: int
    version: str
    sha256: str | None = None


@runtime_checkable
class SupportsConditionalWrite(Protocol):
    """Writes that the store refuses unless a condition holds, each returning a version.

    Publishing uses it as a commit: a run marks its folder, keeps the
    version of its marker, and writes its manifest only if the marker is
    still at that version. A backend without it keeps single-writer
    guarantees only.
    """

    def write_bytes_if(
        self,
        path: str | Path,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        """Write ``data`` at ``path`` if the condition holds, atomically with the check.

        Args:
            path: The file to write, as for ``write_bytes``.
            data: The new content.
            if_match: Write only if the file exists at this version (a token
                that this method or ``version`` returned).
            if_none_match: Write only if no file is at ``path``.

        Returns:
            The version token of the written file, an opaque string that
            changes with every write.

        Raises:
            FileExistsError: The condition did not hold (another writer came
                first, or the file is gone).
        """
        ...

    def version(self, path: str | Path) -> str | None:
        """The current version token of a file (as ``write_bytes_if`` returns), None if absent.

        Args:
            path: The file, relative to the backend's root.
        """
        ...


@runtime_checkable
class SupportsStat(Protocol):
    """Answers size and version of a file without downloading it."""

    def stat(self, path: str | Path) -> FileInfo:
        """``FileNotFoundError`` if absent.

        Backends that can tell the content's SHA-256 cheaply fill
        ``FileInfo.sha256``; publishing uses it to make sure that the files
        under a manifest are the ones that manifest describes, even when two
        runs write the same folder at once.

        Args:
            path: The file, relative to the backend's root.
        """
        ...


@runtime_checkable
class SupportsLocalPath(Protocol):
    """Files that already lie on local disk: their local paths, under the backend's rules."""

    @property
    def root(self) -> Path | None:
        """The local folder that paths start from; None when paths are the caller's own.

        Without a root, a path is an ordinary local path (absolute, or
        relative to the working directory), as ``open`` takes it.
        """
        ...

    def local_path(self, path: str | Path) -> Path:
        """The local file that ``path`` names.

        Args:
            path: A path on the backend.

        Raises:
            ValueError: ``path`` leaves the backend's root, by ``..`` or
                through a symbolic link.
        """
        ...


def writes_conditionally(fs: object) -> TypeGuard[SupportsConditionalWrite]:
    """Whether ``fs`` offers `SupportsConditionalWrite` and has not switched it off.

    Args:
        fs: A backend (``conditional_writes = False`` on it switches the capability off).
    """
    return isinstance(fs, SupportsConditionalWrite) and getattr(fs, "conditional_writes", True)


def store_identity(fs: object) -> str | None:
    """The identity of the store ``fs`` reads (its ``store_id``), or None when it states none.

    Args:
        fs: A backend.
    """
    found = getattr(fs, "store_id", None)
    return found if isinstance(found, str) and found else None


def same_store(a: object, b: object) -> bool:
    """Whether a path on ``a`` names the same object on ``b`` (so ``b.copy`` can copy it).

    True for one instance, and for two whose stated identities (``store_id``)
    are equal; False when either states none.

    Args:
        a: A backend.
        b: Another backend.
    """
    if a is b:
        return True
    identity = store_identity(a)
    return identity is not None and identity == store_identity(b)


def is_plain_local(fs: object) -> bool:
    """Whether ``fs`` is plain local disk: None (the default) or a backend without a root
    whose files lie on local disk (`SupportsLocalPath`), so its paths are the caller's own.

    Args:
        fs: A backend, or None for the default.
    """
    return fs is None or (isinstance(fs, SupportsLocalPath) and fs.root is None)


def normalize_path(path: PathLike) -> str:
    """The canonical relative form of ``path``; ``ValueError`` if it leaves the root.

    Args:
        path: A path relative to a backend's root (``\\`` counts as ``/``).
    """
    text = os.fspath(path) if isinstance(path, PurePath) else path
    if not isinstance(text, str):
        raise TypeError(f"a path must be a str or PurePath, not {type(path).__name__}")
    if "\x00" in text:
        raise ValueError(f"path {text!r} holds a NUL byte")
    text = text.replace("\\", "/")
    if text.startswith("/") or (len(text) > 1 and text[1] == ":" and text[0].isalpha()):
        raise ValueError(f"path {text!r} is absolute; paths are relative to the backend root")
    parts: list[str] = []
    for segment in text.split("/"):
        if segment in ("", "."):
            continue
        if not segment.strip():
            raise ValueError(f"path {text!r} has a blank segment")
        if segment == "..":
            if not parts:
                raise ValueError(f"path {text!r} leaves the backend root")
            parts.pop()
        else:
            parts.append(segment)
    return "/".join(parts)


def join(*parts: PathLike) -> str:
    """Join path pieces with ``/`` and normalize the result.

    Args:
        *parts: The pieces, in order; empty ones are skipped.
    """
    return normalize_path("/".join(os.fspath(p) for p in parts if os.fspath(p)))


def ancestors(path: str) -> list[str]:
    """The directories above a normalized path, outermost first: ``a/b/c`` -> ``a``, ``a/b``."""
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


_log = logging.getLogger("idfkit.simulation.fs")
_UNNAMEABLE_SEEN: set[tuple[str, str]] = set()
_UNNAMEABLE_LOCK = threading.Lock()


def matching_paths(folder: str, names: Iterable[str], pattern: str, *, where: str) -> list[str]:
    """Sorted paths of the ``names`` inside ``folder`` that match ``pattern``.

    A name that no path can stand for (it would normalize to another path or
    be refused) is left out and logged once per ``where`` and name.

    Args:
        folder: The normalized folder the names are in ("" for the root).
        names: The names found directly inside it, as the store lists them.
        pattern: A shell-style pattern matched against each name.
        where: What is listing (a backend's name), for the log message.
    """
    out: set[str] = set()
    for name in names:
        if not name or not fnmatch.fnmatchcase(name, pattern):  # "": the folder's own marker
            continue
        expected = f"{folder}/{name}" if folder else name
        try:
            ok = "/" not in name and "\\" not in name and normalize_path(expected) == expected
        except ValueError:
            ok = False
        if ok:
            out.add(expected)
        else:
            _skip_once(where, expected)
    return sorted(out)


def _skip_once(where: str, name: str) -> None:
    with _UNNAMEABLE_LOCK:
        if (where, name) in _UNNAMEABLE_SEEN:
            return
        if len(_UNNAMEABLE_SEEN) < 10_000:
            _UNNAMEABLE_SEEN.add((where, name))
    _log.warning("%s: skipped %r, a stored name that no path can name", where, name)


def upload_file(fs: FileSystem, local_path: str | Path, path: str | Path) -> str:
    """Copy a local file to ``fs``, streamed when the backend can.

    Args:
        fs: The backend to write to.
        local_path: The file on local disk.
        path: Where it goes on ``fs``.

    Returns:
        The SHA-256 hex digest of the file, computed while it was read for the
        upload when the backend allows, so the file is read once.
    """
    if isinstance(fs, SupportsLocalTransfer):
        digest = fs.put_file(local_path, path)
        return digest if isinstance(digest, str) else sha256_file(Path(local_path))
    data = Path(local_path).read_bytes()
    fs.write_bytes(path, data)
    return hashlib.sha256(data).hexdigest()


def hash_file(path: str | Path) -> tuple[int, str]:
    """Size and SHA-256 of a local file, read in pieces.

    The package's one file-hashing helper.

    Args:
        path: The local file.

    Returns:
        The number of bytes hashed and the lowercase hex digest.
    """
    with open(path, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256")
        size = fh.tell()
    return size, digest.hexdigest()


def sha256_file(path: str | Path) -> str:
    """The SHA-256 hex digest of a local file (`hash_file` without the size).

    Args:
        path: The local file.
    """
    return hash_file(path)[1]


class HashingReader:
    """A file read once, front to back, hashed on the way.

    For copies that hash what they copy (a local write, a managed S3
    upload); it is not seekable, so readers take it in order.

    Args:
        raw: The open binary file to read from.
    """

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        """The next piece of the file, added to the digest.

        Args:
            size: At most this many bytes (-1: the rest of the file).
        """
        chunk = self.raw.read(size)
        self.digest.update(chunk)
        return chunk

    def seekable(self) -> bool:
        return False


def download_file(fs: FileSystem, path: str | Path, local_path: str | Path) -> None:
    """Copy a file from ``fs`` to local disk, streamed when the backend can.

    The local file appears whole or not at all.

    Args:
        fs: The backend to read from.
        path: The file on ``fs``.
        local_path: Where it goes on local disk; a file there is replaced.
    """
    target = Path(local_path)
    partial = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
    try:
        if isinstance(fs, SupportsLocalTransfer):
            fs.get_file(path, partial)
        else:
            partial.write_bytes(fs.read_bytes(path))
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()


def file_info(fs: FileSystem, path: str | Path) -> FileInfo | None:
    """Size and version of a file when the backend can tell without a download.

    Args:
        fs: The backend.
        path: The file on ``fs``.
    """
    return fs.stat(path) if isinstance(fs, SupportsStat) else None


def copy_local(src: Path, dst: Path) -> None:
    """Stream one local file to another, creating the destination's parents."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
