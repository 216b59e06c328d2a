"""One hourly variable from 1,000 annual runs to Parquet (issue 21, item 6).

One real annual simulation of the box model is run as a one-job study; its
published SQLite output is then copied under each of the ``--runs`` jobs of
a second study, each with its own manifest (the job's binding and
parameters), as a study of that many runs would hold. `collect_timeseries`
then writes ``Zone Mean Air Temperature`` (ZONE 1, hourly) of every run to
Parquet in a fresh child process: its wall time and peak RSS are the figures
(goals: <= 60 s, <= 500 MB). ``--backend s3`` (the default) serves the study
from moto's S3 server in its own process; ``--backend local`` from a folder.
``--profile FILE`` writes the child's cProfile statistics.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _table import print_table

from idfkit.simulation import LocalFileSystem, S3FileSystem, find_energyplus
from idfkit.simulation.examples import example_model
from idfkit.simulation.fs.base import FileSystem, join
from idfkit.simulation.manifest import MANIFEST_NAME, RunManifest
from idfkit.simulation.study import (
    JobSpec,
    collect_timeseries,
    grid_jobs,
    load_study,
    run_study_job,
    write_study,
)
from idfkit.simulation.testing import ACCESS_KEY, REGION, SECRET_KEY, LocalS3Server

BUCKET = "series-bench"
WEATHER = "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
VARIABLE = ("Zone Mean Air Temperature", "ZONE 1")


def _no_edit(doc: Any, parameters: Any) -> None:
    """Every job runs the same model: the copies stand for distinct runs."""


def populate(fs: FileSystem, runs: int) -> list[list[object]]:
    """A one-job study run for real under ``seed``, copied into ``runs`` jobs under ``study``."""
    weather = find_energyplus().weather_dir / WEATHER
    seed = join("seed", "")
    write_study(grid_jobs(example_model("box"), weather, {"x": [0]}, edit=_no_edit), fs, seed)
    started = time.perf_counter()
    assert run_study_job(fs, 0, seed).success
    simulated = time.perf_counter() - started
    spec = load_study(fs, seed).jobs[0]
    folder = join(seed, spec.output_dir)
    manifest = RunManifest.model_validate_json(fs.read_bytes(join(folder, MANIFEST_NAME)))
    entry = next(f for f in manifest.files if f.name.endswith(".sql"))
    data = fs.read_bytes(join(folder, entry.name))
    plan = write_study(
        grid_jobs(example_model("box"), weather, {"x": list(range(runs))}, edit=_no_edit),
        fs,
        "study",
    )

    def publish(job: JobSpec) -> None:
        out = join("study", job.output_dir)
        fs.write_bytes(join(out, entry.name), data)
        copy = manifest.model_copy(
            update={
                "run_id": job.label,
                "label": job.label,
                "job": job.binding(),
                "parameters": job.parameters,
                "files": (entry,),
            }
        )
        fs.write_text(join(out, MANIFEST_NAME), copy.to_json())

    started = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(publish, plan.jobs))
    return [
        ["one real annual simulation s", simulated],
        [
            f"populate {runs:,} runs (SQLite {len(data) // 1024:,} KB each) s",
            time.perf_counter() - started,
        ],
    ]


def _peak_rss_mb() -> float:
    """This process's peak RSS (VmHWM: ru_maxrss of a child would include what it inherited)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(where: str, backend: str, profile: str) -> dict[str, Any]:
    """Collect the series in this (fresh) process; the figures as a dict."""
    fs: FileSystem
    if backend == "s3":
        fs = S3FileSystem(
            BUCKET,
            "",
            endpoint_url=where,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
    else:
        fs = LocalFileSystem(where)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "series.parquet"

        def collect() -> Any:
            return collect_timeseries(fs, "study", *VARIABLE, frequency="Hourly", output=target)

        started, cpu = time.perf_counter(), time.process_time()
        if profile:
            import cProfile

            with cProfile.Profile() as prof:
                report = collect()
            prof.dump_stats(profile)
        else:
            report = collect()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        size = report.path.stat().st_size
    return {
        "seconds": seconds,
        "cpu": cpu,
        "rows": report.rows,
        "runs": report.runs,
        "skipped": len(report.skipped),
        "rss_mb": _peak_rss_mb(),
        "parquet_mb": round(size / 2**20, 1),
    }


def measure(where: str, backend: str, profile: str, src: str, tag: str) -> list[list[object]]:
    """The child's figures, with ``src`` first on its path when given (an earlier tree)."""
    env = {**os.environ, "PYTHONPATH": src} if src else None
    out = subprocess.run(
        [sys.executable, __file__, "--child", where, backend, profile],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout
    got = json.loads(out.strip().splitlines()[-1])
    return [
        [f"{tag}collect_timeseries wall time s (goal <= 60)", got["seconds"]],
        [f"{tag}collector CPU s", got["cpu"]],
        [f"{tag}rows written", f"{got['rows']:,}"],
        [f"{tag}runs written / skipped", f"{got['runs']} / {got['skipped']}"],
        [f"{tag}collector peak RSS MB (goal <= 500)", got["rss_mb"]],
        [f"{tag}Parquet size MB", got["parquet_mb"]],
    ]


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(child(*sys.argv[2:5])))
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1_000)
    parser.add_argument("--backend", choices=["s3", "local"], default="s3")
    parser.add_argument("--profile", default="", help="write the child's cProfile stats here")
    parser.add_argument(
        "--baseline",
        default="",
        help="also collect with this source folder first on the path (an earlier commit's src)",
    )
    parser.add_argument("--repeat", type=int, default=1, help="collections of each tree")
    args = parser.parse_args()
    title = f"one hourly variable from {args.runs:,} annual runs to Parquet ({args.backend})"

    def collect(where: str) -> list[list[object]]:
        # Alternating (baseline, this tree, baseline, ...): the load of a shared machine
        # then hits both alike; each repeat's figures are listed.
        rows = []
        for n in range(args.repeat):
            tag = f"#{n + 1} " if args.repeat > 1 else ""
            if args.baseline:
                rows += measure(where, args.backend, "", args.baseline, f"{tag}baseline: ")
            rows += measure(where, args.backend, args.profile, "", tag)
        return rows

    if args.backend == "local":
        with tempfile.TemporaryDirectory() as tmp:
            rows = populate(LocalFileSystem(tmp), args.runs)
            rows += collect(tmp)
    else:
        with LocalS3Server(process=True) as server:
            rows = populate(server.filesystem(BUCKET, ""), args.runs)
            rows += collect(server.endpoint_url)
    print_table(title, ["figure", "value"], rows)


if __name__ == "__main__":
    main()
