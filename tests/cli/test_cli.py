"""``idfkit-sim`` as a user meets it: paths, exit codes, messages, Ctrl-C."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

import idfkit
from idfkit.simulation.cli import main
from idfkit.simulation.manifest import MANIFEST_NAME
from idfkit.simulation.testing import LocalS3Server
from tests.conftest import unique_bucket
from tests.helpers import processes_mentioning

SRC = Path(idfkit.__file__).resolve().parents[1]


@pytest.fixture
def project(
    tmp_path: Path, box_model: Path, weather: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    shutil.copy(box_model, tmp_path / "m.idf")
    shutil.copy(weather, tmp_path / "chicago.epw")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_run_with_relative_paths(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = os.umask(0o022)
    try:
        code = main(["run", "m.idf", "chicago.epw", "-o", "out/r"])
    finally:
        os.umask(old)
    out = capsys.readouterr()
    assert code == 0, out
    assert out.out.startswith("succeeded: out/r")
    run = project / "out" / "r"
    assert (run / "eplus.sql").is_file()
    for path in run.iterdir():  # a shared results folder stays readable to the team
        assert stat.S_IMODE(path.stat().st_mode) & 0o044 == 0o044, path.name


def test_a_failed_run_names_its_cause(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(Path(__file__).parents[1] / "data" / "rejected.idf", project / "bad.idf")
    code = main(["run", "bad.idf", "chicago.epw", "-o", "out/bad"])
    out = capsys.readouterr().out
    assert code != 0, out
    assert out.startswith("failed: out/bad")
    assert "Simulation: terminated with fatal error(s)" in out
    assert 'Severe: BuildingSurface:Detailed="ONLY WALL"' in out  # the cause, not just counts


def test_missing_inputs_are_bad_arguments(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "nothere.idf", "chicago.epw", "-o", "out/r"]) == 2
    assert "model file not found: nothere.idf" in capsys.readouterr().err
    assert main(["run", "m.idf", "nothere.epw", "-o", "out/r"]) == 2
    err = capsys.readouterr().err
    assert "weather file not found: nothere.epw" in err and "LocalFileSystem" not in err
    assert not (project / "out" / "r").exists()


def test_output_must_name_a_folder(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("s3://", "s3:///", "s3://bucket"):
        assert main(["run", "m.idf", "chicago.epw", "-o", bad]) == 2, bad
        err = capsys.readouterr().err
        assert "S3FileSystem" not in err and err.strip()
    assert not (project / "s3:").exists()


def test_annual_and_design_day_are_refused_with_a_reason(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", "m.idf", "chicago.epw", "-o", "r", "--annual", "--design-day"])
    assert info.value.code == 2
    assert "not allowed with argument --annual" in capsys.readouterr().err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"idfkit-sim {idfkit.__version__}"


def test_ls_says_when_there_is_nothing_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "a.txt").write_text("a")
    (tmp_path / "empty").mkdir()
    assert main(["ls", "folder"]) == 0
    assert capsys.readouterr().out.split() == ["a.txt"]
    assert main(["ls", "empty"]) == 0
    assert main(["ls", "folder", "--pattern", "*.sql"]) == 0
    capsys.readouterr()
    assert main(["ls", "missing"]) == 2
    assert "no such folder: missing" in capsys.readouterr().err
    assert main(["ls", "folder/a.txt"]) == 2
    assert "folder/a.txt is a file" in capsys.readouterr().err


def test_ls_and_exit_codes_on_s3(
    moto_server: LocalS3Server, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bucket = unique_bucket()
    fs = moto_server.filesystem(bucket)
    fs.write_text("runs/r1/x.txt", "x")
    endpoint = ["--endpoint-url", moto_server.endpoint_url]
    assert main(["ls", f"s3://{bucket}/runs", *endpoint]) == 0
    assert capsys.readouterr().out.split() == ["r1"]
    assert main(["ls", f"s3://{bucket}", *endpoint]) == 0
    capsys.readouterr()
    assert main(["ls", f"s3://{bucket}/nothing-here", *endpoint]) == 2
    assert f"no such folder: s3://{bucket}/nothing-here" in capsys.readouterr().err
    assert main(["ls", f"s3://{bucket}/runs/r1/x.txt", *endpoint]) == 2
    assert "is a file" in capsys.readouterr().err

    # A missing bucket is storage trouble (3) for every command, named as typed.
    missing = f"s3://{unique_bucket()}/study"
    for argv in (
        ["ls", missing],
        ["collect", missing],
        ["worker", "--study", missing, "--index", "0"],
    ):
        assert main([*argv, *endpoint]) == 3, argv
        err = capsys.readouterr().err
        assert "does not exist" in err and "S3FileSystem(" not in err, err
    # A study that is not there, in a bucket that is: bad arguments (2), named as typed.
    assert main(["collect", f"s3://{bucket}/no-study", *endpoint]) == 2
    err = capsys.readouterr().err
    assert f"s3://{bucket}/no-study" in err and "S3FileSystem(" not in err, err
    assert main(["collect", str(tmp_path / "no-study")]) == 2
    assert "LocalFileSystem(" not in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
def test_ctrl_c_exits_130_quietly_and_leaves_no_temporary_folder(project: Path) -> None:
    tmp = project / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "idfkit.simulation", "run", "m.idf", "chicago.epw", "-o", "out/r"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not processes_mentioning(str(tmp), "energyplus"):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "EnergyPlus never started"
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.strip() == "idfkit-sim: interrupted"
    assert list(tmp.iterdir()) == []
    assert processes_mentioning(str(tmp), "energyplus") == []
    # The interrupted run reads as incomplete, never as a result.
    assert "publishing" in (project / "out" / "r" / MANIFEST_NAME).read_text()
