"""OGR SQL filters (``--demand-where``), evaluated by GDAL itself, as ``ogr2ogr -where`` does.

Vector files (GeoPackage, Shapefile, GeoJSON) are filtered by their own driver: exactly
what ``ogr2ogr -where`` would keep (GeoPackage filters run in SQLite). CSV and GeoParquet
tables are handed to GDAL's CSV driver with each column's type given, so numbers compare
as numbers (``PRIORITY > 2``), text keeps leading zeros (``code = '007'``) and an empty
text cell is an empty string, not NULL (as in ``ogr2ogr`` on a CSV file).
"""

from __future__ import annotations

import csv
import difflib
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .._errors import InputError
from ._spec import MISSING_TOKENS, column_list

_ROW = "siting_row_"
_LEADING_ZERO = re.compile(r"^-?0\d")


_KEYWORDS = frozenset(
    "and or not in like ilike is null between true false escape cast as integer integer64 real "
    "float string character date time timestamp datetime boolean".split()
)
_STRING = re.compile(r"'(?:[^']|'')*'")
_NAME = re.compile(r'"([^"]+)"|\b([A-Za-z_][A-Za-z0-9_]*)\b(\s*\()?')


def _names(where: str) -> list[str]:
    """Every column name an OGR SQL filter refers to (not keywords, functions or literals)."""
    out: list[str] = []
    for quoted, bare, call in _NAME.findall(_STRING.sub(" ", where)):
        name = quoted or bare
        if call or (not quoted and (name.lower() in _KEYWORDS or name[0].isdigit())):
            continue
        if name not in out:
            out.append(name)
    return out


def unknown_names(where: str, columns: Any) -> list[str]:
    """Names in an OGR SQL filter that are not columns (nor keywords or functions).

    >>> unknown_names("DISP <> 'CAN: CANCELLED' AND \\"CALL TYPE\\" IN ('OD')", ["DISPOSITION", "CALL TYPE"])
    ['DISP']
    """
    known = {str(c).lower() for c in columns}
    return [n for n in _names(where) if n.lower() not in known]


def _bad_filter(where: str, flag: str, path: Path, columns: Any, detail: str) -> InputError:
    unknown = unknown_names(where, columns)
    if unknown:
        detail = f"no column named {', '.join(map(repr, unknown))}"
        names = [str(c) for c in columns]
        near = [difflib.get_close_matches(n, names, n=1, cutoff=0.75) for n in unknown]
        near += [[c for c in names if c.lower() == n.lower().strip('"')][:1] for n in unknown]
        hints = sorted({m[0] for m in near if m})
        if hints:
            detail += f"; did you mean {' or '.join(map(repr, hints))}?"
    msg = (
        f"{path}: `{flag}` {where!r} is not a filter GDAL can apply ({detail}); write it as OGR SQL "
        "on the file's own columns, e.g. DISPOSITION <> 'CAN: CANCELLED': text in single quotes, "
        f"column names with spaces in double quotes; columns are {column_list(columns)}"
    )
    return InputError(msg)


def _detail(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text.replace("b'", "'")[:200] or type(exc).__name__


def _csv_type(values: pd.Series) -> str:
    """The OGR field type (``.csvt``) of a column: Integer64, Real, DateTime or String."""
    if pd.api.types.is_bool_dtype(values):
        return "Integer(Boolean)"
    if pd.api.types.is_integer_dtype(values):
        return "Integer64"
    if pd.api.types.is_float_dtype(values):
        return "Real"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "DateTime"
    text = values.astype("string").fillna("").str.strip()
    present = text[~text.str.lower().isin(MISSING_TOKENS)]
    if present.empty or present.str.match(_LEADING_ZERO).any():
        return "String"  # leading zeros: an identifier, not a number
    num = pd.to_numeric(present, errors="coerce")
    if num.isna().any():
        return "String"
    if (num == np.round(num)).all() and not present.str.contains(r"[.eE]", regex=True).any():
        return "Integer64"
    return "Real"


def table_mask(frame: pd.DataFrame, where: str, *, flag: str, path: Path) -> npt.NDArray[np.bool_]:
    """Rows of a table (text or typed columns) for which the OGR SQL ``where`` is true."""
    import pyogrio

    cols = [str(c) for c in frame.columns]
    # only the columns the filter names go to GDAL (all of them if it names one that is not there,
    # so that GDAL's own error comes with the list)
    lower = {c.lower() for c in cols}
    named = {n.lower() for n in _names(where)}
    if named <= lower:
        frame = frame[[c for c in frame.columns if str(c).lower() in named]]
    types = ["Integer64", *(_csv_type(frame[c]) for c in frame.columns)]
    out = pd.DataFrame({_ROW: np.arange(len(frame), dtype=np.int64)})
    for c, t in zip(frame.columns, types[1:], strict=True):
        s = frame[c]
        if t == "DateTime":
            out[str(c)] = s.dt.strftime("%Y-%m-%dT%H:%M:%S")
        elif (
            t.startswith("Integer")
            and not pd.api.types.is_integer_dtype(s)
            and not pd.api.types.is_bool_dtype(s)
        ):
            text = s.astype("string").fillna("").str.strip()
            out[str(c)] = text.where(~text.str.lower().isin(MISSING_TOKENS), "")
        else:
            out[str(c)] = s.astype(object).where(s.notna(), "")
    with tempfile.TemporaryDirectory(prefix="siting-where-") as tmp:
        table = Path(tmp) / "layer.csv"
        out.to_csv(table, index=False, quoting=csv.QUOTE_MINIMAL)
        (Path(tmp) / "layer.csvt").write_text(",".join(f'"{t}"' for t in types) + "\n")
        try:
            kept = pyogrio.read_dataframe(table, where=where, read_geometry=False)
        except Exception as exc:
            raise _bad_filter(where, flag, path, cols, _detail(exc)) from None
    mask = np.zeros(len(frame), dtype=bool)
    mask[kept[_ROW].to_numpy(dtype=np.int64)] = True
    return mask


def vector_mask(
    path: Path, layer: str | None, where: str, fids: npt.NDArray[np.int64], *, flag: str, columns: Any
) -> npt.NDArray[np.bool_]:
    """Features (by their ``fids`` as read) of a vector file for which ``where`` is true."""
    import pyogrio

    kwargs: dict[str, Any] = {} if layer is None else {"layer": layer}
    try:
        kept = pyogrio.read_dataframe(path, where=where, read_geometry=False, fid_as_index=True, **kwargs)
    except Exception as exc:
        raise _bad_filter(where, flag, path, columns, _detail(exc)) from None
    return np.isin(fids, kept.index.to_numpy(dtype=np.int64))
