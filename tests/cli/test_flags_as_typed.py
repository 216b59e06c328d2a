"""``idfkit-sim`` in the user's words (issue 19): flags as typed, locations as typed, exit codes.

Every test runs the command as a user does: a new process, in a new folder.
"""

from __future__ import annotations

import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import idfkit
from idfkit.simulation._arguments import wrong_argument
from idfkit.simulation.batch import SimulationJob
from idfkit.simulation.fs.local import LocalFileSystem
from idfkit.simulation.fs.s3 import S3FileSystem
from idfkit.simulation.options import RunOptions
from idfkit.simulation.study import write_study

SRC = Path(idfkit.__file__).resolve().parents[1]
DATA = Path(__file__).parents[1] / "data"
THICKNESS = "Material:Wall Insulation:thickness"


def idfkit_sim(
    folder: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``idfkit-sim ARGS`` run in ``folder``, as a new process."""
    return subprocess.run(
        [sys.executable, "-m", "idfkit.simulation", *args],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(SRC), **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture
def folder(tmp_path: Path, box_model: Path, weather: Path) -> Path:
    """A new folder holding a model (m.idf) and a weather file (chicago.epw)."""
    shutil.copy(box_model, tmp_path / "m.idf")
    shutil.copy(weather, tmp_path / "chicago.epw")
    return tmp_path


def test_messages_name_the_flags(folder: Path) -> None:
    create = ["study", "create", "study1", "m.idf", "chicago.epw"]
    assert idfkit_sim(folder, *create, "--param", f"{THICKNESS}=0.05,0.1").returncode == 0
    again = idfkit_sim(folder, *create, "--param", f"{THICKNESS}=0.05")
    assert again.returncode == 2
    assert again.stderr == (
        "idfkit-sim study create: a study already exists at study1; "
        "pass --overwrite to replace it\n"
    )
    not_a_field = idfkit_sim(folder, *create, "--overwrite", "--param", "insulation=0.1")
    assert not_a_field.returncode == 2
    assert not_a_field.stderr == (
        "idfkit-sim study create: parameter 'insulation' does not name a field as "
        "ObjectType:Name:field of this model; or give --edit MODULE:FUNCTION "
        "(a function that edits the model) to set it yourself\n"
    )
    (folder / "out").mkdir()
    shutil.copy(folder / "m.idf", folder / "out" / "model.idf")  # the name of a run's copy
    foreign = idfkit_sim(folder, "run", "m.idf", "chicago.epw", "-o", "out", "--design-day")
    assert foreign.returncode == 2, foreign.stderr
    assert foreign.stderr.endswith("is left alone; choose another --output\n"), foreign.stderr
    timeout = idfkit_sim(folder, "run", "m.idf", "chicago.epw", "-o", "r", "--timeout", "-5")
    assert (timeout.returncode, timeout.stderr) == (
        2,
        "idfkit-sim run: --timeout must be a positive, finite number of seconds, not -5.0\n",
    )
    prefix = idfkit_sim(folder, "run", "m.idf", "chicago.epw", "-o", "r", "--output-prefix", "a/b")
    assert (prefix.returncode, prefix.stderr) == (
        2,
        "idfkit-sim run: --output-prefix 'a/b' must be a plain file-name prefix\n",
    )
    index = folder / "study1" / "idfkit-study.json"
    index.write_text(index.read_text().replace('"schema_version": 2', '"schema_version": 1'))
    old = idfkit_sim(folder, "collect", "study1")
    assert (old.returncode, old.stderr) == (
        2,
        "idfkit-sim collect: the study index of study1 has schema_version 1, and this idfkit "
        "reads version 2; write the study again with the idfkit that will run it "
        "(idfkit-sim study create ... --overwrite)\n",
    )
    for result in (again, not_a_field, foreign, timeout, prefix, old):
        assert "=True" not in result.stderr and "edit=" not in result.stderr
        assert "output_dir" not in result.stderr and "write_study" not in result.stderr
        assert ": timeout" not in result.stderr and "output_prefix" not in result.stderr


def test_the_python_api_names_its_keywords(box_model: Path, weather: Path) -> None:
    from idfkit.simulation.exceptions import StudyError
    from idfkit.simulation.fs.memory import MemoryFileSystem
    from idfkit.simulation.study import grid_jobs

    fs = MemoryFileSystem()
    jobs = grid_jobs(box_model, weather, {THICKNESS: [0.05]})
    write_study(jobs, fs)
    with pytest.raises(StudyError, match=r"pass overwrite=True to replace it$") as caught:
        write_study(jobs, fs)
    # What the command line reads travels with the error across processes (Dask, pools).
    again = pickle.loads(pickle.dumps(caught.value))
    assert str(again) == str(caught.value)
    assert wrong_argument(again) == wrong_argument(caught.value) is not None
    with pytest.raises(StudyError, match=r"or pass edit= \(a function"):
        grid_jobs(box_model, weather, {"insulation": [0.1]})
    with pytest.raises(ValueError, match=r"^timeout must be a positive, finite number"):
        RunOptions(timeout=-5)
    with pytest.raises(ValueError, match=r"^endpoint_url '127.0.0.1:5077' has no scheme; pass"):
        S3FileSystem("bucket", endpoint_url="127.0.0.1:5077")


def test_locations_read_as_typed(folder: Path) -> None:
    create = ["study", "create", "study1", "m.idf", "chicago.epw", "--param", f"{THICKNESS}=0.1"]
    assert idfkit_sim(folder, *create).returncode == 0
    worker = idfkit_sim(folder, "worker", "--study", "study1", "--index", "99")
    assert worker.returncode == 2
    assert worker.stderr == (
        "idfkit-sim worker: job index 99 is out of range: the study at study1 has 1 jobs (0 to 0)\n"
    )
    collect = idfkit_sim(folder, "collect", "nostudy")
    assert collect.returncode == 2
    assert collect.stderr == (
        "idfkit-sim collect: no study at nostudy (it holds no idfkit-study.json)\n"
    )
    assert str(folder) not in collect.stderr and "Errno" not in collect.stderr


def test_study_create_checks_values_against_the_schema(folder: Path) -> None:
    create = ["study", "create", "s", "m.idf", "chicago.epw", "--param"]
    negative = idfkit_sim(folder, *create, f"{THICKNESS}=-1,abc")
    assert negative.returncode == 2
    assert negative.stderr == (
        f"idfkit-sim study create: parameter '{THICKNESS}': -1 is out of range for "
        "Material thickness (must be > 0)\n"
    )
    text = idfkit_sim(folder, *create, f"{THICKNESS}=abc")
    assert text.returncode == 2
    assert "'abc' is not a number, as Material thickness needs" in text.stderr
    choice = idfkit_sim(folder, *create, "Material:Wall Insulation:roughness=Bumpy")
    assert choice.returncode == 2
    assert "'Bumpy' is not one of Material roughness's choices: MediumRough" in choice.stderr
    misspelt = idfkit_sim(folder, *create, "Material:Wall Insulation:thicknes=0.1")
    assert misspelt.returncode == 2
    # The closest names come from this project's model layer; idfkit's names the field only.
    assert re.search(
        r"parameter 'Material:Wall Insulation:thicknes': Invalid field 'thicknes' for object "
        r"type 'Material'(; did you mean 'thickness'\?)?[.;]? [Oo]r give --edit MODULE:FUNCTION",
        misspelt.stderr,
    ), misspelt.stderr
    assert not (folder / "s").exists()  # nothing written for a refused study


def test_exit_codes_match_the_docs(folder: Path) -> None:
    create = ["study", "create", "s", "nomodel.idf", "chicago.epw", "--param", "x=1"]
    missing = idfkit_sim(folder, *create)
    assert (missing.returncode, missing.stderr) == (
        2,
        "idfkit-sim study create: model file not found: nomodel.idf\n",
    )
    create = ["study", "create", "s", "m.idf", "no.epw", "--param", f"{THICKNESS}=0.1"]
    no_weather = idfkit_sim(folder, *create)
    assert (no_weather.returncode, no_weather.stderr) == (
        2,
        "idfkit-sim study create: weather file not found: no.epw (neither a local file nor in s)\n",
    )
    onto_a_file = idfkit_sim(folder, "run", "m.idf", "chicago.epw", "-o", "m.idf")
    assert (onto_a_file.returncode, onto_a_file.stderr) == (
        2,
        "idfkit-sim run: --output m.idf is a file; name a folder for the run\n",
    )


def test_a_swapped_model_and_weather_are_named(folder: Path) -> None:
    swapped = idfkit_sim(folder, "run", "chicago.epw", "m.idf", "-o", "out/r")
    assert (swapped.returncode, swapped.stderr) == (
        2,
        "idfkit-sim run: 'chicago.epw' is a weather file (.epw), given as the model; "
        "the model comes first: MODEL WEATHER\n",
    )
    twice = idfkit_sim(folder, "run", "m.idf", "m.idf", "-o", "out/r")
    assert (twice.returncode, twice.stderr) == (
        2,
        "idfkit-sim run: 'm.idf' is a model (.idf), given as the weather file; "
        "the model comes first: MODEL WEATHER\n",
    )
    create = ["study", "create", "s", "chicago.epw", "m.idf", "--param", "x=1"]
    study = idfkit_sim(folder, *create)
    assert study.returncode == 2 and "given as the model" in study.stderr
    assert not (folder / "out").exists()


def test_an_endpoint_without_a_scheme_says_so(folder: Path) -> None:
    flag = idfkit_sim(folder, "ls", "s3://bucket/x", "--endpoint-url", "127.0.0.1:5077")
    assert (flag.returncode, flag.stderr) == (
        2,
        "idfkit-sim ls: --endpoint-url '127.0.0.1:5077' has no scheme; "
        "write it with its scheme: http://127.0.0.1:5077\n",
    )
    variable = idfkit_sim(folder, "ls", "s3://bucket/x", env={"AWS_ENDPOINT_URL": "localhost:9"})
    assert (variable.returncode, variable.stderr) == (
        2,
        "idfkit-sim ls: AWS_ENDPOINT_URL='localhost:9' has no scheme; "
        "set it to http://localhost:9 (or https://)\n",
    )


def test_collect_shows_the_cause_of_a_failure(folder: Path, weather: Path) -> None:
    shutil.copy(DATA / "rejected.idf", folder / "bad.idf")
    job = SimulationJob(folder / "bad.idf", weather, label="bad")
    write_study([job], LocalFileSystem(folder / "study"))
    assert idfkit_sim(folder, "worker", "--study", "study", "--index", "0").returncode == 1
    collect = idfkit_sim(folder, "collect", "study")
    assert collect.returncode == 1
    row = collect.stdout.splitlines()[2]
    assert 'Severe: BuildingSurface:Detailed="ONLY WALL", invalid Construction Name' in row
    assert "Fatal: 1, Severe" not in collect.stdout


def _on_a_terminal(folder: Path, *args: str) -> tuple[int, str, str]:
    """``idfkit-sim ARGS`` with standard error on a terminal: (exit code, stdout, the terminal)."""
    import fcntl  # POSIX only
    import struct
    import termios

    terminal, child_side = os.openpty()
    # A terminal of 24 lines of 80 columns (a new pseudo-terminal has none, and tqdm
    # draws nothing in zero columns).
    fcntl.ioctl(child_side, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "idfkit.simulation", *args],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        stdout=subprocess.PIPE,
        stderr=child_side,
    )
    os.close(child_side)
    shown = b""
    while True:
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(terminal)
    out, _ = proc.communicate(timeout=600)
    return proc.returncode, out.decode(), shown.decode(errors="replace")


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal needs POSIX")
def test_progress_goes_to_a_terminal_only(folder: Path) -> None:
    run = ["run", "m.idf", "chicago.epw"]
    code, out, terminal = _on_a_terminal(folder, *run, "-o", "out/r1")
    assert code == 0, terminal
    assert out.startswith("succeeded: out/r1") and "\r" not in out and "%" not in out
    assert "m.idf" in terminal and "%|" in terminal  # tqdm's bar, with the model's name
    code, out, terminal = _on_a_terminal(folder, *run, "-o", "out/r2", "--no-progress")
    assert code == 0 and terminal == "", terminal
    piped = idfkit_sim(folder, *run, "-o", "out/r3")
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout.startswith("succeeded: out/r3") and "\r" not in piped.stdout
    create = ["study", "create", "s", "m.idf", "chicago.epw"]
    assert idfkit_sim(folder, *create, "--param", f"{THICKNESS}=0.1,0.2").returncode == 0
    code, out, terminal = _on_a_terminal(folder, "worker", "--study", "s", "--index", "0")
    assert code == 0 and out.startswith("job 0 (job-00000): succeeded"), terminal
    assert "job 0" in terminal and "%|" in terminal
    piped = idfkit_sim(folder, "worker", "--study", "s", "--index", "1")
    assert piped.returncode == 0 and piped.stderr == ""
    assert piped.stdout == "job 1 (job-00001): succeeded\n"


@pytest.mark.usefixtures("energyplus")  # runs the engine it finds
def test_the_demo_prints_one_table_in_one_unit(tmp_path: Path) -> None:
    demo = idfkit_sim(tmp_path, "demo", "--variants", "2")
    assert demo.returncode == 0, demo.stderr
    # Standard error is not a terminal here: no bar anywhere, one line per run instead.
    assert "\r" not in demo.stdout and "%|" not in demo.stdout and "%|" not in demo.stderr
    assert "   insulation-2cm: succeeded\n" in demo.stdout
    lines = demo.stdout.splitlines()
    header = next(line for line in lines if line.startswith("variant"))
    assert header.split()[:3] == ["variant", "insulation_cm", "status"]
    rows = [line.split() for line in lines if line.startswith("insulation-")]
    assert [row[:3] for row in rows] == [
        ["insulation-2cm", "2", "succeeded"],
        ["insulation-4cm", "4", "succeeded"],
    ]
    assert (tmp_path / "idfkit-demo.png").stat().st_size > 10_000


#: What the installed ``idfkit-sim`` program runs (the console script's own lines).
CONSOLE_SCRIPT = "import sys; from _idfkit_sim import main; sys.exit(main())"
RUN = ("run", "m.idf", "chicago.epw", "-o", "out/r")


@pytest.mark.standalone_model  # the console script's module (_idfkit_sim) is this build's own
@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child needs POSIX")
@pytest.mark.parametrize("during", ["idfkit.exceptions", "idfkit.simulation.result"])
def test_ctrl_c_while_loading_exits_130_quietly(folder: Path, during: str) -> None:
    import signal

    # -X importtime reports each module as it finishes loading: the interrupt lands
    # while the package is still loading, at a known point (not after a guessed delay).
    proc = subprocess.Popen(
        [sys.executable, "-X", "importtime", "-c", CONSOLE_SCRIPT, *RUN],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if line.rpartition("|")[2].strip() == during:
            proc.send_signal(signal.SIGINT)
            break
    else:
        proc.kill()
        proc.communicate()
        pytest.fail(f"{during} was never imported")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    assert err.splitlines()[-1] == "idfkit-sim: interrupted"
    assert out == "" and not (folder / "out").exists()


def test_the_first_cause_of_a_failure_is_a_message_not_the_counts() -> None:
    from idfkit.simulation.parsers.err import first_cause

    summary = (
        "Fatal: 1, Severe: 2, Warnings: 0, Info: 0\n"
        "Simulation: terminated with fatal error(s)\n"
        "Fatal: Previous conditions cause termination.\n"
        "Severe: Invalid Header line in in.epw -- no commas\n"
        "Severe: a second one"
    )
    assert first_cause(summary) == "Severe: Invalid Header line in in.epw -- no commas"
    fatal_only = "\n".join(summary.splitlines()[:3])
    assert first_cause(fatal_only) == "Fatal: Previous conditions cause termination."
    assert first_cause(
        "Fatal: 0, Severe: 0, Warnings: 0, Info: 0\nEnergyPlus said:\nbus error"
    ) == ("bus error")
    assert first_cause("") == ""
    outcome_only = (
        "Fatal: 0, Severe: 0, Warnings: 0, Info: 0\nWarmup: converged\nEnergyPlus said:\nx"
    )
    assert first_cause(outcome_only) == "x"


def test_a_run_overtaken_by_another_writer_is_storage_trouble() -> None:
    from idfkit.simulation.cli import EXIT_TROUBLE, EXIT_USAGE, exit_code_for
    from idfkit.simulation.exceptions import ConcurrentRunError

    assert exit_code_for(ConcurrentRunError("run b took s3://bucket/out")) == EXIT_TROUBLE
    assert exit_code_for(FileExistsError("out/model.idf: no earlier run wrote it")) == EXIT_USAGE
