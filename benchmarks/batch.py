"""Batch figures for issue 4.

(1) simulations per minute for 20 annual box jobs with simulate_batch on this
    machine, against the same jobs one by one (goal: close to the core count);
(2) collecting a study of 10,000 synthetic results on moto's S3 server in a
    child process: wall time and requests by kind (goal: LIST <= 15, no
    SQLite downloads).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from _synthetic import synthetic_manifest
from _table import print_table

from idfkit import load_idf
from idfkit.simulation import S3FileSystem, SimulationJob, find_energyplus, simulate, simulate_batch
from idfkit.simulation.examples import example_model
from idfkit.simulation.fs.base import join
from idfkit.simulation.manifest import (
    MANIFEST_NAME,
    PublishingMarker,
)
from idfkit.simulation.study import collect_results, write_study
from idfkit.simulation.testing import LocalS3Server


def bench_throughput(jobs_count: int) -> None:
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    base = load_idf(example_model("box"))
    with tempfile.TemporaryDirectory() as tmp:
        jobs = []
        for i in range(jobs_count):
            variant = base.copy()
            variant["Material"][0].fields[2] = f"{0.02 + 0.01 * i:.2f}"
            jobs.append(SimulationJob(variant, weather, output_dir=Path(tmp) / f"b-{i}"))
        started = time.perf_counter()
        for i, job in enumerate(jobs):
            assert simulate(
                job.model, weather, output_dir=Path(tmp) / f"s-{i}", energyplus=config
            ).success
        serial = time.perf_counter() - started
        started = time.perf_counter()
        batch = simulate_batch(jobs, energyplus=config)
        parallel = time.perf_counter() - started
        assert batch.all_succeeded
    cores = os.cpu_count() or 1
    print_table(
        f"(1) {jobs_count} annual box simulations on {cores} cores",
        ["mode", "seconds", "simulations per minute"],
        [
            ["one by one", serial, 60 * jobs_count / serial],
            [f"simulate_batch ({cores} threads)", parallel, 60 * jobs_count / parallel],
        ],
    )
    print(f"\n  speed-up: {serial / parallel:.2f}x (goal: close to {cores}x)")


def bench_collection(count: int) -> None:
    config = find_energyplus()
    weather = config.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    model = example_model("box")
    with LocalS3Server(process=True) as server:
        fs = server.filesystem("collect-bench", "study-10k/")
        jobs = [SimulationJob(model, weather, label=f"case-{i:05d}") for i in range(count)]
        started = time.perf_counter()
        plan = write_study(jobs, fs)
        prepare = time.perf_counter() - started
        # Synthetic outcomes: most succeeded, some failed, some cut short, some never started.
        failed, incomplete, missing = (
            set(range(0, count, 200)),
            set(range(7, count, 300)),
            set(range(13, count, 500)),
        )

        def publish(i: int) -> None:
            out = f"case-{i:05d}"
            if i in missing:
                return
            fs.write_bytes(join(out, "eplusout.sql"), b"SQLite!")
            if i in incomplete:
                marker = PublishingMarker(run_id=out, started_at=datetime.now(UTC))
                fs.write_text(join(out, MANIFEST_NAME), marker.to_json())
            else:
                manifest = synthetic_manifest(out, i not in failed, plan.jobs[i].binding())
                fs.write_text(join(out, MANIFEST_NAME), manifest)

        started = time.perf_counter()
        with ThreadPoolExecutor(32) as pool:
            list(pool.map(publish, range(count)))
        populate = time.perf_counter() - started

        reader = S3FileSystem(
            "collect-bench",
            "study-10k/",
            endpoint_url=server.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        sent: Counter[str] = Counter()

        def on_send(event_name: str, request: Any, **_: Any) -> None:
            operation = event_name.rsplit(".", 1)[-1]
            sent[operation] += 1
            if operation == "GetObject" and request.url.split("?")[0].endswith(".sql"):
                sent["SQLite downloads"] += 1

        reader.client.meta.events.register("before-send.s3", on_send)
        started = time.perf_counter()
        collection = collect_results(reader)
        collect = time.perf_counter() - started
    counts = collection.counts()
    assert counts["failed"] == len(failed - incomplete - missing)
    print_table(
        f"(2) collecting {count:,} results from moto's S3 server",
        ["figure", "value"],
        [
            ["prepare the study (write_study) s", prepare],
            ["populate synthetic results s", populate],
            ["collect_results wall time s", collect],
            ["LIST requests (goal <= 15)", sent["ListObjectsV2"]],
            ["GET requests (index + manifests)", sent["GetObject"]],
            ["SQLite downloads (goal 0)", sent["SQLite downloads"]],
            ["all requests", sum(v for k, v in sent.items() if k != "SQLite downloads")],
            ["status counts", ", ".join(f"{n} {s}" for s, n in counts.items())],
            ["indices to resubmit", len(collection.to_resubmit)],
        ],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--results", type=int, default=10_000)
    args = parser.parse_args()
    bench_throughput(args.jobs)
    bench_collection(args.results)


if __name__ == "__main__":
    main()
