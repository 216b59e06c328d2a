"""A minimal EnergyPlus model document: parse, query, edit, copy and write.

Only what running a simulation needs. There is no schema here, so a field is
known by its position (IDF) or by its key (epJSON), never validated. IDF text
keeps each field's ``!-`` comment, so a model written back reads as it came.
"""

from __future__ import annotations

import copy as _copy
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from idfkit.exceptions import IdfkitError, IdfParseError

__all__ = ["IDFDocument", "IDFObject", "load_idf"]

Format = Literal["idf", "epjson"]

_TYPE_RE = re.compile(r"[A-Za-z][A-Za-z0-9:_\-]*\Z")
_FORBIDDEN_IN_FIELD = re.compile(r"[,;!\n\r]")


@dataclass(eq=True)
class IDFObject:
    """One object: its type and its fields in order.

    ``field_names`` runs beside ``fields``: the ``!-`` comment of an IDF field
    (or None), or the key of an epJSON property (the first is ``"name"``).
    """

    type: str
    fields: list[Any]
    field_names: list[str | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        if len(self.field_names) < len(self.fields):
            self.field_names += [None] * (len(self.fields) - len(self.field_names))

    @property
    def name(self) -> str:
        """The first field, which is the object's name for most types."""
        return str(self.fields[0]) if self.fields else ""

    def __getitem__(self, index: int) -> Any:
        return self.fields[index]


class IDFDocument:
    """An EnergyPlus model held as a list of objects, in IDF or epJSON form."""

    def __init__(
        self,
        objects: Sequence[IDFObject] = (),
        *,
        format: Format = "idf",
        source: Path | None = None,
    ) -> None:
        self.objects: list[IDFObject] = list(objects)
        self.format: Format = format
        self.source = source

    # -- parsing ---------------------------------------------------------
    @classmethod
    def from_idf_text(cls, text: str, *, source: Path | None = None) -> IDFDocument:
        return cls(_parse_idf(text), format="idf", source=source)

    @classmethod
    def from_epjson_text(cls, text: str, *, source: Path | None = None) -> IDFDocument:
        return cls(_parse_epjson(text), format="epjson", source=source)

    # -- query -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.objects)

    def __iter__(self) -> Iterator[IDFObject]:
        return iter(self.objects)

    def __contains__(self, obj_type: object) -> bool:
        return isinstance(obj_type, str) and any(True for _ in self._matching(obj_type))

    def __getitem__(self, obj_type: str) -> list[IDFObject]:
        """All objects of a type, matched case-insensitively (empty if none)."""
        return list(self._matching(obj_type))

    def _matching(self, obj_type: str) -> Iterator[IDFObject]:
        wanted = obj_type.lower()
        return (obj for obj in self.objects if obj.type.lower() == wanted)

    def types(self) -> list[str]:
        """The distinct object types, in order of first appearance."""
        return list(dict.fromkeys(obj.type for obj in self.objects))

    @property
    def version(self) -> tuple[int, ...] | None:
        """The model's EnergyPlus version as numbers, e.g. ``(25, 2)``."""
        found = self["Version"]
        # IDF: the first field; epJSON: the property after the instance name.
        position = 0 if self.format == "idf" else 1
        if not found or len(found[0].fields) <= position:
            return None
        text = str(found[0].fields[position]).strip()
        parts = re.findall(r"\d+", text)
        return tuple(int(p) for p in parts) or None

    # -- editing ---------------------------------------------------------
    def add(self, obj_type: str, *fields: Any, **properties: Any) -> IDFObject:
        """Append an object and return it.

        IDF documents take positional fields. epJSON documents take the name
        as the first positional field (a unique one is made if omitted) and
        the rest as keyword properties.
        """
        if not _TYPE_RE.match(obj_type):
            raise ValueError(f"invalid object type {obj_type!r}")
        if self.format == "idf":
            if properties:
                raise TypeError(
                    f"IDF objects take positional fields; got keywords {sorted(properties)}"
                )
            values = [_check_field(obj_type, i, v) for i, v in enumerate(fields)]
            obj = IDFObject(obj_type, values)
        else:
            if len(fields) > 1:
                raise TypeError("epJSON objects take one positional field (the name)")
            name = str(fields[0]) if fields else self._unique_name(obj_type)
            obj = IDFObject(obj_type, [name, *properties.values()], ["name", *properties])
        self.objects.append(obj)
        return obj

    def _unique_name(self, obj_type: str) -> str:
        taken = {o.name for o in self._matching(obj_type)}
        n = 1
        while f"{obj_type} {n}" in taken:
            n += 1
        return f"{obj_type} {n}"

    def remove(self, obj: IDFObject) -> None:
        """Remove one object (by identity); ValueError if it is not here."""
        for i, candidate in enumerate(self.objects):
            if candidate is obj:
                del self.objects[i]
                return
        raise ValueError(f"{obj.type} {obj.name!r} is not in this document")

    def copy(self) -> IDFDocument:
        """A deep copy: editing it never changes this document."""
        return IDFDocument(_copy.deepcopy(self.objects), format=self.format, source=self.source)

    # -- writing ---------------------------------------------------------
    def to_idf(self) -> str:
        """IDF text that EnergyPlus accepts and that re-reads to the same objects."""
        if self.format != "idf":
            raise IdfkitError(
                "an epJSON model cannot be written as IDF without the EnergyPlus schema; "
                "write it with a .epJSON suffix"
            )
        return "".join(_format_idf_object(obj) for obj in self.objects)

    def to_epjson(self) -> str:
        """epJSON text (epJSON documents only, for the same reason as ``to_idf``)."""
        if self.format != "epjson":
            raise IdfkitError(
                "an IDF model cannot be written as epJSON without the EnergyPlus schema; "
                "write it with a .idf suffix"
            )
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for obj in self.objects:
            keys = [k or f"field_{i}" for i, k in enumerate(obj.field_names[1:], start=1)]
            props = dict(zip(keys, obj.fields[1:], strict=True))
            out.setdefault(obj.type, {})[obj.name] = props
        return json.dumps(out, indent=2) + "\n"

    @property
    def suffix(self) -> str:
        """The file suffix that matches this document's format."""
        return ".idf" if self.format == "idf" else ".epJSON"

    def text(self) -> str:
        """The document in its own format."""
        return self.to_idf() if self.format == "idf" else self.to_epjson()

    def write(self, path: str | Path) -> Path:
        """Write the document in its own format to a local file."""
        target = Path(path)
        target.write_text(self.text(), encoding="utf-8")
        return target

    def __repr__(self) -> str:
        where = f" from {self.source}" if self.source else ""
        return f"<IDFDocument {self.format} with {len(self.objects)} objects{where}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IDFDocument):
            return NotImplemented
        return self.format == other.format and self.objects == other.objects

    __hash__ = None  # type: ignore[assignment]


def load_idf(source: str | Path) -> IDFDocument:
    """Load a model from an .idf or .epJSON file, or parse IDF text given as a string.

    A string is taken as text when it is not an existing file and holds a
    ``;`` or a newline. A missing file raises ``FileNotFoundError`` naming it.
    """
    if isinstance(source, str) and not _is_existing_file(source) and _looks_like_text(source):
        return IDFDocument.from_idf_text(source)
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"model file not found: {path}")
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix.lower() == ".epjson":
        return IDFDocument.from_epjson_text(text, source=path)
    return IDFDocument.from_idf_text(text, source=path)


def _is_existing_file(text: str) -> bool:
    if "\n" in text or "\0" in text or len(text) > 4096:
        return False
    try:
        return Path(text).is_file()
    except OSError:
        return False


def _looks_like_text(text: str) -> bool:
    return ";" in text or "\n" in text


def _check_field(obj_type: str, index: int, value: Any) -> str:
    text = str(value).strip()
    if _FORBIDDEN_IN_FIELD.search(text):
        raise ValueError(
            f"{obj_type} field {index + 1} holds a character IDF cannot carry: {text!r}"
        )
    return text


def _format_idf_object(obj: IDFObject) -> str:
    if not obj.fields:
        return f"{obj.type};\n\n"
    lines = [f"{obj.type},"]
    last = len(obj.fields) - 1
    for i, (value, name) in enumerate(zip(obj.fields, obj.field_names, strict=True)):
        cell = f"  {value}{';' if i == last else ','}"
        lines.append(f"{cell:<27}!- {name}" if name else cell)
    return "\n".join(lines) + "\n\n"


def _parse_idf(text: str) -> list[IDFObject]:
    """Split IDF text into objects: fields end at ``,``, objects at ``;``."""
    objects: list[IDFObject] = []
    values: list[str] = []
    names: list[str | None] = []
    token: list[str] = []
    start_line = 0
    line = 1
    just_closed: IDFObject | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "!":
            end = text.find("\n", i)
            end = n if end < 0 else end
            comment = text[i + 1 : end]
            # "!- Name" after a field's comma (or the closing ';') names that field.
            if comment.startswith("-") and not "".join(token).strip():
                if values:
                    names[-1] = comment[1:].strip() or None
                elif just_closed is not None and just_closed.fields:
                    just_closed.field_names[-1] = comment[1:].strip() or None
            i = end
            continue
        if ch == "\n":
            line += 1
        if ch in ",;":
            value = "".join(token).strip()
            token.clear()
            if not values and not start_line:
                start_line = line
            values.append(value)
            names.append(None)
            if ch == ";":
                just_closed = _make_object(values, names, start_line)
                objects.append(just_closed)
                values, names, start_line = [], [], 0
        else:
            if not ch.isspace():
                just_closed = None
                if not start_line:
                    start_line = line
            token.append(ch)
        i += 1
    if values or "".join(token).strip():
        raise IdfParseError(
            "object is not terminated by ';' before the end of the text", start_line
        )
    return objects


def _make_object(values: list[str], names: list[str | None], line: int) -> IDFObject:
    obj_type = values[0]
    if not obj_type:
        raise IdfParseError("object has no type before its first ',' or ';'", line)
    if not _TYPE_RE.match(obj_type):
        raise IdfParseError(f"invalid object type {obj_type[:60]!r}", line)
    fields = values[1:]
    # A bare "Type;" has no fields; "Type,;" has one empty field.
    return IDFObject(obj_type, fields, names[1:])


def _parse_epjson(text: str) -> list[IDFObject]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IdfParseError(f"not valid JSON: {exc.msg}", exc.lineno) from exc
    if not isinstance(data, dict):
        raise IdfParseError("epJSON must be an object of object types")
    objects: list[IDFObject] = []
    for obj_type, instances in data.items():
        if not _TYPE_RE.match(obj_type):
            raise IdfParseError(f"invalid object type {obj_type[:60]!r}")
        if not isinstance(instances, dict):
            raise IdfParseError(f"{obj_type}: expected an object of named instances")
        for name, props in instances.items():
            if not isinstance(props, dict):
                raise IdfParseError(f"{obj_type} {name!r}: expected an object of properties")
            objects.append(IDFObject(obj_type, [name, *props.values()], ["name", *props]))
    return objects
