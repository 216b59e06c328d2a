"""Pure readers of EnergyPlus output files: no storage, no processes."""

from idfkit.simulation.parsers.err import ErrorMessage, ErrorReport, parse_err
from idfkit.simulation.parsers.sql import (
    EnvironmentInfo,
    SQLResult,
    TabularRow,
    TimeSeriesResult,
    VariableInfo,
)

__all__ = [
    "EnvironmentInfo",
    "ErrorMessage",
    "ErrorReport",
    "SQLResult",
    "TabularRow",
    "TimeSeriesResult",
    "VariableInfo",
    "parse_err",
]
