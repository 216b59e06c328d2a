"""What a run reads while EnergyPlus shuts down is kept only if its file stood still."""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from types import SimpleNamespace

import pytest

from idfkit.simulation import EnergyPlusConfig, _closing, simulate
from idfkit.simulation._closing import ClosingReads, sql_state
from idfkit.simulation._job_context import JobContext, job_context
from idfkit.simulation._process import run_process
from idfkit.simulation.fs.base import hash_file
from idfkit.simulation.metrics import read_metrics
from idfkit.simulation.parsers.sql import SQLResult

GJ_TO_KWH = 1e9 / 3.6e6


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory, energyplus: EnergyPlusConfig) -> Path:
    """A finished annual run of the box model."""
    from idfkit.simulation.examples import example_model

    weather = energyplus.weather_dir / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    out = tmp_path_factory.mktemp("run")
    assert simulate(example_model("box"), weather, output_dir=out, energyplus=energyplus).success
    return out


def test_a_runs_metrics_are_those_of_its_final_sqlite_file(finished: Path) -> None:
    manifest_text = (finished / "idfkit-manifest.json").read_text()
    from idfkit.simulation.manifest import RunManifest

    manifest = RunManifest.model_validate_json(manifest_text)
    with SQLResult(finished / "eplus.sql") as sql:
        assert manifest.metrics == read_metrics(sql)
    assert manifest.metrics["site_energy_kwh"].value > 0


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX shell script stands in")
def test_the_closing_line_is_reported_before_the_process_ends(tmp_path: Path) -> None:
    script = tmp_path / "fake.sh"
    script.write_text("echo working\necho 'Completed Successfully.' >&2\nsleep 0.4\n")
    told: list[float] = []
    started = time.monotonic()
    outcome = run_process(
        ["sh", str(script)],
        cwd=tmp_path,
        timeout=30,
        on_closing=lambda: told.append(time.monotonic()),
    )
    ended = time.monotonic()
    assert outcome.exit_code == 0 and outcome.stderr == "Completed Successfully.\n"
    assert len(told) == 1  # once, on the first line
    assert told[0] - started < 0.35 and ended - told[0] > 0.3


def _site_energy_cell(path: Path) -> int:
    with closing(sqlite3.connect(path)) as db:
        (index,) = db.execute(
            "SELECT TabularDataIndex FROM TabularDataWithStrings WHERE "
            "ReportName = 'AnnualBuildingUtilityPerformanceSummary' AND "
            "TableName = 'Site and Source Energy' AND RowName = 'Total Site Energy' AND "
            "ColumnName = 'Total Energy'"
        ).fetchone()
    return int(index)


def _read_early(folder: Path, change: bool) -> tuple[dict[str, object], int]:
    """Start an early read, let it finish, maybe change the file, then say the process ended."""
    calls: list[int] = []
    read = threading.Event()

    def hook(sql: SQLResult) -> dict[str, float | tuple[float, str]]:
        calls.append(1)
        read.set()
        return {"calls": float(len(calls))}

    with job_context(JobContext(metrics=hook)):
        early = ClosingReads(folder, "eplus", {}, hash_files=False)
    early.start()  # as the process's reader does, from its own thread in a run
    assert read.wait(30)
    if change:  # the program writes once more after its closing line
        sql = folder / "eplus.sql"
        before = sql_state(folder, "eplus")
        cell = _site_energy_cell(sql)
        with closing(sqlite3.connect(sql)) as db, db:  # closed, not only committed
            db.execute(
                "UPDATE TabularData SET Value = '  999.00' WHERE TabularDataIndex = ?", (cell,)
            )
        assert sql_state(folder, "eplus") != before  # the change counter moved
    early.exited()
    return early.extras(), len(calls)


def test_an_early_read_stands_when_the_file_stood_still(finished: Path, tmp_path: Path) -> None:
    shutil.copy(finished / "eplus.sql", tmp_path / "eplus.sql")
    fields, calls = _read_early(tmp_path, change=False)
    assert calls == 1
    with SQLResult(tmp_path / "eplus.sql") as sql:
        assert fields["metrics"] == {**read_metrics(sql), **fields["metrics"]}  # type: ignore[dict-item]


def test_a_file_written_after_the_early_read_is_read_again(finished: Path, tmp_path: Path) -> None:
    shutil.copy(finished / "eplus.sql", tmp_path / "eplus.sql")
    fields, calls = _read_early(tmp_path, change=True)
    assert calls == 2  # read again once the process had ended
    metrics = fields["metrics"]
    assert metrics["site_energy_kwh"].value == pytest.approx(999 * GJ_TO_KWH)  # type: ignore[index]
    assert metrics["calls"].value == 2.0  # type: ignore[index]


def test_a_closed_run_waits_for_its_read(finished: Path, tmp_path: Path) -> None:
    shutil.copy(finished / "eplus.sql", tmp_path / "eplus.sql")
    early = ClosingReads(tmp_path, "eplus", {}, hash_files=True)
    early.start()
    early.close()  # returns only once nothing reads the folder
    shutil.rmtree(tmp_path)


@pytest.fixture
def stamped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``tmp_path``, its file system taken as kernel-stamped (as it is on a local disk)."""
    if sys.platform != "linux":
        pytest.skip("files are hashed early on Linux only")
    if _closing._change_clock(tmp_path) is None:  # a network or overlay file system
        monkeypatch.setattr(_closing, "_fs_type", lambda device: "ext4")
    return tmp_path


def _hashed_early(folder: Path) -> ClosingReads:
    """The folder's files hashed as if EnergyPlus had said it was closing; not yet exited."""
    closing = ClosingReads(folder, "eplus", {}, hash_files=True)
    closing.start()
    assert closing._hashed.wait(30)  # the early hashing is over
    return closing


def test_a_file_that_stood_still_keeps_its_early_digest(stamped: Path) -> None:
    tmp_path = stamped
    (tmp_path / "eplus.eso").write_bytes(b"hourly values\n" * 1000)
    closing = _hashed_early(tmp_path)
    closing.exited()
    assert closing.known(tmp_path / "eplus.eso") == hash_file(tmp_path / "eplus.eso")


def _rewritten_with_its_times_set_back(path: Path) -> None:
    before = path.stat()
    path.write_bytes(path.read_bytes().replace(b"hourly", b"HOURLY"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # only the change time moves


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.write_bytes(p.read_bytes() + b"one more line\n"),  # appended
        lambda p: p.write_bytes(p.read_bytes().replace(b"hourly", b"HOURLY")),  # same size
        lambda p: p.unlink(),
        _rewritten_with_its_times_set_back,
    ],
    ids=["appended", "rewritten at the same size", "deleted", "times set back"],
)
def test_a_file_written_after_its_early_hash_is_hashed_again(
    stamped: Path, change: Callable[[Path], object]
) -> None:
    tmp_path = stamped
    eso = tmp_path / "eplus.eso"
    eso.write_bytes(b"hourly values\n" * 1000)
    closing = _hashed_early(tmp_path)
    change(eso)  # EnergyPlus writes once more before it ends
    closing.exited()
    assert closing.known(eso) is None  # publishing hashes it itself


def test_nothing_is_hashed_early_where_the_kernel_may_not_stamp_the_times(
    stamped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = stamped
    monkeypatch.setattr(_closing, "_fs_type", lambda device: "nfs4")  # the server's clock
    (tmp_path / "eplus.eso").write_bytes(b"hourly values\n" * 1000)
    closing = _hashed_early(tmp_path)
    closing.exited()
    assert closing.known(tmp_path / "eplus.eso") is None


@pytest.mark.parametrize(
    ("ctime_ns", "clock_ns", "settled"),
    [
        (1_700_000_000_123_456_789, 1_700_000_000_127_000_000, True),  # a tick before
        (1_700_000_000_123_456_789, 1_700_000_000_123_457_000, False),  # under a microsecond
        (1_700_000_000_000_000_000, 1_700_000_005_000_000_000, False),  # kept to the second
        (1_700_000_000_123_000_000, 1_700_000_000_127_000_000, False),  # to the millisecond
    ],
)
def test_a_file_counts_as_settled_only_if_a_later_write_must_move_its_change_time(
    ctime_ns: int, clock_ns: int, settled: bool
) -> None:
    info = SimpleNamespace(st_ctime_ns=ctime_ns)
    assert _closing._settled(info, clock_ns) is settled  # type: ignore[arg-type]


def test_files_past_the_budget_are_hashed_after_the_exit(
    stamped: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = stamped
    monkeypatch.setattr(_closing, "EARLY_HASH_BYTES", 1500)
    (tmp_path / "big.eso").write_bytes(b"x" * 2000)
    (tmp_path / "small.err").write_bytes(b"y" * 1000)
    (tmp_path / "other.end").write_bytes(b"z" * 1000)
    closing = _hashed_early(tmp_path)
    closing.exited()
    assert closing.known(tmp_path / "big.eso") is None
    kept = [closing.known(tmp_path / n) is not None for n in ("small.err", "other.end")]
    assert sorted(kept) == [False, True]  # the budget held one of the two


@pytest.mark.skipif(sys.platform != "linux", reason="read from /proc/self/mountinfo")
def test_the_file_system_of_a_folder_is_found(tmp_path: Path) -> None:
    import os

    device = tmp_path.stat().st_dev
    found = _closing._fs_type(f"{os.major(device)}:{os.minor(device)}")
    mounts = Path("/proc/self/mountinfo").read_text()
    assert found == "" or f" - {found} " in mounts


def test_a_published_runs_digests_are_its_files(finished: Path) -> None:
    from idfkit.simulation import SimulationResult

    result = SimulationResult.from_directory(finished)
    assert result.manifest is not None
    for entry in result.manifest.files:
        assert hash_file(finished / entry.name) == (entry.size, entry.sha256), entry.name
    result.verify(deep=True)
