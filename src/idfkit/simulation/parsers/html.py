"""The tabular HTML report (`eplustbl.htm`, `eplusTable.htm`): its tables by report and title.

Two groupings of the tables are kept. `report_name` and `tablesbyreport` are
idfkit's: a bold heading outside a table whose text ends in `Summary` or
`Report` (a report's own `Report:` line, or a table title such as `Zone
Summary` or `Water Source Summary`) starts a group that lasts until the next
such heading. `report` and `tables_in_report` follow EnergyPlus's `Report:`
lines exactly.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

__all__ = ["HTMLResult", "HTMLTable"]


@dataclass
class HTMLTable:
    """One table of the report.

    A first row of `<th>` cells is the header and stays out of `rows`. The
    tables EnergyPlus writes head their columns with `<td>` cells; there
    `rows` holds every row as written, the column-header row first (as idfkit
    has it), and `header` is a copy of that first row.
    """

    title: str
    header: list[str]
    rows: list[list[str]]
    report_name: str = ""
    """idfkit's group: the last bold heading ending in `Summary` or `Report`.

    Usually the report's display name (`Annual Building Utility Performance
    Summary`), but a table titled `Water Source Summary` starts a group of
    its own, and a report named otherwise (`Energy Meters`) joins the group
    before it, as in idfkit.
    """
    for_string: str = ""
    """What the report is for, e.g. `Entire Facility`."""
    report: str = ""
    """The report the table is in, from EnergyPlus's `Report:` line."""

    def to_dict(self) -> dict[str, dict[str, str]]:
        """`{row name: {column header: cell}}` over the data rows.

        A row shorter than the header lacks the columns it has no cell for;
        empty rows are skipped, and a later row with the same name wins.
        """
        columns = self.header[1:]
        rows = self._data_rows()
        return {row[0]: dict(zip(columns, row[1:], strict=False)) for row in rows if row}

    def _data_rows(self) -> list[list[str]]:
        """`rows` without the column-header row EnergyPlus repeats as the first row."""
        if self.header and self.rows and self.rows[0] == self.header:
            return self.rows[1:]
        return self.rows

    def _rows_with_header(self) -> list[list[str]]:
        """The header row followed by the data rows (as `titletable` gives them)."""
        return [self.header, *self._data_rows()] if self.header else list(self.rows)


@dataclass
class HTMLResult:
    """Every table of a tabular HTML report, in file order."""

    tables: list[HTMLTable] = field(default_factory=list)

    @classmethod
    def from_file(cls, path: Path | str, encoding: str = "latin-1") -> HTMLResult:
        """Read a report file.

        Args:
            path: The `.htm` or `.html` file.
            encoding: Its text encoding.
        """
        return cls.from_string(Path(path).read_text(encoding=encoding, errors="replace"))

    @classmethod
    def from_string(cls, html: str) -> HTMLResult:
        """Parse the text of a report.

        Args:
            html: The report's HTML.
        """
        parser = _TableParser()
        parser.feed(html)
        parser.close()
        return cls(parser.tables)

    def __getitem__(self, index: int) -> HTMLTable:
        return self.tables[index]

    def __iter__(self) -> Iterator[HTMLTable]:
        return iter(self.tables)

    def __len__(self) -> int:
        return len(self.tables)

    def tablebyindex(self, index: int) -> HTMLTable | None:
        """The table at zero-based `index`, or None (also for a negative index).

        Args:
            index: The table's position in the report.
        """
        return self.tables[index] if 0 <= index < len(self.tables) else None

    def tablebyname(self, name: str) -> HTMLTable | None:
        """The first table whose title contains `name` (case-insensitive), or None.

        Args:
            name: Part of the table's title.
        """
        wanted = name.lower()
        return next((t for t in self.tables if wanted in t.title.lower()), None)

    def tablesbyreport(self, report_name: str) -> list[HTMLTable]:
        """The tables of the groups whose name contains `report_name` (case-insensitive).

        Groups are idfkit's (see `HTMLTable.report_name`). Spaces do not count,
        so a report named as displayed or as in the SQL file matches:
        `"Annual Building Utility Performance Summary"` and
        `"AnnualBuildingUtilityPerformanceSummary"` give the same tables.
        `tables_in_report` gives a report's tables as EnergyPlus lists them.

        Args:
            report_name: Part of the group's name.
        """
        wanted = _squashed(report_name)
        return [t for t in self.tables if wanted in _squashed(t.report_name)]

    def tables_in_report(self, report: str) -> list[HTMLTable]:
        """Every table under one `Report:` heading (named as displayed or as in the SQL file).

        Args:
            report: The report's name.
        """
        wanted = _squashed(report)
        return [t for t in self.tables if _squashed(t.report) == wanted]

    def titletable(self) -> list[tuple[str, list[list[str]]]]:
        """`(title, [header row, *data rows])` for every table (eppy's `readhtml.titletable`)."""
        return [(t.title, t._rows_with_header()) for t in self.tables]


_GROUP_ENDINGS = ("Summary", "Report")
"""A bold heading ending so (case-sensitive) starts one of idfkit's table groups."""


def _squashed(name: str) -> str:
    return "".join(name.split()).lower()


class _TableParser(HTMLParser):
    """Collects tables with the last bold text before each as its title."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: list[HTMLTable] = []
        self._report = self._for = self._bold_text = self._paragraph = self._group = ""
        self._in_bold = self._in_paragraph = False
        self._title = ""
        self._rows: list[list[str]] | None = None
        self._header_rows: set[int] = set()
        """Indexes in `_rows` of the rows with a `<th>` cell."""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._rows, self._header_rows = [], set()
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []
            if tag == "th":
                self._header_rows.add(len(self._rows) - 1)
        elif tag == "b":
            self._in_bold, self._bold_text = True, ""
        elif tag == "p":
            self._in_paragraph, self._paragraph = True, ""

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self._end_table(self._rows)
            self._rows = None
        elif tag == "b":
            self._in_bold = False
            text = self._bold_text.strip()
            if self._rows is None and text.endswith(_GROUP_ENDINGS):
                self._group = text
            if not self._in_paragraph and self._rows is None:
                self._title = text
                if text.startswith("For:"):
                    self._for = text.removeprefix("For:").strip()
        elif tag == "p":
            self._in_paragraph = False
            label, _, value = self._paragraph.partition(":")
            if label.strip() == "Report":
                self._report = value.strip()
            elif label.strip() == "For":
                self._for = value.strip()

    def _end_table(self, rows: list[list[str]]) -> None:
        """Keep a table that has any cell; its first `<th>` row, if any, is the header."""
        header_index = min((i for i in self._header_rows if rows[i]), default=None)
        if header_index is None:
            body = [row for row in rows if row]
            header = list(body[0]) if body else []
        else:
            header = rows[header_index]
            body = [row for i, row in enumerate(rows) if row and i != header_index]
        if header or body:
            self.tables.append(
                HTMLTable(self._title, header, body, self._group, self._for, self._report)
            )

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._in_bold:
            self._bold_text += data
        if self._in_paragraph:
            self._paragraph += data
