"""idfkit's module for progress bars: `tqdm_progress` and `resolve_on_progress`.

`tqdm_progress` lives in `idfkit.simulation.progress`; this module is the
name scripts written for idfkit import it by.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from idfkit.simulation.progress import SimulationProgress, tqdm_progress

__all__ = ["resolve_on_progress", "tqdm_progress"]


def resolve_on_progress(
    on_progress: Callable[[SimulationProgress], Any] | str | None,
) -> tuple[Callable[[SimulationProgress], Any] | None, Callable[[], None] | None]:
    """The callback an `on_progress` argument stands for, and what to call when done.

    ``None`` gives ``(None, None)``; a callable comes back as it is, with no
    cleanup; ``"tqdm"`` opens a tqdm bar and gives its callback and a cleanup
    that closes the bar.

    Args:
        on_progress: ``"tqdm"``, a callable taking `SimulationProgress`, or None.

    Raises:
        ValueError: A string other than ``"tqdm"``.
        TypeError: Neither a string, a callable nor None.
        ImportError: ``"tqdm"`` without tqdm installed.
    """
    if on_progress is None:
        return None, None
    if isinstance(on_progress, str):
        if on_progress != "tqdm":
            raise ValueError(
                f"on_progress must be 'tqdm', a callable, or None -- got {on_progress!r}"
            )
        bar = tqdm_progress()
        callback = bar.__enter__()

        def close() -> None:
            bar.__exit__(None, None, None)

        return callback, close
    if not callable(on_progress):
        raise TypeError(
            f"on_progress must be 'tqdm', a callable, or None -- got {type(on_progress).__name__}"
        )
    return on_progress, None
