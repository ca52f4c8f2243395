"""Shareable candidate table: every incident-derived column redone from released demand.

Per candidate, within the run's cutoff: the released incidents and weighted demand its
walk reaches (sums of unit masses), the mean walk of that demand in whole minutes (only
where the count is shown), the share of it in released hotspots (whole percent), and any
``demand`` layer the same way. The score parts that depend on incidents (demand, walk,
hotspot, demand layers) are recomputed from these with the run's weights and the formula
of :func:`siting.score.score_candidates`; parts from public layers (services, attract and
avoid layers) are kept. The rank is the exact run's (the order the planner decides on; an
ordinal, no count), so a released score can be slightly out of order with it.

Columns are kept on an allow-list: the candidate's own text columns, the public ones, and
the released ones. A numeric column this module does not know is left out (it could be
derived from incidents by code written after this one), and logged.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .rule import Rule, minutes_label, whole_minutes

if TYPE_CHECKING:
    import geopandas as gpd

    from .coverage import UnitCoverage

log = logging.getLogger("siting.privacy")

F64 = npt.NDArray[np.float64]

#: Shown for a figure left out because the count behind it is not shown.
NOT_SHOWN = "not shown"
#: Columns that never depend on incidents.
PUBLIC_COLUMNS = (
    "candidate_id",
    "services_within",
    "excluded",
    "excluded_reason",
    "region",
    "part_services",
    "part_service_access",
    "nearest_exclusion_m",
    "exclusion_rule_m",
    "exclusion_margin_m",
)
#: Columns recomputed from released demand (with a ``_label`` column each).
RELEASED_COLUMNS = (
    "covered_demand_weight",
    "covered_incidents",
    "mean_walk_min",
    "hotspot_demand_weight",
    "hotspot_share",
    "score",
    "rank",
)


def share_of_max(values: F64) -> F64:
    """``values / max(values)`` (zeros when the max is not positive), as in score.py."""
    v = np.asarray(values, dtype=np.float64)
    top = float(np.nanmax(v)) if v.size and np.isfinite(v).any() else 0.0
    return np.zeros_like(v) if top <= 0 else np.nan_to_num(v) / top


def recombine(
    parts_public: dict[str, F64],
    components: dict[str, F64],
    weights: dict[str, float],
    *,
    cutoff_min: float,
    avoid: set[str],
    eligible: npt.NDArray[np.bool_] | None = None,
) -> dict[str, F64]:
    """Score parts from component values by :func:`siting.score.composite` (one formula).

    ``components`` holds raw values for ``demand`` (covered demand weight), ``walk``
    (access demand weight), ``service_access`` (minutes), ``services``, ``hotspot`` and
    ``layer_<name>``; ``parts_public`` holds parts kept as they are. Returns
    ``{"part_<k>": ..., "score": ...}``.
    """
    from ..score import composite

    todo = {k: v for k, v in components.items() if k in weights and f"part_{k}" not in parts_public}
    parts = composite(todo, weights, eligible=eligible, cutoff_min=cutoff_min, avoid=avoid)
    n = len(parts["score"]) if todo else len(next(iter(parts_public.values())))
    out: dict[str, F64] = {}
    score = np.zeros(n)
    for k in weights:
        key = f"part_{k}"
        if key in parts_public:
            part = np.nan_to_num(np.asarray(parts_public[key], dtype=np.float64))
        elif key in parts:
            part = parts[key]
        else:
            continue
        out[key] = part
        score = score + part
    out["score"] = score
    return out


def ranks(score: F64, excluded: npt.NDArray[np.bool_]) -> F64:
    """Rank 1 = best score; ties keep input order; excluded candidates get none."""
    rank = np.full(score.size, np.nan)
    ok = np.flatnonzero(~excluded)
    order = ok[np.lexsort((ok, -score[ok]))]
    rank[order] = np.arange(1, order.size + 1)
    return rank


def _own_text_columns(cands: pd.DataFrame, known: set[str]) -> list[str]:
    out = []
    for c in cands.columns:
        if c in known or c == cands.geometry.name or str(c).startswith(("part_", "layer_")):
            continue
        s = cands[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            log.info("shareable candidates: numeric column %r left out (not known to be public)", c)
            continue
        out.append(c)
    return out


def release_candidates(
    cands: gpd.GeoDataFrame,
    cover: UnitCoverage,
    *,
    unit_count: F64,
    unit_weight: F64,
    unit_hot: npt.NDArray[np.bool_] | None,
    demand_layers: dict[str, F64],
    layer_roles: dict[str, str],
    weights: dict[str, float],
    cutoff_min: float,
    rule: Rule,
) -> gpd.GeoDataFrame:
    """The shareable candidate table (see the module docstring).

    ``demand_layers`` maps a ``demand``-role layer's name to its unit masses;
    ``layer_roles`` maps every extra layer's name to its role.
    """
    import geopandas as gpd

    count = cover.per_candidate(unit_count, cutoff_min)
    weight = cover.per_candidate(unit_weight, cutoff_min)
    walk = cover.mean_minutes(unit_weight, cutoff_min)
    zero_w = (weight <= 0) & (count > 0)
    if zero_w.any():
        walk = np.where(zero_w, cover.mean_minutes(unit_count, cutoff_min), walk)
    # access demand weight: sum w (1 - t / T) = W (1 - weighted mean walk / T)
    access = np.where(weight > 0, weight * np.clip(1 - np.nan_to_num(walk) / cutoff_min, 0, 1), 0.0)
    comps: dict[str, F64] = {"demand": weight, "walk": access}
    hot_w = None
    if unit_hot is not None and "hotspot" in weights:
        hot_w = cover.per_candidate(unit_weight * unit_hot, cutoff_min)
        comps["hotspot"] = hot_w
    for name, mass in demand_layers.items():
        comps[f"layer_{name}"] = cover.per_candidate(mass, cutoff_min)
    public_parts = {
        c: cands[c].to_numpy(dtype=np.float64)
        for c in cands.columns
        if str(c).startswith("part_")
        and c not in ("part_demand", "part_walk", "part_hotspot")
        and not (str(c).startswith("part_layer_") and str(c)[len("part_layer_") :] in demand_layers)
    }
    if "part_services" not in cands.columns and "services_within" in cands.columns:
        comps["services"] = cands["services_within"].to_numpy(dtype=np.float64)
    if "part_service_access" not in cands.columns and "nearest_service_min" in cands.columns:
        comps["service_access"] = cands["nearest_service_min"].to_numpy(dtype=np.float64)
    for c in cands.columns:
        name = str(c)[len("layer_") :] if str(c).startswith("layer_") else None
        if (
            name is not None
            and name not in demand_layers
            and layer_roles.get(name) != "demand"
            and f"part_{c}" not in cands.columns
        ):
            comps[str(c)] = cands[c].to_numpy(dtype=np.float64)
    avoid = {f"layer_{n}" for n, role in layer_roles.items() if role == "avoid"}
    excluded = (
        cands["excluded"].fillna(False).astype(bool).to_numpy()
        if "excluded" in cands.columns
        else np.zeros(len(cands), bool)
    )
    parts = recombine(public_parts, comps, weights, cutoff_min=cutoff_min, avoid=avoid, eligible=~excluded)
    # the order is the exact run's (an ordinal, no count); the numbers beside it are released
    rank = (
        cands["rank"].to_numpy(dtype=np.float64)
        if "rank" in cands.columns
        else ranks(parts["score"], excluded)
    )

    known = set(PUBLIC_COLUMNS) | set(RELEASED_COLUMNS) | {"nearest_service_min"}
    own = _own_text_columns(cands, known)
    out: dict[str, Any] = {"candidate_id": cands["candidate_id"].astype(str).to_numpy()}
    for c in own:
        out[c] = cands[c].to_numpy()
    shown = ~np.isnan(rule.released(count))
    out["covered_incidents"] = rule.released(count)
    out["covered_incidents_label"] = rule.labels(count)
    out["covered_demand_weight"] = rule.released(weight)
    out["covered_demand_weight_label"] = rule.labels(weight)
    mw = np.where(shown, whole_minutes(walk), np.nan)
    out["mean_walk_min"] = mw
    out["mean_walk_min_label"] = np.array(
        [
            minutes_label(v) if np.isfinite(v) else (NOT_SHOWN if c > 0 else "")
            for v, c in zip(mw, count, strict=True)
        ],
        dtype=object,
    )
    if "services_within" in cands.columns:
        out["services_within"] = cands["services_within"].to_numpy()
    if "nearest_service_min" in cands.columns:
        ns = whole_minutes(cands["nearest_service_min"].to_numpy(dtype=np.float64))
        out["nearest_service_min"] = ns
        out["nearest_service_min_label"] = np.array([minutes_label(v) for v in ns], dtype=object)
    if hot_w is not None:
        hs = [
            rule.share(h, w) if ok else (np.nan, "")
            for h, w, ok in zip(np.asarray(hot_w, dtype=float), weight, (weight > 0) & shown, strict=True)
        ]
        out["hotspot_share"] = np.array([v for v, _ in hs], dtype=np.float64)
        out["hotspot_share_label"] = np.array([lab for _, lab in hs], dtype=object)
    for c in cands.columns:
        name = str(c)[len("layer_") :] if str(c).startswith("layer_") else None
        if name is None:
            continue
        if name in demand_layers:
            v = comps[f"layer_{name}"]
            out[c] = rule.released(v)
            out[f"{c}_label"] = rule.labels(v)
        elif layer_roles.get(name) != "demand":  # attract, avoid, services: the user's own public layers
            out[c] = cands[c].to_numpy()
    for key, part in parts.items():
        if key == "score":
            continue
        out[key] = np.round(part, 2)
    out["score"] = np.round(parts["score"], 2)
    out["excluded"] = excluded
    out["rank"] = rank
    for c in PUBLIC_COLUMNS:
        if c in cands.columns and c not in out:
            out[c] = cands[c].to_numpy()
    return gpd.GeoDataFrame(out, geometry=cands.geometry.values, crs=cands.crs, index=cands.index)
