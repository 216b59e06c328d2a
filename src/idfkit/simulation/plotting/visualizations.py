"""Charts computed from a run's SQL output: zone temperatures, end uses, comfort."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from idfkit.simulation.plotting.backend import PlotBackend, get_default_backend

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


def plot_temperature_profile(
    sql: SQLResult,
    zones: Sequence[str],
    *,
    backend: PlotBackend | None = None,
    title: str = "Zone Air Temperatures",
    frequency: str | None = None,
) -> Any:
    """Draw each zone's mean air temperature over time, one line per zone.

    Args:
        sql: The run's SQL output.
        zones: The zone names, one line each, in this order.
        backend: What draws the figure; `get_default_backend()` when omitted.
        title: The figure title.
        frequency: The reporting frequency (`"Hourly"`, `"Timestep"`...); by
            default the first one reported.

    Returns:
        The backend's figure (`multi_line`), x the first zone's timestamps.

    Raises:
        UnknownVariableError: (a `KeyError`) a zone has no `Zone Mean Air
            Temperature` output at that frequency.
        ImportError: no backend is given and no plotting library is installed.
    """
    chosen = backend if backend is not None else get_default_backend()
    series = [sql.get_timeseries(ZONE_TEMPERATURE, zone, frequency) for zone in zones]
    units = series[0].units if series else "C"
    return chosen.multi_line(
        series[0].timestamps if series else (),
        {zone: ts.values for zone, ts in zip(zones, series, strict=True)},
        title=title,
        xlabel="Time",
        ylabel=f"Temperature ({units})",
    )


def end_use_totals(sql: SQLResult) -> tuple[list[str], list[float], str]:
    """Energy per end use for the whole facility, summed over every fuel.

    Read from the `End Uses` table of the `AnnualBuildingUtilityPerformanceSummary`
    report; the water column (a volume) and the `Total End Uses` row are left
    out, as are end uses that used no energy.

    Args:
        sql: The run's SQL output.

    Returns:
        The end uses, largest first; their totals; and the energy unit (`"GJ"`
        unless the report says otherwise).
    """
    totals: dict[str, float] = {}
    unit = ""
    cells = sql.get_tabular_data(
        "AnnualBuildingUtilityPerformanceSummary", "End Uses", report_for="Entire Facility"
    )
    for cell in cells:
        number = cell.number
        if cell.row_name == "Total End Uses" or cell.units in _VOLUME_UNITS or number is None:
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

    A value counts when `comfort_min <= t <= comfort_max`. Each interval belongs
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
    for zone in zones:
        ts = sql.get_timeseries(ZONE_TEMPERATURE, zone)
        counted = [0] * 12
        comfortable = [0] * 12
        for stamp, value in zip(ts.timestamps, ts.values, strict=True):
            month = (stamp - _JUST_BEFORE).month - 1
            counted[month] += 1
            comfortable[month] += comfort_min <= value <= comfort_max
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
        comfort_min: The band's lower bound (°C), included.
        comfort_max: The band's upper bound (°C), included.
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
    return chosen.heatmap(
        comfort_percentages(sql, zones, comfort_min, comfort_max),
        x_labels=list(MONTHS),
        y_labels=list(zones),
        title=title,
        colorbar_label="Comfort Hours (%)",
    )
