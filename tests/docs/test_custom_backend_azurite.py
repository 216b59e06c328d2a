"""docs/custom-backends.md's AzureBlobFileSystem, as the page writes it, on the real
azure-storage-blob against Azurite: the page's advice is proven on a real store."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from idfkit.simulation import SimulationResult, simulate
from idfkit.simulation.testing import FileSystemContract
from tests.docs.test_docs import python_blocks
from tests.emulators import Azurite, unique_container


@pytest.fixture(scope="module")
def documented_class() -> Iterator[type]:
    """The page's one ``python`` block, run as a module of its own with the real SDK."""
    pytest.importorskip("azure.storage.blob")
    module = types.ModuleType("docs_custom_backends_on_azurite")
    sys.modules[module.__name__] = module  # so that its class pickles
    try:
        [block] = python_blocks("custom-backends.md")
        exec(compile(block, "docs/custom-backends.md", "exec"), module.__dict__)
        yield module.AzureBlobFileSystem  # type: ignore[attr-defined]
    finally:
        sys.modules.pop(module.__name__, None)


def _container(azurite: Azurite) -> Any:
    from azure.storage.blob import ContainerClient

    client = ContainerClient.from_connection_string(azurite.connection_string, unique_container())
    client.create_container()
    return client


class TestDocumentedAzureBackendOnAzurite(FileSystemContract):
    @pytest.fixture
    def fs(self, documented_class: type, azurite: Azurite) -> Any:
        return documented_class(_container(azurite), prefix="contract/")


def test_documented_azure_backend_carries_a_real_simulation(
    documented_class: type, azurite: Azurite, box_model: Path, weather: Path
) -> None:
    fs = documented_class(_container(azurite), prefix="study-001/")
    result = simulate(box_model, weather, output_dir="case-1", fs=fs)
    assert result.success
    again = SimulationResult.from_directory("case-1", fs=fs)
    assert len(again.sql.get_timeseries("Zone Mean Air Temperature", "ZONE 1")) == 8760  # type: ignore[union-attr]
