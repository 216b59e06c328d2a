"""Models that ship with idfkit, for examples, the demo and tests."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["example_model", "example_models"]


def example_models() -> list[str]:
    """Names of the shipped models (``box``: one zone; ``two_zone``: two zones)."""
    folder = resources.files("idfkit.simulation") / "data"
    return sorted(p.name.removesuffix(".idf") for p in folder.iterdir() if p.name.endswith(".idf"))


def example_model(name: str = "box") -> Path:
    """The path of a shipped model; ``ValueError`` lists the names for an unknown one.

    Args:
        name: The model's name (``"box"``; `example_models` lists them all).
    """
    path = Path(str(resources.files("idfkit.simulation") / "data" / f"{name}.idf"))
    if not path.is_file():
        raise ValueError(f"no example model {name!r}; available: {', '.join(example_models())}")
    return path
