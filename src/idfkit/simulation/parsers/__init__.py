"""Pure readers of EnergyPlus output files: no storage, no processes.

Each reader's module loads on first use of one of its names, so a run that
reads only its SQLite output never loads the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idfkit.simulation.parsers.csv import CSVColumn, CSVResult
    from idfkit.simulation.parsers.err import ErrorMessage, ErrorReport, parse_err
    from idfkit.simulation.parsers.eso import ESOColumn, ESOEnvironment, ESOResult, ESOVariable
    from idfkit.simulation.parsers.html import HTMLResult, HTMLTable
    from idfkit.simulation.parsers.rdd import OutputMeter, OutputVariable, parse_mdd, parse_rdd
    from idfkit.simulation.parsers.sql import (
        EnvironmentInfo,
        SQLResult,
        TabularRow,
        TimeSeriesResult,
        VariableInfo,
    )

__all__ = [
    "CSVColumn",
    "CSVResult",
    "ESOColumn",
    "ESOEnvironment",
    "ESOResult",
    "ESOVariable",
    "EnvironmentInfo",
    "ErrorMessage",
    "ErrorReport",
    "HTMLResult",
    "HTMLTable",
    "OutputMeter",
    "OutputVariable",
    "SQLResult",
    "TabularRow",
    "TimeSeriesResult",
    "VariableInfo",
    "parse_err",
    "parse_mdd",
    "parse_rdd",
]

#: Each name's module.
_HOMES = {
    **dict.fromkeys(("CSVColumn", "CSVResult"), "csv"),
    **dict.fromkeys(("ErrorMessage", "ErrorReport", "parse_err"), "err"),
    **dict.fromkeys(("ESOColumn", "ESOEnvironment", "ESOResult", "ESOVariable"), "eso"),
    **dict.fromkeys(("HTMLResult", "HTMLTable"), "html"),
    **dict.fromkeys(("OutputMeter", "OutputVariable", "parse_mdd", "parse_rdd"), "rdd"),
    **dict.fromkeys(
        ("EnvironmentInfo", "SQLResult", "TabularRow", "TimeSeriesResult", "VariableInfo"), "sql"
    ),
}


def __getattr__(name: str) -> Any:
    module = _HOMES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
