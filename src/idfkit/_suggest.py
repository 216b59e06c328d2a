"""Closest-name suggestions for the "did you mean" part of error messages."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str], n: int = 3) -> list[str]:
    """Up to ``n`` candidates that look like ``word``, best first.

    Args:
        word: The name as the user typed it.
        candidates: The names that exist; compared case-insensitively, each
            returned as spelt here.
        n: The most suggestions to return.
    """
    by_lower: dict[str, str] = {}
    for candidate in candidates:
        by_lower.setdefault(candidate.lower(), candidate)
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=0.6)
    return [by_lower[f] for f in found]
