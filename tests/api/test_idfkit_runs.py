"""idfkit 1.1.1's run API (issue 11 groups 1, 5, 6), checked with the real engine."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import inspect
from pathlib import Path
from typing import Any

import pytest

import idfkit.simulation.config as idfkit_config
from idfkit import load_idf
from idfkit.exceptions import EnergyPlusNotFoundError, MigrationError, SimulationError
from idfkit.simulation import (
    BatchResult,
    EnergyPlusConfig,
    MemoryFileSystem,
    RunOptions,
    SimulationJob,
    SimulationResult,
    find_energyplus,
    simulate,
    simulate_batch,
)
from idfkit.simulation.async_batch import async_simulate_batch
from idfkit.simulation.cli import _parser
from idfkit.simulation.progress import SimulationProgress
from idfkit.simulation.study import JobSpec, load_study, write_study
from idfkit.writers import write_idf

DATA = Path(__file__).parents[1] / "data"

#: idfkit 1.1.1's `simulate` keywords and defaults, by introspection (spec/idfkit-api.md).
IDFKIT_SIMULATE = {
    "output_dir": None,
    "energyplus": None,
    "expand_objects": True,
    "annual": False,
    "design_day": False,
    "output_prefix": "eplus",
    "output_suffix": "C",
    "readvars": False,
    "timeout": 3600.0,
    "preprocessor_timeout": None,
    "extra_args": None,
    "cache": None,
    "fs": None,
    "on_progress": None,
    "auto_migrate": False,
}
IDFKIT_JOB_FIELDS = [
    "model",
    "weather",
    "label",
    "output_dir",
    "expand_objects",
    "annual",
    "design_day",
    "output_prefix",
    "output_suffix",
    "readvars",
    "timeout",
    "preprocessor_timeout",
    "extra_args",
]


@pytest.fixture(scope="module")
def design_days() -> Path:
    return DATA / "box_design_days.idf"


# -- one value for the run options ------------------------------------------------------
def test_simulate_takes_idfkit_parameters_as_a_superset() -> None:
    params = inspect.signature(simulate).parameters
    assert list(params)[:2] == ["model", "weather"] and params["weather"].default is None
    for name, default in IDFKIT_SIMULATE.items():
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY, name
        assert params[name].default == default, name


def test_every_carrier_takes_its_options_from_run_options() -> None:
    """simulate, SimulationJob, a study's JobSpec and the CLI all name RunOptions' fields."""
    names = RunOptions.names()
    defaults = RunOptions().as_dict()
    params = inspect.signature(simulate).parameters
    job_fields = {f.name: f for f in dataclasses.fields(SimulationJob)}
    for name in names:
        assert params[name].default == (None if name == "extra_args" else defaults[name])
        assert job_fields[name].default == (None if name == "extra_args" else defaults[name])
    assert SimulationJob("m.idf").options == RunOptions()
    assert JobSpec.model_fields["options"].annotation is RunOptions
    run = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction)).choices[
        "run"
    ]
    dests = {a.dest for a in run._actions}
    assert set(names) <= dests
    parsed = run.parse_args(["m.idf", "w.epw", "-o", "x", "--readvars", "--output-suffix", "L"])
    assert RunOptions.from_mapping(vars(parsed)) == RunOptions(readvars=True, output_suffix="L")


def test_options_are_checked_once_for_everyone(box_model: Path, weather: Path) -> None:
    with pytest.raises(ValueError, match="output_suffix"):
        RunOptions(output_suffix="X")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="preprocessor_timeout"):
        SimulationJob(box_model, weather, preprocessor_timeout=float("nan"))
    with pytest.raises(TypeError, match="not both"):
        simulate(box_model, weather, annual=True, options=RunOptions())
    assert SimulationJob(box_model, weather, extra_args=["-r"]).extra_args == ("-r",)  # type: ignore[arg-type]


def test_a_study_job_carries_its_options(box_model: Path, weather: Path, tmp_path: Path) -> None:
    fs = MemoryFileSystem()
    job = SimulationJob(box_model, weather, "a", readvars=True, output_suffix="L", timeout=99)
    write_study([job], fs)
    [spec] = load_study(fs).jobs
    assert spec.options == job.options == RunOptions(readvars=True, output_suffix="L", timeout=99)


# -- simulate() as idfkit runs it --------------------------------------------------------
def test_idfkit_names_and_progress(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    seen: list[SimulationProgress] = []
    result = simulate(
        load_idf(box_model),
        weather,
        output_dir=tmp_path,
        energyplus=energyplus,
        on_progress=seen.append,
        readvars=True,
    )
    assert result.success
    names = set(result.files())
    assert {"model.idf", "eplus.sql", "eplus.err", "eplus.eso", "eplusTable.csv"} <= names
    assert "eplus.csv" in names and "eplus.rvi" in names
    csv = (tmp_path / "eplus.csv").read_text().splitlines()
    assert len(csv) == 8761 and "Zone Mean Air Temperature" in csv[0]
    assert result.sql is not None
    assert all(isinstance(p, SimulationProgress) for p in seen)
    phases = [p.phase for p in seen]
    assert "simulating" in phases and phases[-1] == "complete" and seen[-1].percent == 100
    legacy = simulate(
        box_model,
        weather,
        output_dir=tmp_path / "legacy",
        energyplus=energyplus,
        output_suffix="L",
    )
    assert "eplusout.sql" in legacy.files() and legacy.sql is not None


def test_tqdm_progress_bar(
    design_days: Path, energyplus: EnergyPlusConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    result = simulate(design_days, design_day=True, energyplus=energyplus, on_progress="tqdm")
    assert result.success
    assert "100/100%" in capsys.readouterr().err  # the bar ends full, as idfkit's does
    with pytest.raises(ValueError, match="on_progress"):  # idfkit's error for an unknown name
        simulate(design_days, design_day=True, energyplus=energyplus, on_progress="bar")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="on_progress"):
        simulate(design_days, design_day=True, energyplus=energyplus, on_progress=3)  # type: ignore[arg-type]


def test_idfkit_errors_for_run_setup(
    design_days: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    """What idfkit raises as `SimulationError` is a `SimulationError` here too."""
    with pytest.raises(SimulationError, match="Weather file not found") as missing:
        simulate(design_days, tmp_path / "nowhere.epw", energyplus=energyplus)
    assert isinstance(missing.value, FileNotFoundError)
    for options in ({}, {"annual": True}):
        with pytest.raises(SimulationError, match="weather file is required"):
            simulate(design_days, None, energyplus=energyplus, output_dir=tmp_path, **options)
    assert not any(tmp_path.iterdir())  # refused before anything was written

    def boom(progress: SimulationProgress) -> None:
        raise RuntimeError("callback failed")

    with pytest.raises(SimulationError, match="RuntimeError: callback failed") as failed:
        simulate(design_days, design_day=True, energyplus=energyplus, on_progress=boom)
    assert isinstance(failed.value.__cause__, RuntimeError)
    with pytest.raises(ValueError, match="must not be empty"):
        simulate_batch([], energyplus=energyplus)
    one = [SimulationJob(design_days, None, "dd", tmp_path / "dd", design_day=True)]
    with pytest.raises(ValueError, match="progress=True"):  # refused, not failing every job
        simulate_batch(one, energyplus=energyplus, on_progress="tqdm")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="progress=True"):
        asyncio.run(async_simulate_batch(one, energyplus=energyplus, on_progress="tqdm"))
    error = SimulationError("EnergyPlus failed", exit_code=1, stderr="bad input\n")
    assert str(error) == "EnergyPlus failed (exit code 1)\nstderr: bad input"
    assert str(SimulationError("x")) == "x"


def test_design_days_without_a_weather_file(
    design_days: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    result = simulate(design_days, output_dir=tmp_path, design_day=True, energyplus=energyplus)
    assert result.success, result.manifest and result.manifest.error_summary
    assert result.manifest is not None and result.manifest.weather is None
    assert result.sql is not None
    assert len(result.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")) == 48


def test_templates_are_expanded_first(energyplus: EnergyPlusConfig, tmp_path: Path) -> None:
    model = DATA / "box_templates.idf"
    result = simulate(model, output_dir=tmp_path / "x", design_day=True, energyplus=energyplus)
    assert result.success, result.manifest and result.manifest.error_summary
    ran = (tmp_path / "x" / "model.idf").read_text()
    assert "ZoneHVAC:IdealLoadsAirSystem" in ran
    plain = simulate(
        model,
        output_dir=tmp_path / "y",
        design_day=True,
        expand_objects=False,
        energyplus=energyplus,
    )
    assert plain.success is False


def test_auto_migrate_says_when_it_cannot(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    old = tmp_path / "old.idf"
    old.write_text(box_model.read_text().replace("Version, 25.2;", "Version, 9.6;"))
    with pytest.raises(
        MigrationError, match=r"9\.6 to 25\.2\.0: this package does not run IDFVersionUpdater"
    ):
        simulate(old, weather, energyplus=energyplus, auto_migrate=True, output_dir=tmp_path / "o")
    assert not (tmp_path / "o").exists()


def test_a_cache_is_asked_first_and_filled_after(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    class DictCache:
        """A cache with idfkit's three methods, keeping results in a dict."""

        def __init__(self) -> None:
            self.store: dict[str, SimulationResult] = {}

        def compute_key(self, model: Any, weather: Any, **options: Any) -> str:
            return f"{len(write_idf(model))}-{Path(weather).name}-{sorted(options.items())}"

        def get(self, key: str) -> SimulationResult | None:
            return self.store.get(key)

        def put(self, key: str, result: SimulationResult) -> None:
            self.store[key] = result

    cache = DictCache()
    first = simulate(
        box_model, weather, output_dir=tmp_path / "a", cache=cache, energyplus=energyplus
    )
    assert first.success and list(cache.store.values()) == [first]
    again = simulate(
        box_model, weather, output_dir=tmp_path / "b", cache=cache, energyplus=energyplus
    )
    assert again is first and not (tmp_path / "b").exists()
    other = simulate(  # a second miss: another key, stored beside the first
        box_model,
        weather,
        output_dir=tmp_path / "c",
        cache=cache,
        energyplus=energyplus,
        annual=True,
    )
    assert other.success and list(cache.store.values()) == [first, other]


# -- batches -----------------------------------------------------------------------------
def test_simulation_job_fields_in_idfkit_order() -> None:
    fields = dataclasses.fields(SimulationJob)
    assert [f.name for f in fields][: len(IDFKIT_JOB_FIELDS)] == IDFKIT_JOB_FIELDS
    assert [f.name for f in fields if f.kw_only] == ["fs", "energyplus", "parameters"]
    job = SimulationJob("m.idf", "w.epw", "lbl", "out", False, True, False, "p", "L", True, 60.0)
    assert (job.label, job.output_dir) == ("lbl", "out")
    assert (job.expand_objects, job.annual) == (False, True)
    assert (job.output_prefix, job.output_suffix, job.readvars, job.timeout) == ("p", "L", True, 60)
    # hashable as idfkit's jobs are (a set of jobs, a dict keyed by job), parameters and all
    varied = SimulationJob("m.idf", "w.epw", "lbl", parameters={"thickness": 0.1})
    assert len({job, varied, SimulationJob("m.idf", "w.epw", "lbl", parameters={"t": 1})}) == 3


def test_batch_result_is_a_sequence_of_results(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    calls: list[dict[str, Any]] = []
    progress: list[SimulationProgress] = []
    jobs = [
        SimulationJob(box_model, weather, "good", tmp_path / "good"),
        SimulationJob(box_model, tmp_path / "nothere.epw", "no weather", tmp_path / "bad"),
        SimulationJob(DATA / "rejected.idf", weather, "rejected", tmp_path / "rejected"),
    ]
    batch = simulate_batch(
        jobs,
        energyplus=energyplus,
        max_workers=2,
        progress=lambda **kw: calls.append(kw),
        on_progress=progress.append,
    )
    assert isinstance(batch, BatchResult) and len(batch) == 3
    assert all(isinstance(r, SimulationResult) for r in batch)
    assert batch.results == tuple(batch) and batch[0] is batch.results[0]
    assert batch.total_runtime_seconds > 0
    good, missing, rejected = batch
    assert good.success and good.sql is not None
    assert missing.success is False and missing.exit_code is None
    assert "nothere.epw" in missing.stderr
    assert rejected.success is False and rejected.exit_code not in (0, None)
    assert batch.succeeded == (good,) and batch.failed == (missing, rejected)
    assert not batch.all_succeeded
    assert sorted(c["completed"] for c in calls) == [1, 2, 3]
    assert {c["total"] for c in calls} == {3}
    assert {(c["label"], c["success"]) for c in calls} == {
        ("good", True),
        ("no weather", False),
        ("rejected", False),
    }
    assert progress and {p.job_label for p in progress} <= {"good", "rejected"}
    assert {p.job_index for p in progress} <= {0, 2}
    rows = batch.summary()
    assert [r["status"] for r in rows] == ["succeeded", "error", "failed"]
    assert "nothere.epw" in rows[1]["error"]
    assert "<table>" in batch._repr_html_()
    frame = batch.to_dataframe()
    assert list(frame["status"]) == ["succeeded", "error", "failed"]


# -- configuration -----------------------------------------------------------------------
def test_energyplus_config_as_in_idfkit(energyplus: EnergyPlusConfig) -> None:
    assert energyplus.version == (25, 2, 0)
    assert [f.name for f in dataclasses.fields(EnergyPlusConfig)] == [
        "executable",
        "version",
        "install_dir",
        "idd_path",
    ]
    again = EnergyPlusConfig.from_path(energyplus.install_dir)
    assert again == energyplus == EnergyPlusConfig.from_path(energyplus.executable)
    assert energyplus.expand_objects_exe is not None and energyplus.expand_objects_exe.is_file()
    assert energyplus.slab_exe is None and energyplus.basement_exe is None  # not in the wheel
    assert energyplus.transition_exe((25, 1, 0), (25, 2, 0)) is None
    with pytest.raises(EnergyPlusNotFoundError):
        EnergyPlusConfig.from_path(Path(__file__).parent)


def test_find_energyplus_by_version_and_path(energyplus: EnergyPlusConfig) -> None:
    assert find_energyplus(version=(25, 2, 0)) == energyplus
    assert find_energyplus(version="25.2") == energyplus
    assert find_energyplus(path=energyplus.install_dir, version="25.2.0") == energyplus
    with pytest.raises(EnergyPlusNotFoundError, match=r"9\.6.*25\.2\.0"):
        find_energyplus(version=(9, 6, 0))
    with pytest.raises(EnergyPlusNotFoundError, match=r"not 9\.6"):
        find_energyplus(path=energyplus.install_dir, version="9.6")
    with pytest.raises(ValueError, match="version"):
        find_energyplus(version="latest")
    assert idfkit_config.find_energyplus is find_energyplus
    assert idfkit_config.EnergyPlusConfig is EnergyPlusConfig


def test_cli_runs_with_options(
    box_model: Path, weather: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from idfkit.simulation.cli import main

    out = tmp_path / "r"
    assert main(["run", str(box_model), str(weather), "-o", str(out), "--readvars"]) == 0
    assert (out / "eplus.csv").is_file() and (out / "model.idf").is_file()
    assert "succeeded" in capsys.readouterr().out
