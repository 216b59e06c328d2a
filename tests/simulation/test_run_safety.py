"""simulate() and simulate_batch() with the user's paths and files: relative paths
work, the user's files are never touched, and a refused run writes nothing."""

from __future__ import annotations

import math
import os
import re
import shutil
import stat
from pathlib import Path

import pytest

from idfkit.simulation import (
    EnergyPlusConfig,
    IncompleteResultError,
    LocalFileSystem,
    MemoryFileSystem,
    SimulationJob,
    SimulationResult,
    simulate,
    simulate_batch,
)
from idfkit.simulation.manifest import MANIFEST_NAME
from idfkit.simulation.study import run_study_job, write_study


@pytest.fixture
def project(
    tmp_path: Path, box_model: Path, weather: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A project folder with a model and a weather file, made the working directory."""
    (tmp_path / "proj").mkdir()
    shutil.copy(box_model, tmp_path / "proj" / "m.idf")
    shutil.copy(weather, tmp_path / "proj" / "chicago.epw")
    monkeypatch.chdir(tmp_path)
    return tmp_path


# -- paths relative to the caller's working directory -----------------
def test_relative_paths_in_local_mode(project: Path, energyplus: EnergyPlusConfig) -> None:
    result = simulate("proj/m.idf", "proj/chicago.epw", output_dir="run-001", energyplus=energyplus)
    assert result.success, result.manifest and result.manifest.error_summary
    assert (project / "run-001" / "eplus.sql").is_file()
    assert not (project / "run-001" / "run-001").exists()


def test_relative_weather_with_a_backend(project: Path, energyplus: EnergyPlusConfig) -> None:
    fs = MemoryFileSystem()
    result = simulate(
        Path("proj/m.idf"), "proj/chicago.epw", output_dir="r", fs=fs, energyplus=energyplus
    )
    assert result.success, result.manifest and result.manifest.error_summary
    rooted = LocalFileSystem(root="out")  # a relative root, too
    again = simulate("proj/m.idf", "proj/chicago.epw", output_dir="r", fs=rooted)
    assert again.success and (project / "out" / "r" / MANIFEST_NAME).is_file()


def test_relative_paths_in_a_batch_and_a_study(project: Path, energyplus: EnergyPlusConfig) -> None:
    jobs = [
        SimulationJob("proj/m.idf", "proj/chicago.epw", label="a", output_dir="batch/a"),
        SimulationJob("proj/m.idf", "proj/chicago.epw", label="b", output_dir="batch/b"),
    ]
    batch = simulate_batch(jobs, energyplus=energyplus, max_workers=2)
    assert batch.all_succeeded, batch.summary()
    assert (project / "batch" / "b" / "eplus.sql").is_file()

    study_fs = LocalFileSystem(root="study")
    write_study(jobs[:1], study_fs)
    outcome = run_study_job(study_fs, 0, energyplus=energyplus)
    assert outcome.success and (project / "study" / "batch" / "a" / MANIFEST_NAME).is_file()


def test_a_failed_run_always_says_why(tmp_path: Path, box_model: Path, weather: Path) -> None:
    """An engine that fails without an .err file: the summary is its own output."""
    engine = tmp_path / "engine" / "energyplus"
    engine.parent.mkdir()
    engine.write_text(
        "#!/bin/sh\necho 'ERROR: Could not find weather file: nowhere.epw.'\nexit 1\n"
    )
    engine.chmod(0o755)
    config = EnergyPlusConfig(
        executable=engine, version=(25, 2, 0), install_dir=engine.parent, idd_path=engine.parent
    )
    result = simulate(box_model, weather, output_dir=tmp_path / "r", energyplus=config)
    assert result.success is False
    assert result.manifest is not None
    assert "Could not find weather file" in result.manifest.error_summary


# -- a run never modifies a file it did not create ---------------------
def test_the_users_model_in_the_output_folder_is_left_alone(
    project: Path, energyplus: EnergyPlusConfig
) -> None:
    (project / "proj" / "model.idf").write_bytes((project / "proj" / "m.idf").read_bytes())
    before = (project / "proj" / "model.idf").read_bytes()
    with pytest.raises(FileExistsError, match=r"model\.idf.*model file itself"):
        simulate("proj/model.idf", "proj/chicago.epw", output_dir="proj", energyplus=energyplus)
    with pytest.raises(FileExistsError, match=r"model\.idf"):
        simulate("proj/m.idf", "proj/chicago.epw", output_dir="proj", energyplus=energyplus)
    with pytest.raises(FileExistsError, match=r"model\.idf"):
        simulate(
            "proj/m.idf",
            "proj/chicago.epw",
            output_dir="proj",
            fs=LocalFileSystem(root=project),
            energyplus=energyplus,
        )
    assert (project / "proj" / "model.idf").read_bytes() == before
    assert not (project / "proj" / MANIFEST_NAME).exists()


def test_a_run_folder_can_be_run_again_from_its_own_model_copy(
    project: Path, energyplus: EnergyPlusConfig
) -> None:
    first = simulate("proj/m.idf", "proj/chicago.epw", output_dir="r1", energyplus=energyplus)
    assert first.success
    again = simulate("r1/model.idf", "proj/chicago.epw", output_dir="r1", energyplus=energyplus)
    assert again.success and "model.idf" in again.files()


# -- two batch jobs may not share a folder ------------------------------
def test_batch_refuses_two_jobs_with_one_folder(
    tmp_path: Path, box_model: Path, weather: Path, energyplus: EnergyPlusConfig
) -> None:
    fs = MemoryFileSystem()
    same_on_fs = [
        SimulationJob(box_model, weather, label="first", output_dir="runs/x"),
        SimulationJob(box_model, weather, label="other"),
        SimulationJob(box_model, weather, label="second", output_dir="runs/./x/"),
    ]
    with pytest.raises(ValueError, match=r"jobs 0 \('first'\) and 2 \('second'\).*runs"):
        simulate_batch(same_on_fs, fs=fs, energyplus=energyplus)
    assert fs.glob("", "*") == []

    local = [
        SimulationJob(box_model, weather, output_dir=tmp_path / "x"),
        SimulationJob(
            box_model, weather, output_dir="x", fs=LocalFileSystem(root=tmp_path), label="b"
        ),
    ]
    with pytest.raises(ValueError, match=r"jobs 0 \(job-0\) and 1 \('b'\)"):
        simulate_batch(local, energyplus=energyplus)
    assert not (tmp_path / "x").exists()

    by_label = [SimulationJob(box_model, weather, label="dup") for _ in range(2)]
    with pytest.raises(ValueError, match="dup"):
        simulate_batch(by_label, fs=fs, energyplus=energyplus)
    # Different backends may use the same folder name.
    apart = [
        SimulationJob(box_model, weather, output_dir="x", fs=MemoryFileSystem()),
        SimulationJob(box_model, weather, output_dir="x", fs=MemoryFileSystem()),
    ]
    assert simulate_batch(apart, energyplus=energyplus).all_succeeded


# -- every argument checked before the first write -------------
@pytest.mark.parametrize(
    ("option", "match"),
    [
        ({"output_prefix": "ep\x00lus"}, "output_prefix"),
        ({"output_prefix": ".."}, "output_prefix"),
        ({"extra_args": ["--x\x00"]}, "NUL"),
        ({"extra_args": "-r"}, "extra_args"),
        ({"extra_args": [3]}, "extra_args"),
        ({"timeout": math.nan}, "timeout"),
        ({"timeout": math.inf}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": "60"}, "timeout"),
        ({"annual": True, "design_day": True}, "annual and design_day"),
        ({"label": "a\x00b"}, "label"),
    ],
)
def test_refused_arguments_leave_an_earlier_good_run_standing(
    good_run: tuple[Path, bytes],
    box_model: Path,
    weather: Path,
    energyplus: EnergyPlusConfig,
    option: dict[str, object],
    match: str,
) -> None:
    folder, manifest = good_run
    with pytest.raises((ValueError, TypeError), match=match):
        simulate(box_model, weather, output_dir=folder, energyplus=energyplus, **option)  # type: ignore[arg-type]
    fs = MemoryFileSystem()
    with pytest.raises((ValueError, TypeError), match=match):
        simulate(box_model, weather, output_dir="r", fs=fs, energyplus=energyplus, **option)  # type: ignore[arg-type]
    assert fs.glob("", "*") == []
    assert (folder / MANIFEST_NAME).read_bytes() == manifest
    assert SimulationResult.from_directory(folder).success


def test_bad_output_dirs_are_refused_before_any_write(
    good_run: tuple[Path, bytes], box_model: Path, weather: Path, energyplus: EnergyPlusConfig
) -> None:
    folder, manifest = good_run
    for bad in ("", "   ", f"{folder}\x00x"):
        with pytest.raises(ValueError, match="output_dir"):
            simulate(box_model, weather, output_dir=bad, energyplus=energyplus)
    fs = LocalFileSystem(root=folder.parent)
    for bad in ("", "  ", "../up", "a\x00b"):
        with pytest.raises(ValueError, match=r"output_dir|path"):
            simulate(box_model, weather, output_dir=bad, fs=fs, energyplus=energyplus)
    assert (folder / MANIFEST_NAME).read_bytes() == manifest


@pytest.fixture(scope="module")
def _good_run_dir(
    tmp_path_factory: pytest.TempPathFactory,
    box_model: Path,
    weather: Path,
    energyplus: EnergyPlusConfig,
) -> Path:
    folder = tmp_path_factory.mktemp("good") / "run"
    assert simulate(box_model, weather, output_dir=folder, energyplus=energyplus).success
    return folder


@pytest.fixture
def good_run(_good_run_dir: Path) -> tuple[Path, bytes]:
    manifest = (_good_run_dir / MANIFEST_NAME).read_bytes()
    return _good_run_dir, manifest


def test_a_timeout_still_marks_the_folder_incomplete(
    tmp_path: Path, box_model: Path, weather: Path, energyplus: EnergyPlusConfig
) -> None:
    """The checks refuse bad values only: a real (tiny) timeout still runs and stops."""
    with pytest.raises(Exception, match="did not finish"):
        simulate(box_model, weather, output_dir=tmp_path, energyplus=energyplus, timeout=0.05)
    with pytest.raises(IncompleteResultError):
        _ = SimulationResult.from_directory(tmp_path).success


# -- local result files honour the umask -------------------------------
def test_published_files_follow_the_umask(
    tmp_path: Path, box_model: Path, weather: Path, energyplus: EnergyPlusConfig
) -> None:
    old = os.umask(0o022)
    try:
        fs = LocalFileSystem(root=tmp_path)
        simulate(box_model, weather, output_dir="shared", fs=fs, energyplus=energyplus)
    finally:
        os.umask(old)
    for path in (tmp_path / "shared").iterdir():
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o044 == 0o044, f"{path.name} is {oct(mode)}"


@pytest.mark.usefixtures("energyplus")  # runs the engine it finds
def test_the_getting_started_guide_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Its first example writes ``output_dir="run-001"``, relative to the reader's cwd."""
    text = (Path(__file__).parents[2] / "docs" / "getting-started.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)
    assert len(blocks) == 6  # find EnergyPlus, run, plot, run options, preprocessors, editing
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "docs/getting-started.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "True" in out.splitlines()[1]
    assert (tmp_path / "run-001" / MANIFEST_NAME).is_file()
    assert (tmp_path / "temperatures.png").stat().st_size > 1000
    assert (tmp_path / "end-uses.png").stat().st_size > 1000


@pytest.mark.parametrize("moment", ["while its output readers start", "as it is started"])
def test_a_ctrl_c_as_energyplus_starts_still_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moment: str
) -> None:
    """A KeyboardInterrupt just after the process exists never leaves it running."""
    import signal
    import subprocess
    import sys
    import threading

    from idfkit.simulation import _process

    started: list[subprocess.Popen[str]] = []
    real_popen, real_start = subprocess.Popen, threading.Thread.start

    def popen(*args: object, **kwargs: object) -> subprocess.Popen[str]:
        proc = real_popen(*args, **kwargs)  # type: ignore[call-overload]
        started.append(proc)
        if moment == "as it is started":
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C inside Popen()
        return proc  # type: ignore[no-any-return]

    def start(self: threading.Thread) -> None:
        if moment == "while its output readers start" and started:
            raise KeyboardInterrupt
        real_start(self)

    monkeypatch.setattr(subprocess, "Popen", popen)
    monkeypatch.setattr(threading.Thread, "start", start)
    with pytest.raises(KeyboardInterrupt):
        _process.run_process(
            [sys.executable, "-c", "import time; time.sleep(60)"], cwd=tmp_path, timeout=120
        )
    monkeypatch.undo()
    assert started and started[0].poll() is not None  # killed and reaped, not left running
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C works again


def test_a_batch_job_that_never_ran_reads_nothing_of_an_earlier_run(
    tmp_path: Path, box_model: Path, weather: Path, energyplus: EnergyPlusConfig
) -> None:
    """Its result points nowhere: the earlier run left in its output_dir is not its own."""
    from idfkit.simulation import SimulationJob, simulate_batch

    folder = tmp_path / "run"
    assert simulate(box_model, weather, output_dir=folder, energyplus=energyplus).success
    job = SimulationJob(tmp_path / "missing.idf", weather, "x", folder)
    (failed,) = simulate_batch([job], energyplus=energyplus)
    assert not failed.success and "missing.idf" in failed.stderr
    assert failed.sql is None and failed.files() == [] and failed.errors.error_count == 0
    assert (folder / "eplus.sql").is_file()  # the earlier run is still there, untouched
