"""`IDFDocument.run` and `IDFDocument.expand`: the model layer's only ways into the part.

Kept apart from the document, as idfkit keeps them, and importing
`idfkit.simulation` only when called, so `import idfkit` loads none of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from idfkit.document import IDFDocument

__all__ = ["SimulationMixin"]


class SimulationMixin:
    """Simulation shortcuts on a document, answered by `idfkit.simulation`."""

    def run(self, weather: str | Path | None = None, **kwargs: Any) -> Any:
        """Simulate this model (see `idfkit.simulation.simulate`).

        Args:
            weather: The weather file; None for a design-day-only run.
            **kwargs: Passed to `simulate`.
        """
        from idfkit.simulation import simulate

        return simulate(self._as_document(), weather, **kwargs)

    def expand(self, *, energyplus: Any = None, timeout: float = 120.0) -> IDFDocument:
        """A copy with the `HVACTemplate:*` objects expanded by EnergyPlus's ExpandObjects.

        See `idfkit.simulation.expand_objects`; this document is not changed.

        Args:
            energyplus: The `EnergyPlusConfig` to use; found when None.
            timeout: Seconds ExpandObjects may run.
        """
        from idfkit.simulation.expand import expand_objects

        return expand_objects(self._as_document(), energyplus=energyplus, timeout=timeout)

    def _as_document(self) -> IDFDocument:
        from idfkit.document import IDFDocument

        assert isinstance(self, IDFDocument)
        return self
