"""idfkit's module path for `prep_outputs`, which lives in `idfkit.simulation._staging`."""

from __future__ import annotations

from idfkit.simulation._staging import prep_outputs

__all__ = ["prep_outputs"]
