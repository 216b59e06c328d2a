"""The output readers, on one real EnergyPlus run of the box with two design days.

The run (module fixture) simulates the box model for two Chicago design days
and the whole year, with hourly, daily and timestep variables and two meters,
and asks EnergyPlus for CSV time series, tabular HTML/CSV and .rdd/.mdd files.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from idfkit import load_idf
from idfkit.simulation import (
    CSVColumn,
    CSVResult,
    EnergyPlusConfig,
    ErrorMessage,
    ErrorReport,
    ESOColumn,
    ESOResult,
    ESOVariable,
    HTMLResult,
    HTMLTable,
    OutputMeter,
    OutputVariable,
    OutputVariableIndex,
    ProgressParser,
    SimulationResult,
    SQLResult,
    TabularRow,
    TimeSeriesResult,
    simulate,
)
from idfkit.simulation.exceptions import UnknownVariableError
from idfkit.simulation.parsers.sql import series_columns, timestamps_from_keys

DESIGN_DAYS = ("Ann Htg 99.6% Condns DB,", "Ann Clg .4% Condns DB=>MWB,")
OUTPUTS = """
OutputControl:Table:Style, CommaAndHTML;
Output:VariableDictionary, IDF;
Output:Variable, *, Site Outdoor Air Drybulb Temperature, Timestep;
Output:Variable, *, Zone Mean Air Temperature, Daily;
Output:Meter, Heating:EnergyTransfer, Hourly;
Output:Meter, DistrictHeatingWater:Facility, Monthly;
OutputControl:Files, Yes;  ! Output CSV: EnergyPlus writes eplusout.csv itself
"""
ZMAT = "Zone Mean Air Temperature"


def reference_model(box_model: Path, weather: Path) -> str:
    """The box, with two of the weather file's design days and more outputs."""
    text = box_model.read_text().replace(
        "SimulationControl, No, No, No, No, Yes;", "SimulationControl, No, No, No, Yes, Yes;"
    )
    ddy = re.sub(r"!.*", "", weather.with_suffix(".ddy").read_text(encoding="latin-1"))
    days = re.findall(r"SizingPeriod:DesignDay,.*?;", ddy, re.S)
    chosen = [d for d in days if any(name in d for name in DESIGN_DAYS)]
    assert len(chosen) == 2
    return text + "\n".join(chosen) + OUTPUTS


@pytest.fixture(scope="module")
def run(
    box_model: Path,
    weather: Path,
    energyplus: EnergyPlusConfig,
    tmp_path_factory: pytest.TempPathFactory,
) -> SimulationResult:
    folder = tmp_path_factory.mktemp("readers")
    model = folder / "reference.idf"
    model.write_text(reference_model(box_model, weather))
    result = simulate(model, weather, output_dir=folder / "run", energyplus=energyplus)
    assert result.success, result.errors.summary()
    return result


def output(run: SimulationResult, *names: str) -> Path:
    """The first of `names` present in the run folder (idfkit's or EnergyPlus's naming)."""
    folder = Path(run.run_dir)
    for name in names:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"none of {names} in {folder}: {sorted(p.name for p in folder.iterdir())}"
    )


@pytest.fixture(scope="module")
def sql(run: SimulationResult) -> SQLResult:
    return SQLResult(output(run, "eplus.sql", "eplusout.sql"))


# -- SQLResult -----------------------------------------------------------------
def test_timeseries_covers_every_environment_by_default(sql: SQLResult) -> None:
    ts = sql.get_timeseries(ZMAT)
    assert isinstance(ts, TimeSeriesResult)
    assert (ts.variable_name, ts.key_value, ts.units, ts.frequency) == (
        ZMAT,
        "ZONE 1",
        "C",
        "Hourly",
    )
    assert len(ts) == len(ts.timestamps) == len(ts.values) == 8808
    # Design days first, dated 2017 (EnergyPlus writes them without a year), then the year.
    assert ts.timestamps[0] == datetime(2017, 1, 21, 1, 0)
    assert ts.timestamps[23] == datetime(2017, 1, 22, 0, 0)
    assert ts.timestamps[24] == datetime(2017, 7, 21, 1, 0)
    assert ts.timestamps[48] == datetime(2017, 1, 1, 1, 0)
    assert ts.timestamps[-1] == datetime(2018, 1, 1, 0, 0)
    assert all(isinstance(v, float) for v in ts.values)


def test_timeseries_environment_frequency_and_key_are_positional(sql: SQLResult) -> None:
    annual = sql.get_timeseries(ZMAT, "zone 1", "hourly", "annual")
    assert len(annual) == 8760 and annual.key_value == "ZONE 1"
    assert annual.timestamps[0] == datetime(2017, 1, 1, 1, 0)
    sizing = sql.get_timeseries(ZMAT, "*", None, "sizing")
    assert len(sizing) == 48 and {t.year for t in sizing.timestamps} == {2017}
    assert sizing.values == sql.get_timeseries(ZMAT).values[:48]
    # Beyond idfkit: one environment by name.
    summer = sql.get_timeseries(
        ZMAT, environment="chicago ohare intl ap ann clg .4% condns db=>mwb"
    )
    assert summer.timestamps[0] == datetime(2017, 7, 21, 1, 0) and len(summer) == 24
    daily = sql.get_timeseries("zone mean air temperature", frequency="Daily")
    assert daily.frequency == "Daily" and len(daily) == 2 + 365
    assert daily.timestamps[2] == datetime(2017, 1, 2, 0, 0)  # interval end
    timestep = sql.get_timeseries("Site Outdoor Air Drybulb Temperature", "Environment", "Timestep")
    assert timestep.frequency == "Zone Timestep" and len(timestep) == 4 * 8808
    assert timestep.timestamps[:2] == (datetime(2017, 1, 21, 0, 15), datetime(2017, 1, 21, 0, 30))
    meter = sql.get_timeseries("Heating:EnergyTransfer")
    assert meter.units == "J" and len(meter) == 8808 and sum(meter.values) > 0


def test_series_columns_pack_the_same_times_and_values(sql: SQLResult) -> None:
    # What a study's time series reads from each run: the same series, its times packed.
    cases = [
        (ZMAT, "ZONE 1", "Hourly", None),  # design days (no year) and the year
        (ZMAT, "*", "Daily", "annual"),
        ("Site Outdoor Air Drybulb Temperature", "Environment", "Timestep", "sizing"),
        ("DistrictHeatingWater:Facility", None, "Monthly", None),
    ]
    for name, key, frequency, environment in cases:
        series = sql.get_timeseries(name, key, frequency, environment)
        units, keys, values = series_columns(sql, name, key, frequency, environment)
        assert None not in keys and len(set(keys)) == len(keys) == len(series) > 0
        assert timestamps_from_keys([k for k in keys if k is not None]) == series.timestamps
        assert (units, tuple(values)) == (series.units, series.values)


def test_unknown_variable_is_a_key_error_naming_the_closest(sql: SQLResult) -> None:
    with pytest.raises(KeyError, match="Variable not found: 'Zone Mean Air Temprature'") as info:
        sql.get_timeseries("Zone Mean Air Temprature")
    assert isinstance(info.value, UnknownVariableError)
    assert "closest variables: Zone Mean Air Temperature" in str(info.value)
    with pytest.raises(UnknownVariableError, match=r"key='ZONE 2'.*ZONE 1"):
        sql.get_timeseries(ZMAT, "ZONE 2")
    with pytest.raises(KeyError, match="reported at: Daily, Hourly"):
        sql.get_timeseries(ZMAT, "ZONE 1", "Monthly")
    with pytest.raises(ValueError, match="'sizing', 'annual'"):
        sql.get_timeseries(ZMAT, environment="winter")


def test_dataframe_and_plot(sql: SQLResult) -> None:
    pytest.importorskip("pandas")
    frame = sql.get_timeseries(ZMAT, environment="annual").to_dataframe()
    assert list(frame.columns) == [ZMAT] and frame.index.name == "timestamp"
    assert frame.shape == (8760, 1) and frame.index[0] == datetime(2017, 1, 1, 1, 0)
    same = sql.to_dataframe(ZMAT, "*", "Hourly", "annual")
    assert same.equals(frame)

    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = sql.get_timeseries(ZMAT, environment="sizing").plot(title="Design days")
    assert isinstance(figure, Figure)
    assert figure.axes[0].get_title() == "Design days" and len(figure.axes[0].lines) == 1

    class LineBackend:
        """idfkit's plotting-backend shape: only `line` is needed here."""

        def line(self, x: list[Any], y: list[float], **labels: Any) -> tuple[int, dict[str, Any]]:
            return len(x), labels

    drawn = sql.get_timeseries(ZMAT, environment="sizing").plot(backend=LineBackend())
    assert drawn == (
        48,
        {"title": f"ZONE 1: {ZMAT}", "xlabel": "Time", "ylabel": f"{ZMAT} (C)", "label": "ZONE 1"},
    )


def test_catalogue_environments_variables_reports(sql: SQLResult) -> None:
    envs = sql.list_environments()
    assert [e.environment_type for e in envs] == [1, 1, 3]
    assert [e.is_sizing for e in envs] == [True, True, False] and envs[-1].name == "ANNUAL"
    variables = {(v.name, v.frequency): v for v in sql.list_variables()}
    assert variables[(ZMAT, "Hourly")].variable_type == "Avg"
    assert variables[("Heating:EnergyTransfer", "Hourly")].is_meter
    assert variables[("Heating:EnergyTransfer", "Hourly")].variable_type == "Sum"
    reports = sql.list_reports()
    assert reports == sorted(reports) and "AnnualBuildingUtilityPerformanceSummary" in reports


def test_tabular_value_data_and_query(sql: SQLResult) -> None:
    report, table = "AnnualBuildingUtilityPerformanceSummary", "Site and Source Energy"
    value = sql.get_tabular_value(report, table, "Total Site Energy", "Total Energy")
    assert isinstance(value, str) and float(value) > 0
    rows = sql.get_tabular_data(report_name=report)
    assert rows and all(isinstance(r, TabularRow) and r.report_name == report for r in rows)
    cell = sql.get_tabular_data(report, table, "Total Site Energy", "Total Energy")
    assert [(c.units, c.number) for c in cell] == [("GJ", float(value))]
    with pytest.raises(KeyError, match="No tabular data found"):
        sql.get_tabular_value(report, table, "Total Site Energy", "No Such Column")
    count = sql.query("SELECT COUNT(*) FROM Time WHERE EnvironmentPeriodIndex = ?", (3,))
    assert count[0][0] > 8760


def test_context_manager_closes_and_reopens(run: SimulationResult) -> None:
    path = output(run, "eplus.sql", "eplusout.sql")
    with SQLResult(path) as sql:
        assert len(sql.get_timeseries(ZMAT, environment="annual")) == 8760
    assert len(sql.list_environments()) == 3  # reopened on demand
    sql.close()
    with pytest.raises(FileNotFoundError):
        SQLResult(path.with_name("missing.sql"))


# -- ErrorReport ---------------------------------------------------------------
def test_error_report_of_a_successful_run(run: SimulationResult) -> None:
    report = ErrorReport.from_file(output(run, "eplus.err", "eplusout.err"))
    assert report.summary() == (  # as idfkit 1.1.1 shows this file
        "Fatal: 0, Severe: 0, Warnings: 0, Info: 0\nSimulation: completed successfully"
    )
    assert report.simulation_complete and report.completed_successfully
    assert not report.has_fatal and not report.has_severe and report.warmup_converged is False
    assert (report.fatal_count, report.severe_count, report.warning_count, report.info_count) == (
        0,
        0,
        0,
        0,
    )
    assert "EnergyPlus Completed Successfully" in report.raw_text


ERR = """Program Version,EnergyPlus, Version 25.2.0
   **   ~~~   ** A note before any message
   ** Warning ** GetSurfaceData: first warning
   **   ~~~   ** first detail
   **   ~~~   **
   ************* a banner line keeps the message open
   **   ~~~   ** second detail
   ** Severe  ** Bad construction NO SUCH CONSTRUCTION
   **  Fatal  ** Program terminates.
   ************* EnergyPlus Terminated--Fatal Error Detected. 1 Warning; 1 Severe Errors;
"""


def test_error_report_messages_by_severity() -> None:
    report = ErrorReport.from_string(ERR)
    assert report.warnings == (
        ErrorMessage("Warning", "GetSurfaceData: first warning", ("first detail", "second detail")),
    )
    assert report.info == (ErrorMessage("Info", "A note before any message", ()),)
    assert report.severe[0].severity == "Severe" and report.severe[0].details == ()
    assert "NO SUCH CONSTRUCTION" in report.severe[0]  # messages still read like strings
    assert report.has_fatal and report.has_severe and report.error_count == 2
    assert not report.simulation_complete and not report.completed_successfully
    # idfkit's summary is the counts and the outcome, nothing more ...
    assert report.summary() == (
        "Fatal: 1, Severe: 1, Warnings: 1, Info: 1\nSimulation: terminated with fatal error(s)"
    )
    # ... and describe() names the serious messages below it.
    assert report.describe().splitlines() == [
        "Fatal: 1, Severe: 1, Warnings: 1, Info: 1",
        "Simulation: terminated with fatal error(s)",
        "Fatal: Program terminates.",
        "Severe: Bad construction NO SUCH CONSTRUCTION",
    ]
    assert report.describe(max_messages=1).splitlines()[-1] == "Fatal: Program terminates."
    severe_only = ErrorReport.from_string("   ** Severe  ** S1\n   ** Severe  ** S2\n")
    assert severe_only.summary() == "Fatal: 0, Severe: 2, Warnings: 0, Info: 0"
    assert report.raw_text == ERR
    empty = ErrorReport()
    assert empty.summary() == "Fatal: 0, Severe: 0, Warnings: 0, Info: 0"
    assert ErrorReport.from_string("  Warmup converged\n").warmup_converged
    assert ErrorReport.from_string("  Warmup converged\n").summary().splitlines()[1:] == [
        "Warmup: converged"
    ]


# -- CSV, HTML, ESO and MTR ----------------------------------------------------
@pytest.fixture(scope="module")
def annual_zmat(sql: SQLResult) -> TimeSeriesResult:
    return sql.get_timeseries(ZMAT, "ZONE 1", "Hourly", "annual")


def test_csv_written_by_energyplus(run: SimulationResult, annual_zmat: TimeSeriesResult) -> None:
    # EnergyPlus wrote this CSV itself (OutputControl:Files), for the run period only.
    table = CSVResult.from_file(output(run, "eplus.csv", "eplusout.csv"))
    assert len(table.timestamps) == 4 * 8760
    assert table.timestamps[3] == "01/01  01:00:00" and table.timestamps[-1] == "12/31  24:00:00"
    column = table.get_column("zone mean air temperature", "zone 1")
    assert column is not None and isinstance(column, CSVColumn)
    assert column.header == "ZONE 1:Zone Mean Air Temperature [C](Hourly)"
    assert (column.variable_name, column.key_value, column.units) == (ZMAT, "ZONE 1", "C")
    # Hourly values sit on every fourth (hour-end) row, the same as in the SQL file.
    assert list(column.values[3::4]) == pytest.approx(annual_zmat.values)
    meter = table.get_column("Heating:EnergyTransfer")  # a meter, by its full name
    assert meter is not None and (meter.key_value, meter.variable_name) == (
        "Heating",
        "EnergyTransfer",
    )
    assert table.get_column("No Such Variable") is None


def test_csv_from_string_reads_blank_cells_as_zero() -> None:
    text = (
        "Date/Time,A:B [C](Hourly),Electricity:Facility [J](Daily)\n"
        " 01/01  01:00:00,1.5,\n"
        " 01/01  24:00:00,2,7\n"
    )
    table = CSVResult.from_string(text)
    assert table.timestamps == ("01/01  01:00:00", "01/01  24:00:00")
    assert [c.values for c in table.columns] == [(1.5, 2.0), (0.0, 7.0)]
    assert table.columns[1].header_name == "Electricity:Facility"
    assert CSVResult.from_string("") == CSVResult((), ())
    not_numbers = CSVResult.from_string("Date/Time,A:B [C](Hourly)\n 01/01  01:00:00,N/A\n")
    assert not_numbers.columns[0].values == (0.0,)


def test_html_tables_by_report_and_title(run: SimulationResult, sql: SQLResult) -> None:
    report = HTMLResult.from_file(output(run, "eplusTable.htm", "eplustbl.htm"))
    assert len(report) > 100 and report[0] is report.tablebyindex(0) is next(iter(report))
    assert report.tablebyindex(len(report)) is None
    table = report.tablebyname("site and source energy")
    assert isinstance(table, HTMLTable) and table.title == "Site and Source Energy"
    assert table.report_name == "Annual Building Utility Performance Summary"
    assert table.for_string == "Entire Facility"
    assert table.rows[0] == table.header and table.header[1] == "Total Energy [GJ]"
    total = sql.get_tabular_value(
        "AnnualBuildingUtilityPerformanceSummary",
        "Site and Source Energy",
        "Total Site Energy",
        "Total Energy",
    )
    assert float(table.to_dict()["Total Site Energy"]["Total Energy [GJ]"]) == float(total)
    by_display = report.tablesbyreport("Annual Building Utility Performance Summary")
    assert by_display == report.tablesbyreport("AnnualBuildingUtilityPerformanceSummary")
    assert table in by_display and all(t.report_name == table.report_name for t in by_display)
    # idfkit's groups: a table titled "... Summary" starts one; EnergyPlus's reports stay whole.
    water = report.tablebyname("Water Source Summary")
    assert water is not None and water.report_name == "Water Source Summary"
    assert water not in by_display
    assert water.report == table.report == "Annual Building Utility Performance Summary"
    whole = report.tables_in_report("AnnualBuildingUtilityPerformanceSummary")
    assert whole[: len(by_display)] == by_display and water in whole
    zone_group = [t.title for t in report.tablesbyreport("Zone Summary")]
    assert zone_group[0] == "Zone Summary" and "Zone Information" in zone_group
    assert report.titletable()[0] == (report[0].title, report[0].rows)
    assert report.tablebyname("No Such Table") is None


HTML_TABLE = "<table><tr><td></td><td>A</td></tr><tr><td>r</td><td>1</td></tr></table>"
HTML_GROUPS = f"""<html><body>
<b>Before Anything</b><br><br>{HTML_TABLE}
<p>Report:<b> Energy Meters</b></p><p>For:<b> Entire Facility</b></p>
<b>First</b><br><br>{HTML_TABLE}
<b>lower summary</b><br><br>{HTML_TABLE}
<b>Summary of Things</b><br><br>{HTML_TABLE}
<b>Monthly Summary </b><br><br>{HTML_TABLE}
<b>Plain</b><br><br>{HTML_TABLE}
<p>Some <b>Bold Summary</b> in a paragraph</p>
<b>Next</b><br><br>{HTML_TABLE}
<table><tr><td><b>Cell Summary</b></td><td>A</td></tr></table>
<b>Tabular Report</b><br><br>{HTML_TABLE}
</body></html>"""


def test_html_groups_tables_as_idfkit_does() -> None:
    """Groups start at bold headings ending in `Summary`/`Report` (measured on idfkit 1.1.1)."""
    report = HTMLResult.from_string(HTML_GROUPS)
    assert [(t.report_name, t.title) for t in report] == [
        ("", "Before Anything"),
        ("", "First"),
        ("", "lower summary"),
        ("", "Summary of Things"),
        ("Monthly Summary", "Monthly Summary"),
        ("Monthly Summary", "Plain"),
        ("Bold Summary", "Next"),
        ("Bold Summary", "Next"),  # a bold cell inside a table is no heading
        ("Tabular Report", "Tabular Report"),
    ]
    assert [t.title for t in report.tablesbyreport("Monthly Summary")] == [
        "Monthly Summary",
        "Plain",
    ]
    assert report.tablesbyreport("Energy Meters") == []
    assert len(report.tables_in_report("EnergyMeters")) == 8
    assert {(t.report, t.for_string) for t in report.tables[1:]} == {
        ("Energy Meters", "Entire Facility")
    }


def test_eso_columns_match_the_sql_file(
    run: SimulationResult, sql: SQLResult, annual_zmat: TimeSeriesResult
) -> None:
    eso = ESOResult.from_file(output(run, "eplus.eso", "eplusout.eso"))
    assert eso.program_version.startswith("Program Version,EnergyPlus")
    assert [(e.index, e.title) for e in eso.environments] == [
        (i, e.name) for i, e in enumerate(sql.list_environments())
    ]
    assert eso.environments[0].latitude == pytest.approx(41.98)
    hourly = eso.get_variable(ZMAT, "zone 1", "hourly")
    assert isinstance(hourly, ESOVariable) and (hourly.units, hourly.num_values) == ("C", 1)
    assert eso.get_variable(ZMAT, frequency="Daily").num_values == 7  # type: ignore[union-attr]
    column = eso.get_column(ZMAT)  # the last environment by default: the run period
    assert isinstance(column, ESOColumn) and column.environment_index == 2
    assert column.timestamps == annual_zmat.timestamps and column.values == annual_zmat.values
    timestep = eso.get_column("Site Outdoor Air Drybulb Temperature", environment_index=0)
    sizing = sql.get_timeseries("Site Outdoor Air Drybulb Temperature", environment="sizing")
    assert timestep is not None and timestep.timestamps == sizing.timestamps[:96]
    assert timestep.values == sizing.values[:96]
    daily = eso.get_column(ZMAT, frequency="Daily")
    assert daily is not None and len(daily) == 365 and daily.timestamps[0] == datetime(2017, 1, 1)
    assert eso.get_column("No Such Variable") is None
    lazy = ESOResult(output(run, "eplus.eso", "eplusout.eso").read_bytes())
    assert lazy.columns == ESOResult.from_bytes(lazy._data, eager=True).columns == eso.columns
    pytest.importorskip("pandas")
    frame = eso.to_dataframe(ZMAT, environment_index=1)
    assert list(frame.columns) == [ZMAT] and frame.index.name == "timestamp" and len(frame) == 24
    with pytest.raises(KeyError, match="Variable not found"):
        eso.to_dataframe("No Such Variable")


def test_mtr_holds_the_meters(run: SimulationResult, sql: SQLResult) -> None:
    mtr = ESOResult.from_file(output(run, "eplus.mtr", "eplusout.mtr"))
    assert {v.variable_name for v in mtr.variables} == {
        "Heating:EnergyTransfer",
        "DistrictHeatingWater:Facility",
    }
    assert all(v.key_value == "" for v in mtr.variables)
    monthly = mtr.get_column("DistrictHeatingWater:Facility")
    assert monthly is not None and monthly.timestamps == tuple(
        datetime(2017, m, 1) for m in range(1, 13)
    )
    in_sql = sql.get_timeseries("DistrictHeatingWater:Facility", environment="annual")
    assert monthly.values == pytest.approx(in_sql.values)


# -- Available outputs (.rdd / .mdd) ----------------------------------------------
def test_output_variable_index(run: SimulationResult, box_model: Path, tmp_path: Path) -> None:
    index = OutputVariableIndex.from_files(
        output(run, "eplus.rdd", "eplusout.rdd"), output(run, "eplus.mdd", "eplusout.mdd")
    )
    assert OutputVariable("*", ZMAT, "hourly", "C") in index.variables
    assert OutputMeter("Heating:EnergyTransfer", "hourly", "J") in index.meters
    assert len({m.name for m in index.meters}) == len(index.meters)  # cumulative twins folded
    found = index.search("zone mean air")
    assert found and all("zone mean air" in item.name.lower() for item in found)
    assert [m.name for m in index.search("^Heating:EnergyTransfer$")] == ["Heating:EnergyTransfer"]
    in_celsius = index.filter_by_units("c")
    assert in_celsius and all(item.units == "C" for item in in_celsius)


@pytest.mark.standalone_model
def test_output_variable_index_adds_to_an_epjson_document(
    run: SimulationResult, tmp_path: Path
) -> None:
    """idfkit's keyword idiom, doc.add(type, field=value), on this project's epJSON document."""
    index = OutputVariableIndex.from_files(
        output(run, "eplus.rdd", "eplusout.rdd"), output(run, "eplus.mdd", "eplusout.mdd")
    )
    source = tmp_path / "outputs.epJSON"
    source.write_text(
        '{"Version": {"Version 1": {"version_identifier": "25.2"}}, '
        '"Output:Variable": {"Output:Variable 1": {"key_value": "*", '
        '"variable_name": "Zone Mean Air Temperature", "reporting_frequency": "Hourly"}}}'
    )
    doc = load_idf(source)
    pattern = "^(Zone Air Relative Humidity|Heating:EnergyTransfer)$"
    assert index.add_all_to_model(doc, frequency="Hourly", filter_pattern=pattern) == 2
    assert (len(doc["Output:Variable"]), len(doc["Output:Meter"])) == (2, 1)
    assert "Zone Air Relative Humidity" in doc.to_epjson()


REGULAR_RDD = """Program Version,EnergyPlus, Version 25.2.0-cf7368216c, YMD=2026.12.01 10:55,
Var Type (reported time step),Var Report Type,Variable Name [Units]
Zone,Average,Site Outdoor Air Drybulb Temperature [C]
HVAC,Sum,Zone Ideal Loads Zone Total Heating Energy [J]
"""
REGULAR_MDD = """Program Version,EnergyPlus, Version 25.2.0-cf7368216c, YMD=2026.12.01 10:55,
Var Type (reported time step),Var Report Type,Variable Name [Units]
Zone,Meter,EnergyTransfer:Facility [J]
"""


def test_regular_style_dictionaries_skip_their_column_header(tmp_path: Path) -> None:
    """`Output:VariableDictionary, Regular` files start with a header line, which names nothing."""
    (tmp_path / "eplus.rdd").write_text(REGULAR_RDD)
    (tmp_path / "eplus.mdd").write_text(REGULAR_MDD)
    index = OutputVariableIndex.from_files(tmp_path / "eplus.rdd", tmp_path / "eplus.mdd")
    assert index.variables == (
        OutputVariable("*", "Site Outdoor Air Drybulb Temperature", "hourly", "C"),
        OutputVariable("*", "Zone Ideal Loads Zone Total Heating Energy", "hourly", "J"),
    )
    assert index.meters == (OutputMeter("EnergyTransfer:Facility", "hourly", "J"),)
    assert index.search("Variable Name") == []


def test_progress_of_the_real_run(run: SimulationResult) -> None:
    parser = ProgressParser()
    events = [e for line in run.stdout.splitlines() if (e := parser.parse_line(line)) is not None]
    phases = [e.phase for e in events]
    assert phases[0] == "initializing" and phases[-1] in ("postprocessing", "complete")
    assert {"warmup", "simulating", "postprocessing"} <= set(phases)
    design = [e for e in events if e.phase == "simulating" and e.percent is None]
    assert [e.sim_day for e in design] == [21, 202]  # Jan 21 and Jul 21, no year printed
    annual = [e for e in events if e.phase == "simulating" and e.percent is not None]
    assert annual and all(e.environment == "ANNUAL" and e.sim_total_days == 365 for e in annual)
    assert [e.percent for e in annual] == sorted(e.percent for e in annual)


def test_tabular_value_refuses_a_cell_named_twice(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "twice.sql"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE TabularDataWithStrings (TabularDataIndex INTEGER PRIMARY KEY, "
            "ReportName TEXT, ReportForString TEXT, TableName TEXT, RowName TEXT, "
            "ColumnName TEXT, Units TEXT, Value TEXT)"
        )
        cell = ("R", "Entire Facility", "T", "Row", "Col", "W")
        db.executemany(
            "INSERT INTO TabularDataWithStrings VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (1, *cell, "1.0"),
                (2, *cell, "2.0"),
                (3, "R", "Entire Facility", "T", "Other", "Col", "W", "3"),
            ],
        )
    db.close()
    with SQLResult(path) as sql:
        assert sql.get_tabular_value("R", "T", "Other", "Col") == "3"
        with pytest.raises(UnknownVariableError, match=r"Multiple rows found \(2\).*'Row'"):
            sql.get_tabular_value("R", "T", "Row", "Col")


def test_html_th_header_and_lookups_as_idfkit() -> None:
    report = HTMLResult.from_string(
        "<b>Envelope Summary</b><b>For: Entire Facility</b><b>Opaque Exterior</b>"
        "<table><tr><th>Name</th><th>U</th></tr><tr></tr><tr><td>Wall</td><td>0.3</td></tr>"
        "</table><b>Empty</b><table></table>"
    )
    assert len(report) == 1  # a table without a cell is left out
    (table,) = report
    assert (table.header, table.rows) == (["Name", "U"], [["Wall", "0.3"]])
    assert (table.for_string, table.to_dict()) == ("Entire Facility", {"Wall": {"U": "0.3"}})
    assert report.titletable() == [("Opaque Exterior", [["Name", "U"], ["Wall", "0.3"]])]
    assert report.tablebyname("opaque") is table and report.tablebyindex(-1) is None
    assert report.tablesbyreport("envelope") == [table]
    short = HTMLTable("Short", ["A", "B", "C"], [["Row1", "val"]])
    assert short.to_dict() == {"Row1": {"B": "val"}}
