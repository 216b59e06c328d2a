"""Key metrics of a run, read from its SQLite output when the run is published.

Every metric is a number with its unit, named so that the name says what it
is and in which unit (``heating_kwh``, ``peak_heating_load_w``,
``unmet_heating_hours``). They come from EnergyPlus's own summary reports:

- annual site energy by end use and fuel: the "End Uses" table of the
  ``AnnualBuildingUtilityPerformanceSummary`` report, converted to kWh
  (``<end use>_kwh`` for every end use, ``<end use>_<fuel>_kwh`` and
  ``<fuel>_kwh`` where not zero, water in ``_m3``), and ``site_energy_kwh``;
- peak heating and cooling load: the maxima of the ``Heating:EnergyTransfer``
  and ``Cooling:EnergyTransfer`` meters (``EnergyMeters`` report), in W;
- unmet hours: the facility row of ``SystemSummary``'s "Time Setpoint Not
  Met" table, in hours.

A study's runs always carry them: the run adds the outputs they read to the
copy it runs (`add_metric_outputs`; never to the user's file) and records
the change in its manifest; a metric that still cannot be read leaves a note
saying why (`metrics_gap`). Outside a study, a report the model did not
request simply yields no metric. A user's own
metrics come from a hook: a callable that takes the run's `SQLResult` and
returns a mapping of names to numbers, or to ``(number, units)`` pairs. A hook
that raises stops the run before its manifest is written (it then reads as
incomplete), so a broken hook shows on the first job, not in the table.

The metrics, the hook's included, are read on a thread of their own as soon
as EnergyPlus says it is closing, while its process shuts down; a read that
the SQLite file changed after is made again once the process has ended, so a
hook may be called twice for one run and should only read.
"""

from __future__ import annotations

import functools
import math
import re
import sqlite3
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from idfkit.simulation.manifest import Metric
from idfkit.simulation.parsers.sql import SQLResult

if TYPE_CHECKING:
    from idfkit.document import IDFDocument

__all__ = [
    "METRIC_REPORTS",
    "MetricsHook",
    "add_metric_outputs",
    "metrics_gap",
    "read_metrics",
    "sql_names",
    "sql_output",
]

#: The summary reports the key metrics read, in the run's SQLite output.
METRIC_REPORTS = ("AnnualBuildingUtilityPerformanceSummary", "EnergyMeters", "SystemSummary")

#: A user's metrics: the run's SQLite output in, ``{name: number | (number, units)}`` out.
MetricsHook = Callable[[SQLResult], Mapping[str, float | tuple[float, str]]]

#: Energy units of the tabular reports, in kWh.
_TO_KWH = {"gj": 1e9 / 3.6e6, "mj": 1e6 / 3.6e6, "kwh": 1.0, "wh": 1e-3, "kbtu": 0.29307107}
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def sql_names(output_prefix: str) -> tuple[str, ...]:
    """The names a run's SQLite file may have, one per output-name style (``-s``).

    Args:
        output_prefix: The run's output prefix (``-p``).
    """
    return (f"{output_prefix}out.sql", f"{output_prefix}.sql", f"{output_prefix}-out.sql")


def sql_output(run_dir: Path, output_prefix: str) -> Path | None:
    """The run's SQLite file in ``run_dir``, whatever output-name style EnergyPlus used.

    Args:
        run_dir: The local run folder.
        output_prefix: The run's output prefix (``-p``).
    """
    return next((run_dir / n for n in sql_names(output_prefix) if (run_dir / n).is_file()), None)


def add_metric_outputs(doc: IDFDocument) -> list[str]:
    """Make a run's copy of a model write what the key metrics read; say what was changed.

    `Output:SQLite` must keep the tabular reports (`SimpleAndTabular`) and
    `Output:Table:SummaryReports` must list `METRIC_REPORTS` (or an
    `AllSummary` variant); what is missing is added, keeping every report
    the model asked for.

    Args:
        doc: The run's own copy of the model, changed in place.

    Returns:
        One line per change, for the run's manifest (empty when none was needed).
    """
    changes: list[str] = []
    for obj in list(doc["Output:SQLite"]) if "Output:SQLite" in doc else []:
        option = str(getattr(obj, "option_type", "") or "")
        if option.lower() != "simpleandtabular":
            obj.option_type = "SimpleAndTabular"
            changes.append(f"Output:SQLite option {option or '(blank)'} -> SimpleAndTabular")
    if "Output:SQLite" not in doc:
        doc.add("Output:SQLite", fields={"option_type": "SimpleAndTabular"})
        changes.append("Output:SQLite SimpleAndTabular added")
    found = list(doc["Output:Table:SummaryReports"]) if "Output:Table:SummaryReports" in doc else []
    asked = [
        str(item.get("report_name") or "")
        for obj in found
        for item in obj.extensible_items()
        if item.get("report_name")
    ]
    have = {name.lower() for name in asked}
    if any(name.startswith("allsummary") for name in have):
        return changes
    missing = [name for name in METRIC_REPORTS if name.lower() not in have]
    if not missing:
        return changes
    for obj in found:  # EnergyPlus takes one such object: rebuilt with every report
        doc.removeidfobject(obj)
    names = asked + missing
    doc.add(
        "Output:Table:SummaryReports",
        fields={"reports": [{"report_name": name} for name in names]},
    )
    changes.append("Output:Table:SummaryReports " + ", ".join(missing) + " added")
    return changes


def metrics_gap(wrote_sql: bool, found: Mapping[str, Metric]) -> str:
    """Why a finished run has no energy metrics, or "" when it has them.

    Args:
        wrote_sql: Whether the run wrote its SQLite output.
        found: The metrics read from it.
    """
    if not wrote_sql:
        return "no metrics: the run wrote no SQLite output"
    if "site_energy_kwh" in found or any(name.endswith("_kwh") for name in found):
        return ""
    return (
        "no metrics: the SQLite output has no AnnualBuildingUtilityPerformanceSummary "
        "energy table (EnergyPlus wrote no annual summary for this run)"
    )


def read_metrics(sql: SQLResult, hook: MetricsHook | None = None) -> dict[str, Metric]:
    """The key metrics of one run, and the hook's, by name.

    Args:
        sql: The run's SQLite output.
        hook: The user's metrics, added to (and overriding) the built-in ones.

    Returns:
        Each metric's value and unit; non-finite values are left out.

    Raises:
        ValueError: The hook names a metric with other than lower-case
            letters, digits and underscores.
    """
    found: dict[str, Metric] = {}
    try:
        tables = _tables(sql)
    except sqlite3.Error:
        tables = {}  # a run that failed early leaves no report tables: no metrics, not an error
    _end_uses(tables, found)
    _peaks(tables, found)
    _unmet_hours(tables, found)
    if hook is not None:
        for name, given in hook(sql).items():
            value, units = given if isinstance(given, tuple) else (given, "")
            if not _NAME.match(name):
                raise ValueError(
                    f"metric name {name!r} must be lower-case letters, digits and underscores"
                )
            _put(found, name, float(value), units)
    return found


@functools.lru_cache(maxsize=1024)  # the same few hundred names in every run's tables
def slug(text: str) -> str:
    """``"District Heating Water"`` -> ``"district_heating_water"``."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def _put(found: dict[str, Metric], name: str, value: float, units: str) -> None:
    if math.isfinite(value):
        found[name] = Metric(value=value, units=units)


#: The tables the key metrics come from: (report, table) -> its numeric cells.
_Tables = dict[tuple[str, str], list[tuple[str, str, str, float]]]
_END_USES = ("AnnualBuildingUtilityPerformanceSummary", "End Uses")
_SITE_ENERGY = ("AnnualBuildingUtilityPerformanceSummary", "Site and Source Energy")
_METER_PEAKS = ("EnergyMeters", "Annual and Peak Values - Other")
_UNMET_HOURS = ("SystemSummary", "Time Setpoint Not Met")
_TABLES = (_END_USES, _SITE_ENERGY, _METER_PEAKS, _UNMET_HOURS)


def _tables(sql: SQLResult) -> _Tables:
    """The numeric cells of the metric tables, each (row, column, units, value), in one query.

    The tabular view has no index: each query scans every cell of every
    report, so the four tables come from one scan (under half the time of four).
    """
    reports = sorted({report for report, _ in _TABLES})
    names = sorted({table for _, table in _TABLES})
    rows = sql.query(
        "SELECT ReportName, TableName, RowName, ColumnName, Units, Value "
        "FROM TabularDataWithStrings WHERE ReportForString = 'Entire Facility' "
        f"AND ReportName IN ({', '.join('?' * len(reports))}) "
        f"AND TableName IN ({', '.join('?' * len(names))})",
        (*reports, *names),
    )
    out: _Tables = {key: [] for key in _TABLES}
    for report, table, row, column, units, value in rows:
        cells = out.get((report, table))
        if cells is None:
            continue
        try:
            number = float(str(value).strip())
        except ValueError:
            continue
        cells.append((str(row or ""), str(column or ""), str(units or ""), number))
    return out


def _end_uses(tables: _Tables, found: dict[str, Metric]) -> None:
    by_end_use: dict[str, float] = {}
    for row, column, units, value in tables.get(_END_USES, []):
        if not row:
            continue
        fuel = slug(column)
        if units.lower() in ("m3", "gal"):
            scale, unit_name, unit = (1.0 if units.lower() == "m3" else 0.003785411784), "m3", "m3"
        elif units.lower() in _TO_KWH:
            scale, unit_name, unit = _TO_KWH[units.lower()], "kwh", "kWh"
        else:
            continue
        amount = value * scale
        if row == "Total End Uses":
            if amount:
                _put(found, f"{fuel}_{unit_name}", amount, unit)
            continue
        end_use = slug(row)
        if unit == "kWh":
            by_end_use[end_use] = by_end_use.get(end_use, 0.0) + amount
        if amount:
            _put(found, f"{end_use}_{fuel}_{unit_name}", amount, unit)
    for end_use, total in by_end_use.items():
        _put(found, f"{end_use}_kwh", total, "kWh")
    for row, column, units, value in tables.get(_SITE_ENERGY, []):
        if row == "Total Site Energy" and column == "Total Energy" and units.lower() in _TO_KWH:
            _put(found, "site_energy_kwh", value * _TO_KWH[units.lower()], "kWh")


def _peaks(tables: _Tables, found: dict[str, Metric]) -> None:
    for row, column, units, value in tables.get(_METER_PEAKS, []):
        if column == "Maximum Value" and units == "W":
            if row == "Heating:EnergyTransfer":
                _put(found, "peak_heating_load_w", value, "W")
            elif row == "Cooling:EnergyTransfer":
                _put(found, "peak_cooling_load_w", value, "W")


def _unmet_hours(tables: _Tables, found: dict[str, Metric]) -> None:
    names = {
        "During Heating": "unmet_heating_hours",
        "During Cooling": "unmet_cooling_hours",
        "During Occupied Heating": "unmet_occupied_heating_hours",
        "During Occupied Cooling": "unmet_occupied_cooling_hours",
    }
    for row, column, units, value in tables.get(_UNMET_HOURS, []):
        if row == "Facility" and column in names:
            _put(found, names[column], value, units or "hr")


#: The fuel columns of the End Uses table, as they appear in metric names.
FUELS = (
    "electricity",
    "natural_gas",
    "gasoline",
    "diesel",
    "coal",
    "fuel_oil_no_1",
    "fuel_oil_no_2",
    "propane",
    "other_fuel_1",
    "other_fuel_2",
    "district_cooling",
    "district_heating_water",
    "district_heating_steam",
    "water",
)


def is_breakdown(name: str) -> bool:
    """Whether a metric is a per-fuel figure (``electricity_kwh``, ``heating_natural_gas_kwh``)."""
    stem = name.removesuffix("_kwh").removesuffix("_m3")
    return any(stem == fuel or stem.endswith(f"_{fuel}") for fuel in FUELS)
