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
from typing import Any

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

    A file whose rows all fit the header (the usual case) is read by pandas' C parser;
    a file with longer rows (R's export), embedded line breaks or blank lines is read row
    by row, so that every row keeps the line it starts on.

    Raises
    ------
    InputError
        The file is empty, not text, has duplicate or blank header names, or has rows
        with more fields than the header that are not R vectors (the lines are named).
    """
    try:
        data = path.read_bytes()
    except OSError as exc:
        msg = f"{path}: cannot open the {role} layer ({exc.strerror}); check the file"
        raise InputError(msg) from None
    first = data[: data.find(b"\n") if b"\n" in data else len(data)].decode("utf-8-sig", errors="replace")
    if not first.strip():
        msg = f"{path}: the {role} layer is empty; it needs a header row and at least one row"
        raise InputError(msg)
    delimiter = _sniff_delimiter(first)
    table = _read_fast(path, data, delimiter)
    if table is None:
        table = _read_rows(path, data, delimiter)
    header, rows_frame, lines, r_rows, too_long, widths = table
    n = len(header)
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
    rows_frame.columns = header
    return CsvTable(frame=rows_frame, lines=lines, r_rows=r_rows, delimiter=delimiter)


_Table = tuple[list[str], pd.DataFrame, npt.NDArray[np.int64], int, list[int], list[int]]


def _arrow_table(body: bytes, delimiter: str, width: int) -> Any:
    """``body`` (header line included) as ``width`` text columns by Arrow's reader, or ``None``."""
    import pyarrow as pa
    from pyarrow import csv as pacsv

    names = [f"c{i}" for i in range(width)]
    try:
        return pacsv.read_csv(
            pa.BufferReader(body),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=False),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException, UnicodeDecodeError):
        return None  # a row of another length, a line break in quotes, or not UTF-8


def _read_fast(path: Path, data: bytes, delimiter: str) -> _Table | None:
    """Arrow's CSV reader (C++, every column as text) when row i is line i + 2 and every row
    has the header's fields, or every row one more because of an R ``c(x, y)`` in the same
    column (joined back here); otherwise ``None`` (the file is read row by row)."""
    import io

    import pyarrow as pa
    import pyarrow.compute as pc

    if data.count(b"\r") != data.count(b"\r\n"):
        return None  # old Mac line ends (a lone carriage return; counted, without copying the file)
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    header = next(csv.reader(io.StringIO(body[: body.find(b"\n") + 1 or len(body)].decode("utf-8", "replace")),
                             delimiter=delimiter), [])  # fmt: skip
    n = len(header)
    if not header or len(set(header)) != n:
        return None  # duplicate or missing names: the row-by-row reader reports them
    n_lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    r_rows = 0
    table = _arrow_table(body, delimiter, n)
    if table is None:  # an R export: every row one field longer, split at one column?
        table = _arrow_table(body, delimiter, n + 1)
        if table is None or table.num_rows == 0:
            return None
        cols = table.columns
        at = next(
            (
                j
                for j in range(n)
                if pc.all(pc.match_substring_regex(cols[j], _R_OPEN.pattern)).as_py()
                and pc.all(pc.match_substring_regex(cols[j + 1], _R_CLOSE.pattern)).as_py()
            ),
            -1,
        )
        if at < 0:
            return None
        joined = pc.binary_join_element_wise(cols[at], cols[at + 1], ",")
        table = pa.table([*cols[:at], joined, *cols[at + 2 :]], names=[f"c{i}" for i in range(n)])
        r_rows = table.num_rows
    if n_lines != table.num_rows + 1:
        return None  # blank lines: read row by row to keep line numbers
    frame = table.to_pandas(types_mapper=lambda t: pd.StringDtype("pyarrow") if t == pa.string() else None)
    frame.columns = range(n)
    lines = np.arange(2, len(frame) + 2, dtype=np.int64)
    return header, frame, lines, r_rows, [], []


def _read_rows(path: Path, data: bytes, delimiter: str) -> _Table:
    """Every record with the csv module: R vectors joined, over-long rows collected by line.

    Records are turned into columns at once (``zip``); the rows of an R export, all one
    field too long at the same place, are joined column-wise by Arrow. Only odd rows
    (short, blank, or long in another way) are looked at one by one.
    """
    import io

    import pyarrow as pa
    import pyarrow.compute as pc

    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    text = data.decode("utf-8-sig", errors="replace")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        msg = f"{path}: not a readable CSV file ({exc}); save it as comma-separated UTF-8"
        raise InputError(msg) from None
    n_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(records) == n_lines and "\r" not in text.replace("\r\n", ""):
        starts = np.arange(1, len(records) + 1, dtype=np.int64)  # one line per record
    else:  # line breaks inside quotes: ask the reader where each record starts
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        found, start = [], 1
        for _ in reader:
            found.append(start)
            start = reader.line_num + 1
        starts = np.asarray(found, dtype=np.int64)
    header, body, starts = records[0], records[1:], starts[1:]
    n = len(header)
    lens = np.fromiter(map(len, body), dtype=np.int64, count=len(body))
    # an R export: rows one field too long, split at the same column (found on the first)
    at = -1
    for i in np.flatnonzero(lens == n + 1)[:1]:
        row = body[i]
        at = next((j for j in range(n) if _R_OPEN.match(row[j]) and _R_CLOSE.match(row[j + 1])), -1)
    r_idx = np.zeros(0, dtype=np.int64)
    if at >= 0:
        cand = np.flatnonzero(lens == n + 1)
        cols = list(zip(*(body[i] for i in cand), strict=True))
        left, right = pa.array(cols[at], pa.string()), pa.array(cols[at + 1], pa.string())
        fits = pc.and_(
            pc.match_substring_regex(left, _R_OPEN.pattern), pc.match_substring_regex(right, _R_CLOSE.pattern)
        ).to_numpy(zero_copy_only=False)
        r_idx = cand[fits]
        joined = pc.binary_join_element_wise(left, right, ",").to_numpy(zero_copy_only=False)[fits]
        r_cols = [np.asarray(c, dtype=object)[fits] for c in cols]
        r_cols = [*r_cols[:at], joined, *r_cols[at + 2 :]]
    out_cols = [np.empty(len(body), dtype=object) for _ in range(n)]
    keep = np.zeros(len(body), dtype=bool)
    ok = np.flatnonzero(lens == n)
    if ok.size:
        for j, col in enumerate(zip(*(body[i] for i in ok), strict=True)):
            out_cols[j][ok] = col
        keep[ok] = True
    if r_idx.size:
        for j in range(n):
            out_cols[j][r_idx] = r_cols[j]
        keep[r_idx] = True
    too_long: list[int] = []
    widths: list[int] = []
    r_rows = int(r_idx.size)
    for i in np.flatnonzero(~keep):  # the odd rows, one by one
        row = body[i]
        if not row or not any(c.strip() for c in row):
            continue  # a blank line
        if len(row) < n:
            row = row + [""] * (n - len(row))
        elif len(row) > n:
            fixed = _join_r_vectors(row, n)
            if fixed is None:
                too_long.append(int(starts[i]))
                widths.append(len(row))
                continue
            row, r_rows = fixed, r_rows + 1
        for j in range(n):
            out_cols[j][i] = row[j]
        keep[i] = True
    frame = pd.DataFrame({j: pd.array(out_cols[j][keep], dtype="str") for j in range(n)})
    return header, frame, starts[keep], r_rows, too_long, widths
