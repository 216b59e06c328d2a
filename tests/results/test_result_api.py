"""SimulationResult as idfkit's: local paths, naming styles, from_directory, `with`, async."""

from __future__ import annotations

import asyncio
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest

from idfkit.simulation import EnergyPlusConfig, SimulationResult, simulate
from idfkit.simulation.exceptions import IncompleteResultError, ResultNotFoundError
from idfkit.simulation.filenames import detect_naming, detect_suffix, output_name, output_names
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.fs.memory import MemoryFileSystem
from idfkit.simulation.manifest import MANIFEST_NAME
from idfkit.simulation.parsers.sql import SQLResult

EXTRA_OUTPUTS = (
    "\nOutput:VariableDictionary, IDF;\n"
    "Output:Meter, EnergyTransfer:Facility, Hourly;\n"
    "OutputControl:Table:Style, CommaAndHTML;\n"
)


def _short_box(box_model: Path) -> str:
    """The box model over one January week, with the variable dictionary and a meter."""
    text = box_model.read_text(encoding="utf-8")
    annual = "  12, 31, ,                !- End Month, Day, Year"
    assert annual in text
    return (
        text.replace(annual, "  1, 7, ,                  !- End Month, Day, Year") + EXTRA_OUTPUTS
    )


@pytest.fixture(scope="module")
def style_runs(
    tmp_path_factory: pytest.TempPathFactory,
    energyplus: EnergyPlusConfig,
    weather: Path,
    box_model: Path,
) -> dict[str, Path]:
    """Folders that EnergyPlus itself wrote with `-p eplus -s L|C|D` (C is idfkit 1.1.1's)."""
    base = tmp_path_factory.mktemp("styles")
    model = base / "model.idf"
    model.write_text(_short_box(box_model), encoding="utf-8")
    folders: dict[str, Path] = {}
    for suffix in "LCD":
        folder = base / suffix
        folder.mkdir()
        command = [str(energyplus.executable), "-w", str(weather), "-p", "eplus", "-s", suffix]
        subprocess.run([*command, "-d", str(folder), str(model)], check=True, capture_output=True)
        folders[suffix] = folder
    return folders


# -- the naming rules ------------------------------------------------------------


def test_output_names_follow_energyplus_for_every_style(style_runs: dict[str, Path]) -> None:
    for suffix, folder in style_runs.items():
        present = {p.name for p in folder.iterdir()}
        names = output_names("eplus", suffix)  # type: ignore[arg-type]
        for kind in ("sql", "err", "eso", "mtr", "rdd", "mdd", "eio", "table_csv", "table_htm"):
            assert names[kind] in present, (suffix, kind, sorted(present))
        assert names["sqlite_err"] in present
        assert detect_suffix("eplus", present) == suffix


def test_output_name_table() -> None:
    assert output_name("sql", "eplus", "L") == "eplusout.sql"
    assert output_name("sql", "eplus", "C") == "eplus.sql"
    assert output_name("table_htm", "eplus", "L") == "eplustbl.htm"
    assert output_name("table_htm", "eplus", "C") == "eplusTable.htm"
    assert output_name("table_htm", "box", "D") == "box-table.htm"
    assert output_name("meter_csv", "eplus", "L") == "eplusmtr.csv"
    assert output_name("meter_csv", "eplus", "C") == "eplusMeter.csv"
    assert output_name("csv", "eplus", "L") == "eplusout.csv"
    assert output_name("sqlite_err", "eplus", "L") == "sqlite.err"
    assert detect_suffix("eplus", ["in.idf", "notes.txt"]) is None
    assert detect_suffix("eplus", ["eplus.sql"]) == "C"  # C and D name it alike: C wins
    legacy = ["eplusout.sql", "eplusout.err", "eplustbl.htm", "sqlite.err"]
    assert detect_naming("eplusout", legacy) == ("eplus", "L")  # eplusout.* means eplus, -s L
    assert detect_naming("eplus", legacy) == ("eplus", "L")
    assert detect_naming("eplusout", ["eplusout.sql"]) == ("eplusout", "C")  # same names
    assert detect_naming("eplusout", legacy, ["C"]) == ("eplusout", "C")
    assert detect_naming("out", legacy[:3]) is None  # "" is no prefix
    assert detect_suffix("eplusout", legacy) == "C"  # detect_suffix keeps the prefix as given
    with pytest.raises(ValueError, match="output_suffix"):
        output_name("sql", "eplus", "X")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="kind"):
        output_name("nope", "eplus", "C")  # type: ignore[arg-type]


# -- from_directory on folders written elsewhere ---------------------------------


@pytest.mark.parametrize("suffix", ["C", "L", "D"])
def test_from_directory_reads_every_style(style_runs: dict[str, Path], suffix: str) -> None:
    folder = style_runs[suffix]
    result = SimulationResult.from_directory(folder)
    assert result.output_suffix == suffix
    assert result.run_dir == folder and result.run_dir.is_absolute()  # type: ignore[union-attr]
    paths = {
        "sql": result.sql_path,
        "err": result.err_path,
        "eso": result.eso_path,
        "mtr": result.mtr_path,
        "rdd": result.rdd_path,
        "mdd": result.mdd_path,
        "table_htm": result.html_path,
    }
    for kind, path in paths.items():
        assert path == folder / output_name(kind, "eplus", suffix)  # type: ignore[arg-type]
        assert path.is_absolute() and path.is_file()
    assert result.csv_path is None  # ReadVarsESO was not run
    # No manifest: a run whose .err says it completed counts as exit code 0, as in idfkit.
    assert result.success and result.exit_code == 0 and result.runtime_seconds == 0.0
    assert result.manifest is None
    assert result.sql is not None
    assert result.sql.get_timeseries("Zone Mean Air Temperature").values
    assert result.errors.completed_successfully


LEGACY_CSV = "Date/Time,ZONE 1:Zone Mean Air Temperature [C](Hourly)\n 01/01  01:00:00,20.5\n"


@pytest.mark.parametrize("prefix", ["eplus", "eplusout"])
def test_legacy_names_resolve_with_either_prefix(
    style_runs: dict[str, Path], tmp_path: Path, prefix: str
) -> None:
    """EnergyPlus's default names (`eplusout.sql`, `eplustbl.htm`) read as `eplus` or `eplusout`."""
    folder = tmp_path / "legacy"
    shutil.copytree(style_runs["L"], folder)
    (folder / "eplusout.csv").write_text(LEGACY_CSV)
    result = SimulationResult.from_directory(folder, output_prefix=prefix)
    assert (result.output_prefix, result.output_suffix) == (prefix, "L")
    expected = {
        "sql_path": "eplusout.sql",
        "err_path": "eplusout.err",
        "eso_path": "eplusout.eso",
        "mtr_path": "eplusout.mtr",
        "rdd_path": "eplusout.rdd",
        "mdd_path": "eplusout.mdd",
        "csv_path": "eplusout.csv",
        "html_path": "eplustbl.htm",
    }
    assert {attr: getattr(result, attr) for attr in expected} == {
        attr: folder / name for attr, name in expected.items()
    }
    assert result.output_name("sqlite_err") == "sqlite.err"
    assert result.output_name("meter_csv") == "eplusmtr.csv"
    assert result.html is not None and result.html.tablebyname("Site and Source Energy")
    assert result.csv is not None and result.csv.get_column("Zone Mean Air Temperature")
    assert result.eso is not None and result.mtr is not None
    assert result.variables is not None and result.variables.variables
    assert result.sql is not None and result.errors.simulation_complete
    assert result.success and result.exit_code == 0


def test_without_a_manifest_an_unfinished_run_has_no_exit_code(
    style_runs: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "failed"
    shutil.copytree(style_runs["C"], folder)
    (folder / "eplus.err").write_text(
        "   **  Fatal  ** GetInput: errors found\n"
        "   ************* EnergyPlus Terminated--Fatal Error Detected. 0 Warning;\n"
    )
    result = SimulationResult.from_directory(folder)
    assert not result.success and result.exit_code is None  # unknown, not 0
    (folder / "eplus.err").unlink()
    assert SimulationResult.from_directory(folder).exit_code is None


def test_from_directory_relative_path_is_absolute(
    style_runs: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(style_runs["C"].parent)
    result = SimulationResult.from_directory("C")
    assert result.run_dir == style_runs["C"].resolve()
    assert result.sql_path == style_runs["C"].resolve() / "eplus.sql"


def test_an_idfkit_folder_on_a_remote_backend_downloads_on_access(
    style_runs: dict[str, Path],
) -> None:
    fs = MemoryFileSystem()
    for path in style_runs["C"].iterdir():
        fs.write_bytes(f"team/run-1/{path.name}", path.read_bytes())
    result = SimulationResult.from_directory("team/run-1", fs=fs)
    assert result.run_dir == Path("team/run-1") and result.fs is fs  # idfkit's field types
    sql_path = result.sql_path
    assert sql_path is not None and sql_path.is_absolute()
    assert sql_path.read_bytes() == (style_runs["C"] / "eplus.sql").read_bytes()
    html_path = result.html_path
    assert html_path is not None
    assert html_path.read_bytes() == (style_runs["C"] / "eplusTable.htm").read_bytes()
    assert result.csv_path is None
    assert result.success


def test_a_missing_folder_is_not_found(tmp_path: Path) -> None:
    result = SimulationResult.from_directory(tmp_path / "nothing")
    with pytest.raises(ResultNotFoundError):
        _ = result.sql_path


def test_explicit_suffix_wins_over_detection(style_runs: dict[str, Path], tmp_path: Path) -> None:
    mixed = tmp_path / "mixed"
    shutil.copytree(style_runs["C"], mixed)
    shutil.copy(style_runs["L"] / "eplusout.sql", mixed / "eplusout.sql")
    assert SimulationResult.from_directory(mixed).output_suffix == "C"
    legacy = SimulationResult.from_directory(mixed, output_suffix="L")
    assert legacy.sql_path == mixed / "eplusout.sql"


# -- folders written by this package ----------------------------------------------


@pytest.fixture(scope="module")
def short_model(tmp_path_factory: pytest.TempPathFactory, box_model: Path) -> Path:
    path = tmp_path_factory.mktemp("model") / "box.idf"
    path.write_text(_short_box(box_model), encoding="utf-8")
    return path


def test_a_manifest_run_gives_verified_absolute_paths(
    tmp_path: Path, short_model: Path, weather: Path, energyplus: EnergyPlusConfig
) -> None:
    result = simulate(short_model, weather, output_dir=tmp_path / "run", energyplus=energyplus)
    assert result.success
    again = SimulationResult.from_directory(tmp_path / "run")
    assert again.manifest is not None
    sql_path = again.sql_path
    assert sql_path is not None and sql_path.is_absolute() and sql_path.parent == tmp_path / "run"
    assert sql_path.name == again.output_name("sql")
    assert again.rdd_path is not None and again.mdd_path is not None
    data = bytearray(sql_path.read_bytes())
    data[-1] ^= 0xFF
    sql_path.write_bytes(bytes(data))
    with pytest.raises(IncompleteResultError):
        _ = SimulationResult.from_directory(tmp_path / "run").sql_path


def test_a_remote_manifest_run_downloads_and_verifies(
    short_model: Path, weather: Path, energyplus: EnergyPlusConfig
) -> None:
    fs = MemoryFileSystem()
    fs.write_bytes("w.epw", weather.read_bytes())
    simulate(short_model, "w.epw", output_dir="runs/a", fs=fs, energyplus=energyplus)
    result = SimulationResult.from_directory("runs/a", fs=fs)
    sql_path = result.sql_path
    assert sql_path is not None and sql_path.is_absolute()
    assert sql_path.read_bytes() == fs.read_bytes(f"runs/a/{result.output_name('sql')}")
    err_name = result.output_name("err")
    fs.write_bytes(f"runs/a/{err_name}", b"tampered")
    with pytest.raises(IncompleteResultError):
        _ = SimulationResult.from_directory("runs/a", fs=fs).err_path
    manifest = fs.read_text(f"runs/a/{MANIFEST_NAME}")
    assert '"output_prefix": "eplus"' in manifest


# -- idfkit's surface ---------------------------------------------------------------


def test_idfkit_positional_constructor(style_runs: dict[str, Path]) -> None:
    result = SimulationResult(style_runs["C"], False, 3, "out", "err", 1.5, "eplus")
    assert (result.success, result.exit_code, result.runtime_seconds) == (False, 3, 1.5)
    assert (result.stdout, result.stderr, result.output_prefix) == ("out", "err", "eplus")
    assert result.migration_report is None and result.async_fs is None
    assert result.sql_path == style_runs["C"] / "eplus.sql"


def test_with_block_leaves_the_result_readable(style_runs: dict[str, Path]) -> None:
    result = SimulationResult.from_directory(style_runs["C"])
    with result as same:
        assert same is result
        inside = result.sql
        assert inside is not None
        assert inside.list_variables()
    after = result.sql
    assert isinstance(after, SQLResult) and after is not inside
    assert after.get_timeseries("Zone Mean Air Temperature").values
    result.close()


def test_async_twins_read_in_a_thread(style_runs: dict[str, Path]) -> None:
    result = SimulationResult.from_directory(style_runs["L"])

    async def read() -> tuple[object, object]:
        return await result.async_sql(), await result.async_errors()

    sql, errors = asyncio.run(read())
    assert sql is result.sql
    assert errors is result.errors


def test_pickled_result_keeps_its_style(style_runs: dict[str, Path]) -> None:
    result = SimulationResult.from_directory(style_runs["D"])
    assert result.output_suffix == "D"
    _ = result.sql
    copy = pickle.loads(pickle.dumps(result))
    assert copy.output_suffix == "D"
    assert copy.html_path == style_runs["D"] / "eplus-table.htm"
    assert copy.sql is not None and copy.sql.list_variables()


def test_a_rooted_local_backend_gives_absolute_paths(style_runs: dict[str, Path]) -> None:
    fs = LocalFileSystem(style_runs["C"].parent)
    result = SimulationResult.from_directory("C", fs=fs)
    assert result.sql_path == style_runs["C"] / "eplus.sql"


# -- the readers ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["C", "L"])
def test_readers_parse_each_output(style_runs: dict[str, Path], suffix: str) -> None:
    result = SimulationResult.from_directory(style_runs[suffix])
    variables = result.variables
    assert variables is not None
    assert variables.search("Zone Mean Air Temperature")
    assert any(m.name == "EnergyTransfer:Facility" for m in variables.meters)
    assert result.variables is variables  # parsed once
    html = result.html
    assert html is not None and len(html) > 0
    eso = result.eso
    assert eso is not None
    column = eso.get_column("Zone Mean Air Temperature")
    assert column is not None and len(column.values) == 7 * 24
    mtr = result.mtr
    assert mtr is not None and mtr.get_variable("EnergyTransfer:Facility") is not None
    assert result.csv is None  # ReadVarsESO was not run


def test_csv_reader_finds_the_readvars_file(style_runs: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "with-csv"
    shutil.copytree(style_runs["C"], folder)
    (folder / "eplus.csv").write_text(
        "Date/Time,ZONE 1:Zone Mean Air Temperature [C](Hourly)\n"
        " 01/01  01:00:00,20.5\n"
        " 01/01  02:00:00,21.0\n",
        encoding="utf-8",
    )
    result = SimulationResult.from_directory(folder)
    assert result.csv_path == folder / "eplus.csv"
    csv = result.csv
    assert csv is not None
    column = csv.get_column("Zone Mean Air Temperature", "ZONE 1")
    assert column is not None and column.values == (20.5, 21.0)


def test_every_async_twin_matches_its_property(style_runs: dict[str, Path]) -> None:
    result = SimulationResult.from_directory(style_runs["C"])

    async def read() -> dict[str, object]:
        return {
            "sql": await result.async_sql(),
            "errors": await result.async_errors(),
            "variables": await result.async_variables(),
            "csv": await result.async_csv(),
            "html": await result.async_html(),
            "eso": await result.async_eso(),
            "mtr": await result.async_mtr(),
        }

    found = asyncio.run(read())
    for name, value in found.items():
        assert value is getattr(result, name), name
    assert found["eso"] is not None and found["csv"] is None


def test_readers_of_a_remote_folder_download_once(style_runs: dict[str, Path]) -> None:
    fs = MemoryFileSystem()
    for path in style_runs["L"].iterdir():
        fs.write_bytes(f"r/{path.name}", path.read_bytes())
    result = SimulationResult.from_directory("r", fs=fs)
    assert result.output_suffix == "L"
    assert result.eso is not None and result.html is not None and result.variables is not None
    copy = pickle.loads(pickle.dumps(result))
    assert copy.eso is not None and copy.eso is not result.eso


def test_output_index_of_no_result_names_the_rdd_and_the_folder(tmp_path: Path) -> None:
    from idfkit.simulation.outputs import OutputVariableIndex

    missing = tmp_path / "nothing"
    with pytest.raises(ResultNotFoundError, match=r"^No \.rdd file: .*nothing"):
        OutputVariableIndex.from_simulation(SimulationResult.from_directory(missing))
    (tmp_path / "ran").mkdir()
    (tmp_path / "ran" / "eplusout.err").write_text("   ************* EnergyPlus Completed\n")
    with pytest.raises(FileNotFoundError, match=r"^No \.rdd file: the run wrote none"):
        OutputVariableIndex.from_simulation(SimulationResult.from_directory(tmp_path / "ran"))
