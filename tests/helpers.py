"""Helpers shared by test modules (not fixtures)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from idfkit.simulation.fs.s3 import S3FileSystem


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
