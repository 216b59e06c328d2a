"""The part and the model layer meet only where idfkit 1.1.1 meets them too.

`idfkit.simulation` must drop into an installed idfkit 1.1.1 (CI's
`transplant` session), so every import it makes from outside itself names
something idfkit 1.1.1 has, with the same meaning. And the model layer must
not need the part: `import idfkit` loads none of it.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import idfkit.simulation

PART = Path(idfkit.simulation.__file__).parent

#: Every name the part may import from outside itself: each is in idfkit 1.1.1,
#: with the meaning the part relies on. ``None`` allows ``import module`` itself.
IDFKIT_111 = {
    "idfkit": {"__version__", "load_idf", "IDFDocument"},
    "idfkit.document": {"IDFDocument"},
    "idfkit.exceptions": {
        "EnergyPlusNotFoundError",
        "ExpandObjectsError",
        "IdfKitError",
        "MigrationError",
        "RangeError",  # raised by IDFObject.checkrange, as in idfkit 1.1.1
        "SimulationError",
        "VersionMismatchError",
    },
    "idfkit.validation": {"ValidationResult", "validate_document"},
    "idfkit.versions": {"LATEST_VERSION"},
    "idfkit.writers": {"write_idf"},
}

#: Names that only a function body may import: idfkit 1.1.1's package imports
#: the part (through `idfkit.simulation.config`) before it defines them.
ONLY_WHEN_CALLED = {("idfkit", "load_idf"), ("idfkit", "IDFDocument")}


def _outside_imports(path: Path) -> list[tuple[str, str | None, int, bool]]:
    """``(module, name, line, at_module_level)`` for each import of idfkit outside the part."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(("idfkit", "simulation", *path.relative_to(PART).parent.parts))
    module_level = {id(node) for node in tree.body}
    module_level |= {
        id(inner)
        for node in tree.body
        if isinstance(node, ast.If)  # `if TYPE_CHECKING:` blocks
        for inner in node.body
    }
    found: list[tuple[str, str | None, int, bool]] = []
    for node in ast.walk(tree):
        top = id(node) in module_level
        if isinstance(node, ast.Import):
            found += [(a.name, None, node.lineno, top) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found += [(module, a.name, node.lineno, top) for a in node.names]
    return [
        f
        for f in found
        if (f[0] == "idfkit" or f[0].startswith("idfkit."))
        and f[0] != "idfkit.simulation"
        and not f[0].startswith("idfkit.simulation.")
    ]


def _attribute_uses(path: Path) -> set[str]:
    """The attributes read from the name ``idfkit`` (after ``import idfkit``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "idfkit"
    }


def test_the_part_imports_from_outside_only_what_idfkit_111_has() -> None:
    wrong = []
    for path in sorted(PART.rglob("*.py")):
        where = path.relative_to(PART)
        for module, name, line, top in _outside_imports(path):
            if name is None:
                if module != "idfkit":
                    wrong.append(f"{where}:{line}: import {module}")
                    continue
                for attr in _attribute_uses(path) - IDFKIT_111["idfkit"]:
                    wrong.append(f"{where}: idfkit.{attr}")
            elif name not in IDFKIT_111.get(module, set()):
                wrong.append(f"{where}:{line}: from {module} import {name}")
            elif top and (module, name) in ONLY_WHEN_CALLED:
                wrong.append(f"{where}:{line}: from {module} import {name} at module level")
    assert not wrong, "imports idfkit 1.1.1 does not offer the part:\n" + "\n".join(wrong)


def test_the_allowed_names_exist_in_the_installed_idfkit() -> None:
    """Under idfkit 1.1.1 (the transplant) this checks the list itself; standalone, ours."""
    missing = [
        f"{module}.{name}"
        for module, names in IDFKIT_111.items()
        for name in names
        if not hasattr(importlib.import_module(module), name)
    ]
    assert not missing


@pytest.mark.standalone_model
def test_idfkit_exceptions_offers_every_error_of_the_part_as_the_same_class() -> None:
    """The lazily offered names are exactly the part's errors (one list kept beside the other)."""
    import idfkit.exceptions
    import idfkit.simulation.exceptions as part

    offered = idfkit.exceptions._PART_ERRORS  # the list this test keeps honest
    assert offered == set(part.__all__)
    assert offered <= set(idfkit.exceptions.__all__)
    assert all(getattr(idfkit.exceptions, name) is getattr(part, name) for name in offered)


@pytest.mark.standalone_model
def test_import_idfkit_loads_nothing_of_the_part() -> None:
    """(idfkit 1.1.1's own package imports the part, through its migration module.)"""
    code = (
        "import sys, idfkit, idfkit.exceptions, idfkit.document, idfkit.writers\n"
        "print(sorted(m for m in sys.modules if m.startswith('idfkit.simulation')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.standalone_model  # this project's model layer; idfkit 1.1.1's loads more
def test_import_idfkit_loads_no_heavy_module() -> None:
    heavy = ["pydantic", "asyncio", "concurrent.futures", "sqlite3", "importlib.metadata"]
    code = f"import sys, idfkit\nprint([m for m in {heavy!r} if m in sys.modules])\n"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_import_of_the_part_defers_what_only_its_calls_need() -> None:
    """Start-up (issue 21): each public name loads its own module on first use."""
    heavy = ["pydantic", "asyncio", "concurrent.futures", "sqlite3", "importlib.metadata"]
    # What a synchronous simulate never uses: the asyncio façades and the readers it does not run.
    parsers = ("csv", "eso", "html")
    unused = [
        "asyncio",
        "idfkit.simulation.fs.async_",
        *(f"idfkit.simulation.parsers.{p}" for p in parsers),
    ]
    # What the part adds to its host's import (idfkit 1.1.1's own `import idfkit` loads some).
    code = (
        "import sys, idfkit\n"
        f"before = {{m for m in {heavy!r} if m in sys.modules}}\n"
        "parts = {m for m in sys.modules if m.startswith('idfkit.simulation.')}\n"
        "import idfkit.simulation\n"
        f"print([m for m in {heavy!r} if m in sys.modules and m not in before])\n"
        "print(sorted(m for m in sys.modules"
        " if m.startswith('idfkit.simulation.') and m not in parts))\n"
        "from idfkit.simulation import simulate\n"
        "print('idfkit.simulation.runner' in sys.modules, simulate.__module__)\n"
        f"print([m for m in {unused!r} if m in sys.modules and m not in before])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == ["[]", "[]", "True idfkit.simulation.runner", "[]"]
    # Every exported name resolves, to the object its own module defines.
    for name in idfkit.simulation.__all__:
        home = importlib.import_module(idfkit.simulation._HOMES[name])
        assert getattr(idfkit.simulation, name) is getattr(home, name), name
    assert set(idfkit.simulation._HOMES) == set(idfkit.simulation.__all__)
    assert set(idfkit.simulation.__all__) <= set(dir(idfkit.simulation))
    with pytest.raises(AttributeError, match="no attribute 'simulat'"):
        idfkit.simulation.simulat  # noqa: B018


def _module_level_imports(path: Path, root: Path) -> set[str]:
    """The idfkit modules a model module imports when it is loaded (not in functions)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{a.name}" for a in node.names}
    modules = {".".join(("idfkit", *p.relative_to(root).with_suffix("").parts)) for p in [path]}
    return {n for n in names if n.startswith("idfkit") and n not in modules}


@pytest.mark.standalone_model
def test_the_model_layer_has_no_import_cycle() -> None:
    """No model module imports another that (directly or not) imports it back at load time."""
    root = PART.parent
    files = {
        ".".join(("idfkit", *p.relative_to(root).with_suffix("").parts)): p
        for p in root.glob("*.py")
        if p.name != "__init__.py"
    }
    graph = {
        name: {m for m in _module_level_imports(path, root) if m in files}
        for name, path in files.items()
    }

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        for nxt in graph[start] - seen:
            seen.add(nxt)
            if nxt == goal or reaches(nxt, goal, seen):
                return True
        return False

    cycles = sorted(name for name in graph if reaches(name, name, set()))
    assert not cycles, f"modules in an import cycle: {cycles}"


def test_latest_version_and_the_versions_module_answer_as_idfkit() -> None:
    import idfkit
    from idfkit import versions

    assert idfkit.LATEST_VERSION == versions.LATEST_VERSION == (26, 2, 0)
    assert versions.MINIMUM_VERSION == (8, 9, 0)
    assert len(versions.ENERGYPLUS_VERSIONS) == 18
    assert versions.ENERGYPLUS_VERSIONS[:2] == ((8, 9, 0), (9, 0, 1))
    assert (22, 2, 0) in versions.ENERGYPLUS_VERSIONS
    assert versions.find_closest_version((25, 1, 5)) == (25, 1, 0)
    assert versions.find_closest_version((30, 0, 0)) == (26, 2, 0)
    assert versions.find_closest_version((7, 0, 0)) is None
    assert versions.is_supported_version((25, 2, 0))
    assert not versions.is_supported_version((25, 2, 1))
    assert versions.version_string((25, 2, 0)) == "25.2.0"
    assert versions.version_dirname((25, 2, 0)) == "V25-2-0"
    assert versions.github_release_tag((25, 2, 0)) == "v25.2.0"


def test_validate_document_returns_idfkit_validation_result() -> None:
    from idfkit import ValidationResult, new_document, validate_document

    doc = new_document()
    doc.add("Zone", "Office")
    clean = validate_document(doc)
    assert isinstance(clean, ValidationResult)
    assert clean.is_valid
    assert (clean.errors, clean.warnings, clean.info, clean.total_issues) == ([], [], [], 0)
    material = doc.add(
        "Material",
        "Brick",
        roughness="Rough",
        thickness=0.1,
        conductivity=0.9,
        density=1900,
        specific_heat=800,
    )
    material.thickness = -1.0
    found = validate_document(doc)
    assert not found.is_valid
    assert found.total_issues == len(found.errors) >= 1
    problem = next(e for e in found.errors if e.field == "thickness")
    assert (problem.obj_type, problem.obj_name) == ("Material", "Brick")
    assert "thickness" in str(problem)


@pytest.mark.standalone_model
def test_run_and_expand_come_from_the_simulation_mixin() -> None:
    """The document's only ways into the part live apart from it, importing it when called."""
    from idfkit._simulation_mixin import SimulationMixin
    from idfkit.document import IDFDocument

    assert issubclass(IDFDocument, SimulationMixin)
    assert "run" not in vars(IDFDocument) and "expand" not in vars(IDFDocument)


#: The storage backends: outside `idfkit.simulation.fs` a module may construct one
#: (the default local disk, a URL's backend, the demo's bucket) but never decide
#: by one; it asks a capability of `fs.base` (`SupportsLocalPath`,
#: `is_plain_local`, `same_store`, ...).
BACKEND_CLASSES = {
    "AsyncLocalFileSystem",
    "AsyncS3FileSystem",
    "AzureBlobFileSystem",
    "FsspecFileSystem",
    "GCSFileSystem",
    "LocalFileSystem",
    "MemoryFileSystem",
    "ObjectStoreFileSystem",
    "S3FileSystem",
}


def _backend_decisions(source: str, where: str) -> list[str]:
    """Where a module outside fs/ tells backends apart by class (isinstance, type(...))."""

    def names(node: ast.AST) -> set[str]:
        return {
            n.id if isinstance(n, ast.Name) else n.attr
            for n in ast.walk(node)
            if isinstance(n, ast.Name | ast.Attribute)
        } & BACKEND_CLASSES

    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        judged: ast.AST | None = None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("isinstance", "issubclass")
            and len(node.args) == 2
        ):
            judged = node.args[1]
        elif isinstance(node, ast.Compare) and any(
            isinstance(op, ast.Is | ast.IsNot | ast.Eq | ast.NotEq | ast.In | ast.NotIn)
            for op in node.ops
        ):
            judged = node
        elif isinstance(node, ast.MatchClass):
            judged = node.cls
        if judged is not None:
            found += [f"{where}:{node.lineno}: {n}" for n in names(judged)]
        if isinstance(node, ast.Compare):  # type(fs).__name__ == "S3FileSystem"
            strings = {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value}
            found += [f"{where}:{node.lineno}: {s!r}" for s in strings & BACKEND_CLASSES]
    return found


def test_no_module_outside_fs_decides_by_a_backend_class() -> None:
    decisions = [
        found
        for path in sorted(PART.rglob("*.py"))
        if not path.is_relative_to(PART / "fs")
        for found in _backend_decisions(
            path.read_text(encoding="utf-8"), str(path.relative_to(PART))
        )
    ]
    assert decisions == []


def test_the_backend_check_sees_a_decision_by_class() -> None:
    """The check above is not blind: it finds each form of a decision by class."""
    sample = (
        "def f(fs, kind):\n"
        "    if isinstance(fs, (LocalFileSystem, fs.MemoryFileSystem)):\n"
        "        return 1\n"
        "    if type(fs) is S3FileSystem or type(fs).__name__ == 'GCSFileSystem':\n"
        "        return 2\n"
        "    return LocalFileSystem(root=kind)  # a construction is allowed\n"
    )
    found = _backend_decisions(sample, "sample.py")
    assert sorted(line.split(": ", 1)[1] for line in found) == [
        "'GCSFileSystem'",
        "LocalFileSystem",
        "MemoryFileSystem",
        "S3FileSystem",
    ]
