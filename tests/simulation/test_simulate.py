"""simulate() on local disk, with the real EnergyPlus engine."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from idfkit import load_idf
from idfkit.simulation import (
    EnergyPlusConfig,
    IncompleteResultError,
    SimulationError,
    SimulationProgress,
    SimulationResult,
    UnknownVariableError,
    simulate,
)
from idfkit.simulation.manifest import MANIFEST_NAME
from idfkit.writers import write_idf
from tests.helpers import processes_mentioning


@pytest.fixture(scope="module")
def annual(
    box_model: Path,
    weather: Path,
    energyplus: EnergyPlusConfig,
    tmp_path_factory: pytest.TempPathFactory,
) -> SimulationResult:
    return simulate(
        box_model, weather, output_dir=tmp_path_factory.mktemp("annual"), energyplus=energyplus
    )


def test_annual_run_has_8760_hourly_values(annual: SimulationResult) -> None:
    assert annual.success and annual.exit_code == 0
    assert annual.runtime_seconds is not None and annual.runtime_seconds > 0
    assert annual.sql is not None
    ts = annual.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")
    assert len(ts) == 8760
    assert ts.units == "C" and ts.frequency == "Hourly" and ts.key_value == "ZONE 1"
    assert ts.timestamps[0] == datetime(2017, 1, 1, 1, 0)
    assert ts.timestamps[-1] == datetime(2018, 1, 1, 0, 0)
    # Ideal loads hold the zone between its 20 and 24 degC setpoints.
    assert min(ts.values) > 19.9 and max(ts.values) < 24.1
    heating = annual.sql.get_timeseries("Zone Ideal Loads Zone Total Heating Energy")
    assert sum(heating.values) > 1e9  # Chicago winter: GJ of heating, in J


def test_annual_run_reports_and_files(annual: SimulationResult) -> None:
    assert annual.errors.completed_successfully and not annual.errors.fatal
    assert annual.errors.summary() == (
        "Fatal: 0, Severe: 0, Warnings: 0, Info: 0\nSimulation: completed successfully"
    )
    names = annual.files()
    assert {"eplus.sql", "eplus.err", "model.idf"} <= set(names)
    assert MANIFEST_NAME not in names
    assert isinstance(annual.run_dir, Path) and (annual.run_dir / MANIFEST_NAME).is_file()
    rows = annual.sql.get_tabular_data(  # type: ignore[union-attr]
        "AnnualBuildingUtilityPerformanceSummary",
        "Site and Source Energy",
        row_name="Total Site Energy",
        column_name="Total Energy",
    )
    assert rows and rows[0].units == "GJ" and (rows[0].number or 0) > 0
    assert [e.name for e in annual.sql.list_environments()] == ["ANNUAL"]  # type: ignore[union-attr]
    assert any(v.name == "Zone Mean Air Temperature" for v in annual.sql.list_variables())  # type: ignore[union-attr]


def test_from_directory_reads_the_same_run(annual: SimulationResult) -> None:
    with SimulationResult.from_directory(annual.run_dir) as again:
        assert again.success and again.exit_code == 0
        assert again.runtime_seconds == annual.runtime_seconds
        assert len(again.sql.get_timeseries("Zone Mean Air Temperature", "zone 1")) == 8760  # type: ignore[union-attr]


def test_unknown_variable_and_key_list_the_closest(annual: SimulationResult) -> None:
    sql = annual.sql
    assert sql is not None
    with pytest.raises(UnknownVariableError, match="Zone Mean Air Temperature"):
        sql.get_timeseries("Zone Mean Air Temprature", "ZONE 1")
    with pytest.raises(UnknownVariableError, match="ZONE 1"):
        sql.get_timeseries("Zone Mean Air Temperature", "ZONE 2")
    with pytest.raises(UnknownVariableError, match="frequency"):
        sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1", frequency="Daily")
    with pytest.raises(ValueError, match="ANNUAL"):
        sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1", environment="Summer")


def test_dataframe(annual: SimulationResult) -> None:
    pytest.importorskip("pandas")
    frame = annual.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1").to_dataframe()  # type: ignore[union-attr]
    assert frame.shape == (8760, 1)
    assert frame.index[0].month == 1


def test_model_is_not_mutated_and_sqlite_is_added(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    doc = load_idf(box_model)
    doc.removeidfobject(doc["Output:SQLite"][0])
    before = doc.copy()
    seen: list[SimulationProgress] = []
    result = simulate(
        doc,
        weather,
        output_dir=tmp_path,
        energyplus=energyplus,
        design_day=False,
        on_progress=seen.append,
    )
    assert write_idf(doc) == write_idf(before) and "Output:SQLite" not in doc
    assert result.sql is not None
    assert "Output:SQLite" in load_idf(tmp_path / "model.idf")
    assert any(p.phase == "simulating" for p in seen)
    assert any(p.phase == "postprocessing" for p in seen)
    assert "Writing final SQL reports" in result.stdout


def test_rejected_model_fails_without_raising(
    rejected_model: Path, weather: Path, energyplus: EnergyPlusConfig
) -> None:
    result = simulate(rejected_model, weather, energyplus=energyplus)
    assert result.success is False
    assert result.exit_code != 0
    assert result.errors.fatal and result.errors.severe
    assert "NO SUCH CONSTRUCTION" in result.errors.severe[0]
    assert "fatal" in result.errors.summary().lower()
    assert result.manifest is not None and "NO SUCH CONSTRUCTION" in result.manifest.error_summary
    assert result.sql is None or result.sql.list_variables() == []


def test_timeout_raises_with_stderr_and_leaves_no_process(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    run_dir = tmp_path / "slow-run"
    with pytest.raises(SimulationError, match="did not finish within") as info:
        simulate(box_model, weather, output_dir=run_dir, energyplus=energyplus, timeout=0.15)
    assert isinstance(info.value.stderr, str)
    assert processes_mentioning(str(run_dir)) == []
    with pytest.raises(IncompleteResultError, match="never finished publishing"):
        _ = SimulationResult.from_directory(run_dir).success


def test_missing_inputs_are_named_before_energyplus_starts(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError, match=r"nothere.idf"):
        simulate(tmp_path / "nothere.idf", weather, energyplus=energyplus)
    with pytest.raises(FileNotFoundError, match=r"nothere.epw"):
        simulate(
            box_model, tmp_path / "nothere.epw", output_dir=tmp_path / "o", energyplus=energyplus
        )
    assert not (tmp_path / "o").exists()
    with pytest.raises(ValueError, match="output_dir"):
        simulate(box_model, weather, output_dir="  ", energyplus=energyplus)


def test_two_zone_model_reports_both_zones(
    two_zone_model: Path, weather: Path, energyplus: EnergyPlusConfig
) -> None:
    result = simulate(two_zone_model, weather, energyplus=energyplus, design_day=False)
    assert result.success
    sql = result.sql
    assert sql is not None
    # As in idfkit, the default key "*" takes the first key declared.
    assert sql.get_timeseries("Zone Mean Air Temperature").key_value == "WEST"
    west = sql.get_timeseries("Zone Mean Air Temperature", "WEST")
    east = sql.get_timeseries("Zone Mean Air Temperature", "EAST")
    assert len(west) == len(east) == 8760
    result.close()


def test_rerun_in_same_folder_lists_only_its_own_files(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    (tmp_path / "stale-from-before.txt").write_text("old")
    result = simulate(box_model, weather, output_dir=tmp_path, energyplus=energyplus)
    assert "stale-from-before.txt" not in result.files()
    assert "eplus.sql" in result.files()


def test_output_prefix_and_bad_options(
    box_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    result = simulate(
        box_model, weather, output_dir=tmp_path, energyplus=energyplus, output_prefix="box"
    )
    assert (tmp_path / "box.sql").is_file()
    again = SimulationResult.from_directory(tmp_path, output_prefix="box")
    assert again.success
    assert result.sql is not None
    assert len(again.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")) == 8760  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="output_prefix"):
        simulate(box_model, weather, energyplus=energyplus, output_prefix="a/b")
    with pytest.raises(ValueError, match="timeout"):
        simulate(box_model, weather, energyplus=energyplus, timeout=0)
