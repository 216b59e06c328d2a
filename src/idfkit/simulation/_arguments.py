"""Errors about one argument: the Python API names its keyword, the command line its flag.

An error made by `argument_error` reads, in Python, with the keyword in it
(``"timeout must be a positive, finite number of seconds, not -5"``, or
``"...; pass overwrite=True to replace it"``). It also carries the problem,
the keyword and the advice on their own, so the command line can say the
same with the flag the user types (``--timeout``, ``--overwrite``) from one
table, rather than by rewriting the text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple, TypeVar

__all__ = ["NAME", "WrongArgument", "argument_error", "sentence", "wrong_argument"]

E = TypeVar("E", bound=BaseException)

#: Where a problem's text names the argument: the keyword in Python, the flag on the
#: command line.
NAME = "{name}"


class WrongArgument(NamedTuple):
    """What an error made by `argument_error` carries besides its text."""

    parameter: str
    problem: str
    advice: str

    def text(self, name: str, advice: str | None = None) -> str:
        """The message with the argument spelled ``name`` (and other advice, if given)."""
        return sentence(self.problem.replace(NAME, name), self.advice if advice is None else advice)


def argument_error(
    kind: Callable[[str], E], problem: str, *, parameter: str, advice: str = ""
) -> E:
    """``kind(message)``: the problem (``{name}`` spelled as ``parameter``) and the advice.

    The parts travel with the error through pickling (a worker process, Dask),
    since they live in its ``__dict__``.

    Args:
        kind: The error's class (``StudyError``, ``ValueError``, ...).
        problem: What is wrong; ``{name}`` where it names the argument.
        parameter: The keyword argument that is wrong or would fix it.
        advice: How to fix it, in Python's words (``"pass overwrite=True"``).

    Returns:
        The error, to be raised by the caller.
    """
    wrong = WrongArgument(parameter, problem, advice)
    error = kind(wrong.text(parameter))
    error.__dict__.update(argument=parameter, problem=problem, advice=advice)
    return error


def sentence(problem: str, advice: str) -> str:
    """The problem and the advice as one message."""
    if not advice:
        return problem
    if problem.endswith("?"):  # "... did you mean 'x'?" ends a sentence
        return f"{problem} {advice[:1].upper()}{advice[1:]}"
    return f"{problem}; {advice}"


def wrong_argument(error: BaseException) -> WrongArgument | None:
    """What an error made by `argument_error` carries, else None."""
    parts = [error.__dict__.get(key) for key in ("argument", "problem", "advice")]
    if all(isinstance(part, str) for part in parts):
        return WrongArgument(*parts)  # type: ignore[arg-type]
    return None
