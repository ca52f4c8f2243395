"""Getis-Ord Gi* hot spots on a hexagon grid.

z-scores with binary contiguity weights (the cell and its 6 neighbours), p-values from the
normal distribution, Benjamini-Hochberg false-discovery-rate q-values: a hotspot is
statistically significant, not merely dense. :func:`gi_star` gives the cells with their
statistics (internal: exact counts); :func:`gi_star_hotspots` the dissolved patches of hot
cells that outputs may carry. :mod:`siting.hotspots` offers these beside the density
surface, the clusters and the time profile.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from . import privacy
from ._errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

F64 = npt.NDArray[np.float64]

#: Axial offsets of the 6 neighbours of a hexagon.
_HEX_NEIGHBOURS = ((1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1))


def _xy(points: gpd.GeoDataFrame) -> tuple[F64, F64]:
    if points.crs is None or not points.crs.is_projected:
        msg = "hotspot analysis needs points in a projected CRS (metres); project them first"
        raise InputError(msg)
    g = points.geometry.values
    keep = ~(shapely.is_missing(g) | shapely.is_empty(g))
    if not keep.any():
        return np.empty(0), np.empty(0)
    g = g[keep]
    # a point is its own centroid: read its coordinates (making 200,000 centroids takes 0.5 s)
    xy = shapely.get_coordinates(g if (shapely.get_type_id(g) == 0).all() else shapely.centroid(g))
    return xy[:, 0], xy[:, 1]


def two_sided_p(z: F64) -> F64:
    """Two-sided p-values of standard normal z-scores: ``P(|Z| >= |z|) = erfc(|z| / sqrt 2)``.

    The standard library's ``erfc``, not SciPy's ``ndtr``: importing ``scipy.special``
    costs 0.07-0.2 s of CPU on the critical path of every ``siting score`` (more than the
    rest of Gi* on 200,000 incidents), for one function over a few thousand cells. Both
    agree to a few units in the last place (tests/test_hotspots.py checks 1e-13 relative).

    >>> two_sided_p(np.array([0.0, 1.959963984540054, -2.5758293035489004])).round(6).tolist()
    [1.0, 0.05, 0.01]
    >>> two_sided_p(np.array([np.nan])).tolist()
    [nan]
    """
    a = np.abs(np.asarray(z, dtype=np.float64))
    return np.array([math.erfc(v * _SQRT1_2) for v in a.tolist()], dtype=np.float64).reshape(a.shape)


_SQRT1_2 = math.sqrt(0.5)


def benjamini_hochberg(p: F64) -> F64:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order.

    >>> benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5])).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    >>> benjamini_hochberg(np.array([])).tolist()
    []
    """
    p = np.asarray(p, dtype=np.float64)
    n = p.size
    if n == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    ranked = p[order] * n / np.arange(1, n + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(n)
    q[order] = np.minimum(ranked, 1.0)
    return q


def gi_star_statistic(values: F64, neighbours: list[npt.NDArray[np.int64]]) -> F64:
    """Getis-Ord Gi* z-scores with binary weights that include each cell itself.

    ``neighbours[i]`` lists the cells adjacent to ``i`` (not ``i`` itself); the weight of
    ``i`` with itself is 1. With ``n`` cells, mean ``xbar`` and ``S`` the population
    standard deviation of ``values``::

        Gi* = (sum_j w_ij x_j - xbar W_i) / (S sqrt((n W_i - W_i^2) / (n - 1)))

    where ``W_i = sum_j w_ij`` (binary weights, so the sum of squares is also ``W_i``).
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.size
    if n < 2:
        return np.full(n, np.nan)
    xbar = x.mean()
    s = np.sqrt((x * x).mean() - xbar * xbar)
    z = np.full(n, np.nan)
    if s <= 0:
        return np.zeros(n)
    for i in range(n):
        nb = neighbours[i]
        wi = 1.0 + nb.size
        lag = x[i] + x[nb].sum()
        denom = s * np.sqrt((n * wi - wi * wi) / (n - 1))
        z[i] = (lag - xbar * wi) / denom if denom > 0 else 0.0
    return z


def _grid_neighbours(q: npt.NDArray[np.int64], r: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:
    pos = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(q, r, strict=True))}
    out = []
    for a, b in zip(q.tolist(), r.tolist(), strict=True):
        nb = [pos[(a + dq, b + dr)] for dq, dr in _HEX_NEIGHBOURS if (a + dq, b + dr) in pos]
        out.append(np.asarray(nb, dtype=np.int64))
    return out


def _grid_cells(q: npt.NDArray[np.int64], r: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], Any]:
    """Occupied cells and their 6 neighbours, sorted by ``q`` then ``r``; and a lookup.

    Returns ``cells`` (``k x 2``) and ``find(q, r)``: each cell's row in ``cells``, ``-1``
    where it is not there. Cells are 1-D keys (``q`` then ``r``, so in key order they are
    sorted): marked in a table over their bounding box when it is not much larger than the
    points, else sorted; looked up in that table, else by binary search.
    """
    if q.size == 0:
        empty = np.empty((0, 2), np.int64)
        return empty, lambda a, b: np.full(np.asarray(a).size, -1, np.int64)
    q0, r0 = int(q.min()) - 2, int(r.min()) - 2
    span = int(r.max()) - r0 + 3
    rows = int(q.max()) - q0 + 3
    dense = rows * span <= max(4 * q.size, 1 << 20)

    def key(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return (np.asarray(a, np.int64) - q0) * span + (np.asarray(b, np.int64) - r0)

    def marked(k: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        if not dense:
            return np.unique(k)
        seen = np.zeros(rows * span, dtype=bool)
        seen[k] = True
        return np.flatnonzero(seen)

    occ = marked(key(q, r))
    oq, orr = occ // span + q0, occ % span + r0
    keys = marked(np.concatenate([occ] + [key(oq + dq, orr + dr) for dq, dr in _HEX_NEIGHBOURS]))
    cells = np.column_stack([keys // span + q0, keys % span + r0])
    row_of = None
    if dense:
        row_of = np.full(rows * span, -1, dtype=np.int64)
        row_of[keys] = np.arange(keys.size, dtype=np.int64)

    def find(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        inside = (a >= q0) & (a < q0 + rows) & (b >= r0) & (b < r0 + span)
        k = np.where(inside, key(a, b), 0)
        if row_of is not None:
            return np.where(inside, row_of[k], -1)
        pos = np.minimum(np.searchsorted(keys, k), keys.size - 1)
        return np.where(inside & (keys[pos] == k), pos, -1)

    return cells, find


def _gi_star_on_grid(values: F64, cells: npt.NDArray[np.int64], find: Any) -> F64:
    """:func:`gi_star_statistic` for hexagon cells, with the neighbours looked up by key."""
    n = values.size
    if n < 2:
        return np.full(n, np.nan)
    xbar = values.mean()
    s = np.sqrt((values * values).mean() - xbar * xbar)
    if s <= 0:
        return np.zeros(n)
    lag = values.copy()
    wi = np.ones(n)
    for dq, dr in _HEX_NEIGHBOURS:
        j = find(cells[:, 0] + dq, cells[:, 1] + dr)
        ok = j >= 0
        lag[ok] += values[j[ok]]
        wi += ok
    denom = s * np.sqrt((n * wi - wi * wi) / (n - 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (lag - xbar * wi) / np.where(denom > 0, denom, 1.0), 0.0)


def gi_star(
    points: gpd.GeoDataFrame,
    *,
    size_m: float = 250.0,
    weight: str | None = None,
    alpha: float = 0.05,
) -> gpd.GeoDataFrame:
    """Getis-Ord Gi* per hexagon over the incidents' extent, with FDR control.

    The grid covers every hexagon within one ring of a cell holding an incident (empty
    cells count as zeros). Internal output: it carries exact counts. Cost is sorting:
    200,000 incidents take a fraction of a second.

    Returns
    -------
    GeoDataFrame
        ``q``, ``r``, ``value`` (count or weight sum), ``gi_z``, ``p_value`` (two-sided),
        ``q_value`` (Benjamini-Hochberg), ``class`` (``"hot"``, ``"cold"`` or ``""``
        where ``q_value >= alpha``), hexagon geometry.
    """
    import geopandas as gpd

    from .privacy.grid import hex_grid

    x, y = _xy(points)
    w = np.ones_like(x)
    if weight is not None:
        w = pd.to_numeric(points[weight], errors="coerce").fillna(0).to_numpy(np.float64)
    origin, q, r = hex_grid(x, y, size_m=size_m)
    cells, find = _grid_cells(q, r)
    values = np.bincount(find(q, r), weights=w, minlength=len(cells)) if x.size else np.zeros(0)
    z = _gi_star_on_grid(values, cells, find)
    p = two_sided_p(z)
    qv = benjamini_hochberg(np.nan_to_num(p, nan=1.0))
    cls = np.where(qv < alpha, np.where(z > 0, "hot", "cold"), "")
    cx, cy = privacy.hex_centres(cells[:, 0], cells[:, 1], size_m=size_m, origin=origin)
    out = gpd.GeoDataFrame(
        {
            "q": cells[:, 0],
            "r": cells[:, 1],
            "value": values,
            "gi_z": z,
            "p_value": p,
            "q_value": qv,
            "class": cls.astype(object),
        },
        geometry=privacy.hex_polygons(cx, cy, size_m=size_m),
        crs=points.crs,
    )
    out.attrs["parameters"] = {
        "method": "gi_star",
        "size_m": size_m,
        "weights": "hexagon + 6 neighbours (binary)",
        "fdr": "Benjamini-Hochberg",
        "alpha": alpha,
        "value": weight or "count",
    }
    return out


def gi_star_hotspots(
    points: gpd.GeoDataFrame, *, size_m: float = 250.0, weight: str | None = None, alpha: float = 0.05
) -> gpd.GeoDataFrame:
    """Significant Gi* hot spots as dissolved polygons (public: no per-cell statistics).

    Returns ``method`` (``"gi_star"``), ``class`` (``"hot"``), ``n_cells``, ``params`` and
    polygon geometry, one row per connected patch of significant hot cells.
    """
    import geopandas as gpd

    cells = gi_star(points, size_m=size_m, weight=weight, alpha=alpha)
    params = f"Gi* on {size_m:g} m hexagons, BH FDR q < {alpha:g}"
    hot = cells[cells["class"] == "hot"]
    cols: dict[str, Any] = {"method": [], "class": [], "n_cells": [], "params": []}
    if hot.empty:
        return gpd.GeoDataFrame(cols, geometry=[], crs=points.crs)
    merged = shapely.get_parts(shapely.union_all(hot.geometry.values))
    centres = shapely.centroid(hot.geometry.values)
    n_cells = [int(shapely.contains(p, centres).sum()) for p in merged]
    out = gpd.GeoDataFrame(
        {"method": "gi_star", "class": "hot", "n_cells": n_cells, "params": params},
        geometry=merged,
        crs=points.crs,
    )
    out = out.sort_values("n_cells", ascending=False, kind="stable").reset_index(drop=True)
    out.attrs["parameters"] = cells.attrs["parameters"]
    return out
