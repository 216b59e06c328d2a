"""idfkit's `SimulationCache` and `CacheKey`, under idfkit's module name.

The cache itself lives in `idfkit.simulation._simulation_cache`; this module
is the public name scripts written for idfkit import it by, with
`default_simulation_cache_dir`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from idfkit.simulation._simulation_cache import CacheKey, SimulationCache

__all__ = ["CacheKey", "SimulationCache", "default_simulation_cache_dir"]


def default_simulation_cache_dir() -> Path:
    """The local folder a `SimulationCache` uses when given none.

    ``$IDFKIT_CACHE_DIR/simulation`` when that variable is set; otherwise the
    platform's cache folder: ``$XDG_CACHE_HOME`` (or ``~/.cache``)
    ``/idfkit/simulation`` on Linux, ``~/Library/Caches/idfkit/simulation`` on
    macOS, ``%LOCALAPPDATA%\\idfkit\\cache\\simulation`` on Windows.
    """
    explicit = os.environ.get("IDFKIT_CACHE_DIR")
    if explicit:
        return Path(explicit) / "simulation"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "idfkit" / "simulation"
    if sys.platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        base = Path(local) if local else Path.home() / "AppData" / "Local"
        return base / "idfkit" / "cache" / "simulation"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "idfkit" / "simulation"
