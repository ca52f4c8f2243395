"""Where demand concentrates: density surface, clusters, Getis-Ord Gi*, time profile.

Every analysis states its parameters (kept in ``GeoDataFrame.attrs['parameters']`` and in
a ``params`` text column of polygon outputs) so a planner can see how a hotspot was made:

- :func:`kde_grid`: Gaussian kernel density on the plane, bandwidth in metres.
- :func:`cluster_hotspots`: DBSCAN or HDBSCAN (scikit-learn) clusters of incidents, each
  drawn as the union of the hexagons its members fall in (never a hull through incident
  points, whose corners would be incident locations).
- :func:`gi_star` and :func:`gi_star_hotspots`: Getis-Ord Gi* z-scores on a hexagon grid
  with binary contiguity weights (the cell and its 6 neighbours), p-values from the normal
  distribution, Benjamini-Hochberg false-discovery-rate q-values, so a hotspot is
  statistically significant, not merely dense.
- :func:`time_profile`: incidents by hour of day and by day of week.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from . import privacy
from ._errors import InputError
from .gi_star import (  # noqa: F401  (offered here with the other analyses)
    _HEX_NEIGHBOURS,
    _grid_neighbours,
    _xy,
    benjamini_hochberg,
    gi_star,
    gi_star_hotspots,
    gi_star_statistic,
    two_sided_p,
)

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


# ------------------------------------------------------------------------- KDE
def kde_grid(
    x: F64,
    y: F64,
    *,
    weights: F64 | None = None,
    bandwidth_m: float = 200.0,
    cell_m: float = 25.0,
    bounds: tuple[float, float, float, float] | None = None,
) -> tuple[F64, tuple[float, float, float, float]]:
    """Gaussian kernel density of weighted points on a regular grid (plane, metres).

    Points are binned onto the grid and smoothed with a Gaussian of standard deviation
    ``bandwidth_m`` (truncated at 4 bandwidths). The surface is in weight per km^2 and
    integrates to the total weight (up to what falls outside ``bounds``).

    Returns
    -------
    grid, bounds
        ``grid[row, col]`` (pads of 4 bandwidths by default) with row 0 at the *south*
        edge, and ``(minx, miny, maxx, maxy)``
        of the grid's outer edges.

    Examples
    --------
    >>> g, b = kde_grid(np.array([0.0]), np.array([0.0]), bandwidth_m=100, cell_m=10)
    >>> round(float(g.sum()) * 10 * 10 / 1e6, 3)  # integrates to the one point
    1.0
    >>> kde_grid(np.array([]), np.array([]))[0].shape
    (0, 0)
    """
    from scipy import ndimage

    if bandwidth_m <= 0 or cell_m <= 0:
        msg = f"`bandwidth_m` and `cell_m` must be positive, got {bandwidth_m} and {cell_m}"
        raise InputError(msg)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=np.float64)
    if x.size == 0:
        return np.zeros((0, 0)), (0.0, 0.0, 0.0, 0.0)
    if bounds is None:
        pad = 4.0 * bandwidth_m
        bounds = (x.min() - pad, y.min() - pad, x.max() + pad, y.max() + pad)
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    nx = max(1, int(np.ceil((maxx - minx) / cell_m)))
    ny = max(1, int(np.ceil((maxy - miny) / cell_m)))
    maxx, maxy = minx + nx * cell_m, miny + ny * cell_m
    col = np.floor((x - minx) / cell_m).astype(np.int64)
    row = np.floor((y - miny) / cell_m).astype(np.int64)
    inside = (col >= 0) & (col < nx) & (row >= 0) & (row < ny)
    binned = np.zeros((ny, nx))
    np.add.at(binned, (row[inside], col[inside]), w[inside])
    smooth = ndimage.gaussian_filter(binned, sigma=bandwidth_m / cell_m, mode="constant", truncate=4.0)
    density = smooth / (cell_m * cell_m) * 1e6
    return density, (minx, miny, maxx, maxy)


def kde_surface(
    points: gpd.GeoDataFrame,
    *,
    weight: str | None = None,
    bandwidth_m: float = 200.0,
    cell_m: float = 25.0,
) -> tuple[F64, tuple[float, float, float, float], dict[str, Any]]:
    """Kernel density of a point layer (projected), with its parameters.

    Internal: computed from the incidents themselves. A public heat surface is built
    from suppressed hexagon counts instead (see :mod:`siting.maps`).
    """
    x, y = _xy(points)
    w = None
    if weight is not None:
        w = pd.to_numeric(points[weight], errors="coerce").fillna(0).to_numpy(np.float64)
    grid, b = kde_grid(x, y, weights=w, bandwidth_m=bandwidth_m, cell_m=cell_m)
    params = {
        "method": "kde",
        "kernel": "gaussian",
        "bandwidth_m": bandwidth_m,
        "cell_m": cell_m,
        "weight": weight or "count",
        "units": "per km2",
    }
    return grid, b, params


# --------------------------------------------------------------------- clusters
def cluster_hotspots(
    points: gpd.GeoDataFrame,
    *,
    method: str = "dbscan",
    eps_m: float = 150.0,
    min_samples: int = 15,
    min_cluster_size: int = 25,
    hex_size_m: float = 100.0,
    threshold: int | None = None,
) -> gpd.GeoDataFrame:
    """Density-based clusters of incidents as hotspot polygons.

    Parameters
    ----------
    method
        ``"dbscan"`` (``eps_m``, ``min_samples``) or ``"hdbscan"`` (``min_cluster_size``,
        ``min_samples``).
    hex_size_m
        Each cluster is drawn as the union of the hexagons of this size holding its members.
    threshold
        Clusters with ``threshold`` members or fewer are dropped from the output (their size
        would be a small count); default ``settings.suppression_threshold``.

    Returns
    -------
    GeoDataFrame
        ``cluster`` (1 = largest), ``n_incidents`` (an integer, above ``threshold``),
        ``method``, ``params`` and polygon geometry, sorted by size.
    """
    import geopandas as gpd
    from sklearn.cluster import DBSCAN, HDBSCAN

    from . import settings

    t = settings.suppression_threshold if threshold is None else int(threshold)
    x, y = _xy(points)
    method = method.lower()
    if method == "dbscan":
        params = f"DBSCAN eps={eps_m:g} m, min_samples={min_samples}"
        model: Any = DBSCAN(eps=eps_m, min_samples=min_samples)
    elif method == "hdbscan":
        params = f"HDBSCAN min_cluster_size={min_cluster_size}, min_samples={min_samples}"
        model = HDBSCAN(min_cluster_size=min_cluster_size, min_samples=min_samples, copy=True)
    else:
        msg = f"unknown clustering `method` {method!r}; use 'dbscan' or 'hdbscan'"
        raise InputError(msg)
    cols = {"cluster": [], "n_incidents": [], "method": [], "params": []}
    if x.size < 2:
        return gpd.GeoDataFrame(cols, geometry=[], crs=points.crs)
    labels = model.fit_predict(np.column_stack([x, y]))
    origin = privacy.hex_grid_origin(x, y, size_m=hex_size_m)
    q, r = privacy.hex_axial(x, y, size_m=hex_size_m, origin=origin)
    rows = []
    for lab in sorted(set(labels.tolist()) - {-1}):
        mem = labels == lab
        n = int(mem.sum())
        if n <= t:
            continue
        cells = privacy.unique_cells(q[mem], r[mem])
        cx, cy = privacy.hex_centres(cells[:, 0], cells[:, 1], size_m=hex_size_m, origin=origin)
        poly = shapely.union_all(privacy.hex_polygons(cx, cy, size_m=hex_size_m))
        rows.append((n, poly))
    rows.sort(key=lambda t_: (-t_[0], t_[1].centroid.x, t_[1].centroid.y))
    out = gpd.GeoDataFrame(
        {
            "cluster": np.arange(1, len(rows) + 1),
            "n_incidents": np.array([n for n, _ in rows], dtype=np.int64),
            "method": method,
            "params": params,
        },
        geometry=[p for _, p in rows],
        crs=points.crs,
    )
    out.attrs["parameters"] = {"method": method, "params": params, "hex_size_m": hex_size_m}
    return out


# ----------------------------------------------------------------- time profile
def time_profile(
    demand: pd.DataFrame, *, date_column: str = "date", timezone: str | None = None
) -> dict[str, pd.Series]:
    """Incidents by hour of day (0..23) and day of week (Mon..Sun).

    Hours are those of the zone the dates carry (layers read them into one zone, see
    :mod:`siting.zones`); ``timezone`` converts zoned dates to another zone first.
    Rows whose date is missing or unparseable are left out (and counted in the log).
    Dates without a time of day put every incident at hour 0; ``has_time`` tells.

    Examples
    --------
    >>> d = pd.DataFrame({"date": pd.to_datetime(["2024-07-06T03:30:00Z"], utc=True)})
    >>> int(time_profile(d)["hour"].idxmax()), time_profile(d)["weekday"].idxmax()
    (3, 'Sat')
    >>> p = time_profile(d, timezone="America/Toronto")  # a Friday night in Toronto
    >>> int(p["hour"].idxmax()), p["weekday"].idxmax()
    (23, 'Fri')

    Returns
    -------
    dict
        ``"hour"`` and ``"weekday"`` Series of counts (all bins present), and
        ``"has_time"`` (a one-element bool Series).
    """
    if date_column not in demand.columns:
        msg = f"no `{date_column}` column in the incidents; a time profile needs dates"
        raise InputError(msg)
    col = demand[date_column]
    if pd.api.types.is_datetime64_any_dtype(col):
        d = pd.Series(col)
    else:
        try:
            d = pd.to_datetime(col, errors="coerce", format="mixed")
        except (ValueError, TypeError):  # times in several zones in one column
            msg = (
                f"the `{date_column}` column holds times in several UTC offsets; read the layer with a "
                "time zone (--timezone, e.g. America/Toronto) so hours of day are in one zone"
            )
            raise InputError(msg) from None
    if timezone is not None and getattr(d.dt, "tz", None) is not None:
        d = d.dt.tz_convert(timezone)
    missing = int(d.isna().sum())
    if missing:
        log.info("time profile: %d incident(s) without a usable date left out", missing)
    d = d.dropna()
    hour = d.dt.hour.value_counts().reindex(range(24), fill_value=0).sort_index()
    hour.index.name = "hour"
    wd = d.dt.day_of_week.value_counts().reindex(range(7), fill_value=0).sort_index()
    wd.index = pd.Index(WEEKDAYS, name="weekday")
    has_time = bool(((d.dt.hour != 0) | (d.dt.minute != 0)).any())
    return {
        "hour": hour.rename("incidents"),
        "weekday": wd.rename("incidents"),
        "has_time": pd.Series([has_time]),
    }


def find_hotspots(
    demand: gpd.GeoDataFrame,
    *,
    weight: str | None = None,
    methods: tuple[str, ...] = ("dbscan", "gi_star"),
    eps_m: float = 150.0,
    min_samples: int = 15,
    min_cluster_size: int = 25,
    gi_size_m: float = 250.0,
    alpha: float = 0.05,
    threshold: int | None = None,
) -> gpd.GeoDataFrame:
    """Every hotspot analysis asked for, as one public polygon layer (``Plan.hotspots``).

    Columns: ``method``, ``params`` (the analysis and its parameters in words),
    ``n_incidents`` (clusters, above the threshold) or ``n_cells`` (Gi*): integers (pandas
    ``Int64``, empty where a row has the other one, so a GIS sums them as numbers), geometry.
    The map draws one layer per ``params``.
    """
    import geopandas as gpd

    parts = []
    for method in methods:
        if method in ("dbscan", "hdbscan"):
            parts.append(
                cluster_hotspots(
                    demand,
                    method=method,
                    eps_m=eps_m,
                    min_samples=min_samples,
                    min_cluster_size=min_cluster_size,
                    threshold=threshold,
                )
            )
        elif method == "gi_star":
            parts.append(gi_star_hotspots(demand, size_m=gi_size_m, weight=weight, alpha=alpha))
        else:
            msg = f"unknown hotspot method {method!r}; use 'dbscan', 'hdbscan' or 'gi_star'"
            raise InputError(msg)
    parts = [p for p in parts if len(p)]
    if not parts:
        return gpd.GeoDataFrame({"method": [], "params": []}, geometry=[], crs=demand.crs)
    out = pd.concat(parts, ignore_index=True)
    for col in ("cluster", "n_incidents", "n_cells"):
        if col in out.columns:
            out[col] = out[col].astype("Int64")
    return gpd.GeoDataFrame(out, geometry="geometry", crs=demand.crs)
