"""The lists of available outputs: `.rdd` (variables) and `.mdd` (meters).

EnergyPlus writes them in two styles (`Output:VariableDictionary, IDF` or
`regular`); both are read. Lines in neither style, and the column-header line
of the regular style (`Var Type (reported time step),Var Report Type,Variable
Name [Units]`), are skipped.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "DictionaryParseWarning",
    "OutputMeter",
    "OutputVariable",
    "parse_mdd",
    "parse_mdd_file",
    "parse_rdd",
    "parse_rdd_file",
]

# IDF style: "Output:Variable,*,Site Outdoor Air Drybulb Temperature,hourly; !- Zone Average [C]"
_IDF_STYLE = re.compile(
    r"^Output:(?P<type>Variable|Meter(?::Cumulative)?(?::MeterFileOnly)?),(?:(?P<key>[^,]*),)?"
    r"(?P<name>[^,;]+),(?P<freq>[^;]*);\s*!-.*?\[(?P<units>[^\]]*)\]\s*$"
)
# Regular style: "Zone,Average,Site Outdoor Air Drybulb Temperature [C]"; the
# negative lookahead leaves out the style's column-header line.
_REGULAR_STYLE = re.compile(
    r"^(?!Var Type\b)[^,!]+,(?P<kind>[^,]+),(?P<name>.+?)\s*\[(?P<units>[^\]]*)\]\s*$"
)
_DEFAULT_FREQUENCY = "hourly"


class DictionaryParseWarning(UserWarning):
    """An .rdd or .mdd text with lines in it but no entry this parser could read."""


def _warn_if_unread(text: str, found: int, kind: str) -> None:
    """Warn when a text with content lines gave no entry (a style this parser does not know)."""
    lines = [s for line in text.splitlines() if (s := line.strip()) and not s.startswith("!")]
    if lines and not found:
        warnings.warn(
            f"Parsed 0 entries from a non-empty {kind} file: none of its {len(lines)} "
            f"line(s) is in the IDF or the regular style (first: {lines[0][:80]!r})",
            DictionaryParseWarning,
            stacklevel=3,
        )


@dataclass(frozen=True)
class OutputVariable:
    """An output variable EnergyPlus can report for this model (`key` is `"*"`)."""

    key: str
    name: str
    frequency: str
    units: str


@dataclass(frozen=True)
class OutputMeter:
    """A meter EnergyPlus can report for this model."""

    name: str
    frequency: str
    units: str


def parse_rdd(text: str) -> tuple[OutputVariable, ...]:
    """The variables listed in the text of an `.rdd` file.

    Args:
        text: The file's text.
    """
    found: dict[str, OutputVariable] = {}
    for line in text.splitlines():
        if (m := _IDF_STYLE.match(line.strip())) is not None and m["type"] == "Variable":
            item = OutputVariable(
                (m["key"] or "*").strip(), m["name"].strip(), m["freq"].strip(), m["units"]
            )
        elif (m := _REGULAR_STYLE.match(line.strip())) is not None:
            item = OutputVariable("*", m["name"].strip(), _DEFAULT_FREQUENCY, m["units"])
        else:
            continue
        found.setdefault(item.name, item)
    _warn_if_unread(text, len(found), ".rdd")
    return tuple(found.values())


def parse_mdd(text: str) -> tuple[OutputMeter, ...]:
    """The meters listed in the text of an `.mdd` file (each once; cumulative forms left out).

    Args:
        text: The file's text.
    """
    found: dict[str, OutputMeter] = {}
    cumulative = 0
    for line in text.splitlines():
        if (m := _IDF_STYLE.match(line.strip())) is not None and m["type"] != "Variable":
            if "Cumulative" in m["type"]:
                cumulative += 1
                continue
            item = OutputMeter(m["name"].strip(), m["freq"].strip(), m["units"])
        elif (m := _REGULAR_STYLE.match(line.strip())) is not None:
            item = OutputMeter(m["name"].strip(), _DEFAULT_FREQUENCY, m["units"])
        else:
            continue
        found.setdefault(item.name, item)
    _warn_if_unread(text, len(found) + cumulative, ".mdd")
    return tuple(found.values())


def parse_rdd_file(path: str | Path) -> tuple[OutputVariable, ...]:
    """`parse_rdd` over a file.

    Args:
        path: The `.rdd` file.
    """
    return parse_rdd(Path(path).read_text(encoding="utf-8", errors="replace"))


def parse_mdd_file(path: str | Path) -> tuple[OutputMeter, ...]:
    """`parse_mdd` over a file.

    Args:
        path: The `.mdd` file.
    """
    return parse_mdd(Path(path).read_text(encoding="utf-8", errors="replace"))
