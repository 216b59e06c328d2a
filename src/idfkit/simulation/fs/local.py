"""The local disk backend (the default)."""

from __future__ import annotations

import fnmatch
import hashlib
import os
import uuid
from pathlib import Path

from idfkit.simulation.fs.base import FileInfo, copy_local, normalize_path

__all__ = ["LocalFileSystem"]


class LocalFileSystem:
    """Files on local disk, optionally confined to a ``root`` folder.

    Without a root, paths are ordinary local paths (absolute, or relative to
    the working directory). With a root, they follow the relative-path
    contract of :mod:`idfkit.simulation.fs.base`.
    """

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).resolve() if root is not None else None

    def __repr__(self) -> str:
        return f"LocalFileSystem({str(self.root)!r})" if self.root else "LocalFileSystem()"

    def _local(self, path: str | Path) -> Path:
        if self.root is None:
            text = os.fspath(path)
            if "\x00" in text:
                raise ValueError(f"path {text!r} holds a NUL byte")
            return Path(text)
        return self.root / normalize_path(path)

    def _local_file(self, path: str | Path) -> Path:
        """The local path of a file to write; the root itself is never a file."""
        target = self._local(path)
        if self.root is not None and target == self.root:
            raise IsADirectoryError(f"{path!r} names the root {self.root}, not a file")
        return target

    def _public(self, local: Path) -> str:
        if self.root is None:
            return local.as_posix()
        return local.relative_to(self.root).as_posix()

    def read_bytes(self, path: str | Path) -> bytes:
        return self._local(path).read_bytes()

    def write_bytes(self, path: str | Path, data: bytes) -> None:
        target = self._local_file(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: readers see old or new, never half.
        fd, tmp = _create_beside(target)
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
        if source != target:
            self.put_file(source, dst)

    def glob(self, path: str | Path, pattern: str) -> list[str]:
        folder = self._local(path)
        try:
            names = os.listdir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return sorted(
            self._public(folder / name)
            for name in names
            if fnmatch.fnmatchcase(name, pattern) and not _is_partial(name)
        )

    def remove(self, path: str | Path) -> None:
        self._local(path).unlink()

    # -- capabilities ----------------------------------------------------
    def put_file(self, local_path: str | Path, path: str | Path) -> None:
        target = self._local_file(path)
        _parent(target)
        fd, tmp = _create_beside(target)
        os.close(fd)
        try:
            copy_local(Path(local_path), Path(tmp))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def get_file(self, path: str | Path, local_path: str | Path) -> None:
        copy_local(self._local(path), Path(local_path))

    def stat(self, path: str | Path) -> FileInfo:
        local = self._local(path)
        st = local.stat()
        digest = hashlib.sha256()
        with local.open("rb") as fh:  # local reads are cheap next to any transfer
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        return FileInfo(
            size=st.st_size, version=f"{st.st_mtime_ns}-{st.st_size}", sha256=digest.hexdigest()
        )


def _create_beside(target: Path) -> tuple[int, str]:
    """A new private-named file next to ``target``, with the mode the umask allows.

    ``tempfile.mkstemp`` would make it 0600 whatever the umask, so a shared results
    folder would be unreadable to the rest of the team.
    """
    while True:
        tmp = target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.part"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666), str(tmp)
        except FileExistsError:
            continue


_O_BINARY = getattr(os, "O_BINARY", 0)


def _is_partial(name: str) -> bool:
    """A write in progress (see ``write_bytes``), never listed."""
    return name.startswith(".") and name.endswith(".part")


def _parent(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    return target.parent
