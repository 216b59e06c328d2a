"""The part's only contact with a model: calls that both model layers answer alike.

A model handed to the part may come from either model layer (the part also
runs dropped into an installed idfkit), so it is touched only through these
calls: ``write_idf(doc)`` to serialise it, ``doc.copy()``, ``doc.version``,
``doc.all_objects`` with each object's ``obj_type`` to list it,
``doc[obj_type]`` and ``doc.add(obj_type, **fields)`` to add to it,
``setattr(obj, field, value)`` to set a field by name, and ``load_idf(path)``
to read a model file. See the package docstring of `idfkit.simulation`.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from idfkit.document import IDFDocument
from idfkit.writers import write_idf

__all__ = ["load_model", "model_from_text", "model_text", "object_types"]


def model_text(model: IDFDocument) -> str:
    """The model as IDF text, the form EnergyPlus reads and cache keys hash."""
    return write_idf(model)


def object_types(model: IDFDocument) -> frozenset[str]:
    """The object types the model holds at least one object of."""
    return frozenset(obj.obj_type for obj in model.all_objects)


def load_model(path: Path) -> IDFDocument:
    """The model in a local .idf or .epJSON file, read by idfkit's `load_idf`.

    Imported here, when called: idfkit's package imports the part before it
    defines `load_idf`.
    """
    from idfkit import load_idf

    return load_idf(str(path))


def model_from_text(text: str) -> IDFDocument:
    """A new document read from IDF text (through a temporary file: `load_idf` reads paths)."""
    with tempfile.TemporaryDirectory(prefix="idfkit-model-") as folder:
        path = Path(folder) / "model.idf"
        path.write_text(text, encoding="latin-1", errors="replace")
        return load_model(path)
