"""``idfkit-sim demo``: the cloud page's three steps on a real parametric study.

With no location it starts moto's S3 server on 127.0.0.1, so it runs on any
machine; given a location (``s3://bucket/prefix``, ``az://container/prefix``,
``gs://bucket/prefix`` or a folder) or a bucket it uses that instead, with
each cloud's own credentials (AWS's chain, ``AZURE_STORAGE_CONNECTION_STRING``
or ``AZURE_STORAGE_ACCOUNT``, Google's chain; ``STORAGE_EMULATOR_HOST`` for a
Cloud Storage emulator).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import replace
from pathlib import Path
from typing import Any

from idfkit.document import IDFDocument
from idfkit.simulation._display import rows_to_text
from idfkit.simulation._optional import install_hint
from idfkit.simulation.batch import SimulationJob
from idfkit.simulation.energyplus import find_energyplus
from idfkit.simulation.examples import example_model
from idfkit.simulation.fs.base import FileSystem
from idfkit.simulation.study import (
    Collection,
    collect_results,
    grid_jobs,
    run_study_job,
    write_study,
)

__all__ = ["INSULATION_CM", "run_demo", "set_insulation", "study_table"]

#: Wall and roof insulation thickness of each variant, in centimetres: the one unit of
#: the demo's parameter, labels, table and plot (the model takes metres).
INSULATION_CM = (2, 4, 6, 8, 10, 15, 20, 30)
WEATHER = "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
#: The table's columns on screen: (column, heading).
SHOWN = (
    ("label", "variant"),
    ("insulation_cm", "insulation_cm"),
    ("status", "status"),
    ("heating_kwh", "heating_kwh"),
    ("cooling_kwh", "cooling_kwh"),
    ("peak_heating_load_w", "peak_heating_w"),
    ("peak_cooling_load_w", "peak_cooling_w"),
    ("unmet_heating_hours", "unmet_heating_h"),
    ("runtime_seconds", "runtime_s"),
)


def run_demo(
    *,
    location: str | None = None,
    endpoint_url: str | None = None,
    bucket: str | None = None,
    prefix: str = "idfkit-demo/",
    variants: int = 8,
    workers: int | None = None,
    plot: Path | None = Path("idfkit-demo.png"),
) -> int:
    """Prepare, run and collect the study; print the table; write the plot. Returns an exit code.

    Args:
        location: A storage URL (``s3://bucket/prefix``, ``az://...``) to
            keep the study in; None uses ``bucket``, else an embedded S3 server.
        endpoint_url: The S3 endpoint (for ``az://``, the account's URL).
        bucket: An S3 bucket, when no ``location`` is given.
        prefix: The key prefix within ``bucket`` or the embedded server.
        variants: How many insulation thicknesses to simulate (at most eight).
        workers: Simulations run at once; None: one per CPU.
        plot: The PNG file to write the plot to; None writes none.
    """
    with _storage(location, endpoint_url, bucket, prefix) as (fs, where):
        print(f"Study location: {where}")
        config = find_energyplus()
        jobs = demo_jobs(variants, config.weather_dir / WEATHER)

        print(f"1. Preparing {len(jobs)} variants of the box model (Chicago TMY3, annual)")
        plan = write_study(jobs, fs, overwrite=True)

        print(
            f"2. Running them as cloud workers would (one job index each), "
            f"EnergyPlus {config.version_string}"
        )
        _run_workers(fs, len(plan.jobs), workers)

        print("3. Collecting the study's table from the bucket (one manifest read per run)")
        collection = collect_results(fs)
        print()
        print(rows_to_text(study_table(collection)))
        print()
        print(", ".join(f"{n} {s}" for s, n in collection.counts().items()))
        if plot is not None:
            plot_energy(collection, plot)
        return 0 if collection.all_succeeded else 1


def set_insulation(doc: IDFDocument, parameters: Mapping[str, Any]) -> None:
    """Set the wall and roof insulation thickness to ``parameters["insulation_cm"]`` centimetres.

    Args:
        doc: The job's copy of the model.
        parameters: The job's parameters.
    """
    doc["Material"]["Wall Insulation"].thickness = parameters["insulation_cm"] / 100


def demo_jobs(count: int, weather: Path) -> list[SimulationJob]:
    """The demo's study: the box model with ``count`` insulation thicknesses."""
    if not 1 <= count <= len(INSULATION_CM):
        raise ValueError(f"--variants must be between 1 and {len(INSULATION_CM)}, not {count}")
    jobs = grid_jobs(
        example_model("box"),
        weather,
        {"insulation_cm": list(INSULATION_CM[:count])},
        edit=set_insulation,
    )
    named = []
    for job in jobs:
        label = f"insulation-{job.parameters['insulation_cm']}cm"
        named.append(replace(job, label=label, output_dir=label))
    return named


def study_table(collection: Collection) -> list[dict[str, Any]]:
    """The rows the demo prints: the variant, its parameter, status and key metrics.

    Args:
        collection: The collected study.
    """
    return [
        {heading: record.get(column) for column, heading in SHOWN}
        for record in collection.records()
    ]


def plot_energy(collection: Collection, target: Path) -> None:
    """Annual heating and cooling against insulation thickness, drawn from the study's table."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(no plot: {install_hint('matplotlib')})")
        return
    rows = [r for r in collection.records() if r["status"] == "succeeded"]
    thickness_cm = [r["insulation_cm"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 5), constrained_layout=True)
    ax.plot(thickness_cm, [r["heating_kwh"] for r in rows], "o-", label="heating")
    ax.plot(thickness_cm, [r["cooling_kwh"] for r in rows], "s-", label="cooling")
    ax.set_xlabel("Wall and roof insulation thickness [cm]")
    ax.set_ylabel("Annual ideal-load energy [kWh]")
    ax.set_title("Box model, Chicago TMY3: annual energy against insulation")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    ax.legend()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    print(f"Wrote {target}")


@contextlib.contextmanager
def _storage(
    location: str | None, endpoint_url: str | None, bucket: str | None, prefix: str
) -> Iterator[tuple[FileSystem, str]]:
    from idfkit.simulation.fs import S3FileSystem

    if location:
        from idfkit.simulation.url import filesystem_from_url

        options: dict[str, Any] = {}
        if endpoint_url:  # for az://, the endpoint is the account's URL
            key = "account_url" if location[:5].lower() == "az://" else "endpoint_url"
            options[key] = endpoint_url
        yield filesystem_from_url(location, **options), location
        return
    if bucket:
        fs = S3FileSystem(bucket, prefix, endpoint_url=endpoint_url)
        yield fs, fs.url()
        return
    from idfkit.simulation.testing import LocalS3Server

    with LocalS3Server() as server:
        fs = server.filesystem("idfkit-demo", prefix)
        print(f"Started an embedded S3 server at {server.endpoint_url} (moto)")
        yield fs, fs.url()


def _run_workers(fs: FileSystem, count: int, workers: int | None) -> None:
    bar = _bar(count)
    with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
        futures = [pool.submit(run_study_job, fs, i) for i in range(count)]
        for future in as_completed(futures):
            outcome = future.result()
            status = "succeeded" if outcome.success else "failed"
            if bar is not None:
                bar.set_postfix_str(f"{outcome.spec.label}: {status}")
                bar.update(1)
            else:
                print(f"   {outcome.spec.label}: {status}", flush=True)
    if bar is not None:
        bar.close()


def _bar(total: int) -> Any:
    """A bar on standard error when it is a terminal (else None: one line per run instead)."""
    if not sys.stderr.isatty():
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="   simulations", unit="run", file=sys.stderr)
