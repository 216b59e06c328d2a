"""SimulationCache: keys, hits without EnergyPlus, backends, corrupt entries, concurrent fills."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import idfkit.simulation.runner
from idfkit import load_idf
from idfkit.simulation import EnergyPlusConfig, MemoryFileSystem, SimulationResult, simulate
from idfkit.simulation.cache import ENTRY_NAME, CacheKey, SimulationCache
from idfkit.simulation.fs import FileSystem, join
from idfkit.simulation.fs.s3 import S3FileSystem
from idfkit.simulation.manifest import MANIFEST_NAME
from tests.helpers import count_requests

# -- keys ------------------------------------------------------------------------


def test_key_covers_model_text_weather_bytes_and_every_option(
    box_model: Path, weather: Path, tmp_path: Path
) -> None:
    cache = SimulationCache(tmp_path / "cache")
    key = cache.compute_key(box_model, weather)
    assert len(key.hex_digest) == 64
    assert cache.compute_key(load_idf(box_model), weather) == key
    # The weather counts by its bytes, not its path.
    copy = tmp_path / "elsewhere.epw"
    copy.write_bytes(weather.read_bytes())
    assert cache.compute_key(box_model, copy) == key
    copy.write_bytes(weather.read_bytes() + b"\n")
    assert cache.compute_key(box_model, copy) != key
    assert cache.compute_key(box_model, None) != key
    # Output:SQLite is added for the run anyway, so having it already changes nothing.
    without = load_idf(box_model)
    without.removeidfobject(without["Output:SQLite"][0])
    added = without.copy()
    added.add("Output:SQLite", option_type="SimpleAndTabular")
    assert cache.compute_key(without, weather) == cache.compute_key(added, weather)
    # A changed model is another key.
    edited = load_idf(box_model)
    edited.add(
        "Output:Variable",
        key_value="*",
        variable_name="Site Outdoor Air Drybulb Temperature",
        reporting_frequency="Hourly",
    )
    assert cache.compute_key(edited, weather) != key
    variants = [
        {"expand_objects": False},
        {"annual": True},
        {"design_day": True},
        {"output_suffix": "L"},
        {"readvars": True},
        {"extra_args": ["--convert"]},
        {"output_prefix": "case"},
        {"energyplus_version": (24, 1, 0)},
    ]
    keys = {cache.compute_key(box_model, weather, **v).hex_digest for v in variants}  # type: ignore[arg-type]
    assert len(keys) == len(variants) and key.hex_digest not in keys
    assert cache.compute_key(box_model, weather, extra_args=("-r",)) == cache.compute_key(
        box_model, weather, extra_args=["-r"]
    )


def test_key_refuses_what_cannot_name_an_entry(box_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="64 lowercase hex"):
        CacheKey("../../etc")
    with pytest.raises(FileNotFoundError):
        SimulationCache(tmp_path).compute_key(box_model, tmp_path / "missing.epw")
    with pytest.raises(ValueError, match="not both"):
        SimulationCache(tmp_path, fs=MemoryFileSystem())


def test_default_location_and_cache_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("IDFKIT_CACHE_DIR", str(tmp_path / "home-cache"))
    assert SimulationCache().cache_dir == (tmp_path / "home-cache" / "simulation").resolve()
    assert SimulationCache(tmp_path / "mine").cache_dir == (tmp_path / "mine").resolve()
    with pytest.raises(TypeError, match="not on local disk"):
        _ = SimulationCache(fs=MemoryFileSystem()).cache_dir


# -- runs to cache -----------------------------------------------------------------


@pytest.fixture(scope="module")
def two_runs(
    box_model: Path,
    weather: Path,
    energyplus: EnergyPlusConfig,
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[SimulationResult, SimulationResult]:
    """Two runs of the same job: equal keys, files that differ (timestamps)."""
    root = tmp_path_factory.mktemp("runs")
    return (
        simulate(box_model, weather, output_dir=root / "a", energyplus=energyplus, label="a"),
        simulate(box_model, weather, output_dir=root / "b", energyplus=energyplus, label="b"),
    )


@pytest.fixture
def energyplus_runs(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every EnergyPlus process started from now on (the real one still runs)."""
    calls: list[Any] = []
    real = idfkit.simulation.runner.run_process

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(idfkit.simulation.runner, "run_process", counting)
    return calls


def _digests(result: SimulationResult) -> dict[str, str]:
    return {
        name: hashlib.sha256(result.local_path(name).read_bytes()).hexdigest()
        for name in result.files()
    }


@pytest.mark.energyplus
def test_miss_then_hit_places_the_run_without_energyplus(
    two_runs: tuple[SimulationResult, SimulationResult],
    box_model: Path,
    weather: Path,
    tmp_path: Path,
    energyplus_runs: list[Any],
) -> None:
    run, _ = two_runs
    cache = SimulationCache(tmp_path / "cache")
    key = cache.compute_key(box_model, weather)
    assert not cache.contains(key)
    assert cache.get(key) is None and cache.restore(key, tmp_path / "out") is None
    cache.put(key, run)
    assert cache.contains(key)

    placed = cache.restore(key, tmp_path / "out", label="second")
    assert placed is not None and placed.success
    assert energyplus_runs == []
    assert placed.run_dir == tmp_path / "out"
    assert placed.manifest is not None and placed.manifest.label == "second"
    assert placed.manifest.run_id != run.manifest.run_id  # type: ignore[union-attr]
    assert _digests(placed) == _digests(run)
    placed.verify(deep=True)
    assert placed.sql is not None
    assert len(placed.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")) == 8760
    # Read back from disk by a fresh reader, the placed folder is a complete run.
    again = SimulationResult.from_directory(tmp_path / "out")
    assert again.success and again.manifest == placed.manifest

    in_cache = cache.get(key)
    assert in_cache is not None and in_cache.success
    assert Path(in_cache.run_dir).is_relative_to(cache.cache_dir)
    # A temporary folder when no output_dir is named.
    temporary = cache.restore(key)
    assert temporary is not None and Path(temporary.run_dir).name.startswith("idfkit-")
    assert energyplus_runs == []


@pytest.mark.energyplus
def test_a_failed_run_is_not_stored(
    rejected_model: Path, weather: Path, energyplus: EnergyPlusConfig, tmp_path: Path
) -> None:
    failed = simulate(rejected_model, weather, output_dir=tmp_path / "run", energyplus=energyplus)
    assert not failed.success
    cache = SimulationCache(tmp_path / "cache")
    key = cache.compute_key(rejected_model, weather)
    cache.put(key, failed)
    assert not cache.contains(key) and cache.get(key) is None


def _fill_dir(cache: SimulationCache, key: CacheKey) -> str:
    pointer = json.loads(cache.fs.read_bytes(join(cache.prefix, key.hex_digest, ENTRY_NAME)))
    return join(cache.prefix, key.hex_digest, pointer["fill"])


CORRUPTIONS: dict[str, Callable[[FileSystem, str], None]] = {
    "changed file": lambda fs, d: fs.write_bytes(f"{d}/eplus.err", b"not the run's .err"),
    "missing file": lambda fs, d: fs.remove(f"{d}/eplus.sql"),
}


@pytest.mark.energyplus
@pytest.mark.parametrize("damage", sorted(CORRUPTIONS))
def test_corrupt_entry_is_a_miss_and_is_refilled(
    two_runs: tuple[SimulationResult, SimulationResult],
    box_model: Path,
    weather: Path,
    tmp_path: Path,
    damage: str,
) -> None:
    run, other = two_runs
    cache = SimulationCache(tmp_path / "cache")
    key = cache.compute_key(box_model, weather)
    cache.put(key, run)
    fill = _fill_dir(cache, key)
    CORRUPTIONS[damage](cache.fs, fill)

    assert cache.restore(key, tmp_path / "out") is None
    assert not cache.contains(key)  # the entry was dropped...
    assert cache.fs.glob(fill, "*") == []  # ...with its files
    cache.put(key, other)  # ...and the next run refills it
    placed = cache.restore(key, tmp_path / "out2")
    assert placed is not None and _digests(placed) == _digests(other)


@pytest.mark.energyplus
def test_malformed_pointer_is_a_miss(
    two_runs: tuple[SimulationResult, SimulationResult],
    box_model: Path,
    weather: Path,
    tmp_path: Path,
) -> None:
    cache = SimulationCache(tmp_path / "cache")
    key = cache.compute_key(box_model, weather)
    cache.put(key, two_runs[0])
    pointer = cache.cache_dir / key.hex_digest / ENTRY_NAME
    text = pointer.read_text()
    for bad in [text[: len(text) // 2], text.replace(key.hex_digest, "0" * 64, 1), "{}"]:
        pointer.write_text(bad)
        assert cache.get(key) is None
        assert not pointer.exists()


@pytest.mark.energyplus
@pytest.mark.parametrize(
    "backend", ["local", "memory", pytest.param("s3", marks=pytest.mark.server)]
)
def test_concurrent_fills_never_mix(
    two_runs: tuple[SimulationResult, SimulationResult],
    box_model: Path,
    weather: Path,
    tmp_path: Path,
    backend: str,
    request: pytest.FixtureRequest,
) -> None:
    if backend == "local":
        cache = SimulationCache(tmp_path / "cache")
    elif backend == "memory":
        cache = SimulationCache(fs=MemoryFileSystem(), prefix="shared")
    else:
        cache = SimulationCache(fs=request.getfixturevalue("moto_server_fs"), prefix="shared")
    key = cache.compute_key(box_model, weather)
    runs = [two_runs[i % 2] for i in range(6)]
    barrier = threading.Barrier(len(runs))
    errors: list[BaseException] = []

    def fill(run: SimulationResult) -> None:
        try:
            barrier.wait()
            cache.put(key, run)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fill, args=(r,)) for r in runs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    placed = cache.restore(key, tmp_path / "out")
    assert placed is not None and placed.manifest is not None
    # The placed run is labelled for the job that asked (none); the entry keeps the fill's.
    assert placed.manifest.label == ""
    stored = cache.get(key)
    assert stored is not None and stored.manifest is not None
    winner = next(r for r in two_runs if r.manifest.label == stored.manifest.label)  # type: ignore[union-attr]
    assert _digests(placed) == _digests(winner)  # one whole fill, never a mix
    # Whatever other fill folders a lost race leaves behind are whole, never partial.
    current = _fill_dir(cache, key)
    for folder in cache.fs.glob(join(cache.prefix, key.hex_digest), "*"):
        if folder.endswith(ENTRY_NAME) or folder == current:
            continue
        names = {p.rsplit("/", 1)[-1] for p in cache.fs.glob(folder, "*")}
        assert names in (set(), {*two_runs[0].files(), MANIFEST_NAME})


@pytest.mark.energyplus
def test_cache_in_a_bucket_copies_server_side_on_the_same_backend(
    two_runs: tuple[SimulationResult, SimulationResult],
    box_model: Path,
    weather: Path,
    tmp_path: Path,
    moto_server_fs: S3FileSystem,
    energyplus_runs: list[Any],
) -> None:
    run, _ = two_runs
    cache = SimulationCache(fs=moto_server_fs, prefix="sim-cache")
    key = cache.compute_key(box_model, weather)
    cache.put(key, run)  # a local run uploaded into the bucket
    with count_requests(moto_server_fs) as calls:
        placed = cache.restore(key, "case-1", fs=moto_server_fs, label="case-1")
    assert placed is not None and placed.success and energyplus_runs == []
    assert calls["CopyObject"] == len(run.files())
    assert calls["GetObject"] == 1  # the pointer; no output file is downloaded
    assert calls["PutObject"] == 2  # the publishing marker, then the manifest
    assert moto_server_fs.exists(f"case-1/{MANIFEST_NAME}")
    assert _digests(placed) == _digests(run)

    # Another backend (local disk): the run is downloaded, and checked on arrival.
    local = cache.restore(key, tmp_path / "local")
    assert local is not None and _digests(local) == _digests(run)
    # A run that lives in the bucket is cached by server-side copy as well.
    remote = simulate(box_model, weather, output_dir="runs/remote", fs=moto_server_fs, label="r")
    assert len(energyplus_runs) == 1
    key2 = cache.compute_key(box_model, weather, output_prefix="eplus", energyplus_version="x")
    with count_requests(moto_server_fs) as calls:
        cache.put(key2, remote)
    assert calls["CopyObject"] == len(remote.files()) and calls["GetObject"] <= 1
    hit = cache.get(key2)
    assert hit is not None and hit.fs is moto_server_fs and _digests(hit) == _digests(remote)


@pytest.mark.energyplus
def test_clear_removes_entries_only(
    two_runs: tuple[SimulationResult, SimulationResult],
    box_model: Path,
    weather: Path,
    tmp_path: Path,
) -> None:
    memory = MemoryFileSystem()
    memory.write_text("shared/README.txt", "not the cache's")
    cache = SimulationCache(fs=memory, prefix="shared")
    key = cache.compute_key(box_model, weather)
    cache.put(key, two_runs[0])
    assert cache.contains(key)
    cache.clear()
    assert not cache.contains(key)
    assert memory.glob("shared", "*") == ["shared/README.txt"]
    local = SimulationCache(tmp_path / "cache")
    local.put(key, two_runs[0])
    local.clear()
    assert not (tmp_path / "cache").exists()


@pytest.mark.energyplus
def test_simulate_with_a_cache_runs_energyplus_once(
    box_model: Path,
    weather: Path,
    energyplus: EnergyPlusConfig,
    tmp_path: Path,
    energyplus_runs: list[Any],
) -> None:
    cache = SimulationCache(tmp_path / "cache")
    first = simulate(
        box_model, weather, output_dir=tmp_path / "a", energyplus=energyplus, cache=cache
    )
    second = simulate(
        box_model, weather, output_dir=tmp_path / "b", energyplus=energyplus, cache=cache, label="b"
    )
    assert len(energyplus_runs) == 1
    assert first.success and second.success and second.run_dir == tmp_path / "b"
    assert _digests(first) == _digests(second)
    # Another option is another key: EnergyPlus runs again.
    simulate(
        box_model,
        weather,
        output_dir=tmp_path / "c",
        energyplus=energyplus,
        cache=cache,
        output_prefix="case",
    )
    assert len(energyplus_runs) == 2


@pytest.mark.energyplus
def test_simulate_with_a_cache_in_the_results_bucket(
    box_model: Path,
    weather: Path,
    energyplus: EnergyPlusConfig,
    moto_server_fs: S3FileSystem,
    energyplus_runs: list[Any],
) -> None:
    moto_server_fs.write_bytes("inputs/weather.epw", weather.read_bytes())
    cache = SimulationCache(fs=moto_server_fs, prefix="sim-cache")
    for case in ["case-1", "case-2"]:
        result = simulate(
            box_model,
            "inputs/weather.epw",
            output_dir=case,
            fs=moto_server_fs,
            energyplus=energyplus,
            cache=cache,
            label=case,
        )
        assert result.success and result.manifest is not None and result.manifest.label == case
    assert len(energyplus_runs) == 1
    a = SimulationResult.from_directory("case-1", fs=moto_server_fs)
    b = SimulationResult.from_directory("case-2", fs=moto_server_fs)
    b.verify(deep=True)
    assert _digests(a) == _digests(b)
