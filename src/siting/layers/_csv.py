"""CSV files as agencies export them: every row checked against the header, nothing shifted.

R writes a point column as ``c(-122.33, 47.61)`` without quotes, so such a row has one
field more than the header (two more for ``c(x, y, z)``). Those fields are joined back
into one value. Any other row with more fields than the header stops the run with the
lines named: pandas would silently shift every column of such a file by one.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._errors import InputError
from ._spec import listed

if TYPE_CHECKING:
    from pathlib import Path

#: An R vector value split by the CSV reader: its first and last pieces.
_R_OPEN = re.compile(r"^\s*c\(\s*[^()]*$")
_R_CLOSE = re.compile(r"^[^()]*\)\s*$")


@dataclass
class CsvTable:
    """A CSV file as text: one column per header field, and the line each row starts on."""

    frame: pd.DataFrame
    lines: npt.NDArray[np.int64]
    r_rows: int  # rows whose unquoted R ``c(...)`` value was joined back together
    delimiter: str


def _sniff_delimiter(header: str) -> str:
    """Comma, unless the header holds none and has semicolons or tabs instead."""
    if "," in header:
        return ","
    for delim in ("\t", ";", "|"):
        if delim in header:
            return delim
    return ","


def _join_r_vectors(row: list[str], n_fields: int) -> list[str] | None:
    """Join unquoted R ``c(a, b)`` values split over several fields; ``None`` if the row still does not fit."""
    out: list[str] = []
    i = 0
    extra = len(row) - n_fields
    while i < len(row):
        cell = row[i]
        if extra > 0 and _R_OPEN.match(cell):
            j = i + 1
            while j < len(row) and j - i <= extra and not _R_CLOSE.match(row[j]):
                j += 1
            if j < len(row) and j - i <= extra:
                out.append(",".join(row[i : j + 1]))
                extra -= j - i
                i = j + 1
                continue
        out.append(cell)
        i += 1
    return out if len(out) == n_fields else None


def read_csv_table(path: Path, role: str) -> CsvTable:
    """Read a CSV file as text columns, joining R's unquoted ``c(x, y)`` values.

    Raises
    ------
    InputError
        The file is empty, not text, has duplicate or blank header names, or has rows
        with more fields than the header that are not R vectors (the lines are named).
    """
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        fh = path.open(newline="", encoding="utf-8-sig", errors="replace")
    except OSError as exc:
        msg = f"{path}: cannot open the {role} layer ({exc.strerror}); check the file"
        raise InputError(msg) from None
    with fh:
        first = fh.readline()
        if not first.strip():
            msg = f"{path}: the {role} layer is empty; it needs a header row and at least one row"
            raise InputError(msg)
        delimiter = _sniff_delimiter(first)
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter)
        try:
            header = next(reader)
            n = len(header)
            rows: list[list[str]] = []
            lines: list[int] = []
            too_long: list[int] = []
            widths: list[int] = []
            r_rows = 0
            start = reader.line_num + 1
            for row in reader:
                if len(row) == n:
                    rows.append(row)
                    lines.append(start)
                elif not row or (len(row) < n and not any(c.strip() for c in row)):
                    pass  # a blank line
                elif len(row) < n:
                    rows.append(row + [""] * (n - len(row)))
                    lines.append(start)
                else:
                    fixed = _join_r_vectors(row, n)
                    if fixed is None:
                        too_long.append(start)
                        widths.append(len(row))
                    else:
                        rows.append(fixed)
                        lines.append(start)
                        r_rows += 1
                start = reader.line_num + 1
        except csv.Error as exc:
            msg = f"{path}: not a readable CSV file (line {reader.line_num}: {exc}); save it as comma-separated UTF-8"
            raise InputError(msg) from None
    header = [h.strip() for h in header]
    problems = []
    blank = [i + 1 for i, h in enumerate(header) if not h]
    if blank and not (blank == [1] and n > 1):  # R's write.csv leaves the row-name column unnamed
        problems.append(f"header field(s) {', '.join(map(str, blank))} have no name; name every column")
    elif blank:
        header[0] = "row_name"
    dup = sorted({h for h in header if h and header.count(h) > 1})
    if dup:
        problems.append(f"column name(s) {', '.join(map(repr, dup))} appear more than once; rename them")
    if too_long:
        counts = sorted(set(widths))
        problems.append(
            f"{listed(too_long, 'line')} {'has' if len(too_long) == 1 else 'have'} more fields than the "
            f"{n} of the header ({', '.join(map(str, counts))} found), and not because of an unquoted "
            "R c(x, y) value; quote values that contain the delimiter, or fix those lines"
        )
    if problems:
        msg = f"{path}: " + "; ".join(problems)
        raise InputError(msg)
    frame = (
        pd.DataFrame(rows, columns=header, dtype=object)
        if rows
        else pd.DataFrame(columns=header, dtype=object)
    )
    return CsvTable(frame=frame, lines=np.asarray(lines, dtype=np.int64), r_rows=r_rows, delimiter=delimiter)
