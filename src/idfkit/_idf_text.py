"""IDF text to positional records, with comments and diagnostics; no schema needed.

Fields end at ``,`` and objects at ``;``; ``!`` starts a comment. A ``!-``
comment after a line that ends exactly one field names that field; other
comments before an object are kept as its leading comments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from idfkit.exceptions import ParseDiagnostic

__all__ = ["Record", "parse_idf_text"]

TYPE_RE = re.compile(r"[A-Za-z][A-Za-z0-9:_\-]*\Z")
_SEP = re.compile(r"([,;])")


@dataclass(slots=True)
class Record:
    """One object as written: its type, field values and comments."""

    obj_type: str
    values: list[str]
    comments: list[str | None] | None
    leading: list[str] | None
    line: int


def parse_idf_text(
    text: str, filepath: str | None = None
) -> tuple[list[Record], list[ParseDiagnostic]]:
    """Split IDF text into records; problems are returned, never raised."""
    records: list[Record] = []
    problems: list[ParseDiagnostic] = []
    obj_type: str | None = None
    values: list[str] = []
    comments: list[str | None] | None = None
    leading: list[str] | None = None
    pending = ""
    pending_line = 0
    start = 0
    split = _SEP.split
    for lineno, raw in enumerate(text.split("\n"), start=1):
        bang = raw.find("!")
        code, note = (raw, None) if bang < 0 else (raw[:bang], raw[bang:].rstrip())
        ended = 0
        closed: Record | None = None  # an object ended on this line, for its "!-"
        closed_count = 0
        if "," in code or ";" in code:
            parts = split(code)
            for i in range(0, len(parts) - 1, 2):
                token = (pending + " " + parts[i]).strip() if pending else parts[i].strip()
                if obj_type is None:
                    obj_type, start = token, (pending_line if pending else lineno)
                else:
                    values.append(token)
                    ended += 1
                pending = ""
                if parts[i + 1] == ";":
                    record = _finish(obj_type, values, comments, leading, start, filepath, problems)
                    if record is not None:
                        records.append(record)
                        closed, closed_count = record, ended
                    obj_type, values, comments, leading, ended = None, [], None, None, 0
            tail = parts[-1].strip()
            if tail:
                pending, pending_line = tail, lineno
        elif code.strip():
            if not pending:
                pending_line = lineno
            pending = (pending + " " + code.strip()) if pending else code.strip()
        if note is None:
            continue
        if note.startswith("!-"):
            label = note[2:].strip() or None
            if obj_type is not None and ended == 1 and not pending:
                if comments is None:
                    comments = [None] * len(values)
                comments.extend([None] * (len(values) - len(comments)))
                comments[-1] = label
            elif closed is not None and closed_count == 1 and obj_type is None and not pending:
                _label_last(closed, label)
        elif obj_type is None and not pending:
            leading = [*(leading or []), note]
    if obj_type is not None or pending:
        problems.append(
            ParseDiagnostic(
                "object is not terminated by ';' before the end of the text",
                filepath,
                obj_type or pending[:60],
                line=(start if obj_type is not None else pending_line) or None,
                code="UnterminatedObject",
            )
        )
    return records, problems


def _label_last(record: Record, label: str | None) -> None:
    if not record.values:
        return
    if record.comments is None:
        record.comments = [None] * len(record.values)
    record.comments[-1] = label


def _finish(
    obj_type: str,
    values: list[str],
    comments: list[str | None] | None,
    leading: list[str] | None,
    line: int,
    filepath: str | None,
    problems: list[ParseDiagnostic],
) -> Record | None:
    if not obj_type and not values:
        return None  # a stray ';' (as in "Zone, A;;"): an empty statement, skipped
    if not obj_type:
        problems.append(
            ParseDiagnostic(
                "object has no type before its first ',' or ';'", filepath, line=line or None
            )
        )
        return None
    if not TYPE_RE.match(obj_type):
        problems.append(
            ParseDiagnostic(
                f"invalid object type {obj_type[:60]!r}",
                filepath,
                obj_type[:60],
                line=line,
                code="InvalidObjectType",
            )
        )
        return None
    if comments is not None and len(comments) < len(values):
        comments.extend([None] * (len(values) - len(comments)))
    return Record(obj_type, values, comments, leading, line)
