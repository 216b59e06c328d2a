"""The EnergyPlus versions idfkit knows by name, and small helpers to spell them.

These are the releases idfkit 1.1.1 lists (8.9 to 26.2). This package reads a
model's fields through the schema of an installed engine only, so a model of
another version loads by position until that engine's schema is pointed to.
"""

from __future__ import annotations

__all__ = [
    "ENERGYPLUS_VERSIONS",
    "LATEST_VERSION",
    "MINIMUM_VERSION",
    "find_closest_version",
    "github_release_tag",
    "is_supported_version",
    "version_dirname",
    "version_string",
]

Version = tuple[int, int, int]

#: Every EnergyPlus release idfkit knows, oldest first.
ENERGYPLUS_VERSIONS: tuple[Version, ...] = (
    (8, 9, 0),
    *((9, minor, 0 if minor else 1) for minor in range(7)),
    *((year, half, 0) for year in range(22, 27) for half in (1, 2)),
)

#: The newest and the oldest of `ENERGYPLUS_VERSIONS`.
LATEST_VERSION: Version = ENERGYPLUS_VERSIONS[-1]
MINIMUM_VERSION: Version = ENERGYPLUS_VERSIONS[0]


def is_supported_version(version: Version) -> bool:
    """Whether `version` is exactly one of `ENERGYPLUS_VERSIONS`.

    Args:
        version: A ``(major, minor, patch)`` tuple.
    """
    return tuple(version) in ENERGYPLUS_VERSIONS


def find_closest_version(version: Version) -> Version | None:
    """The newest known release not newer than `version`; None below `MINIMUM_VERSION`.

    Args:
        version: A ``(major, minor, patch)`` tuple.
    """
    older = [known for known in ENERGYPLUS_VERSIONS if known <= tuple(version)]
    return older[-1] if older else None


def version_string(version: Version) -> str:
    """``"25.2.0"`` for ``(25, 2, 0)``.

    Args:
        version: A ``(major, minor, patch)`` tuple.
    """
    return ".".join(str(part) for part in version)


def version_dirname(version: Version) -> str:
    """The folder name EnergyPlus's releases use: ``"V25-2-0"`` for ``(25, 2, 0)``.

    Args:
        version: A ``(major, minor, patch)`` tuple.
    """
    return "V" + "-".join(str(part) for part in version)


def github_release_tag(version: Version) -> str:
    """The tag of the EnergyPlus release: ``"v25.2.0"`` for ``(25, 2, 0)``.

    Args:
        version: A ``(major, minor, patch)`` tuple.
    """
    return "v" + version_string(version)
