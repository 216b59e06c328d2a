"""Publishing a finished run: every output file, then the manifest, last."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from idfkit.exceptions import StorageError
from idfkit.simulation.fs.base import FileSystem, SupportsStat, file_info, join, upload_file
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    ManifestFile,
    PublishingMarker,
    RunManifest,
    hash_file,
    read_manifest,
)

__all__ = ["Snapshot", "changed_files", "mark_publishing", "publish", "snapshot"]

Snapshot = dict[str, tuple[int, int, int]]
MAX_UPLOAD_THREADS = 8
SETTLE_ROUNDS = 8
T = TypeVar("T")
R = TypeVar("R")


def snapshot(folder: Path) -> Snapshot:
    """Identity of each file in ``folder`` (inode, size, mtime), to tell new output from old."""
    out: Snapshot = {}
    for entry in os.scandir(folder):
        if entry.is_file():
            st = entry.stat()
            out[entry.name] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def changed_files(folder: Path, before: Snapshot) -> list[Path]:
    """Files written since ``before``: the run's own, never stale ones left by an earlier run."""
    after = snapshot(folder)
    names = [n for n, ident in after.items() if before.get(n) != ident and n != MANIFEST_NAME]
    return [folder / n for n in sorted(names)]


def mark_publishing(fs: FileSystem, output_dir: str, marker: PublishingMarker) -> None:
    """Replace any earlier manifest with a marker, so a crash before the end reads as incomplete."""
    fs.write_text(join(output_dir, MANIFEST_NAME), marker.to_json())


def publish(
    fs: FileSystem,
    output_dir: str,
    files: list[Path],
    make_manifest: Callable[[tuple[ManifestFile, ...]], RunManifest],
    *,
    upload: bool = True,
) -> RunManifest | None:
    """Hash (and, if ``upload``, upload in parallel) ``files``; then write the manifest.

    If any upload fails, the first failure is raised and no manifest is
    written, so the run can never read as a success.

    When the backend reports content digests (``SupportsStat``), the
    manifest is then settled, for runs that write the same folder at once:
    while this run's manifest stands, every file is checked to be this run's
    and any that another run replaced is uploaded again. If another run's
    manifest comes to stand there, this run yields (returns None), unless it
    had just repaired files, which may have been that run's: then it takes
    the folder back and repairs on. Whoever settles last owns a folder of
    exactly its own files.
    """
    manifest_path = join(output_dir, MANIFEST_NAME)
    entries = _map(lambda p: _entry(fs, output_dir, p, upload), files)
    manifest = make_manifest(tuple(entries))
    fs.write_text(manifest_path, manifest.to_json())
    if not upload or not isinstance(fs, SupportsStat):
        return manifest
    repaired = False  # whether this run changed files since it last saw its manifest standing
    for round_ in range(SETTLE_ROUNDS):
        stored = read_manifest(fs.read_bytes(manifest_path), where=manifest_path)
        if stored.run_id != manifest.run_id:
            if not repaired:
                return None  # the other run came later and found our files before its check
            # We may have replaced files of the run that now owns the folder: take it back,
            # after a random pause so that two runs repairing in step fall out of step.
            time.sleep(random.uniform(0, 0.05 * 2**round_))
            fs.write_text(manifest_path, manifest.to_json())
            repaired = False
            continue
        held = _map(lambda e: _holds(fs, output_dir, e), entries)
        replaced = [path for path, ok in zip(files, held, strict=True) if not ok]
        if not replaced:
            return manifest
        _map(lambda p: upload_file(fs, p, join(output_dir, p.name)), replaced)
        repaired = True
    raise StorageError(
        f"{output_dir}: other runs kept replacing this run's files; gave up after "
        f"{SETTLE_ROUNDS} rounds (the folder may read as incomplete)"
    )


def _entry(fs: FileSystem, output_dir: str, path: Path, upload: bool) -> ManifestFile:
    size, digest = hash_file(path)
    if upload:
        upload_file(fs, path, join(output_dir, path.name))
    return ManifestFile(name=path.name, size=size, sha256=digest)


def _holds(fs: FileSystem, output_dir: str, entry: ManifestFile) -> bool:
    """Whether the stored file is the one ``entry`` describes."""
    try:
        info = file_info(fs, join(output_dir, entry.name))
    except FileNotFoundError:
        return False
    if info is None:
        return True
    if info.sha256 is not None:
        return info.sha256 == entry.sha256
    return info.size == entry.size


def _map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``fn`` over ``items`` on up to MAX_UPLOAD_THREADS threads, in order; first error raised."""
    if len(items) <= 1 or MAX_UPLOAD_THREADS <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(min(MAX_UPLOAD_THREADS, len(items))) as pool:
        return list(pool.map(fn, items))
