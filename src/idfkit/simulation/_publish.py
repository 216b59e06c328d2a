"""Publishing a finished run: every output file, then the manifest, last."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from idfkit.simulation.fs.base import FileSystem, join, upload_file
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    ManifestFile,
    PublishingMarker,
    RunManifest,
    hash_file,
)

__all__ = ["Snapshot", "changed_files", "mark_publishing", "publish", "snapshot"]

Snapshot = dict[str, tuple[int, int, int]]
MAX_UPLOAD_THREADS = 8


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
) -> RunManifest:
    """Hash (and, if ``upload``, upload in parallel) ``files``; then write the manifest.

    If any upload fails, the first failure is raised and no manifest is
    written, so the run can never read as a success.
    """

    def one(path: Path) -> ManifestFile:
        size, digest = hash_file(path)
        if upload:
            upload_file(fs, path, join(output_dir, path.name))
        return ManifestFile(name=path.name, size=size, sha256=digest)

    if len(files) <= 1 or not upload:
        entries = [one(p) for p in files]
    else:
        with ThreadPoolExecutor(min(MAX_UPLOAD_THREADS, len(files))) as pool:
            entries = list(pool.map(one, files))
    manifest = make_manifest(tuple(entries))
    fs.write_text(join(output_dir, MANIFEST_NAME), manifest.to_json())
    return manifest
