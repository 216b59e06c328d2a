"""idfkit 1.1.1's public simulation names, answering as idfkit answers (both builds)."""

from __future__ import annotations

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
