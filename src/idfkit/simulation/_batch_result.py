"""`BatchResult`: the results of a batch, in job order, with a summary table."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from idfkit.simulation._optional import optional_import
from idfkit.simulation.display import rows_to_html
from idfkit.simulation.parsers.err import first_cause
from idfkit.simulation.result import SimulationResult

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BatchResult"]


class BatchResult(Sequence[SimulationResult]):
    """One `SimulationResult` per job, in the order the jobs were given.

    A job that could not run at all still has a result: `success` is False,
    `exit_code` None, and `stderr` holds the error.

    Attributes:
        results: The results, in job order.
        total_runtime_seconds: Wall-clock seconds the whole batch took.

    Args:
        results: The results, in job order.
        total_runtime_seconds: Wall-clock seconds the whole batch took.
        labels: Each job's label, for `summary`; None leaves them blank.
        errors: Why each job could not run ("" for a job that ran); None
            when every job ran.
    """

    def __init__(
        self,
        results: Sequence[SimulationResult],
        total_runtime_seconds: float = 0.0,
        *,
        labels: Sequence[str] | None = None,
        errors: Sequence[str] | None = None,
    ) -> None:
        self.results: tuple[SimulationResult, ...] = tuple(results)
        self.total_runtime_seconds = total_runtime_seconds
        self._labels = tuple(labels) if labels is not None else ("",) * len(self.results)
        self._errors = tuple(errors) if errors is not None else ("",) * len(self.results)

    @overload
    def __getitem__(self, index: int) -> SimulationResult: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[SimulationResult, ...]: ...
    def __getitem__(self, index: int | slice) -> SimulationResult | tuple[SimulationResult, ...]:
        return self.results[index]

    def __len__(self) -> int:
        return len(self.results)

    def __iter__(self) -> Iterator[SimulationResult]:
        return iter(self.results)

    @property
    def succeeded(self) -> tuple[SimulationResult, ...]:
        """The results of jobs that ran and succeeded."""
        return tuple(r for r, e in zip(self.results, self._errors, strict=True) if _ok(r, e))

    @property
    def failed(self) -> tuple[SimulationResult, ...]:
        """The results of jobs that failed or could not run."""
        return tuple(r for r, e in zip(self.results, self._errors, strict=True) if not _ok(r, e))

    @property
    def all_succeeded(self) -> bool:
        """Whether every job succeeded."""
        return len(self.succeeded) == len(self.results)

    def summary(self) -> list[dict[str, Any]]:
        """One row per job: index, label, status, runtime_seconds, error."""
        rows = []
        for i, (result, label, error) in enumerate(
            zip(self.results, self._labels, self._errors, strict=True)
        ):
            if error:
                status, runtime, detail = "error", None, error
            else:
                status = "succeeded" if result.success else "failed"
                runtime, detail = result.runtime_seconds, "" if result.success else _why(result)
            rows.append(
                {
                    "index": i,
                    "label": label,
                    "status": status,
                    "runtime_seconds": runtime,
                    "error": detail,
                }
            )
        return rows

    def to_dataframe(self) -> pd.DataFrame:
        """The summary as a DataFrame indexed by job (needs pandas)."""
        pandas = optional_import("pandas", "to_dataframe()")
        frame: pd.DataFrame = pandas.DataFrame(self.summary()).set_index("index")
        return frame

    def __repr__(self) -> str:
        return f"<BatchResult {len(self.succeeded)}/{len(self)} succeeded>"

    def _repr_html_(self) -> str:
        return rows_to_html(self.summary(), caption=repr(self)[1:-1])


def _ok(result: SimulationResult, error: str) -> bool:
    return not error and result.success


def _why(result: SimulationResult) -> str:
    """The line of what a failed run's manifest says went wrong that names the cause."""
    manifest = getattr(result, "manifest", None)
    summary = getattr(manifest, "error_summary", "") or result.stderr
    return first_cause(summary)
