"""Small-count suppression: incidents as counts per hexagon, never as points.

Incident locations are health records. Every output meant for sharing (map, report,
GeoJSON) draws incidents only through :func:`hex_counts`: a flat-topped hexagon grid in
the projected CRS where a cell with 1..``threshold`` incidents carries no exact count,
only the label "fewer than 11" (for the default threshold of 10, the CMS cell-size rule).
Empty cells are not emitted. The grid is anchored on the CRS origin (deterministic) and
shifted, deterministically, if any hexagon centre or corner would fall within half a
metre of an incident, so no written vertex can coincide with an incident location.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from . import settings
from ._errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_SQRT3 = float(np.sqrt(3.0))
#: No hexagon centre or corner lies closer than this to an incident (metres).
_CLEARANCE_M = 0.5
#: The least clearance accepted when no shift keeps every vertex :data:`_CLEARANCE_M` away.
_MIN_CLEARANCE_M = 0.05


def suppression_label(threshold: int | None = None) -> str:
    """The public text shown instead of a count of 1..``threshold``.

    >>> suppression_label(10)
    'fewer than 11'
    """
    t = settings.suppression_threshold if threshold is None else int(threshold)
    return f"fewer than {t + 1}"


def privacy_rule(threshold: int | None = None) -> str:
    """One sentence describing the rule applied to public outputs (map title, report)."""
    t = settings.suppression_threshold if threshold is None else int(threshold)
    return (
        f"Incidents are shown only as counts per hexagon; counts of 1 to {t} are shown as "
        f'"{suppression_label(t)}"; no incident location is written.'
    )


def public_value(count: float, threshold: int | None = None) -> float:
    """The value a public surface (heat map) may use for a cell's count.

    Suppressed cells (1..threshold) all take the midpoint ``(threshold + 1) / 2``, so no
    public surface encodes an exact small count.

    >>> public_value(3, 10), public_value(25, 10), public_value(0, 10)
    (5.5, 25.0, 0.0)
    """
    t = settings.suppression_threshold if threshold is None else int(threshold)
    if count <= 0:
        return 0.0
    return (t + 1) / 2 if count <= t else float(count)


# ------------------------------------------------------------------ hexagon grid
def hex_axial(x: F64, y: F64, *, size_m: float, origin: tuple[float, float] = (0.0, 0.0)) -> tuple[I64, I64]:
    """Axial coordinates ``(q, r)`` of the flat-topped hexagon holding each point.

    ``size_m`` is the hexagon's circumradius (centre to corner, equal to its side).
    Ties on a boundary go to one cell deterministically (cube rounding).
    """
    px = (np.asarray(x, dtype=np.float64) - origin[0]) / size_m
    py = (np.asarray(y, dtype=np.float64) - origin[1]) / size_m
    qf = (2.0 / 3.0) * px
    rf = (-1.0 / 3.0) * px + (_SQRT3 / 3.0) * py
    sf = -qf - rf
    q, r, s = np.round(qf), np.round(rf), np.round(sf)
    dq, dr, ds = np.abs(q - qf), np.abs(r - rf), np.abs(s - sf)
    fix_q = (dq > dr) & (dq > ds)
    fix_r = ~fix_q & (dr > ds)
    q = np.where(fix_q, -r - s, q)
    r = np.where(fix_r, -q - s, r)
    return q.astype(np.int64), r.astype(np.int64)


def hex_centres(
    q: I64, r: I64, *, size_m: float, origin: tuple[float, float] = (0.0, 0.0)
) -> tuple[F64, F64]:
    """Projected centres of flat-topped hexagons given their axial coordinates."""
    cx = origin[0] + size_m * 1.5 * np.asarray(q, dtype=np.float64)
    cy = origin[1] + size_m * _SQRT3 * (np.asarray(r, dtype=np.float64) + np.asarray(q) / 2.0)
    return cx, cy


def hex_polygons(cx: F64, cy: F64, *, size_m: float) -> npt.NDArray[np.object_]:
    """Flat-topped hexagon polygons around the given centres."""
    ang = np.deg2rad(np.arange(6) * 60.0)
    xs = np.asarray(cx)[:, None] + size_m * np.cos(ang)[None, :]
    ys = np.asarray(cy)[:, None] + size_m * np.sin(ang)[None, :]
    ring = np.stack([xs, ys], axis=-1)
    ring = np.concatenate([ring, ring[:, :1]], axis=1)
    return shapely.polygons(ring)


def unique_cells(
    q: I64, r: I64, *, return_inverse: bool = False
) -> npt.NDArray[np.int64] | tuple[npt.NDArray[np.int64], I64]:
    """Distinct ``(q, r)`` cells sorted by ``q`` then ``r`` (as ``np.unique(axis=0)``, but fast).

    Examples
    --------
    >>> unique_cells(np.array([2, 0, 2, 0]), np.array([1, 5, 1, -3])).tolist()
    [[0, -3], [0, 5], [2, 1]]
    """
    q = np.asarray(q, dtype=np.int64)
    r = np.asarray(r, dtype=np.int64)
    if q.size == 0:
        cells = np.empty((0, 2), np.int64)
        return (cells, np.zeros(0, np.int64)) if return_inverse else cells
    r0 = int(r.min())
    span = int(r.max()) - r0 + 1
    key = (q - int(q.min())) * span + (r - r0)
    if return_inverse:
        ukey, first, inv = np.unique(key, return_index=True, return_inverse=True)
    else:
        ukey, first = np.unique(key, return_index=True)
    cells = np.column_stack([q[first], r[first]])
    return (cells, inv.reshape(-1)) if return_inverse else cells


def _closest(px: F64, py: F64, cx: F64, cy: F64, size_m: float) -> float:
    """Distance from the points to the nearest hexagon centre or corner (``inf`` if none)."""
    from scipy.spatial import cKDTree

    if px.size == 0 or cx.size == 0:
        return float("inf")
    ang = np.deg2rad(np.arange(6) * 60.0)
    vx = np.concatenate([cx, (cx[:, None] + size_m * np.cos(ang)).ravel()])
    vy = np.concatenate([cy, (cy[:, None] + size_m * np.sin(ang)).ravel()])
    tree = cKDTree(np.column_stack([vx, vy]))
    d, _ = tree.query(np.column_stack([px, py]), k=1, distance_upper_bound=_CLEARANCE_M)
    return float(d.min())


def hex_grid_origin(x: F64, y: F64, *, size_m: float) -> tuple[float, float]:
    """The grid origin used for these points: (0, 0) unless a vertex would touch a point.

    Shifts are deterministic (multiples of irrational fractions of the size), so the same
    points always give the same grid. The first shift whose centres and corners all stay
    :data:`_CLEARANCE_M` from every point is used; with hundreds of thousands of incidents
    none may, and then the shift that keeps them farthest (of the first few tried) is used as long as that is at
    least :data:`_MIN_CLEARANCE_M` (far more than the written precision of coordinates,
    about 1 cm at 7 decimals), so no vertex can repeat an incident's coordinates.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    best: tuple[float, tuple[float, float]] = (-1.0, (0.0, 0.0))
    for k in range(16):
        origin = (size_m * ((k * 0.6180339887) % 1.0), size_m * ((k * 0.4142135624) % 1.0))
        q, r = hex_axial(x, y, size_m=size_m, origin=origin)
        cells = unique_cells(q, r)
        cx, cy = hex_centres(cells[:, 0], cells[:, 1], size_m=size_m, origin=origin)
        closest = _closest(x, y, cx, cy, size_m)
        if closest >= _CLEARANCE_M:
            if k:
                log.debug("hexagon grid shifted %d time(s) to clear incident locations", k)
            return origin
        if closest > best[0]:
            best = (closest, origin)
        if k >= 3 and best[0] >= _MIN_CLEARANCE_M:
            break  # dense data: no shift will clear the full clearance; take the best so far
    if best[0] >= _MIN_CLEARANCE_M:
        log.debug("hexagon grid: closest vertex %.3f m from an incident", best[0])
        return best[1]
    msg = "could not place a hexagon grid clear of every incident; try another `size_m`"
    raise InputError(msg)


def hex_counts(
    points: gpd.GeoDataFrame,
    *,
    size_m: float = 250.0,
    weight: str | None = None,
    threshold: int | None = None,
) -> gpd.GeoDataFrame:
    """Count points per hexagon, with small counts suppressed for public use.

    Parameters
    ----------
    points
        Incident points in a projected CRS (metres).
    size_m
        Hexagon circumradius (centre to corner) in metres; 250 m gives cells of about
        0.16 km^2.
    weight
        Optional column of weights; its per-cell sum is reported (as ``weight``) only for
        cells that are not suppressed.
    threshold
        Counts from 1 to ``threshold`` are suppressed (default
        ``settings.suppression_threshold``, 10).

    Returns
    -------
    GeoDataFrame
        One row per non-empty cell, sorted by ``(q, r)``: ``q``, ``r`` (axial cell ids),
        ``count`` (nullable integer: missing where suppressed), ``suppressed`` (bool),
        ``label`` (public text: the count, or "fewer than 11"), ``heat`` (the value a
        public surface may use, see :func:`public_value`), ``weight`` when asked, and
        hexagon polygons in the points' CRS. No column holds an exact count of 1..threshold.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> pts = gpd.GeoDataFrame(geometry=shapely.points([[10.0, 10.0]] * 12 + [[900.0, 0.0]]),
    ...                        crs=32635)
    >>> h = hex_counts(pts, size_m=250)
    >>> h["label"].tolist(), h["count"].isna().tolist()
    (['12', 'fewer than 11'], [False, True])
    >>> len(hex_counts(pts.iloc[:0]))
    0
    """
    import geopandas as gpd

    t = settings.suppression_threshold if threshold is None else int(threshold)
    if size_m <= 0:
        msg = f"`size_m` must be positive, got {size_m}"
        raise InputError(msg)
    if t < 0:
        msg = f"`threshold` must be zero or more, got {t}"
        raise InputError(msg)
    if points.crs is None or not points.crs.is_projected:
        msg = "`hex_counts` needs points in a projected CRS (metres); project them first"
        raise InputError(msg)
    geom = points.geometry.values
    keep = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
    xy = shapely.get_coordinates(shapely.centroid(geom[keep])) if keep.any() else np.empty((0, 2))
    x, y = xy[:, 0], xy[:, 1]
    w = None
    if weight is not None:
        if weight not in points.columns:
            msg = f"weight column `{weight}` not found; columns are {list(points.columns)}"
            raise InputError(msg)
        w = pd.to_numeric(points[weight], errors="coerce").to_numpy(dtype=np.float64)[keep]
        w = np.nan_to_num(w, nan=0.0)
    origin = hex_grid_origin(x, y, size_m=size_m)
    q, r = hex_axial(x, y, size_m=size_m, origin=origin)
    cols = ["q", "r", "count", "suppressed", "label", "heat", *(["weight"] if weight else []), "geometry"]
    if x.size == 0:
        return gpd.GeoDataFrame({c: [] for c in cols[:-1]}, geometry=[], crs=points.crs)
    cells, inv = unique_cells(q, r, return_inverse=True)
    inv = inv.reshape(-1)
    n = np.bincount(inv, minlength=len(cells))
    suppressed = n <= t
    count = pd.array(np.where(suppressed, 0, n), dtype="Int64")
    count[suppressed] = pd.NA
    label = np.where(suppressed, suppression_label(t), n.astype(str))
    heat = np.where(suppressed, (t + 1) / 2, n.astype(np.float64))
    cx, cy = hex_centres(cells[:, 0], cells[:, 1], size_m=size_m, origin=origin)
    data: dict[str, object] = {
        "q": cells[:, 0],
        "r": cells[:, 1],
        "count": count,
        "suppressed": suppressed,
        "label": label.astype(object),
        "heat": heat,
    }
    if w is not None:
        ws = pd.array(np.bincount(inv, weights=w, minlength=len(cells)), dtype="Float64")
        ws[suppressed] = pd.NA
        data["weight"] = ws
    out = gpd.GeoDataFrame(data, geometry=hex_polygons(cx, cy, size_m=size_m), crs=points.crs)
    out.attrs["hex_size_m"] = float(size_m)
    out.attrs["hex_origin"] = origin
    out.attrs["suppression_threshold"] = t
    return out
