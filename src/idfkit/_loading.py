"""Reading models from files and text (`load_idf`, `load_epjson`) and starting new ones."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from idfkit import _suggest
from idfkit.document import IDFDocument, _raise_or_keep
from idfkit.exceptions import ParseDiagnostic, SchemaNotFoundError
from idfkit.schema import EpJSONSchema, get_schema

__all__ = ["load_epjson", "load_idf", "new_document"]


def _bind_for_load(doc: IDFDocument, strict_parsing: bool, schema: Any) -> IDFDocument:
    """Attach the schema now when one is found; unknown types are parse problems."""
    try:
        found = schema if isinstance(schema, EpJSONSchema) else get_schema(schema)
    except SchemaNotFoundError:
        if schema is not None:
            raise
        _raise_or_keep(doc, [], strict_parsing)
        return doc
    doc._schema = found
    doc._bound = True
    unknown = doc._attach(found)
    problems = [
        ParseDiagnostic(
            f"Unknown object type {o.obj_type!r}"
            + (
                f"; did you mean {' or '.join(map(repr, hint))}?"
                if (hint := _suggest.closest(o.obj_type, found.object_types))
                else ""
            ),
            str(doc.filepath) if doc.filepath else None,
            o.obj_type,
            o.fields[0] if o.fields else None,
            code="UnknownObjectType",
        )
        for o in unknown
    ]
    _raise_or_keep(doc, problems, strict_parsing)
    for obj in unknown:
        doc.removeidfobject(obj)
    return doc


def load_idf(
    path: str | Path,
    version: tuple[int, int, int] | None = None,
    *,
    strict_parsing: bool = True,
    strict: bool = True,
    preserve_formatting: bool = False,
    schema: EpJSONSchema | str | Path | None = None,
) -> IDFDocument:
    """Load a model from an .idf (or .epJSON) file, or parse IDF text given as a string.

    Args:
        path: A file path, or IDF text (a string that is not an existing file
            and holds a ``;`` or a newline).
        version: The version to assume when the model has no ``Version``.
        strict_parsing: Raise `IDFParseError` on the first problem; False
            skips bad objects and keeps the problems in ``doc.diagnostics``.
        strict: Kept for idfkit's signature.
        preserve_formatting: Kept for idfkit's signature: an IDF file's
            comments are always kept. For an epJSON file, as for `load_epjson`.
        schema: An `EpJSONSchema` or a schema path; None finds one.

    Raises:
        FileNotFoundError: No such file.
        IDFParseError: Text that is not IDF (with ``strict_parsing``).
    """
    if isinstance(path, str) and not _is_existing_file(path) and (";" in path or "\n" in path):
        doc = IDFDocument.from_idf_text(path, strict_parsing=False)
    else:
        target = Path(path)
        if not target.is_file():
            raise FileNotFoundError(f"model file not found: {target}")
        if target.suffix.lower() == ".epjson":
            return load_epjson(
                target,
                version,
                strict=strict,
                preserve_formatting=preserve_formatting,
                schema=schema,
            )
        text = target.read_text(encoding="latin-1")
        doc = IDFDocument.from_idf_text(text, source=target, strict_parsing=False)
    doc._version = version
    doc._strict = strict
    return _bind_for_load(doc, strict_parsing, schema)


def load_epjson(
    path: str | Path,
    version: tuple[int, int, int] | None = None,
    *,
    strict: bool = True,
    preserve_formatting: bool = False,
    schema: EpJSONSchema | str | Path | None = None,
) -> IDFDocument:
    """Load a model from an .epJSON file (through the schema when one is found).

    Args:
        path: The epJSON file.
        version: The version to assume when the model has no ``Version``.
        strict: Kept for idfkit's signature: unknown field names always raise.
        preserve_formatting: Keep the file's text, so that `write_epjson` and
            `save_epjson` give it back byte for byte while the model is
            unchanged (as in idfkit). An edit, addition or removal makes them
            write the model afresh.
        schema: An `EpJSONSchema` or a schema path; None finds one, and
            without one the objects keep the fields the file names.

    Raises:
        FileNotFoundError: No such file.
    """
    target = Path(path)
    if not target.is_file():
        raise FileNotFoundError(f"model file not found: {target}")
    try:
        found: EpJSONSchema | None = (
            schema if isinstance(schema, EpJSONSchema) else get_schema(schema)
        )
    except SchemaNotFoundError:
        if schema is not None:
            raise
        found = None
    text = target.read_text(encoding="utf-8")
    doc = IDFDocument.from_epjson_text(text, source=target, schema=found)
    doc._version = version
    doc._strict = strict
    if preserve_formatting:
        from idfkit._epjson import epjson_dict

        doc._epjson_source = (text, json.dumps(epjson_dict(doc)))
    return doc


def new_document(
    version: tuple[int, int, int] | None = None,
    *,
    strict: bool = True,
    schema: EpJSONSchema | str | Path | None = None,
) -> IDFDocument:
    """An empty model with a ``Version`` and idfkit's starting objects.

    Args:
        version: The EnergyPlus version; None takes the schema's.
        strict: Kept for idfkit's signature.
        schema: An `EpJSONSchema` or a schema path; None finds one.
    """
    doc = IDFDocument(version, schema, strict=strict)
    found = doc.bind_schema()
    major, minor, _ = version or found.version
    doc.add("Version", "", version_identifier=f"{major}.{minor}")
    doc.add("Building", "Building")
    doc.add(
        "GlobalGeometryRules",
        "",
        starting_vertex_position="UpperLeftCorner",
        vertex_entry_direction="Counterclockwise",
        coordinate_system="Relative",
    )
    doc.add("SimulationControl")
    return doc


def _is_existing_file(text: str) -> bool:
    if "\n" in text or "\0" in text or len(text) > 4096:
        return False
    try:
        return Path(text).is_file()
    except OSError:
        return False
