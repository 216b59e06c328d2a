"""A study's table written out: Parquet (typed columns, units in the metadata), CSV, JSON."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from idfkit.simulation._optional import optional_import
from idfkit.simulation.metrics import is_breakdown

if TYPE_CHECKING:
    import pyarrow as pa

    from idfkit.simulation.study.collect import Collection

__all__ = ["arrow_table", "display_records", "import_pyarrow", "write_csv", "write_json"]


def import_pyarrow() -> Any:
    """pyarrow, or an ImportError naming the extra that installs it."""
    optional_import("pyarrow.parquet", "Parquet output")
    return optional_import("pyarrow", "Parquet output")


def arrow_table(collection: Collection) -> pa.Table:
    """The table with one Arrow type per column: metrics float64, parameters as their values.

    Args:
        collection: The collected study.
    """
    pa = import_pyarrow()
    metrics = set(collection.metrics)
    fields, arrays = [], []
    for name in collection.columns:
        values = column(collection, name)
        if name in metrics or name == "runtime_seconds":
            kind = pa.float64()
        elif name in ("index", "exit_code"):
            kind = pa.int64()
        else:
            kind = _kind(pa, values)
            if kind == pa.string():
                values = [_text(v) for v in values]
        meta = {"units": collection.units[name]} if name in collection.units else None
        fields.append(pa.field(name, kind, metadata=meta))
        arrays.append(pa.array(values, type=kind))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


_ABSENT = object()


def column(collection: Collection, name: str) -> list[Any]:
    """One column of `Collection.records`, without making a dict per row (100,000 rows)."""
    out: list[Any] = []
    for row in collection.rows:
        if name in ("runtime_seconds", "exit_code", "error"):
            out.append(getattr(row, name))
            continue
        value = row.metrics.get(name, _ABSENT)  # as in CollectedRow.as_dict: metrics win,
        if value is _ABSENT:
            value = row.parameters.get(name, _ABSENT)  # then parameters, then the fixed ones
        if value is _ABSENT:
            value = getattr(row, name) if name in ("index", "label", "status") else None
        out.append(value)
    return out


def write_parquet(collection: Collection, path: Path) -> Path:
    pa = import_pyarrow()
    pa.parquet.write_table(arrow_table(collection), path)
    return path


def write_csv(collection: Collection, path: Path) -> Path:
    """Write the table to a CSV file: a header row, then one row per job.

    Args:
        collection: The collected study.
        path: The local file to write.
    """
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=collection.columns)
        writer.writeheader()
        for record in collection.records():
            writer.writerow({k: _csv_cell(v) for k, v in record.items()})
    return path


def write_json(collection: Collection, path: Path) -> Path:
    """Write counts, indices to resubmit, failures, metric units and the rows to a JSON file.

    Args:
        collection: The collected study.
        path: The local file to write.
    """
    payload = {
        "counts": collection.counts(),
        "to_resubmit": collection.to_resubmit,
        "failed": collection.failed,
        "units": collection.units,
        "rows": collection.records(),
    }
    path.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    return path


def display_records(collection: Collection) -> list[dict[str, Any]]:
    """The table for a screen: fuel breakdowns and metrics that are zero everywhere left out.

    Args:
        collection: The collected study.
    """
    records = collection.records()
    hidden = {
        name
        for name in collection.metrics
        if is_breakdown(name) or all(not r[name] for r in records)
    }
    return [{k: v for k, v in r.items() if k not in hidden} for r in records]


_INT64 = range(-(2**63), 2**63)


def _kind(pa: Any, values: list[Any]) -> Any:
    """The column's Arrow type for its values.

    A JSON integer may have any size: beyond the int64 range the column is
    text, each value written exactly, never an error or a rounded float.
    """
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_()
    numbers = [v for v in present if isinstance(v, int | float) and not isinstance(v, bool)]
    if not present or len(numbers) != len(present):
        return pa.string()
    if any(isinstance(v, int) and v not in _INT64 for v in numbers):
        return pa.string()
    if all(isinstance(v, int) for v in numbers):
        return pa.int64()
    return pa.float64()


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)  # an integer as its exact digits


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list | bool):
        return json.dumps(value)
    return value
