"""The EnergyPlus `.err` file, parsed into messages by severity."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ErrorMessage", "ErrorReport", "first_cause", "parse_err"]

_MESSAGE = re.compile(r"^\s*\*\*\s*(Warning|Severe|Fatal)\s*\*\*\s?(.*)$")
_CONTINUATION = re.compile(r"^\s*\*\*\s+~~~\s+\*\*\s?(.*)$")
_COMPLETED = "EnergyPlus Completed Successfully"
_WARMUP_CONVERGED = "warmup converged"
#: Lines of a failed run's summary that are not messages: the counts, and the outcome.
_COUNTS = re.compile(r"^Fatal: \d+, Severe: \d+, Warnings: \d+, Info: \d+$")
_OUTCOMES = (
    "Warmup: converged",
    "Simulation: completed successfully",
    "Simulation: terminated with fatal error(s)",
    "EnergyPlus said:",
)
"""The lines of `ErrorReport.summary()` (and of a failure's text) that name no cause."""


@dataclass(frozen=True)
class ErrorMessage:
    """One message: its severity, first line, and `~~~` continuation lines."""

    severity: str
    """`"Fatal"`, `"Severe"`, `"Warning"` or `"Info"`."""
    message: str
    details: tuple[str, ...] = ()

    def __str__(self) -> str:
        return "\n".join([self.message, *self.details])

    def __contains__(self, text: object) -> bool:
        """`"x" in message` searches the message and its details, as when they were strings."""
        return isinstance(text, str) and text in str(self)


@dataclass(frozen=True)
class ErrorReport:
    """What EnergyPlus said in its `.err` file.

    Build one with `ErrorReport.from_file(path)` or `ErrorReport.from_string(text)`.
    """

    fatal: tuple[ErrorMessage, ...] = ()
    severe: tuple[ErrorMessage, ...] = ()
    warnings: tuple[ErrorMessage, ...] = ()
    info: tuple[ErrorMessage, ...] = ()
    warmup_converged: bool = False
    simulation_complete: bool = False
    """EnergyPlus wrote `EnergyPlus Completed Successfully`."""
    raw_text: str = ""

    @classmethod
    def from_string(cls, text: str) -> ErrorReport:
        """Parse the text of an `.err` file.

        Args:
            text: The file's text.
        """
        buckets: dict[str, list[tuple[str, list[str]]]] = {
            "Fatal": [],
            "Severe": [],
            "Warning": [],
            "Info": [],
        }
        details: list[str] | None = None
        complete = warmup = False
        for line in text.splitlines():
            if (cont := _CONTINUATION.match(line)) is not None:
                detail = cont.group(1).strip()
                if details is not None:
                    if detail:
                        details.append(detail)
                elif detail:
                    # A continuation that follows no message is informational.
                    buckets["Info"].append((detail, []))
                continue
            if (msg := _MESSAGE.match(line)) is not None:
                details = []
                buckets[msg.group(1)].append((msg.group(2).strip(), details))
                continue
            complete = complete or _COMPLETED in line
            warmup = warmup or _WARMUP_CONVERGED in line.lower()

        def messages(severity: str) -> tuple[ErrorMessage, ...]:
            return tuple(ErrorMessage(severity, m, tuple(d)) for m, d in buckets[severity])

        return cls(
            fatal=messages("Fatal"),
            severe=messages("Severe"),
            warnings=messages("Warning"),
            info=messages("Info"),
            warmup_converged=warmup,
            simulation_complete=complete,
            raw_text=text,
        )

    @classmethod
    def from_file(cls, path: str | Path) -> ErrorReport:
        """Parse an `.err` file (undecodable bytes are replaced).

        Args:
            path: The `.err` file.
        """
        return cls.from_string(Path(path).read_text(encoding="utf-8", errors="replace"))

    @property
    def has_fatal(self) -> bool:
        return bool(self.fatal)

    @property
    def has_severe(self) -> bool:
        return bool(self.severe)

    @property
    def fatal_count(self) -> int:
        return len(self.fatal)

    @property
    def severe_count(self) -> int:
        return len(self.severe)

    @property
    def warning_count(self) -> int:
        return len(self.warnings)

    @property
    def info_count(self) -> int:
        return len(self.info)

    @property
    def error_count(self) -> int:
        """Fatal plus severe messages."""
        return len(self.fatal) + len(self.severe)

    @property
    def completed_successfully(self) -> bool:
        """EnergyPlus said it completed, and reported no fatal error."""
        return self.simulation_complete and not self.fatal

    def summary(self) -> str:
        """The counts and the outcome, one per line, in idfkit's words.

        The first line is `Fatal: 0, Severe: 0, Warnings: 0, Info: 0`; then
        `Warmup: converged` when the file says so; then `Simulation: completed
        successfully` when EnergyPlus wrote that it did, else `Simulation:
        terminated with fatal error(s)` when there is a fatal error. A report
        read from nothing is the counts alone. `describe()` adds the messages
        themselves.
        """
        lines = [
            f"Fatal: {self.fatal_count}, Severe: {self.severe_count}, "
            f"Warnings: {self.warning_count}, Info: {self.info_count}"
        ]
        if self.warmup_converged:
            lines.append("Warmup: converged")
        if self.simulation_complete:
            lines.append("Simulation: completed successfully")
        elif self.fatal:
            lines.append("Simulation: terminated with fatal error(s)")
        return "\n".join(lines)

    def describe(self, max_messages: int = 3) -> str:
        """`summary()`, then the first fatal and severe messages, so a failure names its cause.

        Args:
            max_messages: How many messages to add at most, fatal first, one
                line each (`Fatal: ...`, `Severe: ...`).

        Returns:
            The summary lines followed by up to `max_messages` message lines.
        """
        serious = [*self.fatal, *self.severe][:max_messages]
        return "\n".join([self.summary(), *(f"{m.severity}: {m.message}" for m in serious)])


def parse_err(text: str) -> ErrorReport:
    """Parse the text of an `.err` file: `ErrorReport.from_string(text)`.

    Args:
        text: The file's text.
    """
    return ErrorReport.from_string(text)


def first_cause(summary: str) -> str:
    """The line of a failed run's error summary that names its cause.

    The first severe message (EnergyPlus's fatal message mostly says only that
    earlier errors stop the run), else the first fatal one, else the first line
    of what EnergyPlus said; never the counts line (``Fatal: 1, Severe: 1, ...``).

    Args:
        summary: The error summary of a failed run (as `SimulationError` carries).
    """
    lines = [line.strip() for line in summary.splitlines() if line.strip()]
    messages = [line for line in lines if not _COUNTS.match(line) and line not in _OUTCOMES]
    for severity in ("Severe:", "Fatal:"):
        found = next((line for line in messages if line.startswith(severity)), None)
        if found is not None:
            return found
    return next(iter(messages), "")
