"""Pure readers of EnergyPlus output files: no storage, no processes."""

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
