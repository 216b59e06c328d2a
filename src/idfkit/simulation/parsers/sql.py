"""Queries over the EnergyPlus SQLite output (`eplusout.sql` / `eplus.sql`)."""

from __future__ import annotations

import difflib
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from idfkit.simulation.exceptions import UnknownVariableError
from idfkit.simulation.parsers._series import plot_series, series_frame

if TYPE_CHECKING:
    import pandas as pd

    from idfkit.simulation.plotting.backend import PlotBackend

__all__ = [
    "Environment",
    "EnvironmentInfo",
    "SQLResult",
    "TabularRow",
    "TimeSeriesResult",
    "VariableInfo",
]

Environment = Literal["sizing", "annual"]
"""`"sizing"` (design days and design run periods) or `"annual"` (weather-file run periods)."""

# EnvironmentPeriods.EnvironmentType: 1 design day, 2 design run period, 3 weather-file run period
_SIZING_TYPES = (1, 2)
_RUN_PERIOD_TYPES = (3,)
DEFAULT_YEAR = 2017
"""The year given to timestamps that EnergyPlus writes without one (design days), as idfkit does."""


@dataclass(frozen=True)
class VariableInfo:
    """One entry of the report data dictionary: a variable or meter at one frequency."""

    name: str
    key_value: str
    frequency: str
    units: str
    is_meter: bool
    variable_type: str = ""
    """`"Avg"` for averaged values, `"Sum"` for summed ones."""


@dataclass(frozen=True)
class EnvironmentInfo:
    """One simulated environment (a design day or a run period)."""

    index: int
    name: str
    environment_type: int
    """1 design day, 2 design run period, 3 weather-file run period."""

    @property
    def is_sizing(self) -> bool:
        """True for design days and design run periods."""
        return self.environment_type in _SIZING_TYPES


@dataclass(frozen=True)
class TabularRow:
    """One cell of a tabular (summary) report, its value as EnergyPlus wrote it."""

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
        """A DataFrame with one column named after the variable, indexed by `timestamp`.

        Raises:
            ImportError: pandas is not installed.
        """
        return series_frame(self.variable_name, self.timestamps, self.values)

    def plot(
        self,
        ax: Any = None,
        *,
        backend: PlotBackend | None = None,
        title: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Draw the series and return the figure.

        Args:
            ax: A matplotlib Axes to draw on, with matplotlib.
            backend: A `PlotBackend` (only its `line` method is used); by default
                `get_default_backend()` (matplotlib, else plotly), unless `ax`
                or `kwargs` ask for matplotlib.
            title: The plot title; by default `"<key>: <variable>"`, as in idfkit
                (the y axis reads `"<variable> (<units>)"`).
            **kwargs: Passed to matplotlib's `Axes.plot`.

        Returns:
            The backend's figure: a matplotlib Figure by default.

        Raises:
            ImportError: no backend is given and no plotting library is installed.
        """
        return plot_series(
            self.timestamps,
            self.values,
            label=self.key_value,
            ylabel=f"{self.variable_name} ({self.units})",
            title=title or f"{self.key_value}: {self.variable_name}",
            backend=backend,
            ax=ax,
            **kwargs,
        )


class SQLResult:
    """Read-only access to one EnergyPlus SQLite file.

    The connection opens on first use, may be shared between threads, and
    reopens after `close()`. Usable as a context manager.

    Args:
        db_path: The `.sql` file.
        _owns_file: Delete the file on `close()` (for a temporary copy).

    Raises:
        FileNotFoundError: `db_path` does not exist.
    """

    def __init__(self, db_path: str | Path, *, _owns_file: bool = False) -> None:
        self.path = Path(db_path)
        if not self.path.is_file():
            raise FileNotFoundError(f"SQLite output not found: {self.path}")
        self._owns_file = _owns_file
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @property
    def db_path(self) -> Path:
        """The SQLite file read."""
        return self.path

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False)
        return self._conn

    def query(self, sql: str, parameters: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only SQL statement and return all rows.

        Args:
            sql: The statement, with `?` placeholders.
            parameters: The values for the placeholders.
        """
        with self._lock:
            return self._connection().execute(sql, tuple(parameters)).fetchall()

    def close(self) -> None:
        """Close the connection (and delete the file when this object owns it)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            if self._owns_file:
                self.path.unlink(missing_ok=True)

    def __enter__(self) -> SQLResult:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        # A result read and dropped without close() (as idfkit's users do) closes its
        # connection: from Python 3.13 an open one warns when it is collected.
        conn = self.__dict__.get("_conn")
        if conn is not None:
            conn.close()

    def __repr__(self) -> str:
        return f"SQLResult({str(self.path)!r})"

    # -- catalogue -------------------------------------------------------
    def list_variables(self) -> list[VariableInfo]:
        """Every variable and meter in the file, in the order EnergyPlus declared them."""
        rows = self.query(
            "SELECT Name, KeyValue, ReportingFrequency, Units, IsMeter, Type "
            "FROM ReportDataDictionary ORDER BY ReportDataDictionaryIndex"
        )
        return [
            VariableInfo(n, k or "", f or "", u or "", bool(m), t or "")
            for n, k, f, u, m, t in rows
        ]

    def list_environments(self) -> list[EnvironmentInfo]:
        """The simulated environments: design days first, then run periods."""
        rows = self.query(
            "SELECT EnvironmentPeriodIndex, EnvironmentName, EnvironmentType "
            "FROM EnvironmentPeriods ORDER BY EnvironmentPeriodIndex"
        )
        return [EnvironmentInfo(i, n, t) for i, n, t in rows]

    def list_reports(self) -> list[str]:
        """The names of the tabular reports, sorted."""
        rows = self.query(
            "SELECT DISTINCT ReportName FROM TabularDataWithStrings ORDER BY ReportName"
        )
        return [str(name) for (name,) in rows]

    # -- time series -----------------------------------------------------
    def get_timeseries(
        self,
        variable_name: str,
        key_value: str | None = "*",
        frequency: str | None = None,
        environment: Environment | str | None = None,
    ) -> TimeSeriesResult:
        """One variable's values, warm-up days excluded.

        Names, keys and frequencies match case-insensitively.

        Args:
            variable_name: The output variable or meter name.
            key_value: The key (a zone, a surface...); `"*"` takes the first key.
            frequency: `"Hourly"`, `"Daily"`, ...; by default the first one reported.
            environment: `None` for every environment (design days and run
                periods), `"annual"` for the weather-file run periods, `"sizing"`
                for the design days, or one environment's name.

        Returns:
            The values with their timestamps (interval ends); design days, which
            carry no year, are dated 2017.

        Raises:
            UnknownVariableError: (a `KeyError`) no such variable, key or frequency;
                the message lists the closest names.
            ValueError: no such environment.
        """
        index, name, key, freq, units = self._dictionary_entry(variable_name, key_value, frequency)
        rows = self._series_rows(
            "t.Year, t.Month, t.Day, t.Hour, t.Minute, rd.Value", index, environment
        )
        return TimeSeriesResult(
            variable_name=name,
            key_value=key,
            units=units,
            frequency=freq,
            timestamps=_timestamps(rows),
            values=tuple([float(row[5]) for row in rows]),
        )

    def _series_rows(
        self, columns: str, index: int, environment: Environment | str | None
    ) -> list[tuple[Any, ...]]:
        """``columns`` of one dictionary entry's rows, warm-up days excluded, in time order."""
        sql = (
            f"SELECT {columns} "
            "FROM ReportData rd JOIN Time t ON rd.TimeIndex = t.TimeIndex "
            "WHERE rd.ReportDataDictionaryIndex = ? AND (t.WarmupFlag IS NULL OR t.WarmupFlag = 0)"
        )
        parameters: list[object] = [index]
        if environment is not None:
            env_ids = self._environment_ids(environment)
            sql += f" AND t.EnvironmentPeriodIndex IN ({','.join('?' * len(env_ids))})"
            parameters += env_ids
        # ReportData is written in time order: its own key orders it without a sort.
        return self.query(sql + " ORDER BY rd.ReportDataIndex", parameters)

    def to_dataframe(
        self,
        variable_name: str,
        key_value: str | None = "*",
        frequency: str | None = None,
        environment: Environment | str | None = None,
    ) -> pd.DataFrame:
        """`get_timeseries(...)` as a one-column DataFrame (needs pandas).

        Args:
            variable_name: As for `get_timeseries`.
            key_value: As for `get_timeseries`.
            frequency: As for `get_timeseries`.
            environment: As for `get_timeseries`.
        """
        return self.get_timeseries(variable_name, key_value, frequency, environment).to_dataframe()

    def _dictionary_entry(
        self, variable_name: str, key_value: str | None, frequency: str | None
    ) -> tuple[int, str, str, str, str]:
        rows = self.query(
            "SELECT ReportDataDictionaryIndex, Name, KeyValue, ReportingFrequency, Units "
            "FROM ReportDataDictionary WHERE Name = ? COLLATE NOCASE "
            "ORDER BY ReportDataDictionaryIndex",
            (variable_name,),
        )
        wanted = f"Variable not found: {variable_name!r} (key={key_value or '*'!r})"
        if not rows:
            names = sorted({n for (n,) in self.query("SELECT Name FROM ReportDataDictionary")})
            raise UnknownVariableError(f"{wanted}; {suggest(variable_name, names, 'variables')}")
        if key_value not in (None, "*"):
            keyed = [r for r in rows if (r[2] or "").lower() == key_value.lower()]
            if not keyed:
                keys = sorted({r[2] or "" for r in rows})
                raise UnknownVariableError(f"{wanted}; {suggest(key_value, keys, 'keys')}")
            rows = keyed
        if frequency is not None:
            timed = [r for r in rows if _same_frequency(r[3] or "", frequency)]
            if not timed:
                freqs = ", ".join(sorted({r[3] or "" for r in rows}))
                raise UnknownVariableError(
                    f"{wanted} at frequency {frequency!r}; reported at: {freqs}"
                )
            rows = timed
        index, name, key, freq, units = rows[0]
        return int(index), str(name), str(key or ""), str(freq or ""), str(units or "")

    def _environment_ids(self, environment: str) -> list[int]:
        envs = self.list_environments()
        wanted = environment.lower()
        if wanted == "annual":
            chosen = [e for e in envs if e.environment_type in _RUN_PERIOD_TYPES]
        elif wanted == "sizing":
            chosen = [e for e in envs if e.is_sizing]
        else:
            chosen = [e for e in envs if e.name.lower() == wanted]
            if not chosen:
                names = ", ".join(e.name for e in envs) or "none"
                raise ValueError(
                    f"environment must be 'sizing', 'annual', None or one of: {names}; "
                    f"got {environment!r}"
                )
        return [e.index for e in chosen]

    # -- tabular reports -------------------------------------------------
    def get_tabular_data(
        self,
        report_name: str | None = None,
        table_name: str | None = None,
        row_name: str | None = None,
        column_name: str | None = None,
        report_for: str | None = None,
    ) -> list[TabularRow]:
        """Cells of the tabular reports, filtered by any of the names (case-insensitive).

        Args:
            report_name: The report, as the SQL file names it
                (``"AnnualBuildingUtilityPerformanceSummary"``); None for any.
            table_name: The table; None for any.
            row_name: The row; None for any.
            column_name: The column; None for any.
            report_for: What the report is for (``"Entire Facility"``, a
                zone...); None for any.
        """
        filters = {
            "ReportName": report_name,
            "TableName": table_name,
            "RowName": row_name,
            "ColumnName": column_name,
            "ReportForString": report_for,
        }
        where = [f"{col} = ? COLLATE NOCASE" for col, val in filters.items() if val is not None]
        sql = (
            "SELECT ReportName, ReportForString, TableName, RowName, ColumnName, Units, Value "
            "FROM TabularDataWithStrings"
        )
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self.query(
            sql + " ORDER BY TabularDataIndex", [v for v in filters.values() if v is not None]
        )
        return [TabularRow(*(str(cell or "") for cell in row)) for row in rows]

    def get_tabular_value(
        self,
        report_name: str,
        table_name: str,
        row_name: str,
        column_name: str,
        report_for: str = "Entire Facility",
    ) -> str:
        """One cell of a tabular report, as EnergyPlus wrote it.

        Args:
            report_name: The report, as the SQL file names it.
            table_name: The table.
            row_name: The row.
            column_name: The column.
            report_for: What the report is for (``"Entire Facility"``, a zone...).

        Raises:
            UnknownVariableError: (a `KeyError`) no such cell, or more than one
                cell answers to these names (the message says how many).
        """
        rows = self.get_tabular_data(report_name, table_name, row_name, column_name, report_for)
        where = (
            f"report={report_name!r}, table={table_name!r}, "
            f"row={row_name!r}, column={column_name!r}, for={report_for!r}"
        )
        if not rows:
            raise UnknownVariableError(f"No tabular data found: {where}")
        if len(rows) > 1:
            raise UnknownVariableError(f"Multiple rows found ({len(rows)}): {where}")
        return rows[0].value


def _same_frequency(stored: str, wanted: str) -> bool:
    """`"Timestep"` also matches the SQL file's `"Zone Timestep"`."""
    stored, wanted = stored.lower(), wanted.lower()
    return stored == wanted or (wanted == "timestep" and stored.endswith("timestep"))


def series_columns(
    sql: SQLResult,
    variable_name: str,
    key_value: str | None = "*",
    frequency: str | None = None,
    environment: Environment | str | None = None,
) -> tuple[str, list[int | None], list[float]]:
    """`sql.get_timeseries(...)` without its datetimes, for one variable of many files.

    Each time is one packed integer (see `timestamps_from_keys`), so runs that
    share their time axis (the runs of one study) are told apart by comparing
    two lists, and each run's timestamps need not be built.

    Returns:
        The units, each value's time key (None where the file leaves a time
        field empty: `get_timeseries` then says what it makes of it), and the values.

    Raises:
        UnknownVariableError: as `get_timeseries`.
        ValueError: no such environment.
    """
    index, _, _, _, units = sql._dictionary_entry(variable_name, key_value, frequency)
    rows = sql._series_rows(f"{_PACKED_TIME}, rd.Value", index, environment)
    return units, [row[0] for row in rows], [float(row[1]) for row in rows]


# One integer per time row: (((year * 13 + month) * 32 + day) * 25 + hour) * 61 + minute,
# year 0 where the file has none (design days). SQL gives NULL when any field is NULL.
_PACKED_TIME = (
    "((((coalesce(t.Year, 0) * 13 + t.Month) * 32 + t.Day) * 25 + t.Hour) * 61 + t.Minute)"
)


def timestamps_from_keys(keys: Sequence[int]) -> tuple[datetime, ...]:
    """The interval ends that `series_columns` packed into ``keys``."""
    rows = []
    for key in keys:
        rest, minute = divmod(key, 61)
        rest, hour = divmod(rest, 25)
        rest, day = divmod(rest, 32)
        year, month = divmod(rest, 13)
        rows.append((year, month, day, hour, minute))
    return _timestamps(rows)


def _timestamps(rows: Sequence[tuple[Any, ...]]) -> tuple[datetime, ...]:
    """Interval ends from (Year, Month, Day, Hour, Minute, ...) rows, built without arithmetic.

    Only the end of a day (hour 24) needs a timedelta; those few are cached by day.
    """
    day_ends: dict[tuple[int, int, int], datetime] = {}
    out: list[datetime] = []
    append = out.append
    for year, month, day, hour, minute, *_ in rows:
        if hour < 24 and minute < 60:
            append(datetime(year or DEFAULT_YEAR, month, day, hour, minute))
            continue
        key = (year or DEFAULT_YEAR, month, day)
        base = day_ends.get(key)
        if base is None:
            base = day_ends[key] = datetime(*key)
        append(base + timedelta(hours=hour, minutes=minute))
    return tuple(out)


def suggest(wanted: str, available: list[str], what: str) -> str:
    """`closest <what>: ...` from the names most like `wanted`, else the first few names."""
    close = difflib.get_close_matches(wanted, available, n=5, cutoff=0.4)
    if close:
        return f"closest {what}: {', '.join(close)}"
    shown = ", ".join(available[:10]) + (" ..." if len(available) > 10 else "")
    return f"available {what}: {shown or 'none'}"
