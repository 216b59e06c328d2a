"""The lists of available outputs: `.rdd` (variables) and `.mdd` (meters).

EnergyPlus writes them in two styles (`Output:VariableDictionary, IDF` or
`regular`); both are read. Lines in neither style, and the column-header line
of the regular style (`Var Type (reported time step),Var Report Type,Variable
Name [Units]`), are skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "OutputMeter",
    "OutputVariable",
    "parse_mdd",
    "parse_mdd_file",
    "parse_rdd",
    "parse_rdd_file",
]

# IDF style: "Output:Variable,*,Site Outdoor Air Drybulb Temperature,hourly; !- Zone Average [C]"
_IDF_STYLE = re.compile(
    r"^Output:(?P<type>Variable|Meter|Meter:Cumulative),(?:(?P<key>[^,]*),)?"
    r"(?P<name>[^,;]+),(?P<freq>[^;]*);\s*!-.*?\[(?P<units>[^\]]*)\]\s*$"
)
# Regular style: "Zone,Average,Site Outdoor Air Drybulb Temperature [C]"; the
# negative lookahead leaves out the style's column-header line.
_REGULAR_STYLE = re.compile(
    r"^(?!Var Type\b)[^,!]+,(?P<kind>[^,]+),(?P<name>.+?)\s*\[(?P<units>[^\]]*)\]\s*$"
)
_DEFAULT_FREQUENCY = "hourly"


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
    """The variables listed in the text of an `.rdd` file."""
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
    return tuple(found.values())


def parse_mdd(text: str) -> tuple[OutputMeter, ...]:
    """The meters listed in the text of an `.mdd` file (each once, cumulative or not)."""
    found: dict[str, OutputMeter] = {}
    for line in text.splitlines():
        if (m := _IDF_STYLE.match(line.strip())) is not None and m["type"] != "Variable":
            item = OutputMeter(m["name"].strip(), m["freq"].strip(), m["units"])
        elif (m := _REGULAR_STYLE.match(line.strip())) is not None:
            item = OutputMeter(m["name"].strip(), _DEFAULT_FREQUENCY, m["units"])
        else:
            continue
        found.setdefault(item.name, item)
    return tuple(found.values())


def parse_rdd_file(path: str | Path) -> tuple[OutputVariable, ...]:
    """`parse_rdd` over a file."""
    return parse_rdd(Path(path).read_text(encoding="utf-8", errors="replace"))


def parse_mdd_file(path: str | Path) -> tuple[OutputMeter, ...]:
    """`parse_mdd` over a file."""
    return parse_mdd(Path(path).read_text(encoding="utf-8", errors="replace"))
