"""Errors about one argument: the Python API names its keyword, the command line its flag.

An error made by `argument_error` reads, in Python, as the problem and then
the keyword to change (``"...; pass overwrite=True to replace it"``). It also
carries the problem and the keyword on their own, so the command line can say
the same with the flag the user types (``--overwrite``) from one table,
rather than by rewriting the text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["argument_error", "sentence", "wrong_argument"]

E = TypeVar("E", bound=BaseException)


def argument_error(kind: Callable[[str], E], problem: str, *, parameter: str, advice: str) -> E:
    """``kind(f"{problem}; {advice}")``, carrying ``parameter`` and ``problem`` too.

    The attributes travel with the error through pickling (a worker process,
    Dask), since they live in its ``__dict__``.

    Args:
        kind: The error's class (``StudyError``, ``FileExistsError``, ...).
        problem: What is wrong, naming no Python keyword.
        parameter: The keyword argument that would fix it (``"overwrite"``).
        advice: How to fix it, in Python's words (``"pass overwrite=True"``).

    Returns:
        The error, to be raised by the caller.
    """
    error = kind(sentence(problem, advice))
    error.__dict__.update(argument=parameter, problem=problem)
    return error


def sentence(problem: str, advice: str) -> str:
    """The problem and the advice as one message."""
    if problem.endswith("?"):  # "... did you mean 'x'?" ends a sentence
        return f"{problem} {advice[:1].upper()}{advice[1:]}"
    return f"{problem}; {advice}"


def wrong_argument(error: BaseException) -> tuple[str, str] | None:
    """``(parameter, problem)`` of an error made by `argument_error`, else None."""
    parameter = error.__dict__.get("argument")
    problem = error.__dict__.get("problem")
    if isinstance(parameter, str) and isinstance(problem, str):
        return parameter, problem
    return None
