"""idfkit's `SimulationCache` and `CacheKey`, under idfkit's module name.

The cache itself lives in `idfkit.simulation._simulation_cache`; this module
is the public name scripts written for idfkit import it by, with
`default_simulation_cache_dir`.
"""

from __future__ import annotations

from pathlib import Path

from idfkit.simulation._cache_dirs import cache_root
from idfkit.simulation._simulation_cache import CacheKey, SimulationCache

__all__ = ["CacheKey", "SimulationCache", "default_simulation_cache_dir"]


def default_simulation_cache_dir() -> Path:
    """The local folder a `SimulationCache` uses when given none.

    ``simulation`` under idfkit's cache folder (`idfkit.simulation._cache_dirs.cache_root`):
    ``$IDFKIT_CACHE_DIR/simulation`` when that variable is set; otherwise the
    platform's cache folder: ``$XDG_CACHE_HOME`` (or ``~/.cache``)
    ``/idfkit/simulation`` on Linux, ``~/Library/Caches/idfkit/simulation`` on
    macOS, ``%LOCALAPPDATA%\\idfkit\\cache\\simulation`` on Windows.
    """
    return cache_root() / "simulation"
