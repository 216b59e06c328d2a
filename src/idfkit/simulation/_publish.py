"""Publishing a finished run as a commit: mark the folder, upload each file once, manifest last.

With a backend that offers `SupportsConditionalWrite`, the manifest is
written only if the run's own marker still stands (S3 If-Match; a locked
rename on local disk): a run that another run has overtaken raises
`ConcurrentRunError` naming that run, and never returns a result. Without
the capability, a folder has one writer at a time (the guarantee studies
and batches give by refusing shared folders).

A run and a cache hit publish alike: both mark the folder, place their
files (`publish` uploads a run's; `publish_placed` takes any placing
function, such as a cache's copies) and commit on their own marker.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from idfkit.simulation.exceptions import ConcurrentRunError, IncompleteResultError
from idfkit.simulation.fs.base import (
    FileSystem,
    SupportsConditionalWrite,
    join,
    upload_file,
    writes_conditionally,
)
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    ManifestFile,
    PublishingMarker,
    RunManifest,
    hash_file,
    read_manifest,
)

__all__ = [
    "Claim",
    "Snapshot",
    "changed_files",
    "mark_publishing",
    "publish",
    "publish_placed",
    "snapshot",
    "start_claim_check",
]

Snapshot = dict[str, tuple[int, int, int]]
MAX_UPLOAD_THREADS = 16  # a run folder holds ~15 files: all of them in one wave of requests
THREADED_HASH_BYTES = 64 * 2**20  # below this, a local run's files are hashed in two lanes
TWO_LANE_HASH_BYTES = 2**20  # ... and below this, in turn
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Claim:
    """A run's hold on its folder: where its marker stands and at which version."""

    output_dir: str
    run_id: str
    version: str | None  # None: the backend cannot write conditionally

    @property
    def manifest_path(self) -> str:
        return join(self.output_dir, MANIFEST_NAME)


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


def mark_publishing(fs: FileSystem, output_dir: str, marker: PublishingMarker) -> Claim:
    """Replace any earlier manifest with this run's marker.

    A crash before the end then reads as incomplete, and a run started later
    in the same folder takes it over (a killed run's retry never waits).
    """
    if not marker.host:
        marker = marker.model_copy(update={"host": _host()})
    path = join(output_dir, MANIFEST_NAME)
    data = marker.to_json().encode()
    if writes_conditionally(fs):
        try:
            # In a new folder this one conditional request is the whole mark, and a
            # store that refuses conditional writes says so now, before anything is uploaded.
            version = fs.write_bytes_if(path, data, if_none_match=True)
        except FileExistsError:
            version = fs.write_bytes_if(path, data)  # an earlier run's folder: take it over
        return Claim(output_dir, marker.run_id, version)
    fs.write_bytes(path, data)
    return Claim(output_dir, marker.run_id, None)


def start_claim_check(fs: FileSystem, claim: Claim) -> Future[str | None] | None:
    """Start asking, in the background, at which version the claim's marker stands.

    A run starts it as soon as EnergyPlus is done, so the request's round
    trip overlaps the run's own last work (reading its key metrics, listing
    its files) instead of delaying its uploads; `publish` then waits for the
    answer before it places anything, as it would for its own check.

    Args:
        fs: The backend holding the folder.
        claim: The run's hold on the folder, from `mark_publishing`.

    Returns:
        The marker's version to come, or None when there is nothing to check
        (the backend does not write conditionally).
    """
    if claim.version is None or not writes_conditionally(fs):
        return None
    pool = ThreadPoolExecutor(1, thread_name_prefix="idfkit-claim-check")
    answer = pool.submit(fs.version, claim.manifest_path)
    pool.shutdown(wait=False)  # the thread ends with its one request
    return answer


def publish(
    fs: FileSystem,
    output_dir: str,
    files: list[Path],
    make_manifest: Callable[[tuple[ManifestFile, ...]], RunManifest],
    *,
    upload: bool = True,
    claim: Claim | None = None,
    standing: Future[str | None] | None = None,
    known: Callable[[Path], tuple[int, str] | None] | None = None,
) -> RunManifest:
    """Upload ``files`` (each read once: hashed as it is sent), then commit the manifest.

    If any upload fails, the first failure is raised and no manifest is
    written, so the run can never read as a success. With a ``claim`` on a
    backend that writes conditionally, the folder is checked to be still
    this run's before the uploads (one request) and the manifest is written
    only if the marker is unchanged.

    Args:
        fs: The backend holding the folder.
        output_dir: The run folder on ``fs``.
        files: The local files to publish.
        make_manifest: The manifest, given the entries.
        upload: Upload the files (False: they already lie in the folder).
        claim: The run's hold on the folder, from `mark_publishing`.
        standing: That check already under way (`start_claim_check`).
        known: For files already in place (``upload=False``): a file's size
            and digest when known to be its own (hashed earlier, checked
            since), else None, and it is hashed here.

    Raises:
        ConcurrentRunError: Another run marked the folder after this one.
    """

    def entries() -> list[ManifestFile]:
        if upload:
            return _map(lambda p: _uploaded(fs, output_dir, p), files)
        # In place: a file hashed earlier and unwritten since keeps that digest (the check
        # is a stat); the rest are hashed: big outputs on threads, a few megabytes in two
        # lanes (this thread and one more: hashing lets go of the GIL), less in this thread.
        done = {p: f for p in files if known is not None and (f := known(p)) is not None}
        rest = [p for p in files if p not in done]
        sizes = {p: p.stat().st_size for p in rest}
        total = sum(sizes.values())
        if total > THREADED_HASH_BYTES:
            done.update(zip(rest, _map(hash_file, rest), strict=True))
        elif total >= TWO_LANE_HASH_BYTES and (os.cpu_count() or 1) > 1:
            done.update(zip(rest, _two_lanes(hash_file, rest, sizes), strict=True))
        else:
            done.update((p, hash_file(p)) for p in rest)
        return [ManifestFile(name=p.name, size=done[p][0], sha256=done[p][1]) for p in files]

    return publish_placed(fs, output_dir, entries, make_manifest, claim=claim, standing=standing)


def publish_placed(
    fs: FileSystem,
    output_dir: str,
    place: Callable[[], Sequence[ManifestFile]],
    make_manifest: Callable[[tuple[ManifestFile, ...]], RunManifest],
    *,
    claim: Claim | None = None,
    standing: Future[str | None] | None = None,
) -> RunManifest:
    """Place a run's files with ``place``, then commit its manifest on ``claim``.

    The one commit every run and every cache hit goes through: with a claim
    on a backend that writes conditionally, the folder is checked to be
    still this run's before anything is placed, and the manifest is
    written only if the marker is unchanged.

    Args:
        fs: The backend holding the folder.
        output_dir: The run folder on ``fs``.
        place: Puts the files in the folder; returns their manifest entries.
        make_manifest: The manifest, given the entries.
        claim: The run's hold on the folder, from `mark_publishing`.
        standing: The check of the claim, if already started (`start_claim_check`);
            else it is made here.

    Returns:
        The manifest as committed.

    Raises:
        ConcurrentRunError: Another run marked the folder after this one.
    """
    conditional = claim is not None and claim.version is not None and writes_conditionally(fs)
    if conditional:
        assert claim is not None and isinstance(fs, SupportsConditionalWrite)
        found = standing.result() if standing is not None else fs.version(claim.manifest_path)
        if found != claim.version:
            raise _lost(fs, claim, "before placing its files")
    manifest = make_manifest(tuple(place()))
    if manifest.host == "":
        manifest = manifest.model_copy(update={"host": _host()})
    data = manifest.to_json().encode()
    if not conditional:
        fs.write_bytes(join(output_dir, MANIFEST_NAME), data)
        return manifest
    assert claim is not None and isinstance(fs, SupportsConditionalWrite)
    try:
        fs.write_bytes_if(claim.manifest_path, data, if_match=claim.version)
    except FileExistsError:
        if not _stands(fs, claim, manifest):  # a retried request may have landed already
            raise _lost(fs, claim, "at commit") from None
    return manifest


def _uploaded(fs: FileSystem, output_dir: str, path: Path) -> ManifestFile:
    size = path.stat().st_size
    digest = upload_file(fs, path, join(output_dir, path.name))
    return ManifestFile(name=path.name, size=size, sha256=digest)


def _stored(fs: FileSystem, path: str) -> RunManifest | PublishingMarker | None:
    try:
        return read_manifest(fs.read_bytes(path), where=path)
    except (FileNotFoundError, IncompleteResultError):
        return None


def _stands(fs: FileSystem, claim: Claim, manifest: RunManifest) -> bool:
    stored = _stored(fs, claim.manifest_path)
    return isinstance(stored, RunManifest) and stored.run_id == manifest.run_id


def _lost(fs: FileSystem, claim: Claim, when: str) -> ConcurrentRunError:
    """The error for a run overtaken in its folder, naming the run that holds it now."""
    stored = _stored(fs, claim.manifest_path)
    if stored is None:
        other = "an unknown run (its marker is gone or unreadable)"
        return ConcurrentRunError(f"{claim.output_dir}: taken over by {other} {when}")
    started = stored.started_at.isoformat()
    state = "finished" if isinstance(stored, RunManifest) else "still publishing"
    host = stored.host or "an unknown host"
    return ConcurrentRunError(
        f"{claim.output_dir}: run {claim.run_id} was overtaken {when} by run "
        f"{stored.run_id} (started {started} on {host}, {state}); this run's results "
        "were not published",
        other_run_id=stored.run_id,
        other_started_at=started,
        other_host=stored.host,
    )


def _host() -> str:
    try:
        return socket.gethostname()
    except OSError:
        return ""


def _map(fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``fn`` over ``items`` on up to MAX_UPLOAD_THREADS threads, in order; first error raised."""
    if len(items) <= 1 or MAX_UPLOAD_THREADS <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(min(MAX_UPLOAD_THREADS, len(items))) as pool:
        return list(pool.map(fn, items))


def _two_lanes(fn: Callable[[Path], R], paths: Sequence[Path], sizes: dict[Path, int]) -> list[R]:
    """``fn`` over ``paths`` in order, the bytes split evenly between this thread and one more."""
    lanes: tuple[list[Path], list[Path]] = ([], [])
    loads = [0, 0]
    for path in sorted(paths, key=sizes.__getitem__, reverse=True):
        lane = 0 if loads[0] <= loads[1] else 1
        lanes[lane].append(path)
        loads[lane] += sizes[path]
    with ThreadPoolExecutor(1, thread_name_prefix="idfkit-hash") as pool:
        other = pool.submit(lambda: {p: fn(p) for p in lanes[1]})
        done = {p: fn(p) for p in lanes[0]}
        done.update(other.result())
    return [done[p] for p in paths]
