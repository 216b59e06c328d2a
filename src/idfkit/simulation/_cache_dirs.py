"""Where idfkit keeps its local caches: one answer for every cache.

The result cache (`default_simulation_cache_dir`), the download cache of
stored result files (`idfkit.simulation._fetch`) and the standalone model
layer's parsed-schema cache all live under `cache_root`. This module imports
nothing but the standard library, so asking costs nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["cache_root"]


def cache_root(platform: str | None = None) -> Path:
    """The folder idfkit's caches live under.

    ``$IDFKIT_CACHE_DIR`` when that variable is set; otherwise the platform's
    cache folder: ``$XDG_CACHE_HOME`` (or ``~/.cache``) ``/idfkit`` on Linux,
    ``~/Library/Caches/idfkit`` on macOS, ``%LOCALAPPDATA%\\idfkit\\cache`` on
    Windows.

    Args:
        platform: The platform to answer for, as `sys.platform` names it
            (this one when None).
    """
    explicit = os.environ.get("IDFKIT_CACHE_DIR")
    if explicit:
        return Path(explicit)
    platform = platform or sys.platform
    if platform == "darwin":
        return Path.home() / "Library" / "Caches" / "idfkit"
    if platform == "win32":
        local = os.environ.get("LOCALAPPDATA")
        return (Path(local) if local else Path.home() / "AppData" / "Local") / "idfkit" / "cache"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "idfkit"
