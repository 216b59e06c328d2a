"""The local disk backend (the default)."""

from __future__ import annotations

import os
import shutil
import stat
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

from idfkit.simulation.fs.base import (
    FileInfo,
    HashingReader,
    matching_paths,
    normalize_path,
    sha256_file,
)

__all__ = ["LocalFileSystem"]

# A file being written is staged beside its target under a name that no path can
# name (a backslash is a separator in every path), so a listing never mistakes a
# real file for a partial one, nor the other way round. Windows forbids the
# backslash in names; there the staging name only looks unusual.
_PARTIAL_MARK = "\\" if os.sep == "/" else "~idfkit-"
_CHUNK = 1 << 20


class LocalFileSystem:
    """Files on local disk, optionally confined to a ``root`` folder.

    Without a root, paths are ordinary local paths (absolute, or relative to
    the working directory). With a root, they follow the relative-path
    contract of `idfkit.simulation.fs.base`, and a path that leads
    outside the root through a symbolic link is refused like ``..``.

    Args:
        root: The folder that confines every path; None for plain local paths.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).resolve() if root is not None else None
        # The root folder's (device, inode) when a path was last found inside it: while the
        # root is still that folder, a path is checked one lstat per component below it.
        self._root_seen: tuple[int, int] | None = None

    def __repr__(self) -> str:
        return f"LocalFileSystem({str(self.root)!r})" if self.root else "LocalFileSystem()"

    @property
    def store_id(self) -> str | None:
        """The root folder, which names the store (None without a root: paths are the caller's)."""
        return f"file:{self.root}" if self.root is not None else None

    def local_path(self, path: str | Path) -> Path:
        """The local file ``path`` names; ``ValueError`` if it leaves the root (links included)."""
        return self._local(path)

    def _local(self, path: str | Path) -> Path:
        if self.root is None:
            text = os.fspath(path)
            if "\x00" in text:
                raise ValueError(f"path {text!r} holds a NUL byte")
            return Path(text)
        rel = normalize_path(path)
        target = self.root / rel
        if rel and not self._no_links_below(self.root, rel):
            if not target.resolve().is_relative_to(self.root):
                raise ValueError(f"path {rel!r} leads outside the root {self.root} (symbolic link)")
            self._root_seen = _folder_identity(self.root)
        return target

    def _no_links_below(self, root: Path, rel: str) -> bool:
        """Whether ``rel`` stays in ``root`` for want of any link: a stat per component.

        True only while the root is the very folder it was when a path last
        resolved inside it (so whatever its own path passes through, it
        leads there), and no component of ``rel`` that exists is a symbolic
        link. False means: resolve the whole path to know.
        """
        if os.name != "posix" or self._root_seen is None:
            return False
        if _folder_identity(root) != self._root_seen:
            return False
        at = str(root)
        for part in rel.split("/"):
            at = f"{at}/{part}"
            try:
                info = os.lstat(at)
            except FileNotFoundError:
                return True  # the rest is yet to be made, inside
            except OSError:
                return False
            if stat.S_ISLNK(info.st_mode):
                return False
        return True

    def _local_file(self, path: str | Path) -> Path:
        """The local path of a file to write, its parent folder made."""
        target = self._local(path)
        if (self.root is not None and target == self.root) or target.is_dir():
            raise IsADirectoryError(f"{path!r} is a directory, not a file")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError) as exc:
            raise NotADirectoryError(f"{path!r}: a file stands where a folder is needed") from exc
        return target

    def _public(self, local: Path) -> str:
        if self.root is None:
            return local.as_posix()
        return local.relative_to(self.root).as_posix()

    def read_bytes(self, path: str | Path) -> bytes:
        return self._local(path).read_bytes()

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        target = self._local_file(path)
        # Write beside the target, then rename: readers see old or new, never half.
        fd, tmp = _partial(target)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        return self.read_bytes(path).decode(encoding)

    def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        self.write_bytes(path, text.encode(encoding))

    def exists(self, path: str | Path) -> bool:
        try:
            self._local(path).stat()
        except (FileNotFoundError, NotADirectoryError):
            return False
        return True

    def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        self._local(path).mkdir(parents=True, exist_ok=exist_ok)

    def copy(self, src: str | Path, dst: str | Path) -> None:
        source, target = self._local(src), self._local(dst)
        if not source.is_file():
            raise FileNotFoundError(f"no such file: {src}")
        if source.resolve() != target.resolve():
            self.put_file(source, dst)

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        folder = self._local(path)
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return []
        names = [n for n in names if not _is_partial(n)]
        if self.root is None:
            return sorted(
                (folder / n).as_posix()
                for n in matching_paths("", names, pattern, where=str(folder))
            )
        return matching_paths(
            self._public(folder) if folder != self.root else "", names, pattern, where=str(folder)
        )

    def remove(self, path: str | Path) -> None:
        self._local(path).unlink()

    # -- capabilities ----------------------------------------------------
    def put_file(self, local_path: str | Path, path: str | Path) -> str:
        target = self._local_file(path)
        fd, tmp = _partial(target)
        try:
            with open(local_path, "rb") as src, os.fdopen(fd, "wb") as dst:
                reader = HashingReader(src)  # one read: copied and hashed together
                shutil.copyfileobj(reader, dst, _CHUNK)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return reader.digest.hexdigest()

    def get_file(self, path: str | Path, local_path: str | Path) -> None:
        source = self._local(path)
        target = Path(local_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)

    def stat(self, path: str | Path) -> FileInfo:
        local = self._local(path)
        st = local.stat()  # local reads are cheap next to any transfer: hash it
        return FileInfo(size=st.st_size, version=_version(st), sha256=sha256_file(local))

    def write_bytes_if(
        self,
        path: str | Path,
        data: bytes,
        *,
        if_match: str | None = None,
        if_none_match: bool = False,
    ) -> str:
        target = self._local_file(path)
        fd, tmp = _partial(target)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            with _folder_lock(target.parent):  # check and rename as one step
                current = _version_of(target)
                if if_none_match and current is not None:
                    raise FileExistsError(f"{path!r} exists (version {current})")
                if if_match is not None and current != if_match:
                    raise FileExistsError(
                        f"{path!r} is at version {current}, not {if_match} (another writer)"
                    )
                os.replace(tmp, target)
                return _version(target.stat())
        finally:
            Path(tmp).unlink(missing_ok=True)

    def version(self, path: str | Path) -> str | None:
        return _version_of(self._local(path))


def _folder_identity(folder: Path) -> tuple[int, int] | None:
    """A folder's (device, inode); None if it is missing or not a folder (a link included)."""
    try:
        info = os.lstat(folder)
    except OSError:
        return None
    return (info.st_dev, info.st_ino) if stat.S_ISDIR(info.st_mode) else None


def _version(st: os.stat_result) -> str:
    # A write replaces the file by a new one (a new inode), so the token changes
    # even when size and timestamp do not.
    return f"{st.st_ino}-{st.st_mtime_ns}-{st.st_size}"


def _version_of(target: Path) -> str | None:
    try:
        st = target.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(f"{target} is a directory")
    return _version(st)


_THREAD_LOCK = threading.Lock()


@contextmanager
def _folder_lock(folder: Path) -> Iterator[None]:
    """Exclusive among threads and processes: an advisory lock on the folder itself.

    The kernel drops it when its holder dies, so a killed writer never
    blocks the next one. Where ``fcntl`` is missing (Windows) it excludes
    the threads of this process only.
    """
    if fcntl is None:
        with _THREAD_LOCK:
            yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _partial(target: Path) -> tuple[int, str]:
    """A new, exclusive staging file beside ``target``: (descriptor, path)."""
    # Created with the mode the umask allows: tempfile.mkstemp would make it 0600
    # whatever the umask, leaving a shared results folder unreadable to the team.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = target.parent / f".{target.name}{_PARTIAL_MARK}{uuid.uuid4().hex}.part"
        try:
            return os.open(tmp, flags, 0o666), str(tmp)
        except FileExistsError:  # pragma: no cover - a 128-bit name collision
            continue


def _is_partial(name: str) -> bool:
    """A write in progress (see ``_partial``), never listed."""
    return _PARTIAL_MARK in name and ".part" in name
