"""How EnergyPlus names its output files: one table, pure functions.

EnergyPlus names each output from the prefix (`-p`, default `eplus`) and the
suffix style (`-s`):

| kind | `L` (legacy) | `C` (capital, idfkit's default) | `D` (dash) |
| --- | --- | --- | --- |
| `sql` | `eplusout.sql` | `eplus.sql` | `eplus.sql` |
| `err` | `eplusout.err` | `eplus.err` | `eplus.err` |
| `eso`, `mtr`, `rdd`, `mdd`, `eio` | `eplusout.eso`, ... | `eplus.eso`, ... | `eplus.eso`, ... |
| `csv` (ReadVarsESO) | `eplusout.csv` | `eplus.csv` | `eplus.csv` |
| `meter_csv` | `eplusmtr.csv` | `eplusMeter.csv` | `eplus-meter.csv` |
| `table_csv` | `eplustbl.csv` | `eplusTable.csv` | `eplus-table.csv` |
| `table_htm` | `eplustbl.htm` | `eplusTable.htm` | `eplus-table.htm` |
| `sqlite_err` | `sqlite.err` | `eplusSqlite.err` | `eplus-sqlite.err` |

The runner uses `output_name` to find what it asked EnergyPlus for, and a
reader uses `detect_naming` on the names a folder holds, or on its
manifest's file list, to read folders written in any style. Legacy names
are found whether the reader is told the prefix `eplus` (EnergyPlus's `-p`)
or `eplusout` (what the plain names start with).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

__all__ = [
    "OutputKind",
    "OutputSuffix",
    "detect_naming",
    "detect_suffix",
    "output_name",
    "output_names",
]

OutputSuffix = Literal["C", "L", "D"]
OutputKind = Literal[
    "sql",
    "err",
    "eso",
    "mtr",
    "rdd",
    "mdd",
    "eio",
    "csv",
    "meter_csv",
    "table_csv",
    "table_htm",
    "sqlite_err",
]

_PLAIN = {
    "sql": ".sql",
    "err": ".err",
    "eso": ".eso",
    "mtr": ".mtr",
    "rdd": ".rdd",
    "mdd": ".mdd",
    "eio": ".eio",
    "csv": ".csv",
}
"""Kinds named prefix + the style's plain part + extension."""

_STYLED: dict[str, tuple[str, dict[str, str]]] = {
    "meter_csv": (".csv", {"L": "mtr", "C": "Meter", "D": "-meter"}),
    "table_csv": (".csv", {"L": "tbl", "C": "Table", "D": "-table"}),
    "table_htm": (".htm", {"L": "tbl", "C": "Table", "D": "-table"}),
    "sqlite_err": (".err", {"L": "sqlite", "C": "Sqlite", "D": "-sqlite"}),
}
"""Kinds with a qualifier of their own in each style."""

_LEGACY_PART = "out"
_PLAIN_PART = {"L": _LEGACY_PART, "C": "", "D": ""}
_SUFFIXES: tuple[OutputSuffix, ...] = get_args(OutputSuffix)
_KINDS: tuple[OutputKind, ...] = get_args(OutputKind)


def output_name(kind: OutputKind, prefix: str = "eplus", suffix: OutputSuffix = "C") -> str:
    """The file name EnergyPlus gives one output.

    Args:
        kind: Which output, e.g. `"sql"` or `"table_htm"`.
        prefix: The output prefix (EnergyPlus's `-p`).
        suffix: The suffix style (EnergyPlus's `-s`): `"L"`, `"C"` or `"D"`.

    Returns:
        The bare file name, such as `eplus.sql` or `eplusout.sql`.

    Raises:
        ValueError: An unknown kind or suffix style.
    """
    if suffix not in _SUFFIXES:
        raise ValueError(f"output_suffix must be one of {', '.join(_SUFFIXES)}, not {suffix!r}")
    if kind in _PLAIN:
        return f"{prefix}{_PLAIN_PART[suffix]}{_PLAIN[kind]}"
    if kind in _STYLED:
        extension, qualifiers = _STYLED[kind]
        if kind == "sqlite_err" and suffix == "L":
            return f"sqlite{extension}"  # EnergyPlus drops the prefix here
        return f"{prefix}{qualifiers[suffix]}{extension}"
    raise ValueError(f"unknown output kind {kind!r}; known: {', '.join(_KINDS)}")


def output_names(prefix: str = "eplus", suffix: OutputSuffix = "C") -> dict[OutputKind, str]:
    """Every kind's file name for one prefix and suffix style.

    Args:
        prefix: The output prefix (EnergyPlus's `-p`).
        suffix: The suffix style (EnergyPlus's `-s`): `"L"`, `"C"` or `"D"`.
    """
    return {kind: output_name(kind, prefix, suffix) for kind in _KINDS}


def detect_suffix(prefix: str, names: Iterable[str]) -> OutputSuffix | None:
    """The suffix style whose file names best match `names`.

    Args:
        prefix: The output prefix the files were written with.
        names: File names present in a run folder (or listed in its manifest).

    Returns:
        The style with the most matching names (`C` wins a tie, then `L`),
        or None when no name of any style is present.
    """
    found = detect_naming(prefix, names, allow_legacy_alias=False)
    return found[1] if found is not None else None


def detect_naming(
    prefix: str,
    names: Iterable[str],
    suffixes: Iterable[OutputSuffix] = _SUFFIXES,
    *,
    allow_legacy_alias: bool = True,
) -> tuple[str, OutputSuffix] | None:
    """The prefix and suffix style whose file names best match `names`.

    A prefix that ends in `out` (`eplusout`, as the legacy plain names
    start) is also tried as the legacy style of the prefix without it, so
    `detect_naming("eplusout", ["eplusout.sql", "eplustbl.htm"])` gives
    `("eplus", "L")`, whose table name is `eplustbl.htm`.

    Args:
        prefix: The output prefix the caller was told.
        names: File names present in a run folder (or listed in its manifest).
        suffixes: The styles to consider (e.g. only the one a manifest declares).
        allow_legacy_alias: Whether to try `prefix` minus `out` in the legacy style.

    Returns:
        `(prefix, suffix)` with the most matching names (ties go to the
        earlier of `C`, `L`, `D`, then the alias), or None when nothing matches.
    """
    allowed = [s for s in _SUFFIXES if s in set(suffixes)]
    candidates = [(prefix, suffix) for suffix in allowed]
    stem = prefix.removesuffix(_LEGACY_PART)
    if allow_legacy_alias and "L" in allowed and stem and stem != prefix:
        candidates.append((stem, "L"))
    present = set(names)
    best: tuple[str, OutputSuffix] | None = None
    best_score = 0
    for candidate in candidates:
        score = sum(name in present for name in output_names(*candidate).values())
        if score > best_score:
            best, best_score = candidate, score
    return best
