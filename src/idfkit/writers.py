"""Writing a document as IDF or epJSON text, or to a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from idfkit.exceptions import IdfKitError, SchemaNotFoundError

if TYPE_CHECKING:
    from idfkit.document import IDFDocument
    from idfkit.objects import IDFObject

__all__ = ["save_epjson", "save_idf", "write_epjson", "write_idf"]

OutputType = Literal["standard", "nocomment", "compressed"]
Ordering = Literal["sorted", "original"]
_OUTPUT_TYPES = ("standard", "nocomment", "compressed")


def format_value(value: Any) -> str:
    """A field value as IDF text: ``10.0`` -> ``10``, None -> empty."""
    if value is None:
        return ""
    kind = value.__class__
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is float:
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def _ordered(doc: IDFDocument, ordering: str, version_first: bool) -> list[IDFObject]:
    if ordering == "original":
        objects = doc.objects
    else:
        objects = [o for _, c in sorted(doc.items(), key=lambda kv: kv[0].lower()) for o in c]
    if version_first:
        objects.sort(key=lambda o: o.obj_type.lower() != "version")
    return objects


def write_idf(
    doc: IDFDocument,
    output_type: OutputType | str | Path = "standard",
    *,
    preserve_formatting: bool | None = None,
    indent: int = 2,
    comment_column: int = 30,
    ordering: Ordering = "sorted",
    version_first: bool = True,
    field_comments: str = "preserve",
) -> str:
    """The document as IDF text.

    Args:
        doc: The document.
        output_type: ``"standard"`` (one field a line, with its name as a
            comment), ``"nocomment"``, or ``"compressed"`` (one object a
            line). A path here writes the text to that file too.
        preserve_formatting: Kept for idfkit's signature.
        indent: Spaces before each field.
        comment_column: Column where field comments start.
        ordering: ``"sorted"`` groups objects by type name; ``"original"``
            keeps the order read or added.
        version_first: Write ``Version`` first.
        field_comments: ``"preserve"`` keeps a field's comment from the source
            file; anything else writes the schema's field names.

    Returns:
        The text (also when it was written to a file).
    """
    path: Path | None = None
    if isinstance(output_type, Path) or output_type not in _OUTPUT_TYPES:
        path, output_type = Path(output_type), "standard"
    objects = _ordered(doc, ordering, version_first)
    if doc.format == "epjson" and any(o.schema_dict is None for o in objects):
        _need_schema(doc, "IDF")
    pad = " " * indent
    keep = field_comments == "preserve"
    chunks: list[str] = []
    append = chunks.append
    for obj in objects:
        if obj._leading:
            append("\n".join(obj._leading) + "\n")
        values = obj.fields
        if output_type == "compressed" or not values:
            cells = [obj.obj_type, *map(format_value, values)]
            append(",".join(cells) + ";\n\n")
            continue
        lines = [f"{obj.obj_type},"]
        info = obj.schema_dict
        comments = obj._comments if keep else None
        last = len(values) - 1
        for i, value in enumerate(values):
            cell = f"{pad}{format_value(value)}{';' if i == last else ','}"
            if output_type == "nocomment":
                lines.append(cell)
                continue
            label = comments[i] if comments is not None and i < len(comments) else None
            if label is None and info is not None:
                label = info.display_at(i)
            lines.append(f"{cell:<{comment_column - 1}} !- {label}" if label else cell)
        append("\n".join(lines) + "\n\n")
    text = "".join(chunks)
    if path is not None:
        path.write_text(text, encoding="latin-1")
    return text


def write_epjson(
    doc: IDFDocument, indent: int = 2, *, preserve_formatting: bool | None = None
) -> str:
    """The document as epJSON text (IDF models go through the schema).

    Args:
        doc: The document.
        indent: Spaces per level of nesting.
        preserve_formatting: For a model read by ``load_epjson(...,
            preserve_formatting=True)``: True or None give the file's own text
            back while the model is unchanged (``indent`` then does not apply);
            False always writes the model afresh. Other models ignore it.

    Returns:
        The text.
    """
    from idfkit._epjson import epjson_dict

    if doc.format == "idf":
        try:
            doc.bind_schema()
        except SchemaNotFoundError as exc:
            raise _schema_error(doc, "epJSON") from exc
    data = epjson_dict(doc)
    if doc._epjson_source is not None and preserve_formatting is not False:
        text, as_read = doc._epjson_source
        if json.dumps(data) == as_read:
            return text
    return json.dumps(data, indent=indent) + "\n"


def save_idf(
    doc: IDFDocument,
    path: Path | str,
    encoding: str = "latin-1",
    output_type: OutputType | str = "standard",
    **options: Any,
) -> None:
    """Write the document to an IDF file.

    Args:
        doc: The document.
        path: The file to write.
        encoding: The file's text encoding.
        output_type: ``"standard"``, ``"nocomment"`` or ``"compressed"``, as
            for `write_idf`.
        **options: The keywords of `write_idf` (``ordering``, ``indent``, ...).
    """
    Path(path).write_text(write_idf(doc, output_type, **options), encoding=encoding)


def save_epjson(
    doc: IDFDocument, path: Path | str, indent: int = 2, *, preserve_formatting: bool | None = None
) -> None:
    """Write the document to an epJSON file.

    Args:
        doc: The document.
        path: The file to write.
        indent: Spaces per level of nesting.
        preserve_formatting: As for `write_epjson`.
    """
    text = write_epjson(doc, indent, preserve_formatting=preserve_formatting)
    Path(path).write_text(text, encoding="utf-8")


def _need_schema(doc: IDFDocument, target: str) -> None:
    try:
        doc.bind_schema()
    except SchemaNotFoundError as exc:
        raise _schema_error(doc, target) from exc
    if any(o.schema_dict is None for o in doc.all_objects):
        raise IdfKitError(
            f"this epJSON model was read without the EnergyPlus schema; load it again "
            f"with a schema to write it as {target}"
        )


def _schema_error(doc: IDFDocument, target: str) -> SchemaNotFoundError:
    error = SchemaNotFoundError(None, [f"converting a {doc.format} model to {target}"])
    return error
