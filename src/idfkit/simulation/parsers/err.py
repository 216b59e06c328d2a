"""The EnergyPlus ``.err`` file, parsed into messages by severity."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["ErrorReport", "parse_err"]

_MESSAGE = re.compile(r"^\s*\*\*\s*(Warning|Severe|Fatal)\s*\*\*\s?(.*)$")
_CONTINUATION = re.compile(r"^\s*\*\*\s+~~~\s+\*\*\s?(.*)$")
_COMPLETED = "EnergyPlus Completed Successfully"
_TERMINATED = "EnergyPlus Terminated"


@dataclass(frozen=True)
class ErrorReport:
    """What EnergyPlus said in its .err file.

    Each message is one string; its ``~~~`` continuation lines follow it,
    joined by newlines.
    """

    fatal: list[str] = field(default_factory=list)
    severe: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    completed: bool = False
    terminated: bool = False
    final_line: str = ""

    @property
    def completed_successfully(self) -> bool:
        """True when EnergyPlus said it completed and reported no fatal error."""
        return self.completed and not self.fatal

    def summary(self, max_messages: int = 3) -> str:
        """One short paragraph: outcome, counts, then the first serious messages."""
        if self.completed_successfully:
            outcome = "EnergyPlus completed successfully"
        elif self.terminated or self.fatal:
            outcome = "EnergyPlus terminated with a fatal error"
        else:
            outcome = "EnergyPlus did not report completion"
        counts = (
            f"{len(self.fatal)} fatal, {len(self.severe)} severe, {len(self.warnings)} warnings"
        )
        lines = [f"{outcome} ({counts})."]
        serious = [("Fatal", m) for m in self.fatal] + [("Severe", m) for m in self.severe]
        for severity, message in serious[:max_messages]:
            lines.append(f"{severity}: {message.splitlines()[0]}")
        return "\n".join(lines)


def parse_err(text: str) -> ErrorReport:
    """Parse the text of an EnergyPlus .err file."""
    buckets: dict[str, list[list[str]]] = {"Fatal": [], "Severe": [], "Warning": []}
    current: list[str] | None = None
    completed = terminated = False
    final_line = ""
    for line in text.splitlines():
        if (cont := _CONTINUATION.match(line)) is not None:
            if current is not None:
                current.append(cont.group(1).strip())
            continue
        if (msg := _MESSAGE.match(line)) is not None:
            current = [msg.group(2).strip()]
            buckets[msg.group(1)].append(current)
            continue
        current = None
        if _COMPLETED in line:
            completed, final_line = True, line.strip(" *")
        elif _TERMINATED in line:
            terminated, final_line = True, line.strip(" *")

    def joined(key: str) -> list[str]:
        return ["\n".join(parts) for parts in buckets[key]]

    return ErrorReport(
        fatal=joined("Fatal"),
        severe=joined("Severe"),
        warnings=joined("Warning"),
        completed=completed,
        terminated=terminated,
        final_line=final_line,
    )
