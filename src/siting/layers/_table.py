"""Plain tables and their cells, read one way for layers and for tables without geometry.

:func:`read_table` reads the attribute table of any file a layer can come from (a CSV
as agencies export it, or a vector file) as text columns; :func:`parse_flags` reads a
yes/no column such as a fatal flag; :func:`regions_of` says which named polygon each
point lies in. ``read_layer``, the ``--matrix`` inputs of ``siting select`` and the
pipeline all use these, so a fatal flag or a region is read the same way everywhere.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .._errors import InputError, InputFileNotFoundError
from ._flags import FALSE_VALUES, TRUE_VALUES, parse_flags
from ._spec import column_list

__all__ = ["FALSE_VALUES", "TRUE_VALUES", "parse_flags", "pick_column", "read_ids", "read_table", "regions_of"]

if TYPE_CHECKING:
    import os
    from collections.abc import Sequence

    import geopandas as gpd
    import numpy.typing as npt

def read_table(path: str | os.PathLike[str], *, role: str = "table") -> pd.DataFrame:
    """The attribute table of a CSV or vector file, every column as text (geometry left out).

    ``role`` names the table in messages (``demand``, ``candidates``...).
    """
    from ._csv import read_csv_table
    from ._read import detect_format

    p = Path(path)
    fmt = detect_format(p)
    if not p.exists():
        msg = f"{p}: file not found (the {role} table); check the path"
        raise InputFileNotFoundError(msg)
    if fmt == "CSV":
        return read_csv_table(p, role).frame
    import pyogrio

    frame = pyogrio.read_dataframe(p, read_geometry=False)
    return pd.DataFrame(frame).astype("string").fillna("").astype(object)


def regions_of(points: gpd.GeoDataFrame, regions: gpd.GeoDataFrame) -> npt.NDArray[np.object_]:
    """Per point, the ``name`` of the first region (in file order) it lies in, ``""`` for none.

    Both layers must share a CRS.
    """
    import shapely

    out = np.array([""] * len(points), dtype=object)
    if len(points) == 0 or len(regions) == 0:
        return out
    tree = shapely.STRtree(regions.geometry.values)
    pi, ri = tree.query(points.geometry.values, predicate="intersects")
    order = np.lexsort((ri, pi))
    for p, r in zip(pi[order], ri[order], strict=True):
        if not out[p]:
            out[p] = str(regions["name"].iat[r])
    return out


def pick_column(
    table: pd.DataFrame,
    given: str | None,
    defaults: Sequence[str],
    *,
    path: str | os.PathLike[str],
    flag: str,
) -> str | None:
    """The column ``flag`` names (it must exist; case ignored), else the first of ``defaults`` present."""
    lower = {str(c).lower(): str(c) for c in table.columns}
    if given:
        if given in table.columns:
            return given
        if given.lower() in lower:
            return lower[given.lower()]
        msg = f"{path}: no column {given!r} (columns are {column_list(table.columns)}); check {flag}"
        raise InputError(msg)
    return next((lower[c] for c in defaults if c in lower), None)


def read_ids(
    path: str | os.PathLike[str],
    *,
    id_column: str | None = None,
    defaults: Sequence[str] = ("id", "site_id", "candidate_id"),
    flag: str = "--id-column",
    role: str = "table",
) -> list[str]:
    """The ids of a table's rows, as text (leading zeros kept)."""
    table = read_table(path, role=role)
    col = pick_column(table, id_column, defaults, path=path, flag=flag)
    if col is None:
        msg = f"{path}: no id column (looked for {', '.join(defaults)}); name it with {flag}"
        raise InputError(msg)
    return [str(v).strip() for v in table[col]]
