"""Queries over the EnergyPlus SQLite output (``eplusout.sql``)."""

from __future__ import annotations

import difflib
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idfkit.exceptions import UnknownVariableError

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EnvironmentInfo", "SQLResult", "TabularRow", "TimeSeriesResult", "VariableInfo"]

# EnvironmentPeriods.EnvironmentType: 1 design day, 2 design run period, 3 weather file run period
_RUN_PERIOD_TYPES = (3,)
_SIZING_TYPES = (1, 2)
_DEFAULT_YEAR = 2001  # design days carry no year; any non-leap year keeps dates valid


@dataclass(frozen=True)
class VariableInfo:
    name: str
    key_value: str
    frequency: str
    units: str
    is_meter: bool


@dataclass(frozen=True)
class EnvironmentInfo:
    index: int
    name: str
    type: int

    @property
    def is_sizing(self) -> bool:
        return self.type in _SIZING_TYPES


@dataclass(frozen=True)
class TabularRow:
    report_name: str
    report_for: str
    table_name: str
    row_name: str
    column_name: str
    units: str
    value: str

    @property
    def number(self) -> float | None:
        """The value as a float, or None when the cell is not numeric."""
        try:
            return float(self.value)
        except ValueError:
            return None


@dataclass(frozen=True)
class TimeSeriesResult:
    """One output variable for one key: timestamps (interval ends) and values."""

    variable_name: str
    key_value: str
    units: str
    frequency: str
    timestamps: tuple[datetime, ...]
    values: tuple[float, ...]

    def __len__(self) -> int:
        return len(self.values)

    def to_dataframe(self) -> pd.DataFrame:
        """A one-column DataFrame indexed by timestamp (needs pandas)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError('to_dataframe() needs pandas: pip install "idfkit[pandas]"') from exc
        column = f"{self.key_value}:{self.variable_name} [{self.units}]"
        index = pd.DatetimeIndex(self.timestamps, name="timestamp")
        return pd.DataFrame({column: self.values}, index=index)

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the series with matplotlib and return the Axes (needs matplotlib)."""
        try:
            import matplotlib.pyplot as plt
        except ImportError as exc:
            raise ImportError('plot() needs matplotlib: pip install "idfkit[plot]"') from exc
        if ax is None:
            _, ax = plt.subplots(figsize=(10, 4))
        ax.plot(self.timestamps, self.values, label=kwargs.pop("label", self.key_value), **kwargs)
        ax.set_ylabel(f"{self.variable_name} [{self.units}]")
        ax.set_title(f"{self.key_value} ({self.frequency})")
        return ax


class SQLResult:
    """Read-only access to one EnergyPlus SQLite file.

    The connection opens on first use and may be shared between threads.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError(f"SQLite output not found: {self.path}")
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return self._conn

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only SQL statement and return all rows."""
        with self._lock:
            return self._connection().execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SQLResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLResult({str(self.path)!r})"

    # -- catalogue -------------------------------------------------------
    def list_variables(self) -> list[VariableInfo]:
        rows = self.query(
            "SELECT Name, KeyValue, ReportingFrequency, Units, IsMeter "
            "FROM ReportDataDictionary ORDER BY Name, KeyValue"
        )
        return [VariableInfo(n, k or "", f or "", u or "", bool(m)) for n, k, f, u, m in rows]

    def list_environments(self) -> list[EnvironmentInfo]:
        rows = self.query(
            "SELECT EnvironmentPeriodIndex, EnvironmentName, EnvironmentType "
            "FROM EnvironmentPeriods ORDER BY EnvironmentPeriodIndex"
        )
        return [EnvironmentInfo(i, n, t) for i, n, t in rows]

    # -- time series -----------------------------------------------------
    def get_timeseries(
        self,
        variable_name: str,
        key_value: str | None = None,
        *,
        frequency: str | None = None,
        environment: str | None = None,
    ) -> TimeSeriesResult:
        """One variable's values, warm-up days excluded.

        ``key_value`` may be omitted when the variable has a single key.
        ``environment`` is an environment name, ``"annual"`` (weather-file run
        periods) or ``"sizing"`` (design days); by default the run periods
        when there are any, otherwise every environment.
        """
        entry = self._dictionary_entry(variable_name, key_value, frequency)
        index, name, key, freq, units = entry
        env_ids = self._environment_ids(environment)
        marks = ",".join("?" * len(env_ids))
        rows = self.query(
            "SELECT t.Year, t.Month, t.Day, t.Hour, t.Minute, rd.Value "
            "FROM ReportData rd JOIN Time t ON rd.TimeIndex = t.TimeIndex "
            "WHERE rd.ReportDataDictionaryIndex = ? "
            "AND (t.WarmupFlag IS NULL OR t.WarmupFlag = 0) "
            f"AND t.EnvironmentPeriodIndex IN ({marks}) ORDER BY t.TimeIndex",
            (index, *env_ids),
        )
        return TimeSeriesResult(
            variable_name=name,
            key_value=key,
            units=units,
            frequency=freq,
            timestamps=tuple(_timestamp(*row[:5]) for row in rows),
            values=tuple(float(row[5]) for row in rows),
        )

    def _dictionary_entry(
        self, variable_name: str, key_value: str | None, frequency: str | None
    ) -> tuple[int, str, str, str, str]:
        rows = self.query(
            "SELECT ReportDataDictionaryIndex, Name, KeyValue, ReportingFrequency, Units "
            "FROM ReportDataDictionary WHERE Name = ? COLLATE NOCASE",
            (variable_name,),
        )
        if not rows:
            names = sorted({n for (n,) in self.query("SELECT Name FROM ReportDataDictionary")})
            raise UnknownVariableError(
                f"no output variable {variable_name!r} in {self.path.name}; "
                + _suggest(variable_name, names, "variables")
            )
        if key_value is not None:
            keyed = [r for r in rows if (r[2] or "").lower() == key_value.lower()]
            if not keyed:
                keys = sorted({r[2] or "" for r in rows})
                raise UnknownVariableError(
                    f"variable {rows[0][1]!r} has no key {key_value!r}; "
                    + _suggest(key_value, keys, "keys")
                )
            rows = keyed
        elif len({r[2] for r in rows}) > 1:
            keys = sorted({r[2] or "" for r in rows})
            raise UnknownVariableError(
                f"variable {rows[0][1]!r} has {len(keys)} keys; pass one of: {', '.join(keys)}"
            )
        if frequency is not None:
            timed = [r for r in rows if (r[3] or "").lower() == frequency.lower()]
            if not timed:
                freqs = sorted({r[3] or "" for r in rows})
                raise UnknownVariableError(
                    f"variable {rows[0][1]!r} is not reported at frequency {frequency!r}; "
                    f"available: {', '.join(freqs)}"
                )
            rows = timed
        elif len(rows) > 1:
            freqs = sorted({r[3] or "" for r in rows})
            raise UnknownVariableError(
                f"variable {rows[0][1]!r} is reported at several frequencies; "
                f"pass frequency= one of: {', '.join(freqs)}"
            )
        index, name, key, freq, units = rows[0]
        return int(index), str(name), str(key or ""), str(freq or ""), str(units or "")

    def _environment_ids(self, environment: str | None) -> list[int]:
        envs = self.list_environments()
        if environment is None:
            chosen = [e for e in envs if e.type in _RUN_PERIOD_TYPES] or envs
        elif environment.lower() == "annual":
            chosen = [e for e in envs if e.type in _RUN_PERIOD_TYPES]
        elif environment.lower() == "sizing":
            chosen = [e for e in envs if e.is_sizing]
        else:
            chosen = [e for e in envs if e.name.lower() == environment.lower()]
        if not chosen:
            names = [e.name for e in envs]
            raise UnknownVariableError(
                f"no environment {environment!r}; available: "
                f"{', '.join(names) or 'none'} (or 'annual', 'sizing')"
            )
        return [e.index for e in chosen]

    # -- tabular reports -------------------------------------------------
    def get_tabular_data(
        self,
        report_name: str | None = None,
        table_name: str | None = None,
        *,
        row_name: str | None = None,
        column_name: str | None = None,
        report_for: str | None = None,
    ) -> list[TabularRow]:
        """Cells of the summary reports, filtered by any of the names (case-insensitive)."""
        filters = {
            "ReportName": report_name,
            "TableName": table_name,
            "RowName": row_name,
            "ColumnName": column_name,
            "ReportForString": report_for,
        }
        where = [f"{col} = ? COLLATE NOCASE" for col, val in filters.items() if val is not None]
        params = [val for val in filters.values() if val is not None]
        sql = (
            "SELECT ReportName, ReportForString, TableName, RowName, ColumnName, Units, Value "
            "FROM TabularDataWithStrings"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        return [
            TabularRow(
                report_name=str(report or ""),
                report_for=str(report_for_ or ""),
                table_name=str(table or ""),
                row_name=str(row or ""),
                column_name=str(column or ""),
                units=str(units or ""),
                value=str(value or "").strip(),
            )
            for report, report_for_, table, row, column, units, value in self.query(sql, params)
        ]


def _timestamp(year: int | None, month: int, day: int, hour: int, minute: int) -> datetime:
    base = datetime(year if year and year > 0 else _DEFAULT_YEAR, month, day)
    return base + timedelta(hours=hour, minutes=minute)


def _suggest(wanted: str, available: list[str], what: str) -> str:
    close = difflib.get_close_matches(wanted, available, n=5, cutoff=0.4)
    if close:
        return f"closest {what}: {', '.join(close)}"
    shown = ", ".join(available[:10]) + (" ..." if len(available) > 10 else "")
    return f"available {what}: {shown or 'none'}"
