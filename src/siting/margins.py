"""How far each candidate lies from the exclusion rules: "204 m from Ressun lukio; rule 200 m".

A candidate 4 m outside a school zone is allowed, but a planner defending it must know
it is that close. :func:`exclusion_margins` measures, for every candidate, the distance to
the nearest feature of every exclusion layer (from the feature's boundary, as the rules
are written) and keeps the rule with the smallest margin (distance minus the rule's
buffer; negative inside a zone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    import geopandas as gpd

#: Columns added to the candidates table.
COLUMNS = (
    "nearest_exclusion",
    "nearest_exclusion_rule",
    "nearest_exclusion_m",
    "exclusion_rule_m",
    "exclusion_margin_m",
)


def exclusion_margins(points: Any, rules: list[tuple[gpd.GeoDataFrame, float, str]]) -> pd.DataFrame:
    """The nearest exclusion feature of each point, with its distance and the rule's.

    Parameters
    ----------
    points
        Candidate geometries in a projected CRS (metres).
    rules
        One ``(features, buffer_m, label)`` per exclusion rule: the unbuffered features
        (same CRS, a ``name`` column when they have names), the rule's distance and its label.

    Returns
    -------
    DataFrame
        One row per point: ``nearest_exclusion`` (the feature's name, or the rule's label
        when unnamed), ``nearest_exclusion_rule``, ``nearest_exclusion_m`` (distance to the
        feature), ``exclusion_rule_m`` (the rule's distance) and ``exclusion_margin_m``
        (distance minus rule; negative means inside the zone). NaN where there is no rule.

    Examples
    --------
    >>> import geopandas as gpd
    >>> school = gpd.GeoDataFrame({"name": ["Ressun lukio"]}, geometry=[shapely.box(0, 0, 10, 10)])
    >>> m = exclusion_margins(shapely.points([[214.0, 5.0], [50.0, 5.0]]), [(school, 200.0, "school 200 m")])
    >>> m[["nearest_exclusion", "nearest_exclusion_m", "exclusion_margin_m"]].values.tolist()
    [['Ressun lukio', 204.0, 4.0], ['Ressun lukio', 40.0, -160.0]]
    >>> exclusion_margins(shapely.points([[0.0, 0.0]]), [])["exclusion_margin_m"].isna().all()
    np.True_
    """
    pts = np.asarray(points, dtype=object)
    n = pts.size
    name = np.full(n, None, dtype=object)
    rule = np.full(n, None, dtype=object)
    dist = np.full(n, np.nan)
    buf = np.full(n, np.nan)
    margin = np.full(n, np.inf)
    ok = ~(shapely.is_missing(pts) | shapely.is_empty(pts)) if n else np.zeros(0, dtype=bool)
    for feats, buffer_m, label in rules:
        geoms = np.asarray(feats.geometry.values, dtype=object)
        good = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        if not good.any() or not ok.any():
            continue
        idx_good = np.flatnonzero(good)
        tree = shapely.STRtree(geoms[good])
        where = np.flatnonzero(ok)
        (pi, gi), d = tree.query_nearest(pts[where], return_distance=True, all_matches=False)
        point = where[pi]
        feat = idx_good[gi]
        names = feats["name"].astype(str).to_numpy() if "name" in feats.columns else None
        m = d - float(buffer_m)
        better = m < margin[point]
        for p, f, dd, mm in zip(point[better], feat[better], d[better], m[better], strict=True):
            nm = names[f] if names is not None else ""
            name[p] = nm if nm and nm not in ("(unnamed)", "nan", "None") else label
            rule[p] = label
            dist[p] = dd
            buf[p] = float(buffer_m)
            margin[p] = mm
    margin[~np.isfinite(margin)] = np.nan
    return pd.DataFrame(
        {
            "nearest_exclusion": name,
            "nearest_exclusion_rule": rule,
            "nearest_exclusion_m": np.round(dist, 1),
            "exclusion_rule_m": buf,
            "exclusion_margin_m": np.round(margin, 1),
        }
    )
