"""idfkit's name for the module that finds EnergyPlus: `idfkit.simulation.config`.

Scripts written for idfkit, and idfkit's own migration module, import
`EnergyPlusConfig`, `find_energyplus` and `normalize_version` from here; they
live in `idfkit.simulation.energyplus`.
"""

from __future__ import annotations

from idfkit.simulation.energyplus import EnergyPlusConfig, find_energyplus, normalize_version

__all__ = ["EnergyPlusConfig", "find_energyplus", "normalize_version"]
