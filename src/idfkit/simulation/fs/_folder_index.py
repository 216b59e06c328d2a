"""What an object store's recent listings showed of its folders, so writes skip checks.

An object store has no folders, yet the contract keeps a file and a folder
from sharing a path (see `idfkit.simulation.fs.base`). Before a write the
backend must know that no folder stands where the file goes and that no file
stands where one of its folders would be. A listing of the file's folder
answers the first for every file then written into that folder; a key seen
with something below it answers the second for good. `FolderIndex` keeps
both for one backend instance (S3, Azure Blob, Cloud Storage), and keeps them
true to the instance's own writes.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from idfkit.simulation.fs.base import ancestors

__all__ = ["LISTING_TTL", "FolderIndex", "folder_of"]

LISTING_TTL = 10.0  # seconds a folder listing stands in for a check before a write


def folder_of(key: str, prefix: str) -> str:
    """The folder key (ending in ``/``, or the prefix itself) that holds ``key``."""
    folder, sep, _ = key.rpartition("/")
    return f"{folder}/" if sep and len(folder) >= len(prefix) else prefix


class FolderIndex:
    """Folders known to exist, and each listed folder's subfolders, under one key prefix.

    Args:
        prefix: The backend's key prefix ("" or ending in ``/``).
    """

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.known_dirs: set[str] = set()  # keys seen to be folders: no file check needed
        # Folder key -> (when listed, names of its subfolders): one listing answers the
        # "is a folder there?" check for every file then written into that folder.
        self._subfolders: dict[str, tuple[float, set[str]]] = {}

    def is_fresh(self, folder: str) -> bool:
        """Whether ``folder`` was listed within the last `LISTING_TTL` seconds."""
        seen = self._subfolders.get(folder)
        return seen is not None and time.monotonic() - seen[0] <= LISTING_TTL

    def subfolders(self, folder: str) -> set[str] | None:
        """The subfolder names the last listing of ``folder`` showed, None if none is kept."""
        seen = self._subfolders.get(folder)
        return seen[1] if seen is not None else None

    def listed(self, folder: str, subfolders: set[str], *, has_files: bool) -> None:
        """Remember a complete listing of ``folder`` (a key ending in ``/``, or the prefix).

        Args:
            folder: The folder listed.
            subfolders: The names of the subfolders it showed.
            has_files: Whether it showed any file.
        """
        if not has_files and not subfolders:
            # Some servers (s3rver) list nested folders of an otherwise empty folder
            # as nothing: an empty listing answers nothing about subfolders.
            self._subfolders.pop(folder, None)
            return
        self._subfolders[folder] = (time.monotonic(), set(subfolders))
        if folder != self.prefix:
            # Something is stored below it: it and every folder above it are folders.
            self.known_dirs.update(
                self.prefix + a for a in ancestors(folder[len(self.prefix) :] + "x")
            )

    def note_written(self, key: str) -> None:
        """Keep the remembered listings true to this instance's own write of ``key``."""
        rel = key[len(self.prefix) :]
        for parent in ancestors(rel):
            self.known_dirs.add(self.prefix + parent)
            folder, _, name = (self.prefix + parent).rpartition("/")
            listed = self._subfolders.get(f"{folder}/" if folder else self.prefix)
            if listed is not None:
                listed[1].add(name)

    def check_placement(
        self,
        key: str,
        *,
        url: str,
        list_folder: Callable[[str], object],
        holds_below: Callable[[str], bool],
        holds_file: Callable[[str], bool],
    ) -> None:
        """Refuse a file at ``key`` where a folder is, or below a file (as on a disk).

        A listing of the file's folder from the last `LISTING_TTL` seconds
        answers the first check for free; a folder seen before answers the
        second.

        Args:
            key: The full key of the file to write.
            url: The store's URL up to the key (``s3://bucket/``), for messages.
            list_folder: Lists a folder key, reporting back through `listed`.
            holds_below: Whether anything is stored below a key (one request).
            holds_file: Whether a file is stored at a key (one request).

        Raises:
            IsADirectoryError: A folder stands at ``key``.
            NotADirectoryError: A file stands where one of its folders would be.
        """
        folder = folder_of(key, self.prefix)
        if not self.is_fresh(folder):
            list_folder(folder)
        seen = self.subfolders(folder)
        name = key[len(folder) :]
        if (name in seen) if seen is not None else holds_below(key):
            raise IsADirectoryError(f"{url}{key} is a directory")
        for parent in ancestors(key[len(self.prefix) :]):
            parent_key = self.prefix + parent
            if parent_key in self.known_dirs:
                continue
            if holds_file(parent_key):
                raise NotADirectoryError(f"{url}{key}: {url}{parent_key} is a file")
            self.known_dirs.add(parent_key)
