"""idfkit's `SimulationCache` and `CacheKey`, under idfkit's module name.

The cache itself lives in `idfkit.simulation._simulation_cache`; this module
is the public name scripts written for idfkit import it by.
"""

from idfkit.simulation._simulation_cache import CacheKey, SimulationCache

__all__ = ["CacheKey", "SimulationCache"]
