"""idfkit 1.1.1's public simulation names, answering as idfkit answers (both builds)."""

from __future__ import annotations

import pickle
import sys
import warnings
from pathlib import Path

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
    assert str(pickle.loads(pickle.dumps(error))) == text


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
