"""idfkit's name for the module that finds EnergyPlus: `idfkit.simulation.config`.

Scripts written for idfkit import `EnergyPlusConfig` and `find_energyplus`
from here; they live in `idfkit.simulation.energyplus`.
"""

from __future__ import annotations

from idfkit.simulation.energyplus import EnergyPlusConfig, find_energyplus

__all__ = ["EnergyPlusConfig", "find_energyplus"]
