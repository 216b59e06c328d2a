"""Developer and CI sessions: CI runs exactly these (see .ci/run)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tarfile
import tomllib
from pathlib import Path

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.reuse_existing_virtualenvs = True
# CI has every Python the tests run on; a developer without one is told and the rest run.
nox.options.error_on_missing_interpreters = bool(os.environ.get("CI"))

PYTHON = "3.11"
#: The Pythons `nox -s tests` runs the suite on (each is `tests-3.X`; CI runs them all).
PYTHONS = ["3.11", "3.12", "3.13"]


def _pyenv_pythons() -> None:
    """Let pyenv's shims answer ``python3.12`` and ``python3.13`` too, when pyenv has them.

    A shim runs only the versions pyenv is told to use (``PYENV_VERSION`` or
    ``pyenv global``), so nox would find ``python3.13`` on PATH and fail to run
    it. The current version stays first: ``python3`` keeps its meaning.
    """
    if shutil.which("pyenv") is None:
        return
    try:
        # Under a shim, pyenv has set PYENV_VERSION to the one version it ran: extend it.
        current = (
            os.environ.get("PYENV_VERSION")
            or subprocess.run(
                ["pyenv", "version-name"], capture_output=True, text=True, check=True
            ).stdout
        )
        ask = ["pyenv", "versions", "--bare"]
        installed = subprocess.run(ask, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return
    chosen = current.strip().split(":")
    for minor in PYTHONS:
        found = [v for v in installed.split() if re.fullmatch(re.escape(minor) + r"\.\d+", v)]
        if found:
            chosen.append(max(found, key=lambda v: int(v.rsplit(".", 1)[1])))
    os.environ["PYENV_VERSION"] = ":".join(dict.fromkeys(v for v in chosen if v))


_pyenv_pythons()


def _servers(session: nox.Session) -> None:
    """What the tests start besides Python: s3rver and Azurite (npm), and a one-node Slurm.

    npm and Slurm's Debian packages are installed when missing and this runs
    as root on a Debian machine (as CI does); elsewhere the Slurm test says
    why it cannot start, and skips, or fails when ``CI`` is set.
    """
    packages = {"npm": "npm", "slurmctld": "slurm-wlm", "slurmd": "slurm-wlm", "munged": "munge"}
    missing = sorted({deb for cmd, deb in packages.items() if shutil.which(cmd) is None})
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        session.run("apt-get", "update", "-qq", external=True)
        session.run(
            "apt-get",
            "install",
            "-y",
            "-qq",
            *missing,
            external=True,
            env={"DEBIAN_FRONTEND": "noninteractive"},
        )
    for folder in ("tests/s3rver", "tests/azurite"):
        session.run("npm", "ci", "--prefix", folder, "--no-audit", "--no-fund", external=True)


def _test_requirements() -> list[str]:
    """The runtime and test requirements of pyproject.toml, idfkit's own extras spelled out."""
    project = tomllib.loads(Path("pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras: dict[str, list[str]] = project["optional-dependencies"]

    def spelled(requirements: list[str]) -> list[str]:
        out: list[str] = []
        for requirement in requirements:
            own = re.fullmatch(r"idfkit\[(.+)\]", requirement)
            if own is None:
                out.append(requirement)
            else:
                for extra in own.group(1).split(","):
                    out += spelled(extras[extra.strip()])
        return out

    return [*project["dependencies"], *spelled(extras["test"])]


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """The test suite, with real EnergyPlus, loopback storage servers and a one-node Slurm."""
    session.install("-e", ".[test]")
    _servers(session)
    session.run("pytest", *(session.posargs or ["-q"]))


#: What `tests_fast` leaves out: the markers conftest.py gives by the fixtures a test uses.
SLOW_MARKERS = "not energyplus and not server and not slurm and not slow"


@nox.session(python=PYTHON)
def tests_fast(session: nox.Session) -> None:
    """The tests that need neither EnergyPlus nor a server nor long: under a minute.

    ``ENERGYPLUS_DIR`` names an empty folder, so a test that runs the engine
    without asking for the ``energyplus`` fixture (and so without its marker)
    fails here instead of slowing this session down.
    """
    session.install("-e", ".[test]")
    no_engine = Path(session.create_tmp()) / "no-energyplus"
    no_engine.mkdir(exist_ok=True)
    session.env["ENERGYPLUS_DIR"] = str(no_engine)
    session.run("pytest", "-q", "-p", "no:cacheprovider", "-m", SLOW_MARKERS, *session.posargs)


#: The released idfkit the part must drop into, and where its own tests of the part are listed
#: as left out (one per line: a test file or a test id, then `#` and why).
IDFKIT_RELEASE = "1.1.1"
TRANSPLANT_EXCLUSIONS = Path("tests/transplant/idfkit_exclusions.txt")
TICKING = "tests/simulation/test_async.py::test_event_loop_keeps_ticking_during_a_run"
NOTEBOOK_TEST = "tests/docs/test_docs.py::test_the_notebook_shows_rounded_numbers_and_no_port"


def _exclusions() -> tuple[list[str], list[str]]:
    """The test files and the single tests of idfkit's suite that the transplant leaves out."""
    files: list[str] = []
    tests: list[str] = []
    for line in TRANSPLANT_EXCLUSIONS.read_text(encoding="utf-8").splitlines():
        entry = line.partition("#")[0].strip()
        if entry:
            (tests if "::" in entry else files).append(entry)
    return files, tests


@nox.session(python=PYTHON)
def transplant(session: nox.Session) -> None:
    """The part dropped into a released idfkit, tested there with this project's tests and idfkit's.

    A fresh venv gets ``idfkit[all]`` (the release above) and the engine from the
    registry, this project's runtime and test dependencies, then
    ``src/idfkit/simulation/`` replaces the installed ``idfkit/simulation/``:
    the rest of idfkit (its model layer, migration, weather, ...) stays
    idfkit's. Then, with that package:

    * this project's tests, except those marked ``standalone_model``: they test
      this project's own model layer (documents, schema lookup, writers, the
      import layering of the standalone package) or what only it answers
      (``import idfkit`` loads nothing of the part, which idfkit's own package
      does through its migration module), not the part;
    * idfkit's own tests of the simulation part (``test_simulation_*.py`` and
      ``test_expand.py`` from its source distribution), except those listed in
      ``tests/transplant/idfkit_exclusions.txt``, each with its reason, in five
      sections: tests that import or patch idfkit's private internals
      (``_build_command``, ``runner.subprocess``, ``_import_tqdm``, ...), which
      the part does not have; tests that swap boto3 for a MagicMock and assert
      idfkit's client calls; tests that need the ExampleFiles the engine wheel
      leaves out; tests of behaviour this project documents differently
      (stricter); and idfkit behaviour not yet matched, the open work.

    ``-- -k expr`` (posargs) narrows both runs.
    """
    session.install(
        f"idfkit[all]=={IDFKIT_RELEASE}",
        *_test_requirements(),
        "pytest-asyncio>=0.23",  # idfkit's own tests use it
        "pytest-xdist>=3.5",
    )
    _servers(session)
    where = session.run(
        "python",
        "-c",
        "import importlib.util as u; print(u.find_spec('idfkit').submodule_search_locations[0])",
        silent=True,
    )
    installed = Path(str(where).strip().splitlines()[-1]) / "simulation"
    shutil.rmtree(installed)
    shutil.copytree(
        "src/idfkit/simulation", installed, ignore=shutil.ignore_patterns("__pycache__")
    )
    # The part brings no console script into an installed idfkit: `python -m idfkit.simulation`
    # is its command line there, given the name the docs' job scripts call.
    launcher = Path(session.bin) / "idfkit-sim"
    launcher.write_text(f'#!/bin/sh\nexec "{session.bin}/python" -m idfkit.simulation "$@"\n')
    launcher.chmod(0o755)
    session.run(
        "python",
        "-c",
        "import idfkit, idfkit.simulation as s; "
        f"assert idfkit.__version__ == {IDFKIT_RELEASE!r}, idfkit.__version__; "
        "assert hasattr(s, 'AsyncS3FileSystem'), s.__file__",
    )
    workers = ["-n", "2"]
    session.run(
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:asyncio",  # installed for idfkit's tests; this project's need none of it
        *workers,
        "-m",
        "not standalone_model",
        "--ignore=tests/model/test_model.py",  # wholly the model layer's: they import its own names
        "--ignore=tests/model/test_document.py",
        "--deselect",
        TICKING,
        "tests",
        *session.posargs,
    )
    # Counts event-loop ticks while EnergyPlus runs: alone, as the tests session runs it.
    session.run("pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", TICKING)
    scratch = Path(session.create_tmp()) / "idfkit-sdist"
    shutil.rmtree(scratch, ignore_errors=True)
    session.run(
        "python",
        "-m",
        "pip",
        "download",
        "--quiet",
        "--no-binary",
        ":all:",
        "--no-deps",
        f"idfkit=={IDFKIT_RELEASE}",
        "-d",
        str(scratch),
    )
    with tarfile.open(next(scratch.glob("idfkit-*.tar.gz"))) as archive:
        archive.extractall(scratch, filter="data")
    source = scratch / f"idfkit-{IDFKIT_RELEASE}"
    left_out_files, left_out_tests = _exclusions()
    chosen = sorted(
        str(p.relative_to(source))
        for pattern in ("tests/test_simulation_*.py", "tests/test_expand.py")
        for p in source.glob(pattern)
        if str(p.relative_to(source)) not in left_out_files
    )
    deselect = [arg for test in left_out_tests for arg in ("--deselect", test)]
    with session.chdir(source):
        session.run(
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            *workers,
            *chosen,
            *deselect,
            *session.posargs,
        )


@nox.session(python=PYTHON)
def lint(session: nox.Session) -> None:
    session.install("ruff>=0.6")
    session.run("ruff", "check", "src", "tests", "benchmarks", "noxfile.py")
    session.run("ruff", "format", "--check", "src", "tests", "benchmarks", "noxfile.py")


@nox.session(python=PYTHON)
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src/, with the test extra: the public contract suite imports pytest."""
    session.install("-e", ".[test]", "mypy>=1.10", "boto3-stubs[s3]", "pandas-stubs")
    session.run("mypy")


@nox.session(python=PYTHON)
def docs(session: nox.Session) -> None:
    """Build the docs strictly; the example notebook is executed into its page."""
    session.install(
        "-e",
        ".[test]",
        "mkdocs-material>=9.5",
        "mkdocstrings[python]>=0.25",
        "mkdocs-jupyter>=0.25",
        "ipykernel>=6",
        "ipywidgets>=8",
    )
    session.env["NO_MKDOCS_2_WARNING"] = "1"
    session.run("mkdocs", "build", "--strict", "--site-dir", "site")
    # The notebook's shown output (needs the Jupyter kernel installed here; skipped in `tests`).
    session.run("pytest", "-q", "-p", "no:cacheprovider", f"{NOTEBOOK_TEST}")


@nox.session(python=PYTHON)
def benchmarks(session: nox.Session) -> None:
    """Speed and memory figures, printed as tables (not pass/fail tests)."""
    session.install("-e", ".[test]")
    scripts = ["overhead.py", "storage.py", "batch.py", "readers.py", "model.py", "cache_async.py"]
    for script in [*scripts, "collect.py", "timeseries.py"]:
        session.run("python", f"benchmarks/{script}", *session.posargs)
