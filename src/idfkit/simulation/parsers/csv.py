"""EnergyPlus time-series CSV files (`eplusout.csv`, `eplus.csv`, `eplusmtr.csv`)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CSVColumn", "CSVResult"]

# "KEY:Variable Name [units](Frequency)"; meters have no key ("Electricity:Facility [J](Hourly)").
_HEADER = re.compile(r"^(?P<name>.*?)\s*\[(?P<units>[^\]]*)\]\s*(?:\((?P<freq>[^)]*)\))?\s*$")


@dataclass(frozen=True)
class CSVColumn:
    """One column: its header as written, and the header's parts.

    As idfkit does, the header is split at its first colon into `key_value` and
    `variable_name`; a meter's full name is `header_name` (`get_column` finds a
    meter by it). Empty cells (rows where the column is not reported) read as 0.0.
    """

    header: str
    variable_name: str
    key_value: str
    units: str
    values: tuple[float, ...]

    @property
    def header_name(self) -> str:
        """The header without units and frequency: `KEY:Variable` or a meter's name."""
        return f"{self.key_value}:{self.variable_name}" if self.key_value else self.variable_name


@dataclass(frozen=True)
class CSVResult:
    """The rows of a time-series CSV: the `Date/Time` strings and one column per output."""

    timestamps: tuple[str, ...]
    columns: tuple[CSVColumn, ...]

    @classmethod
    def from_file(cls, path: str | Path) -> CSVResult:
        """Read a CSV file written by EnergyPlus or ReadVarsESO.

        Args:
            path: The CSV file.
        """
        return cls.from_string(Path(path).read_text(encoding="utf-8", errors="replace"))

    @classmethod
    def from_string(cls, text: str) -> CSVResult:
        """Parse the text of a time-series CSV.

        A cell that is blank, missing (a short row) or not a number (`N/A`)
        reads as 0.0, as in idfkit.

        Args:
            text: The CSV text.
        """
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if not header:
            return cls((), ())
        rows = [row for row in reader if row]
        width = len(header) - 1
        cells: list[list[float]] = [[] for _ in range(width)]
        for row in rows:
            for i in range(width):
                cell = row[i + 1].strip() if i + 1 < len(row) else ""
                cells[i].append(_number(cell))
        columns = tuple(
            _column(title.strip(), tuple(values))
            for title, values in zip(header[1:], cells, strict=True)
        )
        return cls(tuple(row[0].strip() for row in rows), columns)

    def get_column(self, variable_name: str, key_value: str | None = None) -> CSVColumn | None:
        """The first column of that variable (and key), matched case-insensitively.

        A meter may be named in full (`"Electricity:Facility"`).

        Args:
            variable_name: The output variable or meter name.
            key_value: The key (a zone, a surface...); None takes any key.
        """
        name = variable_name.lower()
        key = key_value.lower() if key_value is not None else None
        for column in self.columns:
            if column.variable_name.lower() == name and key in (None, column.key_value.lower()):
                return column
            if key is None and column.header_name.lower() == name:
                return column
        return None


def _number(cell: str) -> float:
    """A cell's value; 0.0 when it is blank or not a number."""
    try:
        return float(cell) if cell else 0.0
    except ValueError:
        return 0.0


def _column(header: str, values: tuple[float, ...]) -> CSVColumn:
    match = _HEADER.match(header)
    name, units = (match["name"], match["units"]) if match else (header, "")
    key, sep, variable = name.partition(":")
    if not sep:
        key, variable = "", name
    return CSVColumn(header, variable.strip(), key.strip(), units.strip(), values)
