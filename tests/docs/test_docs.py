"""The docs' ``python`` code blocks, executed (``py`` blocks are signatures and sketches)."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
import types
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

import idfkit
from idfkit import load_idf
from idfkit.simulation import IncompleteResultError, SimulationResult, simulate
from idfkit.simulation.study import write_study
from idfkit.simulation.testing import FileSystemContract, LocalS3Server

ROOT = Path(__file__).parents[2]
SRC = Path(idfkit.__file__).resolve().parents[1]  # the package under test
DOCS = ROOT / "docs"


def python_blocks(page: str | Path) -> list[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE)


def test_cloud_storage_guide_runs_top_to_bottom(
    moto_server: LocalS3Server,
    monkeypatch: pytest.MonkeyPatch,
    box_model: Path,
    weather: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reset = urllib.request.Request(f"{moto_server.endpoint_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset).close()
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server.endpoint_url)
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in ["my-simulations", "simulations", "my-bucket"]:
        s3.create_bucket(Bucket=bucket)
    model = load_idf(box_model)
    variants = []
    for thickness in ["0.05", "0.10", "0.20"]:
        variant = model.copy()
        variant["Material"][0].thickness = float(thickness)
        variants.append(variant)
    namespace: dict[str, Any] = {"model": model, "weather": weather, "variants": variants}
    blocks = python_blocks("cloud-storage.md")
    assert len(blocks) >= 10
    for block in blocks:
        exec(compile(block, "docs/cloud-storage.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "s3://my-simulations/batch-42/run-001" in out
    assert "<BatchResult 3/3 succeeded>" in out
    assert "8760 C" in out
    assert "['run-001/eplus.sql']" in out
    assert "AKIA" not in out  # the repr shown never carries the keys
    assert namespace["local_result"].success


def run_alone(block: str, folder: Path) -> subprocess.CompletedProcess[str]:
    """A code block run as written: a new Python process in a new, empty folder."""
    folder.mkdir(parents=True)
    return subprocess.run(
        [sys.executable, "-c", block],
        cwd=folder,
        env={**os.environ, "PYTHONPATH": str(SRC), "MPLBACKEND": "Agg"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.usefixtures("energyplus")  # runs the engine it finds
def test_readme_tour_runs(tmp_path: Path) -> None:
    [tour] = python_blocks(ROOT / "README.md")
    ran = run_alone(tour, tmp_path / "new")
    assert ran.returncode == 0, ran.stderr
    assert "<BatchResult 3/3 succeeded>" in ran.stdout
    assert "True 8760 C" in ran.stdout


GETTING_STARTED = python_blocks("getting-started.md")


@pytest.mark.usefixtures("energyplus")  # runs the engine it finds
@pytest.mark.parametrize("number", range(len(GETTING_STARTED)))
def test_each_getting_started_block_runs_on_its_own(number: int, tmp_path: Path) -> None:
    block = GETTING_STARTED[number]
    ran = run_alone(block, tmp_path / "new")
    assert ran.returncode == 0, f"block {number}:\n{block}\n{ran.stderr}"


def test_getting_started_shows_every_example_as_a_block_that_runs() -> None:
    text = (DOCS / "getting-started.md").read_text(encoding="utf-8")
    assert "```py\n" not in text  # no sketches: every Python example is run by the test above
    assert len(GETTING_STARTED) == 6
    assert "Editing models" in text and 'load_idf(example_model("box"))' in GETTING_STARTED[-1]


class ResourceNotFoundError(Exception):
    """Stands in for azure.core.exceptions.ResourceNotFoundError."""


class _Download:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def readall(self) -> bytes:
        return self.data


class InMemoryContainerClient:
    """The slice of azure.storage.blob.ContainerClient that the docs' backend calls."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}

    def upload_blob(self, name: str, data: bytes, overwrite: bool = False) -> None:
        if name in self.blobs and not overwrite:
            raise FileExistsError(name)
        self.blobs[name] = bytes(data)

    def download_blob(self, name: str) -> _Download:
        if name not in self.blobs:
            raise ResourceNotFoundError(name)
        return _Download(self.blobs[name])

    def delete_blob(self, name: str) -> None:
        if self.blobs.pop(name, None) is None:
            raise ResourceNotFoundError(name)

    def get_blob_client(self, name: str) -> Any:
        return types.SimpleNamespace(exists=lambda: name in self.blobs)

    def list_blobs(self, name_starts_with: str | None = None) -> Iterator[Any]:
        for name in sorted(self.blobs):
            if name.startswith(name_starts_with or ""):
                yield types.SimpleNamespace(name=name)


@pytest.fixture(scope="module")
def azure_backend_class() -> Iterator[type]:
    """AzureBlobFileSystem exactly as the docs write it, with a stand-in Azure SDK."""
    fake = {
        "azure": types.ModuleType("azure"),
        "azure.core": types.ModuleType("azure.core"),
        "azure.core.exceptions": types.ModuleType("azure.core.exceptions"),
    }
    fake["azure.core.exceptions"].ResourceNotFoundError = ResourceNotFoundError  # type: ignore[attr-defined]
    # The page's code becomes a real module, so its class pickles like any other.
    fake["docs_custom_backends"] = types.ModuleType("docs_custom_backends")
    saved = {name: sys.modules.get(name) for name in fake}
    sys.modules.update(fake)
    try:
        [block] = python_blocks("custom-backends.md")
        module = fake["docs_custom_backends"]
        exec(compile(block, "docs/custom-backends.md", "exec"), module.__dict__)
        yield module.AzureBlobFileSystem  # type: ignore[attr-defined]
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


class TestCustomBackendFromDocs(FileSystemContract):
    @pytest.fixture
    def fs(self, azure_backend_class: type) -> Any:
        return azure_backend_class(InMemoryContainerClient(), prefix="study-001/")


def test_custom_backend_carries_a_real_simulation(
    azure_backend_class: type, box_model: Path, weather: Path
) -> None:
    container = InMemoryContainerClient()
    fs = azure_backend_class(container, prefix="study-001/")
    result = simulate(box_model, weather, output_dir="case-1", fs=fs)
    assert result.success
    assert "study-001/case-1/eplus.sql" in container.blobs
    genuine = container.blobs["study-001/case-1/eplus.sql"]
    container.blobs["study-001/case-1/eplus.sql"] = b"tampered"
    with pytest.raises(IncompleteResultError, match="differs from its manifest"):
        _ = SimulationResult.from_directory("case-1", fs=fs).sql
    container.blobs["study-001/case-1/eplus.sql"] = genuine
    again = SimulationResult.from_directory("case-1", fs=fs)
    assert len(again.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")) == 8760  # type: ignore[union-attr]


def _documented(target: str, options: str) -> list[object]:
    """The classes and functions one ``::: target`` line of the reference renders.

    As mkdocstrings renders a module: the names in its ``__all__`` (else those
    it defines), less the names its ``filters`` option leaves out; with
    ``members: false``, the module's docstring alone.
    """
    parts = target.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for part in parts[cut:]:
            found = getattr(found, part)
        break
    if not inspect.ismodule(found):
        return [found]
    if "members: false" in options:
        return []
    hidden = set(re.findall(r"!\^(\w+)\$", options))
    names = getattr(found, "__all__", None) or [
        name
        for name, value in vars(found).items()
        if getattr(value, "__module__", None) == found.__name__ and not name.startswith("_")
    ]
    members = [getattr(found, name) for name in names if name not in hidden]
    return [m for m in members if inspect.isclass(m) or inspect.isfunction(m)]


@pytest.mark.standalone_model  # renders this project's idfkit.exceptions, not idfkit's
def test_the_api_reference_lists_each_object_once() -> None:
    text = (DOCS / "reference.md").read_text(encoding="utf-8")
    entries = re.findall(r"^::: (\S+)\n((?:    .*\n)*)", text, flags=re.MULTILINE)
    assert len(entries) >= 50
    where: dict[int, list[str]] = {}
    for target, options in entries:
        for obj in _documented(target, options):
            where.setdefault(id(obj), []).append(f"{target} ({obj.__qualname__})")  # type: ignore[attr-defined]
    twice = [places for places in where.values() if len(places) > 1]
    assert twice == []
    study = _documented("idfkit.simulation.study.index", "")
    assert write_study in study  # still documented, in its own module


@pytest.mark.usefixtures("energyplus")  # runs the engine it finds
def test_the_notebook_shows_rounded_numbers_and_no_port(tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    notebook = nbformat.read(DOCS / "examples" / "parametric-study.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=600, resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    shown = [
        output.get("data", {}).get("text/plain") or output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    ]
    assert shown[0] == "'s3://notebook-study/glazing/'"  # where, without the server's port
    assert not any("127.0.0.1" in text or "endpoint_url" in text for text in shown)
    [table] = [text for text in shown if "heating_kwh" in text]
    numbers = re.findall(r"\d+\.\d+", table)
    assert numbers and all(len(n.partition(".")[2]) == 1 for n in numbers), table


def _public_modules() -> Iterator[types.ModuleType]:
    """idfkit and every module under it whose dotted path has no private part."""
    yield idfkit
    for info in pkgutil.walk_packages(idfkit.__path__, "idfkit."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            yield importlib.import_module(info.name)


def _ours(obj: object) -> bool:
    return str(getattr(obj, "__module__", None) or "").startswith("idfkit")


def _public_functions() -> dict[str, tuple[Any, type | None]]:
    """Every public function and method, by qualified name, with the class it is read on.

    The names a public module exports (its ``__all__``, else the public names it
    defines), and for each exported class the public methods it has from its own
    classes (a private base's methods count: they are the class's API). A
    constructor written by hand counts as the class's; one a dataclass writes
    does not (its fields are the class's attributes).
    """
    found: dict[str, tuple[Any, type | None]] = {}
    for module in _public_modules():
        names = getattr(module, "__all__", None) or [
            name
            for name, value in vars(module).items()
            if not name.startswith("_") and getattr(value, "__module__", None) == module.__name__
        ]
        for value in (getattr(module, name) for name in names):
            if not _ours(value):
                continue
            if inspect.isfunction(value):
                found.setdefault(f"{value.__module__}.{value.__qualname__}", (value, None))
            elif inspect.isclass(value):
                for klass in value.__mro__:
                    if not _ours(klass):
                        continue
                    for name, member in vars(klass).items():
                        if isinstance(member, staticmethod | classmethod):
                            member = member.__func__
                        if not inspect.isfunction(member) or not _ours(member):
                            continue
                        if name.startswith("_") and name != "__init__":
                            continue
                        if name.startswith("test_") or member.__code__.co_filename == "<string>":
                            continue  # a contract suite's test cases; a dataclass's __init__
                        where = f"{klass.__module__}.{member.__qualname__}"
                        found.setdefault(where, (member, klass))
    return found


def _parameters(function: Any) -> list[str]:
    names = list(inspect.signature(function).parameters)
    return names[1:] if names[:1] in (["self"], ["cls"]) else names


def _args_documented(docstring: str | None) -> set[str] | None:
    """The names an ``Args:`` section documents (``*args`` as ``args``), None without one."""
    lines = inspect.cleandoc(docstring or "").splitlines()
    for at, line in enumerate(lines):
        if line.strip() == "Args:":
            indent = len(line) - len(line.lstrip())
            names: set[str] = set()
            for entry in lines[at + 1 :]:
                if entry.strip() and len(entry) - len(entry.lstrip()) <= indent:
                    break
                match = re.match(r"\s*\*{0,2}(\w+)(?: \(.*\))?:", entry)
                if match:
                    names.add(match.group(1))
            return names
    return None


def _undocumented(function: Any, klass: type | None) -> list[str]:
    """The parameters (self and cls aside) that the docstring's ``Args:`` leaves out."""
    docstring = function.__doc__
    if function.__name__ == "__init__" and _args_documented(docstring) is None:
        docstring = klass.__doc__ if klass else None  # a constructor's arguments may be the class's
    documented = _args_documented(docstring) or set()
    return [name for name in _parameters(function) if name not in documented]


def _contracts() -> list[type]:
    """The protocols the public modules define: their methods carry the contract."""
    found: list[type] = []
    for module in _public_modules():
        for value in vars(module).values():
            protocol = inspect.isclass(value) and getattr(value, "_is_protocol", False)
            if protocol and _ours(value) and value not in found:
                found.append(value)
    return found


def _follows_a_contract(function: Any, klass: type | None, contracts: list[type]) -> bool:
    """True if the method implements a protocol's method whose ``Args:`` covers its parameters.

    The contract is written once, on the interface (STYLE.md, 1): an
    implementation's one-line docstring points there, and the protocol's
    ``Args:`` documents the parameters both share.
    """
    if klass is None:
        return False
    name = function.__name__
    for contract in contracts:
        methods = {n for n, v in vars(contract).items() if not n.startswith("_") and callable(v)}
        if name not in methods or not all(hasattr(klass, method) for method in methods):
            continue
        interface = vars(contract)[name]
        same = _parameters(interface) == _parameters(function)
        if same and not _undocumented(interface, contract):
            return True
    return False


@pytest.mark.standalone_model  # walks this project's model layer, not idfkit's
def test_every_public_function_documents_its_parameters() -> None:
    functions = _public_functions()
    contracts = _contracts()
    with_parameters = {name: pair for name, pair in functions.items() if _parameters(pair[0])}
    assert len(with_parameters) > 300  # the walk reached the whole API
    missing = {
        name: gaps
        for name, (function, klass) in with_parameters.items()
        if (gaps := _undocumented(function, klass))
        and not _follows_a_contract(function, klass, contracts)
    }
    assert missing == {}
