"""idfkit: EnergyPlus models and simulations, with results on any storage backend."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from idfkit.document import IDFDocument, IDFObject, load_idf
from idfkit.exceptions import IdfkitError, IdfParseError

try:
    __version__ = version("idfkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "IDFDocument",
    "IDFObject",
    "IdfParseError",
    "IdfkitError",
    "__version__",
    "load_idf",
]
