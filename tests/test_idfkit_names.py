"""idfkit 1.1.1's public simulation names, answering as idfkit answers (both builds)."""

from __future__ import annotations

import pytest

from idfkit.simulation.config import normalize_version


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("25.2", (25, 2, 0)),
        ("25.2.1", (25, 2, 1)),
        (" 25-2-0 ", (25, 2, 0)),
        ((25, 2, 0), (25, 2, 0)),
    ],
)
def test_normalize_version_reads_two_or_three_numbers(
    given: str | tuple[int, int, int], expected: tuple[int, int, int]
) -> None:
    assert normalize_version(given) == expected


@pytest.mark.parametrize("given", ["25", "v25.2", "25.2.0.1", "abc"])
def test_normalize_version_refuses_anything_else(given: str) -> None:
    with pytest.raises(ValueError, match=f"Cannot parse version string: '{given}'"):
        normalize_version(given)
