"""Reading an origin-destination matrix from another tool (r5py, OSRM, ArcGIS...).

The file is a long CSV with columns ``candidate_id``, ``demand_id`` and either ``minutes``
or ``metres`` (the column's name states the unit). Ids are read as text, so
``060750479.01`` keeps its leading zero. Pairs that are absent mean "beyond the cutoff";
an explicit ``0`` is a real distance of zero.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from ._errors import InputError, InputFileNotFoundError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

log = logging.getLogger(__name__)

ID_COLUMNS = ("candidate_id", "demand_id")
VALUE_COLUMNS = ("minutes", "metres")


@dataclass(frozen=True)
class ODMatrix:
    """A candidates x demand cost matrix read from a long CSV.

    Attributes
    ----------
    costs
        CSR matrix, one row per candidate and one column per demand point; absent pairs
        are beyond the cutoff, explicit zeros are real.
    candidate_ids, demand_ids
        Row and column ids (text).
    unit
        ``minutes`` or ``metres``.
    """

    costs: sparse.csr_matrix
    candidate_ids: list[str]
    demand_ids: list[str]
    unit: str

    def minutes(self, walking_speed_m_per_min: float) -> sparse.csr_matrix:
        """The costs in minutes (metres divided by the walking speed)."""
        if self.unit == "minutes":
            return self.costs
        out = self.costs.copy()
        out.data = out.data / float(walking_speed_m_per_min)
        return out


def read_od_matrix(
    path: str | Path,
    *,
    candidate_ids: Sequence[str] | None = None,
    demand_ids: Sequence[str] | None = None,
) -> ODMatrix:
    """Read a long OD CSV (``candidate_id``, ``demand_id``, ``minutes`` | ``metres``).

    Parameters
    ----------
    path
        The CSV file.
    candidate_ids, demand_ids
        The known ids, in the order rows/columns should take. When given, an id in the
        file that is not among them is an error; ids without any pair keep an empty
        row/column. When omitted, ids are taken in order of first appearance.

    Raises
    ------
    InputFileNotFoundError
        The file does not exist.
    InputError
        A column is missing, an id is unknown or empty, a value is not a number or is
        negative, or a pair appears twice; the message names the file, row and column.
    """
    p = Path(path)
    if not p.exists():
        msg = f"OD matrix file {str(p)!r} does not exist; check the path"
        raise InputFileNotFoundError(msg)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as err:
        msg = f"{p}: cannot be read as CSV ({err}); give a comma-separated file with a header"
        raise InputError(msg) from err
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in ID_COLUMNS if c not in df.columns]
    units = [c for c in VALUE_COLUMNS if c in df.columns]
    if missing or len(units) != 1:
        need = list(missing)
        if not units:
            need.append("minutes or metres")
        msg = (
            f"{p}: missing column(s) {need}; found {list(df.columns)}. An OD matrix needs "
            "`candidate_id`, `demand_id` and one of `minutes` / `metres`"
        )
        if len(units) > 1:
            msg = f"{p}: has both `minutes` and `metres` columns; keep one (its name is the unit)"
        raise InputError(msg)
    unit = units[0]

    def where(i: int) -> str:
        return f"{p}, row {int(i) + 2}"  # +1 header, +1 one-based

    for col in ID_COLUMNS:
        blank = df[col].str.strip() == ""
        if blank.any():
            i = int(np.flatnonzero(blank.to_numpy())[0])
            msg = f"{where(i)}, column `{col}`: empty id; every pair needs both ids"
            raise InputError(msg)
    cand = df["candidate_id"].str.strip()
    dem = df["demand_id"].str.strip()
    raw = df[unit].str.strip()
    vals = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(vals)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"{where(i)}, column `{unit}`: {raw.iloc[i]!r} is not a number; give {unit} as a number"
        raise InputError(msg)
    if np.any(vals < 0):
        i = int(np.flatnonzero(vals < 0)[0])
        msg = f"{where(i)}, column `{unit}`: {raw.iloc[i]!r} is negative; {unit} must be >= 0"
        raise InputError(msg)

    def index(values: pd.Series, known: Sequence[str] | None, col: str) -> tuple[np.ndarray, list[str]]:
        if known is None:
            codes, uniques = pd.factorize(values, sort=False)
            return codes.astype(np.int64), [str(u) for u in uniques]
        known_l = [str(k) for k in known]
        pos = pd.Index(known_l)
        if not pos.is_unique:
            msg = f"the known {col} values are not unique"
            raise InputError(msg)
        codes = pos.get_indexer(values)
        if np.any(codes < 0):
            i = int(np.flatnonzero(codes < 0)[0])
            msg = (
                f"{where(i)}, column `{col}`: unknown id {values.iloc[i]!r}; it is not in the "
                f"{'candidates' if col == 'candidate_id' else 'demand layer'}"
            )
            raise InputError(msg)
        return codes.astype(np.int64), known_l

    ci, c_ids = index(cand, candidate_ids, "candidate_id")
    di, d_ids = index(dem, demand_ids, "demand_id")
    key = ci * max(len(d_ids), 1) + di
    dup = pd.Series(key).duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        msg = (
            f"{where(i)}: the pair ({cand.iloc[i]!r}, {dem.iloc[i]!r}) appears more than once; "
            "give each pair once"
        )
        raise InputError(msg)
    costs = sparse.csr_matrix((vals, (ci, di)), shape=(len(c_ids), len(d_ids)))
    # csr_matrix keeps explicit zeros given as data; make sure none were summed away
    log.info(
        "read OD matrix %s: %d pairs, %d candidates x %d demand (%s)",
        p,
        len(vals),
        len(c_ids),
        len(d_ids),
        unit,
    )
    return ODMatrix(costs, c_ids, d_ids, unit)


# --------------------------------------------------------------------------- a run's inputs


@dataclass
class MatrixInputs(Mapping[str, Any]):
    """What ``siting select --matrix`` chooses from: the costs and the tables that go with them.

    Attributes
    ----------
    costs
        Candidates x demand in the file's unit (``minutes`` or ``metres``).
    unit
        That unit.
    metres
        The same in walking metres (minutes x walking speed), for the effect zone.
    weights, fatal
        Per demand point (``None`` when the demand table has no such column).
    candidate_ids, regions, excluded
        Row ids, the region each candidate lies in (``None``: no regions), excluded ids.
    cutoff, cutoff_m
        The cutoff in the costs' unit (``None``: every pair counts) and in metres.
    """

    costs: sparse.csr_matrix
    unit: str
    metres: sparse.csr_matrix
    weights: npt.NDArray[np.float64] | None
    fatal: npt.NDArray[np.bool_] | None
    candidate_ids: list[str]
    regions: list[str | None] | None
    excluded: list[str]
    cutoff: float | None
    cutoff_m: float

    # a read-only mapping too (``inputs["costs"]``), as the value models' inputs read it
    def __getitem__(self, key: str) -> Any:
        if key not in self.__dataclass_fields__:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.__dataclass_fields__)

    def __len__(self) -> int:
        return len(self.__dataclass_fields__)


def _numbers(values: pd.Series, path: str, column: str) -> npt.NDArray[np.float64]:
    out = pd.to_numeric(values.astype("string").str.strip(), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(out) | (out < 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = (
            f"{path}, row {i + 2}, column `{column}`: {values.iloc[i]!r} is not a number >= 0; "
            "give weights as numbers"
        )
        raise InputError(msg)
    return out


def read_matrix_inputs(
    matrix: str | Path,
    *,
    cutoff_m: float,
    speed_m_per_min: float,
    use_cutoff: bool = True,
    demand: str | None = None,
    demand_id_column: str | None = None,
    weight_column: str | None = None,
    fatal_column: str | None = None,
    candidates: str | None = None,
    id_column: str | None = None,
    lat_column: str | None = None,
    lon_column: str | None = None,
    csv_crs: str | None = None,
    regions: str | None = None,
    regions_name_column: str | None = None,
) -> MatrixInputs:
    """Read an OD matrix and the tables that go with it, every problem with its file and row.

    ``demand`` is a table (CSV or vector file, no geometry needed) with an id column joined
    to ``demand_id`` and optional weight and fatal columns, read as the incident layers are
    (:func:`siting.layers.parse_flags` for the fatal flag). ``candidates`` gives the
    candidate ids (and with ``regions``, where each lies: a point layer). Costs keep the
    file's unit so objectives compare with published values; ``use_cutoff=False`` lets
    every pair in the file count (the p-median of a full matrix).
    """
    from .layers import (
        CONVENTIONS,
        LayerSpec,
        flag_problem,
        flag_rule,
        pick_column,
        read_flags,
        read_ids,
        read_layer,
        read_polygons,
        read_table,
        regions_of,
    )

    cand_ids = read_ids(candidates, id_column=id_column, role="candidates") if candidates else None
    dem_ids = None
    weights = None
    fatal = None
    if demand:
        table = read_table(demand, role="demand")
        id_defaults = ("id", "demand_id", "incident_id")
        id_col = pick_column(table, demand_id_column, id_defaults, path=demand, flag="--demand-id-column")
        if id_col is None:
            looked = ", ".join(id_defaults)
            msg = f"{demand}: no id column (looked for {looked}); name it with --demand-id-column"
            raise InputError(msg)
        dem_ids = [str(v).strip() for v in table[id_col]]
        wcol = pick_column(table, weight_column, ("weight",), path=demand, flag="--weight-column")
        if wcol:
            weights = _numbers(table[wcol], demand, wcol)
        f_given, f_values = flag_rule(fatal_column)
        fcol = pick_column(table, f_given, CONVENTIONS["fatal"], path=demand, flag="--fatal-column")
        if fcol:
            fatal, bad = read_flags(table[fcol], f_values)
            if bad.any():
                rows = ", ".join(str(int(i) + 2) for i in np.flatnonzero(bad)[:5])
                msg = f"{demand}: {flag_problem(fcol, table[fcol], bad, f'rows {rows}')}"
                raise InputError(msg)
    od = read_od_matrix(matrix, candidate_ids=cand_ids, demand_ids=dem_ids)
    if od.unit == "metres":
        metres = od.costs
        cutoff = cutoff_m
    else:
        metres = od.costs.copy()
        metres.data = metres.data * speed_m_per_min  # walking-equivalent metres for the effect zone
        cutoff = cutoff_m / speed_m_per_min
    cand_regions = None
    if regions:
        if not candidates:
            msg = "--regions with --matrix needs --candidates (where each candidate lies)"
            raise InputError(msg)
        spec = LayerSpec(
            path=candidates,
            role="candidates",
            id_column=id_column,
            lat_column=f"?{lat_column}" if lat_column else None,
            lon_column=f"?{lon_column}" if lon_column else None,
            crs=csv_crs,
        )
        points = read_layer(spec)
        polygons = read_polygons(regions, name_column=regions_name_column).to_crs(points.crs)
        names = regions_of(points, polygons)
        by_id = {str(i): (n or None) for i, n in zip(points["id"], names, strict=True)}
        cand_regions = [by_id.get(i) for i in od.candidate_ids]
    return MatrixInputs(
        costs=od.costs,
        unit=od.unit,
        metres=metres,
        weights=weights,
        fatal=fatal,
        candidate_ids=od.candidate_ids,
        regions=cand_regions,
        excluded=[],
        cutoff=cutoff if use_cutoff else None,
        cutoff_m=cutoff_m if use_cutoff else math.inf,
    )
