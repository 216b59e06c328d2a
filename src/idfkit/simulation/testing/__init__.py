"""Test helpers that ship with the package: a loopback S3 server and the storage contract.

`LocalS3Server` is moto's S3 server (``pip install "moto[server]"``) on
127.0.0.1, reached over HTTP through ``endpoint_url`` exactly as a cloud
bucket would be::

    with LocalS3Server() as server:
        fs = server.filesystem("simulations", prefix="study-001/")
        simulate(model, weather, output_dir="case-1", fs=fs)

`FileSystemContract` is the contract suite that every built-in backend
passes, as pytest mixins. Subclass it in your own tests, give it an ``fs``
fixture that returns an empty instance of your backend, and pytest runs
every case against it (pytest is needed only for this part)::

    from idfkit.simulation.testing import FileSystemContract

    class TestMyBackend(FileSystemContract):
        @pytest.fixture
        def fs(self):
            return MyBackend(...)
"""

from __future__ import annotations

from typing import Any

from idfkit.simulation.testing._server import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    LocalS3Server,
    atomic_moto_puts,
    free_port,
    stop_process,
)

__all__ = [
    "ACCESS_KEY",
    "FileSystemContract",
    "LocalS3Server",
    "NineMethodsOnly",
    "REGION",
    "SECRET_KEY",
    "atomic_moto_puts",
    "free_port",
    "stop_process",
]


def __getattr__(name: str) -> Any:
    # The contract imports pytest: only those who run it need it.
    if name in ("FileSystemContract", "NineMethodsOnly"):
        from idfkit.simulation.testing import contract

        return getattr(contract, name)
    raise AttributeError(f"module 'idfkit.simulation.testing' has no attribute {name!r}")
