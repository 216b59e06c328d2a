"""One output variable across every run of a study, as a long-format Parquet file."""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from idfkit.exceptions import IdfKitError
from idfkit.simulation.exceptions import IncompleteResultError
from idfkit.simulation.fs.base import FileSystem, download_file, join, normalize_path
from idfkit.simulation.manifest import RunManifest, hash_file
from idfkit.simulation.parsers.sql import SQLResult, series_columns, timestamps_from_keys
from idfkit.simulation.study.collect import job_state
from idfkit.simulation.study.index import JobSpec, load_study
from idfkit.simulation.study.table import import_pyarrow

__all__ = ["TimeseriesReport", "collect_timeseries"]

#: Runs gathered into one Parquet row group (8,760 hourly rows each).
RUNS_PER_ROW_GROUP = 32


@dataclass(frozen=True)
class TimeseriesReport:
    """What `collect_timeseries` wrote, and which runs it left out and why."""

    path: Path
    rows: int
    runs: int
    units: str
    skipped: dict[int, str]

    def __repr__(self) -> str:
        return (
            f"<TimeseriesReport {self.rows:,} rows from {self.runs} runs in {self.path}"
            f"{f', {len(self.skipped)} skipped' if self.skipped else ''}>"
        )


def collect_timeseries(
    fs: FileSystem,
    study: str | PurePath,
    variable: str,
    key: str | None = None,
    *,
    output: str | Path,
    frequency: str | None = None,
    environment: str | None = "annual",
    max_workers: int = 8,
) -> TimeseriesReport:
    """Write one variable of every succeeded run to ``output`` in long format.

    The Parquet file has the columns ``index`` (the job's index), ``run``
    (its label), ``timestamp`` (interval end) and ``value`` (the variable's
    unit is in the column's metadata). Runs are downloaded in parallel, each
    SQLite file checked against its manifest's SHA-256 before it is read,
    and written as they arrive, so memory stays bounded however many runs
    there are. Runs that failed, are missing, stale or incomplete, or whose
    download does not verify, are skipped and reported.

    Args:
        fs: The backend that holds the study.
        study: The study's folder on ``fs``.
        variable: The output variable (or meter) name.
        key: Its key (a zone, a surface); may be omitted when it has one key.
        output: The Parquet file to write.
        frequency: The reporting frequency, when the variable has several.
        environment: Which environments (see `SQLResult.get_timeseries`);
            the weather-file run periods by default.
        max_workers: Downloads in flight.

    Returns:
        The file, its row count, and the runs skipped with the reason.

    Raises:
        StudyError: The study's index is missing or corrupt.
        ImportError: pyarrow is not installed.
    """
    pa = import_pyarrow()
    root = normalize_path(study)
    plan = load_study(fs, root)
    target = Path(output)
    schema = pa.schema(
        [
            pa.field("index", pa.int32()),
            pa.field("run", pa.string()),
            pa.field("timestamp", pa.timestamp("s")),
            pa.field("value", pa.float64()),
        ]
    )
    skipped: dict[int, str] = {}
    rows = runs = 0
    units = ""
    pending: list[Any] = []
    writer: Any = None
    # Runs of one study share their time axis: convert it once, reuse it while it holds.
    axis: tuple[Sequence[Any], Any] = ((), None)
    try:
        for spec, outcome in _fetched(
            fs, root, plan.jobs, variable, key, frequency, environment, max_workers
        ):
            if isinstance(outcome, str):
                skipped[spec.index] = outcome
                continue
            times, values, units = outcome
            if axis[1] is None or times != axis[0]:
                axis = (times, pa.array(_stamps(times), pa.timestamp("s")))
            n = len(values)
            pending.append(
                pa.record_batch(
                    [
                        pa.repeat(pa.scalar(spec.index, pa.int32()), n),
                        pa.repeat(pa.scalar(spec.label, pa.string()), n),
                        axis[1],
                        pa.array(values, pa.float64()),
                    ],
                    schema=schema,
                )
            )
            rows += n
            runs += 1
            if len(pending) >= RUNS_PER_ROW_GROUP:
                writer = writer or _writer(pa, target, schema, units, variable)
                writer.write_table(pa.Table.from_batches(pending))
                pending.clear()
        writer = writer or _writer(pa, target, schema, units, variable)
        if pending:
            writer.write_table(pa.Table.from_batches(pending))
    finally:
        if writer is not None:
            writer.close()
    return TimeseriesReport(target, rows, runs, units, skipped)


def _writer(pa: Any, target: Path, schema: Any, units: str, variable: str) -> Any:
    meta = {"variable": variable, "units": units}
    return pa.parquet.ParquetWriter(target, schema.with_metadata(meta))


#: A run's time keys (or, where its file leaves a time field empty, its timestamps),
#: values and units; or why it has none.
Fetched = tuple[Sequence[Any], Sequence[float], str] | str


def _stamps(times: Sequence[Any]) -> Sequence[Any]:
    return timestamps_from_keys(times) if times and isinstance(times[0], int) else times


def _fetched(
    fs: FileSystem,
    root: str,
    jobs: Sequence[JobSpec],
    variable: str,
    key: str | None,
    frequency: str | None,
    environment: str | None,
    max_workers: int,
) -> Iterator[tuple[JobSpec, Fetched]]:
    """Each job's series (or why it has none), in index order, ``max_workers`` at a time."""

    def fetch(spec: JobSpec) -> Fetched:
        out = join(root, spec.output_dir)
        status, manifest, error = job_state(fs, out, spec)
        if status != "succeeded" or manifest is None:
            return f"{status}: {error}" if error else status
        local = Path(scratch) / f"{spec.index}.sql"
        try:
            return _series(fs, out, local, manifest, variable, key, frequency, environment)
        except (OSError, IdfKitError, KeyError) as exc:
            return f"unreadable: {type(exc).__name__}: {exc}"
        finally:
            local.unlink(missing_ok=True)

    window = max(1, max_workers) * 2
    # One scratch folder for every download (each run's file is deleted once read).
    with (
        tempfile.TemporaryDirectory(prefix="idfkit-ts-") as scratch,
        ThreadPoolExecutor(max(1, max_workers)) as pool,
    ):
        queue: deque[tuple[JobSpec, Future[Fetched]]] = deque()
        for spec in jobs:
            queue.append((spec, pool.submit(fetch, spec)))
            if len(queue) >= window:
                first, future = queue.popleft()
                yield first, future.result()
        while queue:
            first, future = queue.popleft()
            yield first, future.result()


def _series(
    fs: FileSystem,
    out: str,
    local: Path,
    manifest: RunManifest,
    variable: str,
    key: str | None,
    frequency: str | None,
    environment: str | None,
) -> Fetched:
    entry = next((f for f in manifest.files if f.name.endswith(".sql")), None)
    if entry is None:
        return "no SQLite output in the manifest"
    download_file(fs, join(out, entry.name), local)
    size, digest = hash_file(local)
    if (size, digest) != (entry.size, entry.sha256):
        raise IncompleteResultError(
            f"{join(out, entry.name)} does not match its manifest (size {size}, "
            f"expected {entry.size}); not read"
        )
    with SQLResult(local) as sql:
        units, times, values = series_columns(sql, variable, key, frequency, environment)
        if None not in times:
            return times, values, units
        series = sql.get_timeseries(variable, key, frequency=frequency, environment=environment)
    return series.timestamps, series.values, series.units
