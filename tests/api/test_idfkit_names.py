"""idfkit 1.1.1's public simulation names, answering as idfkit answers (both builds)."""

from __future__ import annotations

import pickle
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from idfkit.simulation.config import normalize_version


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("25.2", (25, 2, 0)),
        ("25.2.1", (25, 2, 1)),
        (" 25-2-0 ", (25, 2, 0)),
        ((25, 2, 0), (25, 2, 0)),
    ],
)
def test_normalize_version_reads_two_or_three_numbers(
    given: str | tuple[int, int, int], expected: tuple[int, int, int]
) -> None:
    assert normalize_version(given) == expected


@pytest.mark.parametrize("given", ["25", "v25.2", "25.2.0.1", "abc"])
def test_normalize_version_refuses_anything_else(given: str) -> None:
    with pytest.raises(ValueError, match=f"Cannot parse version string: '{given}'"):
        normalize_version(given)


def test_default_simulation_cache_dir_is_the_platform_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from idfkit.simulation import SimulationCache
    from idfkit.simulation.cache import default_simulation_cache_dir

    monkeypatch.delenv("IDFKIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert default_simulation_cache_dir() == tmp_path / "idfkit" / "simulation"
    assert SimulationCache().cache_dir == default_simulation_cache_dir().resolve()


def test_resolve_on_progress_answers_as_idfkit() -> None:
    from idfkit.simulation.progress import SimulationProgress
    from idfkit.simulation.progress_bars import resolve_on_progress

    assert resolve_on_progress(None) == (None, None)
    seen: list[SimulationProgress] = []
    assert resolve_on_progress(seen.append) == (seen.append, None)
    with pytest.raises(
        ValueError, match="on_progress must be 'tqdm', a callable, or None -- got 'bar'"
    ):
        resolve_on_progress("bar")
    with pytest.raises(TypeError, match="on_progress must be 'tqdm'"):
        resolve_on_progress(42)  # type: ignore[arg-type]
    pytest.importorskip("tqdm")
    callback, cleanup = resolve_on_progress("tqdm")
    assert callable(callback) and cleanup is not None
    callback(SimulationProgress("simulating", "Starting Simulation", 40.0))
    cleanup()


def test_dictionary_parse_warning_when_nothing_is_read() -> None:
    from idfkit.simulation.parsers.rdd import DictionaryParseWarning, parse_mdd, parse_rdd

    assert issubclass(DictionaryParseWarning, UserWarning)
    with pytest.warns(DictionaryParseWarning, match="Parsed 0 entries"):
        assert parse_rdd("! header\nthis is not a dictionary line\n") == ()
    with pytest.warns(DictionaryParseWarning, match="Parsed 0 entries"):
        assert parse_mdd("not a meter\n") == ()
    with warnings.catch_warnings():
        warnings.simplefilter("error", DictionaryParseWarning)
        assert parse_rdd("! only a comment\n\n") == ()
        meters = parse_mdd(
            "Output:Meter,Electricity:Facility,hourly; !- [J]\n"
            "Output:Meter:Cumulative,Electricity:Facility,hourly; !- [J]\n"
            "Output:Meter:MeterFileOnly,InteriorLights:Electricity,hourly; !- [J]\n"
        )
    assert [m.name for m in meters] == ["Electricity:Facility", "InteriorLights:Electricity"]
    assert meters[0].units == "J"


def test_expand_objects_error_text_adds_exit_code_and_stderr() -> None:
    from idfkit.exceptions import ExpandObjectsError

    error = ExpandObjectsError("failed", exit_code=3, stderr="boom")
    assert str(error) == "failed (exit code 3)\nstderr: boom"
    assert (error.exit_code, error.stderr, error.preprocessor) == (3, "boom", None)
    assert str(ExpandObjectsError("failed", preprocessor="Slab")) == "failed"
    assert "stderr: bad input" in str(ExpandObjectsError("x", stderr="  bad input  "))
    assert len(str(ExpandObjectsError("x", stderr="e" * 5000))) < 700
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.exit_code) == (str(error), 3)


def test_no_design_days_error_names_the_station_and_nearby_ones() -> None:
    from idfkit.exceptions import NoDesignDaysError

    assert str(NoDesignDaysError("Chicago")) == (
        "DDY file for 'Chicago' contains no SizingPeriod:DesignDay objects.\n"
        "This station may lack ASHRAE design conditions data."
    )
    assert "DDY file '/data/x.ddy'" in str(NoDesignDaysError(ddy_path="/data/x.ddy"))
    assert str(NoDesignDaysError()).startswith("DDY file contains no SizingPeriod:DesignDay")
    nearby = str(NoDesignDaysError("Chicago", nearby_suggestions=["A", "B"]))
    assert nearby.endswith("\n\nNearby stations that may have design days:\n  - A\n  - B")


def test_energyplus_not_found_error_lists_places_and_remedies() -> None:
    from idfkit.exceptions import EnergyPlusNotFoundError

    error = EnergyPlusNotFoundError(searched_locations=["/usr/local/EnergyPlus", "/opt/EP"])
    text = str(error)
    assert text.startswith("Could not find an EnergyPlus installation.\nSearched in:\n")
    assert "  - /usr/local/EnergyPlus\n  - /opt/EP\n" in text
    for remedy in ("ENERGYPLUS_DIR", "find_energyplus(path=", "PATH"):
        assert remedy in text
    assert error.searched_locations == ["/usr/local/EnergyPlus", "/opt/EP"]
    assert "Searched in" not in str(EnergyPlusNotFoundError())


@pytest.mark.standalone_model
def test_this_projects_energyplus_not_found_error_pickles_whole() -> None:
    """(idfkit's own loses its searched locations in a pickle; this project's keeps them.)"""
    from idfkit.exceptions import EnergyPlusNotFoundError

    error = EnergyPlusNotFoundError(searched_locations=["/opt/EP"])
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.searched_locations) == (str(error), ["/opt/EP"])


@pytest.mark.parametrize(
    ("module", "package", "extra"),
    [
        ("pandas", "pandas", "pandas"),
        ("matplotlib.pyplot", "matplotlib", "plot"),
        ("plotly.graph_objects", "plotly", "plotly"),
        ("tqdm.auto", "tqdm", "progress"),
    ],
)
def test_a_missing_optional_package_is_named_as_idfkit_names_it(
    monkeypatch: pytest.MonkeyPatch, module: str, package: str, extra: str
) -> None:
    from idfkit.simulation._optional import optional_import

    monkeypatch.setitem(sys.modules, package, None)
    monkeypatch.setitem(sys.modules, module, None)
    expected = rf"{package} is required for .*Install it with: pip install idfkit\[{extra}\]"
    with pytest.raises(ImportError, match=expected):
        optional_import(module, "this feature")


_ERR_TEXT = (
    "Program Version,EnergyPlus, Version 25.2.0\n"
    "   ** Warning ** A warning about the model\n"
    "   ************* EnergyPlus Completed Successfully-- 1 Warning; 0 Severe Errors;\n"
)


class _AwaitedMemory:
    """An async-only backend (no `.sync` to fall back on): MemoryFileSystem behind `async def`."""

    def __init__(self) -> None:
        from idfkit.simulation import MemoryFileSystem

        self.store = MemoryFileSystem()
        self.calls: list[str] = []

    async def read_bytes(self, path: str | Path) -> bytes:
        self.calls.append(f"read_bytes {path}")
        return self.store.read_bytes(path)

    async def write_bytes(self, path: str | Path, data: bytes) -> None:
        self.store.write_bytes(path, data)

    async def read_text(self, path: str | Path, encoding: str = "utf-8") -> str:
        self.calls.append(f"read_text {path}")
        return self.store.read_text(path, encoding)

    async def write_text(self, path: str | Path, text: str, encoding: str = "utf-8") -> None:
        self.store.write_text(path, text, encoding)

    async def exists(self, path: str | Path) -> bool:
        return self.store.exists(path)

    async def makedirs(self, path: str | Path, *, exist_ok: bool = False) -> None:
        self.store.makedirs(path, exist_ok=exist_ok)

    async def copy(self, src: str | Path, dst: str | Path) -> None:
        self.store.copy(src, dst)

    async def glob(self, path: str | Path, pattern: str) -> list[str]:
        self.calls.append(f"glob {path}")
        return self.store.glob(path, pattern)

    async def remove(self, path: str | Path) -> None:
        self.store.remove(path)


def test_async_readers_read_through_the_async_backend() -> None:
    import asyncio

    from idfkit.simulation import SimulationResult

    backend = _AwaitedMemory()
    backend.store.write_text("runs/a/eplus.err", _ERR_TEXT)
    backend.store.write_text("runs/a/eplus.rdd", "Zone,Average,Zone Mean Air Temperature [C]\n")
    result = SimulationResult.from_directory("runs/a", async_fs=backend)
    with pytest.raises(RuntimeError, match="async accessors"):
        _ = result.errors

    async def read() -> tuple[Any, Any, Any]:
        return await result.async_errors(), await result.async_variables(), await result.async_sql()

    errors, variables, sql = asyncio.run(read())
    assert errors.summary() == (
        "Fatal: 0, Severe: 0, Warnings: 1, Info: 0\nSimulation: completed successfully"
    )
    assert variables is not None and [v.name for v in variables.variables] == [
        "Zone Mean Air Temperature"
    ]
    assert sql is None
    assert any(
        call.startswith("read_text runs/a/eplus.err") or "eplus.err" in call
        for call in backend.calls
    )
    with pytest.raises(ValueError, match="mutually exclusive"):
        SimulationResult("runs/a", fs=backend.store, async_fs=backend)


@pytest.mark.parametrize(
    "name", ["eplusTable.htm", "eplusTable.html", "eplustbl.htm", "report.html"]
)
def test_html_path_finds_htm_and_html(tmp_path: Path, name: str) -> None:
    from idfkit.simulation import SimulationResult

    (tmp_path / "eplus.err").write_text(_ERR_TEXT)
    (tmp_path / name).write_text("<html><body><b>Report:</b> Annual Building Utility</body></html>")
    result = SimulationResult.from_directory(tmp_path)
    assert result.html_path is not None and result.html_path.name == name
    assert result.html is not None


def test_err_path_falls_back_to_any_err_file(tmp_path: Path) -> None:
    from idfkit.simulation import SimulationResult

    (tmp_path / "othernameout.err").write_text(_ERR_TEXT)
    result = SimulationResult.from_directory(tmp_path)
    assert result.err_path == tmp_path / "othernameout.err"


def test_close_releases_the_sqlite_file_and_the_next_read_reopens(tmp_path: Path) -> None:
    import shutil
    import sqlite3

    from idfkit.simulation import SimulationResult
    from idfkit.simulation.parsers.sql import SQLResult

    run = tmp_path / "run"
    run.mkdir()
    (run / "eplus.err").write_text(_ERR_TEXT)
    with sqlite3.connect(run / "eplus.sql") as db:
        db.execute("CREATE TABLE Simulations (EnergyPlusVersion TEXT)")
        db.execute("INSERT INTO Simulations VALUES ('25.2.0')")
    db.close()
    result = SimulationResult.from_directory(run)
    first = result.sql
    assert first is not None and first.query("SELECT * FROM Simulations") == [("25.2.0",)]
    result.close()
    again = result.sql
    assert again is not None and again is not first
    assert again.query("SELECT count(*) FROM Simulations") == [(1,)]
    with result:
        assert result.sql is not None
    sql = SQLResult(run / "eplus.sql")
    sql.query("SELECT 1")
    sql.close()
    result.close()
    shutil.rmtree(run)  # nothing holds the folder
    assert not run.exists()


def test_progress_parser_reports_warmup_and_each_run_period_with_dates() -> None:
    from idfkit.simulation.progress import ProgressParser

    parser = ProgressParser()
    parser.set_job_context(3, "case-3")
    lines = [
        "Initializing New Environment Parameters",
        "Warming up {1}",
        "Warming up {2}",
        "Starting Simulation at 07/21/2017 for CHICAGO ANN HTG 99.6% CONDNS DB",
        "Starting Simulation at 01/01/2017 for RUN PERIOD 1",
        "Continuing Simulation at 02/01/2017 for RUN PERIOD 1",
        "Writing final SQL reports",
        "EnergyPlus Run Time=00hr 00min  1.23sec",
        "EnergyPlus Completed Successfully.",
    ]
    events = [parser.parse_line(line) for line in lines]
    shown = [
        None if e is None else (e.phase, e.environment, e.warmup_day, e.sim_day) for e in events
    ]
    assert shown == [
        ("initializing", None, None, None),
        ("warmup", None, 1, None),
        ("warmup", None, 2, None),
        ("simulating", "CHICAGO ANN HTG 99.6% CONDNS DB", None, 202),
        ("simulating", "RUN PERIOD 1", None, 1),
        ("simulating", "RUN PERIOD 1", None, 32),
        ("postprocessing", "RUN PERIOD 1", None, None),
        None,
        ("complete", "RUN PERIOD 1", None, None),
    ]
    assert events[-1] is not None and events[-1].percent == 100.0
    assert {(e.job_index, e.job_label) for e in events if e is not None} == {(3, "case-3")}


def test_a_batch_refuses_a_tqdm_on_progress_as_idfkit_does(box_model: Path) -> None:
    from idfkit.simulation import SimulationJob, simulate_batch

    job = SimulationJob(box_model, None, label="box", design_day=True)
    with pytest.raises(ValueError, match="not supported for batch"):
        simulate_batch([job], on_progress="tqdm")  # type: ignore[arg-type]
