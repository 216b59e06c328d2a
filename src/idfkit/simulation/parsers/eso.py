"""The EnergyPlus standard output (`.eso`) and meter output (`.mtr`) files.

Both share one format: a data dictionary (report id, key, name, units,
frequency), then data lines, each either a time stamp (ids 1 to 6) or a value
for a report id. The dictionary is read at once; the data when first asked for
(or at once with `eager=True`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idfkit.simulation.parsers._series import plot_series, series_frame
from idfkit.simulation.parsers.sql import DEFAULT_YEAR

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["ESOColumn", "ESOEnvironment", "ESOResult", "ESOVariable"]

# Which time-stamp record dates a variable of each frequency.
_STAMP_OF = {"timestep": 2, "hourly": 2, "each call": 2, "detailed": 2, "daily": 3}
_STAMP_OF |= {"monthly": 4, "runperiod": 5, "environment": 5, "annual": 6}
_END_OF_DICTIONARY = b"End of Data Dictionary"
_END_OF_DATA = b"End of Data"


@dataclass(frozen=True)
class ESOVariable:
    """One dictionary entry; a meter has an empty `key_value`."""

    report_id: int
    variable_name: str
    key_value: str
    units: str
    frequency: str
    num_values: int
    """Values per data line: 1, or 1 plus minimum and maximum with their times."""


@dataclass(frozen=True)
class ESOEnvironment:
    """One simulated environment (design day or run period), numbered from 0."""

    index: int
    title: str
    latitude: float
    longitude: float
    time_zone: float
    elevation: float


@dataclass(frozen=True)
class ESOColumn:
    """One variable's values over one environment.

    Timestep and hourly values are dated at the interval's end; daily,
    monthly and annual values at the start of their day, month or year.
    """

    variable: ESOVariable
    environment_index: int
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.values)

    def to_dataframe(self) -> pd.DataFrame:
        """A DataFrame with one column named after the variable, indexed by `timestamp`."""
        return series_frame(self.variable.variable_name, self.timestamps, self.values)

    def plot(
        self, ax: Any = None, *, backend: Any = None, title: str | None = None, **kwargs: Any
    ) -> Any:
        """Draw the column and return the figure (see `TimeSeriesResult.plot`).

        Args:
            ax: A matplotlib Axes to draw on, with matplotlib.
            backend: A `PlotBackend`; by default `get_default_backend()`.
            title: The plot title; by default `"<key>: <variable>"`.
            **kwargs: Passed to matplotlib's `Axes.plot`.
        """
        v = self.variable
        name = v.key_value or v.variable_name
        default_title = f"{v.key_value}: {v.variable_name}" if v.key_value else v.variable_name
        return plot_series(
            self.timestamps,
            self.values,
            label=name,
            ylabel=f"{v.variable_name} ({v.units})" if v.units else v.variable_name,
            title=title or default_title,
            backend=backend,
            ax=ax,
            **kwargs,
        )


class ESOResult:
    """An `.eso` or `.mtr` file: its dictionary, environments and columns.

    Args:
        data: The file's bytes.
        eager: Read the data lines now rather than on first use.
    """

    __slots__ = ("_columns", "_data", "_environments", "_lock", "program_version", "variables")

    def __init__(self, data: bytes, *, eager: bool = False) -> None:
        self._data = data
        self._lock = threading.Lock()
        self._columns: tuple[ESOColumn, ...] | None = None
        self._environments: tuple[ESOEnvironment, ...] = ()
        lines = iter(data.splitlines())
        self.program_version = next(lines, b"").decode("utf-8", "replace").strip()
        self.variables: tuple[ESOVariable, ...] = tuple(_dictionary(lines))
        if eager:
            self._read()

    @classmethod
    def from_bytes(cls, data: bytes, *, eager: bool = False) -> ESOResult:
        """Read a file's bytes.

        Args:
            data: The file's bytes.
            eager: Read the data lines now rather than on first use.
        """
        return cls(data, eager=eager)

    @classmethod
    def from_string(cls, text: str, *, eager: bool = False) -> ESOResult:
        """Read a file's text.

        Args:
            text: The file's text.
            eager: Read the data lines now rather than on first use.
        """
        return cls(text.encode("utf-8"), eager=eager)

    @classmethod
    def from_file(cls, path: str | Path, *, eager: bool = False) -> ESOResult:
        """Read a local `.eso` or `.mtr` file.

        Args:
            path: The file.
            eager: Read the data lines now rather than on first use.
        """
        return cls(Path(path).read_bytes(), eager=eager)

    @property
    def environments(self) -> tuple[ESOEnvironment, ...]:
        self._read()
        return self._environments

    @property
    def columns(self) -> tuple[ESOColumn, ...]:
        """One column per variable and environment, environment by environment."""
        return self._read()

    def get_variable(
        self, variable_name: str, key_value: str | None = None, frequency: str | None = None
    ) -> ESOVariable | None:
        """The first dictionary entry that matches (case-insensitive), or None.

        Args:
            variable_name: The output variable or meter name.
            key_value: The key (a zone, a surface...); None or `"*"` takes any key.
            frequency: `"Hourly"`, `"Daily"`, ...; None takes any.
        """
        return next(self._matching(variable_name, key_value, frequency), None)

    def get_column(
        self,
        variable_name: str,
        key_value: str | None = None,
        frequency: str | None = None,
        environment_index: int | None = None,
    ) -> ESOColumn | None:
        """The matching column of one environment (by default the last one), or None.

        Args:
            variable_name: The output variable or meter name.
            key_value: The key (a zone, a surface...); None or `"*"` takes any key.
            frequency: `"Hourly"`, `"Daily"`, ...; None takes any.
            environment_index: The environment's position in `environments`;
                None takes the last one that reports the variable.
        """
        wanted = {v.report_id for v in self._matching(variable_name, key_value, frequency)}
        found = [c for c in self.columns if c.variable.report_id in wanted]
        if environment_index is None:
            last = max((c.environment_index for c in found), default=None)
            found = [c for c in found if c.environment_index == last]
        else:
            found = [c for c in found if c.environment_index == environment_index]
        order = [v.report_id for v in self.variables]
        found.sort(key=lambda c: order.index(c.variable.report_id))
        return found[0] if found else None

    def to_dataframe(
        self,
        variable_name: str,
        key_value: str | None = None,
        frequency: str | None = None,
        environment_index: int | None = None,
    ) -> pd.DataFrame:
        """`get_column(...)` as a one-column DataFrame (needs pandas).

        Args:
            variable_name: As for `get_column`.
            key_value: As for `get_column`.
            frequency: As for `get_column`.
            environment_index: As for `get_column`.

        Raises:
            UnknownVariableError: (a `KeyError`) no such column.
        """
        column = self.get_column(variable_name, key_value, frequency, environment_index)
        if column is None:
            from idfkit.simulation.exceptions import UnknownVariableError

            raise UnknownVariableError(
                f"Variable not found: {variable_name!r} (key={key_value or '*'!r})"
            )
        return column.to_dataframe()

    def _matching(
        self, variable_name: str, key_value: str | None, frequency: str | None
    ) -> Iterator[ESOVariable]:
        name = variable_name.lower()
        for v in self.variables:
            if v.variable_name.lower() != name:
                continue
            if key_value not in (None, "*") and v.key_value.lower() != key_value.lower():
                continue
            if frequency is not None and v.frequency.lower() != frequency.lower():
                continue
            yield v

    def _read(self) -> tuple[ESOColumn, ...]:
        with self._lock:
            if self._columns is None:
                self._environments, self._columns = _data(self._data, self.variables)
            return self._columns

    def __repr__(self) -> str:
        return f"<ESOResult {len(self.variables)} variables>"


def _dictionary(lines: Iterator[bytes]) -> Iterator[ESOVariable]:
    """Dictionary entries up to `End of Data Dictionary` (the time-stamp records skipped)."""
    for raw in lines:
        if raw.startswith(_END_OF_DICTIONARY):
            return
        line = raw.decode("utf-8", "replace")
        report_id, count, rest = line.split(",", 2)
        if int(report_id) <= 6:
            continue
        described, _, after = rest.partition("!")
        frequency = after.split("[", 1)[0].strip()
        frequency = "Timestep" if frequency.lower() == "timestep" else frequency
        described, _, units = described.rpartition("[")
        key, sep, name = described.partition(",")
        if not sep:
            key, name = "", key
        yield ESOVariable(
            int(report_id), name.strip(), key.strip(), units.strip(" ]"), frequency, int(count)
        )


def _data(
    data: bytes, variables: tuple[ESOVariable, ...]
) -> tuple[tuple[ESOEnvironment, ...], tuple[ESOColumn, ...]]:
    """Read every data line once: environments, and per (environment, id) stamps and values."""
    stamp_kind = {v.report_id: _STAMP_OF.get(v.frequency.lower(), 2) for v in variables}
    by_id = {v.report_id: v for v in variables}
    environments: list[ESOEnvironment] = []
    series: list[dict[int, tuple[list[datetime], list[float]]]] = []
    stamps: dict[int, datetime] = {}
    start = data.find(_END_OF_DICTIONARY)
    body = data[data.index(b"\n", start) + 1 :] if start >= 0 else b""
    current: dict[int, tuple[list[datetime], list[float]]] = {}
    for raw in body.splitlines():
        head, _, rest = raw.partition(b",")
        if not rest:
            if raw.startswith(_END_OF_DATA):
                break
            continue
        report_id = int(head)
        if report_id > 6:
            pair = current.get(report_id)
            if pair is None:
                pair = current[report_id] = ([], [])
            pair[0].append(stamps[stamp_kind.get(report_id, 2)])
            pair[1].append(float(rest.split(b",", 1)[0]))
        elif report_id == 1:
            title, lat, lon, tz, elev = rest.decode("utf-8", "replace").rsplit(",", 4)
            environments.append(
                ESOEnvironment(
                    len(environments), title.strip(), float(lat), float(lon), float(tz), float(elev)
                )
            )
            current = {}
            series.append(current)
            stamps = {}
        else:
            stamps[report_id] = _stamp(report_id, rest.split(b","), stamps)
    columns = tuple(
        ESOColumn(by_id[rid], env, tuple(ts), tuple(vals))
        for env, found in enumerate(series)
        for rid, (ts, vals) in found.items()
        if rid in by_id
    )
    return tuple(environments), columns


def _stamp(kind: int, fields: list[bytes], stamps: dict[int, datetime]) -> datetime:
    if kind == 2:  # day of simulation, month, day, dst, hour, start minute, end minute, day type
        month, day, hour, end = int(fields[1]), int(fields[2]), int(fields[4]), float(fields[6])
        return datetime(DEFAULT_YEAR, month, day) + timedelta(hours=hour - 1, minutes=end)
    if kind == 3:  # cumulative day, month, day, dst, day type
        return datetime(DEFAULT_YEAR, int(fields[1]), int(fields[2]))
    if kind == 4:  # cumulative days, month
        return datetime(DEFAULT_YEAR, int(fields[1]), 1)
    if kind == 6:  # calendar year
        return datetime(int(fields[0]), 1, 1)
    # run period: dated at the environment's first time stamp
    return min(stamps.values(), default=datetime(DEFAULT_YEAR, 1, 1))
