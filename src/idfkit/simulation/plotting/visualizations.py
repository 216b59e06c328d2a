"""Charts computed from a run's SQL output: zone temperatures, end uses, comfort."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from idfkit.simulation.plotting.backend import BandBackend, PlotBackend, get_default_backend
from idfkit.simulation.plotting.matplotlib import MatplotlibBackend
from idfkit.simulation.plotting.plotly import PlotlyBackend

if TYPE_CHECKING:
    from idfkit.simulation.parsers.sql import SQLResult

__all__ = [
    "comfort_percentages",
    "end_use_totals",
    "plot_comfort_hours",
    "plot_energy_balance",
    "plot_temperature_profile",
]

ZONE_TEMPERATURE = "Zone Mean Air Temperature"
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_VOLUME_UNITS = {"m3", "gal"}
# An interval belongs to the month it runs in: the value stamped 1 Feb 00:00 is 31 Jan's last hour.
_JUST_BEFORE = timedelta(microseconds=1)
_DAY = timedelta(days=1)
#: How far outside the comfort band a value may read and still count as inside: a zone
#: held at its 20 °C setpoint reads 19.999999999999993 (floating-point noise).
COMFORT_TOLERANCE = 1e-6


def plot_temperature_profile(
    sql: SQLResult,
    zones: Sequence[str],
    *,
    backend: PlotBackend | None = None,
    title: str = "Zone Air Temperatures",
    frequency: str | None = None,
    period: tuple[date, date] | None = None,
    daily: bool | None = None,
) -> Any:
    """Draw each zone's mean air temperature over time, one line (or band) per zone.

    A long series (more than a month of values reported more often than
    daily) is unreadable as a line: by default, a backend that draws bands
    (`BandBackend`, as the matplotlib and plotly backends do) shows each day's
    minimum to maximum as a shaded band around the daily mean, and a run of
    one calendar year (a typical year, whose year means nothing) is labelled
    by month. Choose `period` to see the values themselves over some days.

    Args:
        sql: The run's SQL output.
        zones: The zone names, one line each, in this order.
        backend: What draws the figure; `get_default_backend()` when omitted.
        title: The figure title.
        frequency: The reporting frequency (`"Hourly"`, `"Timestep"`...); by
            default the first one reported.
        period: The first and last day to draw, both included (a `datetime`
            is taken as the exact start or end); the whole run when None.
        daily: True for daily minimum, mean and maximum; False for every
            value; None (the default) for daily only when the series is long
            and the backend draws bands. A backend without bands is given
            the daily means as lines.

    Returns:
        The backend's figure: `bands` (x the days) for daily values, else
        `multi_line` (x the first zone's timestamps).

    Raises:
        UnknownVariableError: (a `KeyError`) a zone has no `Zone Mean Air
            Temperature` output at that frequency.
        ValueError: `period` ends before it starts.
        ImportError: no backend is given and no plotting library is installed.
    """
    chosen = backend if backend is not None else get_default_backend()
    series = [sql.get_timeseries(ZONE_TEMPERATURE, zone, frequency) for zone in zones]
    ylabel = f"Temperature ({unit_text(series[0].units if series else 'C')})"
    stamps = list(series[0].timestamps) if series else []
    values: dict[str, Sequence[float]] = {
        zone: ts.values for zone, ts in zip(zones, series, strict=True)
    }
    if period is not None:
        stamps, values = _within(stamps, values, *period)
    if daily is None:
        daily = isinstance(chosen, BandBackend) and _long(stamps)
    if not daily:
        return chosen.multi_line(stamps, values, title=title, xlabel="Time", ylabel=ylabel)
    days, summaries = _daily(stamps, values)
    one_year = bool(days) and days[0].year == days[-1].year
    if isinstance(chosen, BandBackend):
        named = {f"{zone}: daily mean and range": summary for zone, summary in summaries.items()}
        return chosen.bands(days, named, title=title, xlabel="", ylabel=ylabel, months=one_year)
    means: dict[str, Sequence[float]] = {
        f"{zone}: daily mean": summary[1] for zone, summary in summaries.items()
    }
    return chosen.multi_line(days, means, title=title, xlabel="Day", ylabel=ylabel)


def unit_text(units: str) -> str:
    """A unit as a reader writes it: EnergyPlus's ``C`` is ``°C``."""
    return {"C": "°C", "deltaC": "Δ°C", "F": "°F"}.get(units, units)


def _within(
    stamps: list[datetime], values: dict[str, Sequence[float]], first: date, last: date
) -> tuple[list[datetime], dict[str, Sequence[float]]]:
    """The intervals that run within ``first`` to ``last`` (days included)."""
    start = first if isinstance(first, datetime) else datetime.combine(first, time())
    end = last if isinstance(last, datetime) else datetime.combine(last, time()) + _DAY
    if end <= start:
        raise ValueError(f"period ends ({last}) before it starts ({first})")
    kept = [i for i, stamp in enumerate(stamps) if start < stamp <= end]
    return [stamps[i] for i in kept], {z: [v[i] for i in kept] for z, v in values.items()}


def _long(stamps: Sequence[datetime]) -> bool:
    """More than a month of values reported more often than daily."""
    if len(stamps) < 2:
        return False
    return stamps[-1] - stamps[0] > timedelta(days=31) and stamps[1] - stamps[0] < _DAY


def _daily(
    stamps: Sequence[datetime], values: dict[str, Sequence[float]]
) -> tuple[list[date], dict[str, tuple[Sequence[float], Sequence[float], Sequence[float]]]]:
    """Each day's minimum, mean and maximum per series (an interval counts on the day it runs)."""
    days = [(stamp - _JUST_BEFORE).date() for stamp in stamps]
    order = list(dict.fromkeys(days))
    summaries: dict[str, tuple[Sequence[float], Sequence[float], Sequence[float]]] = {}
    for name, series in values.items():
        by_day: dict[date, list[float]] = {day: [] for day in order}
        for day, value in zip(days, series, strict=True):
            by_day[day].append(value)
        summaries[name] = (
            [min(v) for v in by_day.values()],
            [sum(v) / len(v) for v in by_day.values()],
            [max(v) for v in by_day.values()],
        )
    return order, summaries


def end_use_totals(sql: SQLResult) -> tuple[list[str], list[float], str]:
    """Energy per end use for the whole facility, summed over every fuel.

    Read from the `End Uses` table of the `AnnualBuildingUtilityPerformanceSummary`
    report; the water column (a volume), the `Total End Uses` row and rows
    without a name are left out, as are end uses that used no energy. Only
    the SQL result's `get_tabular_data(report_name=..., table_name=...)` is
    called, so any object with that method will do.

    Args:
        sql: The run's SQL output.

    Returns:
        The end uses, largest first; their totals; and the energy unit (`"GJ"`
        unless the report says otherwise).
    """
    totals: dict[str, float] = {}
    unit = ""
    cells = sql.get_tabular_data(
        report_name="AnnualBuildingUtilityPerformanceSummary", table_name="End Uses"
    )
    for cell in cells:
        number = cell.number
        if (
            cell.report_for.lower() != "entire facility"
            or cell.row_name in ("", "Total End Uses")
            or cell.units in _VOLUME_UNITS
            or number is None
        ):
            continue
        totals[cell.row_name] = totals.get(cell.row_name, 0.0) + number
        unit = unit or cell.units
    used = sorted(((v, k) for k, v in totals.items() if v != 0.0), key=lambda p: -p[0])
    return [name for _, name in used], [value for value, _ in used], unit or "GJ"


def plot_energy_balance(
    sql: SQLResult,
    *,
    backend: PlotBackend | None = None,
    title: str = "End-Use Energy by Category",
) -> Any:
    """Draw the facility's energy per end use as bars, largest first (see `end_use_totals`).

    Args:
        sql: The run's SQL output (needs the tabular reports).
        backend: What draws the figure; `get_default_backend()` when omitted.
        title: The figure title.

    Returns:
        The backend's figure (`bar`); no bars when the run has no end-use table.

    Raises:
        ImportError: no backend is given and no plotting library is installed.
    """
    chosen = backend if backend is not None else get_default_backend()
    categories, values, unit = end_use_totals(sql)
    return chosen.bar(categories, values, title=title, xlabel="End Use", ylabel=f"Energy ({unit})")


def comfort_percentages(
    sql: SQLResult, zones: Sequence[str], comfort_min: float, comfort_max: float
) -> list[list[float]]:
    """Per zone and month, the share of intervals with the air within the comfort band.

    A value counts when `comfort_min <= t <= comfort_max`, give or take
    `COMFORT_TOLERANCE` (a zone held at a setpoint on the band's edge reads a
    hair off it, and is comfortable). Each interval belongs
    to the month it runs in (a value stamped 1 February 00:00 closes 31 January).

    Args:
        sql: The run's SQL output.
        zones: The zone names, one row each.
        comfort_min: The band's lower bound, in the output's units (°C).
        comfort_max: The band's upper bound.

    Returns:
        One row per zone of twelve percentages (0 to 100), January first; a
        month without values is 0.

    Raises:
        UnknownVariableError: (a `KeyError`) a zone has no `Zone Mean Air
            Temperature` output.
    """
    rows: list[list[float]] = []
    low, high = comfort_min - COMFORT_TOLERANCE, comfort_max + COMFORT_TOLERANCE
    for zone in zones:
        ts = sql.get_timeseries(ZONE_TEMPERATURE, zone)
        counted = [0] * 12
        comfortable = [0] * 12
        for stamp, value in zip(ts.timestamps, ts.values, strict=True):
            month = (stamp - _JUST_BEFORE).month - 1
            counted[month] += 1
            comfortable[month] += low <= value <= high
        rows.append(
            [100.0 * c / n if n else 0.0 for c, n in zip(comfortable, counted, strict=True)]
        )
    return rows


def plot_comfort_hours(
    sql: SQLResult,
    zones: Sequence[str],
    *,
    comfort_min: float = 20.0,
    comfort_max: float = 26.0,
    backend: PlotBackend | None = None,
    title: str = "Comfort Hours by Zone and Month",
) -> Any:
    """Draw, per zone and month, the percentage of time within the comfort band.

    Args:
        sql: The run's SQL output.
        zones: The zone names, one heatmap row each.
        comfort_min: The band's lower bound (°C), included (give or take
            `COMFORT_TOLERANCE`).
        comfort_max: The band's upper bound (°C), included (likewise).
        backend: What draws the figure; `get_default_backend()` when omitted.
        title: The figure title.

    Returns:
        The backend's figure (`heatmap`): rows the zones, columns January to
        December, cells the percentages from `comfort_percentages`.

    Raises:
        UnknownVariableError: (a `KeyError`) a zone has no `Zone Mean Air
            Temperature` output.
        ImportError: no backend is given and no plotting library is installed.
    """
    chosen = backend if backend is not None else get_default_backend()
    # The backends here scale colours from 0 to 100 %; one of a user's own is given
    # the protocol's arguments alone.
    ours = isinstance(chosen, MatplotlibBackend | PlotlyBackend)
    return chosen.heatmap(
        comfort_percentages(sql, zones, comfort_min, comfort_max),
        x_labels=list(MONTHS),
        y_labels=list(zones),
        title=title,
        colorbar_label="Comfort Hours (%)",
        **({"value_range": (0.0, 100.0)} if ours else {}),
    )
