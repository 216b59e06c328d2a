"""Developer and CI sessions: CI runs exactly these (see .ci/run)."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests", "docs"]
nox.options.reuse_existing_virtualenvs = True
nox.options.error_on_missing_interpreters = True

PYTHON = "3.11"


def _npm_servers(session: nox.Session) -> None:
    """The storage servers the contract tests also run against: s3rver and Azurite."""
    for folder in ("tests/s3rver", "tests/azurite"):
        session.run("npm", "ci", "--prefix", folder, "--no-audit", "--no-fund", external=True)


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The test suite, with real EnergyPlus, loopback storage servers and a one-node Slurm."""
    session.install("-e", ".[test]")
    _npm_servers(session)
    session.run("pytest", *(session.posargs or ["-q"]))


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


@nox.session(python=PYTHON)
def benchmarks(session: nox.Session) -> None:
    """Speed and memory figures, printed as tables (not pass/fail tests)."""
    session.install("-e", ".[test]")
    scripts = ["overhead.py", "storage.py", "batch.py", "readers.py", "model.py", "cache_async.py"]
    for script in [*scripts, "collect.py"]:
        session.run("python", f"benchmarks/{script}", *session.posargs)
