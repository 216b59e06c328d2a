"""idfkit's module name for `tqdm_progress`, which lives in `idfkit.simulation.progress`."""

from __future__ import annotations

from idfkit.simulation.progress import tqdm_progress

__all__ = ["tqdm_progress"]
