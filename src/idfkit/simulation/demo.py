"""``idfkit-sim demo``: the cloud page's three steps on a real parametric study.

With no location it starts moto's S3 server on 127.0.0.1, so it runs on any
machine; given a bucket it uses that instead.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from idfkit import load_idf
from idfkit.simulation.batch import SimulationJob
from idfkit.simulation.cli import format_table
from idfkit.simulation.energyplus import find_energyplus
from idfkit.simulation.examples import example_model
from idfkit.simulation.fs.base import FileSystem
from idfkit.simulation.result import SimulationResult
from idfkit.simulation.study import collect_results, run_study_job, write_study

__all__ = ["INSULATION_M", "run_demo"]

#: Wall and roof insulation thickness of each variant, in metres.
INSULATION_M = (0.02, 0.04, 0.06, 0.08, 0.10, 0.15, 0.20, 0.30)
J_PER_KWH = 3.6e6
WEATHER = "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"


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
    """Prepare, run and collect the study; print the table; write the plot. Returns an exit code."""
    with _storage(location, endpoint_url, bucket, prefix) as (fs, where):
        print(f"Study location: {where}")
        config = find_energyplus()
        weather = config.weather_dir / WEATHER
        jobs = _variants(variants, weather)

        print(f"1. Preparing {len(jobs)} variants of the box model (Chicago TMY3, annual)")
        plan = write_study(jobs, fs, overwrite=True)

        print(
            f"2. Running them as cloud workers would (one job index each), "
            f"EnergyPlus {config.version}"
        )
        _run_workers(fs, len(plan.jobs), workers)

        print("3. Collecting the results from the bucket")
        collection = collect_results(fs)
        rows = [
            _row(fs, row.output_dir, row.label, row.status, row.runtime_seconds)
            for row in collection.rows
        ]
        print()
        print(format_table(rows))
        print()
        print(", ".join(f"{n} {s}" for s, n in collection.counts().items()))
        if plot is not None:
            _plot(fs, [r.output_dir for r in collection.rows if r.status == "succeeded"], plot)
        return 0 if collection.all_succeeded else 1


@contextlib.contextmanager
def _storage(
    location: str | None, endpoint_url: str | None, bucket: str | None, prefix: str
) -> Iterator[tuple[FileSystem, str]]:
    from idfkit.simulation.fs.s3 import S3FileSystem

    if location:
        from idfkit.simulation.url import filesystem_from_url

        options = {"endpoint_url": endpoint_url} if endpoint_url else {}
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


def _variants(count: int, weather: Path) -> list[SimulationJob]:
    if not 1 <= count <= len(INSULATION_M):
        raise ValueError(f"--variants must be between 1 and {len(INSULATION_M)}, not {count}")
    base = load_idf(example_model("box"))
    jobs = []
    for thickness in INSULATION_M[:count]:
        variant = base.copy()
        variant["Material"]["Wall Insulation"].thickness = thickness
        label = f"insulation-{thickness * 100:g}cm"
        jobs.append(SimulationJob(variant, weather, label=label, output_dir=label))
    return jobs


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
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc="   simulations", unit="run", file=sys.stdout)


def _row(
    fs: FileSystem, output_dir: str, label: str, status: str, runtime: float | None
) -> dict[str, Any]:
    row: dict[str, Any] = {"variant": label, "status": status}
    heating = cooling = mean_temp = None
    if status == "succeeded":
        with SimulationResult.from_directory(output_dir, fs=fs) as result:
            sql = result.sql
            assert sql is not None
            heating = (
                sum(sql.get_timeseries("Zone Ideal Loads Zone Total Heating Energy").values)
                / J_PER_KWH
            )
            cooling = (
                sum(sql.get_timeseries("Zone Ideal Loads Zone Total Cooling Energy").values)
                / J_PER_KWH
            )
            temps = sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1").values
            mean_temp = sum(temps) / len(temps)
    row.update(
        {
            "heating_kWh": heating,
            "cooling_kWh": cooling,
            "mean_zone_temp_C": mean_temp,
            "runtime_s": runtime,
        }
    )
    return row


def _plot(fs: FileSystem, output_dirs: list[str], target: Path) -> None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print('(no plot: pip install "idfkit[plot]")')
        return
    fig, (temps_ax, energy_ax) = plt.subplots(2, 1, figsize=(11, 8), constrained_layout=True)
    labels, heating, cooling = [], [], []
    for output_dir in output_dirs:
        with SimulationResult.from_directory(output_dir, fs=fs) as result:
            sql = result.sql
            assert sql is not None
            ts = sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")
            days = [ts.timestamps[i] for i in range(0, len(ts), 24)]
            daily = [
                sum(ts.values[i : i + 24]) / len(ts.values[i : i + 24])
                for i in range(0, len(ts), 24)
            ]
            temps_ax.plot(days, daily, label=output_dir, linewidth=1)
            labels.append(output_dir.removeprefix("insulation-"))
            heating.append(
                sum(sql.get_timeseries("Zone Ideal Loads Zone Total Heating Energy").values)
                / J_PER_KWH
            )
            cooling.append(
                sum(sql.get_timeseries("Zone Ideal Loads Zone Total Cooling Energy").values)
                / J_PER_KWH
            )
    temps_ax.set_title("Daily mean zone air temperature, box model, Chicago TMY3")
    temps_ax.set_ylabel("°C")
    temps_ax.legend(fontsize=8, ncol=4)
    positions = range(len(labels))
    energy_ax.bar([p - 0.2 for p in positions], heating, width=0.4, label="heating")
    energy_ax.bar([p + 0.2 for p in positions], cooling, width=0.4, label="cooling")
    energy_ax.set_xticks(list(positions), labels)
    energy_ax.set_xlabel("wall and roof insulation")
    energy_ax.set_ylabel("kWh per year")
    energy_ax.set_title("Annual ideal-load energy by variant")
    energy_ax.legend()
    fig.savefig(target, dpi=110)
    plt.close(fig)
    print(f"Wrote {target}")
