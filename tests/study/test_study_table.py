"""Study results as data: parameters, key metrics, one table, time series, grids (issue 13)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from idfkit import load_idf
from idfkit.document import IDFDocument
from idfkit.simulation import (
    EnergyPlusConfig,
    LocalFileSystem,
    MemoryFileSystem,
    SimulationJob,
    StudyError,
)
from idfkit.simulation.cli import main as cli
from idfkit.simulation.manifest import RunManifest
from idfkit.simulation.parsers.sql import SQLResult
from idfkit.simulation.study import (
    collect_results,
    collect_timeseries,
    grid_jobs,
    run_study_job,
    write_study,
)
from idfkit.writers import write_idf

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

INSULATION_M = (0.02, 0.10, 0.30)


def set_insulation(doc: IDFDocument, parameters: Mapping[str, Any]) -> None:
    """The grid's edit: wall and roof insulation thickness, in metres (importable by the CLI)."""
    doc["Material"]["Wall Insulation"].thickness = parameters["insulation_m"]


def window_to_wall(sql: SQLResult) -> dict[str, float | tuple[float, str]]:
    """A user's metric hook."""
    rows = sql.get_tabular_data("EnvelopeSummary", "Opaque Exterior", column_name="Gross Area")
    return {"opaque_area_m2": (sum(r.number or 0.0 for r in rows), "m2"), "answer": 42}


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, energyplus: EnergyPlusConfig) -> Path:
    """A 3-variant insulation study run by workers into a local folder, shared by the tests."""
    from idfkit.simulation.examples import example_model

    weather = energyplus.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    folder = tmp_path_factory.mktemp("study")
    fs = LocalFileSystem(folder)
    jobs = grid_jobs(
        example_model("box"),
        weather,
        {"insulation_m": list(INSULATION_M)},
        edit=set_insulation,
        label="insulation-{index}",
    )
    write_study(jobs, fs)
    with ThreadPoolExecutor(3) as pool:
        outcomes = list(pool.map(lambda i: run_study_job(fs, i, metrics=window_to_wall), range(3)))
    assert all(o.success for o in outcomes)
    return folder


def test_a_three_variant_study_becomes_one_table(
    study: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    collection = collect_results(LocalFileSystem(study))
    assert collection.all_succeeded
    frame = collection.to_dataframe()
    assert list(frame["insulation_m"]) == list(INSULATION_M)
    heating = list(frame["heating_kwh"])
    assert heating[0] > heating[1] > heating[2] > 0  # more insulation, less heating
    assert collection.units["heating_kwh"] == "kWh"
    assert collection.units["peak_heating_load_w"] == "W"
    assert collection.units["opaque_area_m2"] == "m2"
    assert set(frame["answer"]) == {42.0}
    for column in ("cooling_kwh", "site_energy_kwh", "peak_heating_load_w", "unmet_heating_hours"):
        assert frame[column].dtype == "float64", column
    site = frame["site_energy_kwh"]
    assert all(
        math.isclose(s, h + c, rel_tol=0.01)
        for s, h, c in zip(site, frame["heating_kwh"], frame["cooling_kwh"], strict=True)
    )
    assert list(frame.columns[:3]) == ["label", "status", "insulation_m"]
    assert list(frame.columns[-3:]) == ["runtime_seconds", "exit_code", "error"]

    # The CLI writes the same table, and it reads back the same.
    parquet, csv_file, json_file = (tmp_path / f"t.{s}" for s in ("parquet", "csv", "json"))
    for target in (parquet, csv_file, json_file):
        assert cli(["collect", str(study), "--output", str(target)]) == 0
    back = pq.read_table(parquet)
    assert back.schema.field("heating_kwh").metadata == {b"units": b"kWh"}
    assert back.to_pandas().set_index("index").equals(frame)
    import pandas as pd

    from_csv = pd.read_csv(csv_file, keep_default_na=False, na_values=[""]).set_index("index")
    assert list(from_csv["heating_kwh"]) == pytest.approx(heating)
    assert cli(["collect", str(study), "--output", str(tmp_path / "t.xlsx")]) == 2
    assert "must end in .parquet, .csv or .json" in capsys.readouterr().err
    assert cli(["collect", str(study)]) == 0
    shown = capsys.readouterr().out
    assert "insulation_m" in shown
    assert "heating_kwh" in shown
    assert "heating_district_heating_water_kwh" not in shown  # breakdowns stay in the files
    payload = json.loads(json_file.read_text())
    assert [r["heating_kwh"] for r in payload["rows"]] == heating
    assert payload["counts"]["succeeded"] == 3


def test_parameters_and_metrics_are_in_each_manifest(study: Path) -> None:
    text = (study / "insulation-1" / "idfkit-manifest.json").read_text()
    manifest = RunManifest.model_validate_json(text)
    assert manifest.parameters == {"insulation_m": 0.10}
    assert manifest.metrics["heating_kwh"].units == "kWh"
    assert manifest.metrics["heating_district_heating_water_kwh"].value == pytest.approx(
        manifest.metrics["heating_kwh"].value
    )
    assert len(text) < 8_000  # collection stays one small read per run


def test_time_series_across_runs(study: Path, tmp_path: Path) -> None:
    fs = LocalFileSystem(study)
    # Job 2's SQLite file is damaged after publishing: it must be skipped, not read.
    sql = study / "insulation-2" / "eplus.sql"
    data = bytearray(sql.read_bytes())
    data[-100] ^= 0xFF
    sql.write_bytes(bytes(data))
    try:
        report = collect_timeseries(
            fs,
            "",
            "Zone Mean Air Temperature",
            "ZONE 1",
            frequency="Hourly",
            output=tmp_path / "temps.parquet",
            max_workers=2,
        )
    finally:
        data[-100] ^= 0xFF
        sql.write_bytes(bytes(data))
    assert report.runs == 2
    assert report.rows == 2 * 8760
    assert list(report.skipped) == [2]
    assert "does not match its manifest" in report.skipped[2]
    table = pq.read_table(report.path)
    assert table.column_names == ["index", "run", "timestamp", "value"]
    assert table.schema.metadata[b"units"] == b"C"
    import pandas as pd

    frame = table.to_pandas()
    assert frame.groupby("run").size().to_dict() == {"insulation-0": 8760, "insulation-1": 8760}
    first, last = frame["timestamp"].iloc[0], frame["timestamp"].iloc[8759]
    assert (first.month, first.day, first.hour) == (1, 1, 1)  # interval ends, hourly
    assert last - first == pd.Timedelta(hours=8759)
    assert 15 < frame["value"].mean() < 25


def test_failed_and_missing_runs_are_reported_not_written(
    box_model: Path, weather: Path, rejected_model: Path, tmp_path: Path
) -> None:
    fs = MemoryFileSystem()
    write_study(
        [
            SimulationJob(box_model, weather, label="good", parameters={"case": "good"}),
            SimulationJob(rejected_model, weather, label="bad", parameters={"case": "bad"}),
            SimulationJob(box_model, weather, label="never", parameters={"case": "never"}),
        ],
        fs,
    )
    run_study_job(fs, 0)
    run_study_job(fs, 1)
    report = collect_timeseries(
        fs, "", "Zone Mean Air Temperature", "ZONE 1", output=tmp_path / "t.parquet"
    )
    assert (report.runs, report.rows) == (1, 8760)
    assert report.skipped[1].startswith("failed")
    assert report.skipped[2].startswith("missing")
    collection = collect_results(fs)
    rows = collection.records()
    assert [r["case"] for r in rows] == ["good", "bad", "never"]
    assert rows[0]["heating_kwh"] > 0
    assert rows[2]["heating_kwh"] is None


def broken_metrics(sql: SQLResult) -> dict[str, float | tuple[float, str]]:
    """A user's metric hook with a bug."""
    raise ZeroDivisionError("the hook's own bug")


@pytest.mark.parametrize("where", ["local folder", "remote store"])
def test_a_broken_hook_stops_its_run_before_the_manifest(
    box_model: Path, weather: Path, tmp_path: Path, where: str
) -> None:
    """The hook is read beside the hashing and uploads; its error still ends the run unpublished."""
    fs = LocalFileSystem(tmp_path / "study") if where == "local folder" else MemoryFileSystem()
    write_study([SimulationJob(box_model, weather, label="only", parameters={"n": 1})], fs)
    with pytest.raises(ZeroDivisionError, match="the hook's own bug"):
        run_study_job(fs, 0, metrics=broken_metrics)
    row = collect_results(fs).rows[0]
    assert (row.status, row.error) == ("incomplete", "publishing never finished")
    assert fs.exists("only/eplus.sql")  # the outputs went out; the run never read as done
    with pytest.raises(ValueError, match="metric name 'Bad Name' must be lower-case"):
        run_study_job(fs, 0, metrics=lambda sql: {"Bad Name": 1.0})
    assert collect_results(fs).rows[0].status == "incomplete"
    assert run_study_job(fs, 0, metrics=window_to_wall).success  # a fixed hook publishes
    assert collect_results(fs).rows[0].metrics["answer"] == 42.0


def test_grid_is_the_full_factorial(box_model: Path, weather: Path) -> None:
    seen: list[dict[str, Any]] = []

    def edit(doc: IDFDocument, parameters: Mapping[str, Any]) -> None:
        seen.append(dict(parameters))
        set_insulation(doc, {"insulation_m": parameters["t"]})

    jobs = grid_jobs(
        box_model, weather, {"t": [0.05, 0.1], "orient": [0, 90, 180]}, edit=edit, annual=True
    )
    assert len(jobs) == 6
    assert [j.parameters for j in jobs] == seen
    assert jobs[0].parameters == {"t": 0.05, "orient": 0}
    assert jobs[5].parameters == {"t": 0.1, "orient": 180}
    assert [j.label for j in jobs[:2]] == ["job-00000", "job-00001"]
    assert all(j.annual for j in jobs)
    texts = {write_idf(j.model) for j in jobs if isinstance(j.model, IDFDocument)}
    assert len(texts) == 2  # orientation is only a label here: two distinct models


@pytest.mark.standalone_model  # idfkit's own model layer names the field without suggestions
def test_a_misspelt_field_gets_the_closest_names(box_model: Path, weather: Path) -> None:
    with pytest.raises(StudyError, match=r"Invalid field 'thicknes'.*did you mean 'thickness'"):
        grid_jobs(box_model, weather, {"Material:Wall Insulation:thicknes": [0.1]})


def test_grid_sets_fields_by_name(box_model: Path, weather: Path, tmp_path: Path) -> None:
    grid = {
        "Material:Wall Insulation:thickness": [0.05, 0.2],
        "WindowMaterial:SimpleGlazingSystem:Glazing:u_factor": [1.8],
    }
    base = load_idf(box_model)
    jobs = grid_jobs(base, weather, grid)
    models = [j.model for j in jobs if isinstance(j.model, IDFDocument)]
    assert [m["Material"]["Wall Insulation"].thickness for m in models] == [0.05, 0.2]
    assert {m["WindowMaterial:SimpleGlazingSystem"]["Glazing"].u_factor for m in models} == {1.8}
    assert base["Material"]["Wall Insulation"].thickness == 0.1  # the base model is not touched
    # The model layer's own message (with the closest names in this project's, issue 19 item 3).
    with pytest.raises(StudyError, match=r"Invalid field 'thicknes' for object type 'Material'"):
        grid_jobs(box_model, weather, {"Material:Wall Insulation:thicknes": [0.1]})
    with pytest.raises(
        StudyError, match=r"-1 is out of range for Material thickness \(must be > 0\)"
    ):
        grid_jobs(box_model, weather, {"Material:Wall Insulation:thickness": [0.1, -1]})

    target = tmp_path / "by-name"
    args = ["study", "create", str(target), str(box_model), str(weather)]
    assert cli([*args, "--param", "Material:Wall Insulation:thickness=0.05,0.2"]) == 0
    from idfkit.simulation.study import load_study

    plan = load_study(LocalFileSystem(target))
    assert [j.parameters for j in plan.jobs] == [
        {"Material:Wall Insulation:thickness": 0.05},
        {"Material:Wall Insulation:thickness": 0.2},
    ]
    assert len({j.model for j in plan.jobs}) == 2  # two distinct stored models


def test_grid_and_parameter_errors(box_model: Path, weather: Path) -> None:
    fs = MemoryFileSystem()
    with pytest.raises(StudyError, match="no Material named 'Nothing'"):
        grid_jobs(box_model, weather, {"Material:Nothing:thickness": [0.1]})
    with pytest.raises(StudyError, match="does not name a field"):
        grid_jobs(box_model, weather, {"insulation_m": [0.1]})
    with pytest.raises(StudyError, match="list of values"):
        grid_jobs(box_model, weather, {"t": 0.1}, edit=set_insulation)  # type: ignore[dict-item]
    with pytest.raises(StudyError, match="JSON"):
        write_study([SimulationJob(box_model, weather, parameters={"x": {1, 2}})], fs)
    with pytest.raises(StudyError, match="JSON"):
        write_study([SimulationJob(box_model, weather, parameters={"x": float("nan")})], fs)
    with pytest.raises(StudyError, match="fixed column"):
        write_study(
            [SimulationJob(box_model, weather, parameters={"status": 1})], MemoryFileSystem()
        )


def test_study_create_cli(
    box_model: Path, weather: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "grid-study"
    args = [
        "study",
        "create",
        str(target),
        str(box_model),
        str(weather),
        "--param",
        "insulation_m=0.05,0.1",
        "--param",
        "orient=0,90",
        "--edit",
        "tests.study.test_study_table:set_insulation",
        "--annual",
    ]
    assert cli(args) == 0
    assert "4 jobs" in capsys.readouterr().out
    from idfkit.simulation.study import load_study

    plan = load_study(LocalFileSystem(target))
    assert [j.parameters for j in plan.jobs] == [
        {"insulation_m": 0.05, "orient": 0},
        {"insulation_m": 0.05, "orient": 90},
        {"insulation_m": 0.1, "orient": 0},
        {"insulation_m": 0.1, "orient": 90},
    ]
    assert all(j.options.annual for j in plan.jobs)
    assert cli(args) == 2  # exists already
    assert "overwrite" in capsys.readouterr().err
    assert cli([*args, "--overwrite"]) == 0
    assert (
        cli(
            [
                "study",
                "create",
                str(target),
                str(box_model),
                str(weather),
                "--param",
                "oops",
                "--overwrite",
            ]
        )
        == 2
    )


def test_old_manifests_still_read() -> None:
    old = {
        "state": "complete",
        "run_id": "r",
        "success": True,
        "exit_code": 0,
        "runtime_seconds": 1.0,
        "energyplus_version": "25.2.0",
        "output_prefix": "eplus",
        "files": [],
        "model": {"name": "in.idf", "sha256": "0" * 64},
        "weather": None,
        "started_at": "2026-01-01T00:00:00Z",
        "finished_at": "2026-01-01T00:00:01Z",
        "idfkit_version": "0.1",
    }
    manifest = RunManifest.model_validate_json(json.dumps(old))
    assert (manifest.job, manifest.parameters, manifest.metrics) == (None, {}, {})
    with pytest.raises(ValueError, match="finite"):
        RunManifest.model_validate_json(
            json.dumps({**old, "metrics": {"x": {"value": float("nan"), "units": ""}}})
        )
