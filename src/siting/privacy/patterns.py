"""Shareable hotspots, time profile and region counts.

* Hotspots are found again on released values: Getis-Ord Gi* on the released cell masses
  (the cells of the study area, empty ones included), and DBSCAN on the demand units
  weighted by their released masses. A hotspot is drawn as the union of whole cells, and
  its incident count is the released mass inside it, shown with the rule.
* The hour and weekday bars are counted from the incidents (they are part of the base
  table) and released as a partition of the published total (secondary suppression).
* Region counts are released unit masses summed by region.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

if TYPE_CHECKING:
    import geopandas as gpd

    from .demand import ReleasedDemand
    from .rule import Rule

log = logging.getLogger("siting.privacy")

F64 = npt.NDArray[np.float64]
_NEIGHBOURS = ((1, 0), (1, -1), (0, -1), (-1, 0), (-1, 1), (0, 1))


def _neighbours(q: npt.NDArray[np.int64], r: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:
    pos = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(q.tolist(), r.tolist(), strict=True))}
    return [
        np.asarray(
            [pos[(a + dq, b + dr)] for dq, dr in _NEIGHBOURS if (a + dq, b + dr) in pos], dtype=np.int64
        )
        for a, b in zip(q.tolist(), r.tolist(), strict=True)
    ]


def hot_cells(rd: ReleasedDemand, *, alpha: float = 0.05) -> npt.NDArray[np.bool_]:
    """Cells that are significant Gi* hot spots of the released weighted masses (BH FDR)."""
    from scipy import stats

    from ..hotspots import benjamini_hochberg, gi_star_statistic

    a = rd.area
    values = np.bincount(a.unit_cell, weights=rd.unit_weight, minlength=a.n_cells)
    if a.n_cells < 2:
        return np.zeros(a.n_cells, dtype=bool)
    z = gi_star_statistic(values, _neighbours(a.q, a.r))
    p = 2.0 * stats.norm.sf(np.abs(np.nan_to_num(z)))
    q = benjamini_hochberg(p)
    return (q < alpha) & (np.nan_to_num(z) > 0)


def _dbscan_params(text: str) -> tuple[float, int]:
    eps = re.search(r"eps=([\d.]+)", text)
    ms = re.search(r"min_samples=(\d+)", text)
    return (float(eps.group(1)) if eps else 150.0, int(ms.group(1)) if ms else 15)


def release_hotspots(
    exact: gpd.GeoDataFrame | None, rd: ReleasedDemand, rule: Rule
) -> tuple[gpd.GeoDataFrame, npt.NDArray[np.bool_]]:
    """Hotspots of the released demand for each method the run used, and the Gi* hot cells.

    Returns the layer (``method``, ``params``, ``n_cells``, ``n_incidents`` and its label,
    polygons of whole cells) and, per cell, whether it is a Gi* hot spot.
    """
    import geopandas as gpd

    a = rd.area
    polys = a.polygons()
    methods: list[tuple[str, str]] = []
    if exact is not None and len(exact) and "method" in exact.columns:
        params = exact["params"] if "params" in exact.columns else pd.Series([""] * len(exact))
        seen: dict[str, str] = {}
        for m, p in zip(exact["method"].astype(str), params.astype(str), strict=True):
            seen.setdefault(m, p)
        methods = sorted(seen.items())
    rows: list[dict[str, Any]] = []
    geoms = []
    hot = np.zeros(a.n_cells, dtype=bool)
    cell_mass = np.bincount(a.unit_cell, weights=rd.unit_count, minlength=a.n_cells)
    for method, params in methods:
        if method == "gi_star":
            hot = hot_cells(rd)
            if hot.any():
                for part in shapely.get_parts(shapely.union_all(polys[hot])):
                    inside = shapely.contains(part, shapely.centroid(polys)) & hot
                    rows.append(
                        {
                            "method": "gi_star",
                            "params": "Gi* on the released hexagon counts, BH FDR q < 0.05",
                            "cells": inside,
                        }
                    )
                    geoms.append(part)
        elif method in ("dbscan", "hdbscan"):
            from sklearn.cluster import DBSCAN

            if method == "hdbscan":
                log.info("shareable hotspots: HDBSCAN clusters are redone as DBSCAN on released counts")
            eps, min_samples = _dbscan_params(params)
            xy = np.column_stack([a.unit_x, a.unit_y])
            keep = rd.unit_count > 0
            if keep.sum() < 2:
                continue
            labels = DBSCAN(eps=eps, min_samples=min_samples).fit_predict(
                xy[keep], sample_weight=rd.unit_count[keep]
            )
            lab = np.full(a.n_units, -1)
            lab[keep] = labels
            for k in sorted(set(labels.tolist()) - {-1}):
                cells = np.zeros(a.n_cells, dtype=bool)
                cells[a.unit_cell[lab == k]] = True
                rows.append(
                    {
                        "method": "dbscan",
                        "params": f"DBSCAN eps={eps:g} m, min_samples={min_samples} on released counts",
                        "cells": cells,
                    }
                )
                geoms.append(shapely.union_all(polys[cells]))
    out_rows = []
    out_geoms = []
    for row, g in zip(rows, geoms, strict=True):
        mass = float(cell_mass[row["cells"]].sum())
        if row["method"] == "dbscan" and mass <= rule.threshold:
            continue
        out_rows.append(
            {
                "method": row["method"],
                "params": row["params"],
                "n_cells": int(row["cells"].sum()),
                "n_incidents": rule.released([mass])[0],
                "n_incidents_label": rule.label(mass),
            }
        )
        out_geoms.append(g)
    cols = ["method", "params", "n_cells", "n_incidents", "n_incidents_label"]
    layer = gpd.GeoDataFrame(pd.DataFrame(out_rows, columns=cols), geometry=out_geoms, crs=a.crs)
    return layer, hot


def release_time_profile(rd: ReleasedDemand) -> dict[str, pd.DataFrame]:
    """Hour-of-day and weekday bars as released with the base table.

    Returns ``{"hour": ..., "weekday": ...}`` frames with ``bin``, ``count``, ``label``,
    ``status`` (``hour`` only when the dates carry a time of day); empty without dates.
    """
    from ..hotspots import WEEKDAYS

    out = {}
    for key, bins in (("hour", [str(h) for h in range(24)]), ("weekday", list(WEEKDAYS))):
        rel = rd.profiles.get(key)
        if rel is None:
            continue
        out[key] = pd.DataFrame({"bin": bins, "count": rel.value, "label": rel.label, "status": rel.status})
    return out


def release_regions(regions: gpd.GeoDataFrame | None, rd: ReleasedDemand) -> pd.DataFrame | None:
    """Released incident counts per region (units by the region their point lies in)."""
    if regions is None or not len(regions):
        return None
    a = rd.area
    reg = regions.to_crs(a.crs) if regions.crs is not None and regions.crs != a.crs else regions
    name_col = "name" if "name" in reg.columns else None
    tree = shapely.STRtree(reg.geometry.values)
    ui, ri = tree.query(a.unit_points(), predicate="intersects")
    first = np.full(a.n_units, -1)
    order = np.lexsort((ri, ui))
    for u, r in zip(ui[order], ri[order], strict=True):
        if first[u] < 0:
            first[u] = r
    names = [str(v) for v in (reg[name_col] if name_col else pd.Series(range(len(reg))))]
    counts = np.array([float(rd.unit_count[first == k].sum()) for k in range(len(reg))])
    return pd.DataFrame(
        {"name": names, "count": rd.rule.released(counts), "count_label": rd.rule.labels(counts)}
    )
