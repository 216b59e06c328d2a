"""Helpers shared by test modules (not fixtures)."""

from __future__ import annotations

import hashlib
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from idfkit.simulation.fs.s3 import S3FileSystem
from idfkit.simulation.manifest import InputRecord, ManifestFile, RunManifest


@contextmanager
def count_requests(fs: S3FileSystem) -> Iterator[Counter[str]]:
    """Count the HTTP requests ``fs`` sends, by operation name (retries included)."""
    counts: Counter[str] = Counter()

    def on_send(event_name: str, **_: Any) -> None:
        counts[event_name.rsplit(".", 1)[-1]] += 1  # before-send.s3.<Operation>
        counts["total"] += 1

    events = fs.client.meta.events
    events.register("before-send.s3", on_send)
    try:
        yield counts
    finally:
        events.unregister("before-send.s3", on_send)


def made_manifest(files: dict[str, bytes], **overrides: Any) -> RunManifest:
    """A successful run's manifest listing ``files`` (name -> content), made by hand."""
    now = datetime.now(UTC)
    fields: dict[str, Any] = {
        "run_id": "c" * 32,
        "success": True,
        "exit_code": 0,
        "runtime_seconds": 2.0,
        "energyplus_version": "25.2.0",
        "output_prefix": "eplus",
        "files": tuple(
            ManifestFile(name=name, size=len(data), sha256=hashlib.sha256(data).hexdigest())
            for name, data in files.items()
        ),
        "model": InputRecord(name="model.idf", sha256="0" * 64),
        "weather": None,
        "started_at": now,
        "finished_at": now,
        "idfkit_version": "test",
    }
    fields.update(overrides)
    return RunManifest(**fields)


def energyplus_children() -> list[int]:
    """Live (not zombie) child processes of this test process running EnergyPlus."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        state, ppid = fields[0], int(fields[1])
        if ppid == os.getpid() and state != "Z" and b"energyplus" in cmdline.lower():
            found.append(int(entry))
    return found


def processes_mentioning(*texts: str) -> list[int]:
    """Processes whose command line holds every one of ``texts`` (any parent)."""
    wanted = [t.encode() for t in texts]
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if all(w in cmdline for w in wanted):
                found.append(int(pid))
    return found
