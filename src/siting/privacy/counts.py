"""Exact hexagon counts with small counts hidden (the internal map's incident layer).

:func:`hex_counts` counts points per hexagon of a grid placed clear of the points; cells
with 1..threshold points carry no count, only the label "fewer than 11". It emits only
non-empty cells, so it is *not* a shareable output on its own: shareable outputs draw
:attr:`siting.privacy.ReleasedPlan.cells`, which cover every street of the study area.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from .. import settings
from .._errors import InputError
from .grid import hex_axial, hex_centres, hex_grid_origin, hex_polygons, unique_cells

if TYPE_CHECKING:
    import geopandas as gpd


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
