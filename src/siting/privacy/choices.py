"""Shareable figures about the chosen sites: sites table, coverage curve, sensitivity, impact.

The sets of sites come from the run (they were chosen on the exact data; the attack suite
checks what their optimality reveals). Every number about them is recomputed here from
the released demand units: what a set covers is the mass of the units within the cutoff
of any of its sites, a site's *alone* demand is the mass only it reaches, its *assigned*
demand the mass it is nearest to. Impact figures are the same function as the internal
table (:func:`siting.impact.impact_table`) run on the units, with fatal *counts* (never
weights) behind deaths averted, which appear only when that count is shown.
"""

from __future__ import annotations

import logging
import math
import re
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from .. import settings
from .candidates import NOT_SHOWN
from .rule import Rule, percent_label, whole_percent

if TYPE_CHECKING:
    from .coverage import UnitCoverage

log = logging.getLogger("siting.privacy")

F64 = npt.NDArray[np.float64]


def _ids(text: Any) -> list[str]:
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return []
    return [s for s in str(text).split(";") if s]


def set_weight(cover: UnitCoverage, ids: list[str], mass: F64, cutoff_min: float) -> float:
    """Released mass within ``cutoff_min`` of any of ``ids``."""
    return float(mass[cover.covered(ids, cutoff_min)].sum()) if ids else 0.0


def release_sites(
    sites: pd.DataFrame,
    cover: UnitCoverage,
    *,
    unit_weight: F64,
    cutoff_min: float,
    released_candidates: pd.DataFrame,
    rule: Rule,
) -> pd.DataFrame:
    """The chosen sites with covers/alone/assigned demand from released units and a new reason."""
    ids = [str(c) for c in sites["candidate_id"]]
    _, who = cover.nearest(ids, cutoff_min)
    within = cover.within(cutoff_min)
    rows = cover.rows(ids)
    n_cover = np.asarray(within[rows].sum(axis=0)).ravel() if rows else np.zeros(len(unit_weight))
    covers, alone, assigned = [], [], []
    for k, c in enumerate(ids):
        r = cover.rows([c])
        if not r:
            covers.append(0.0), alone.append(0.0), assigned.append(0.0)
            continue
        mine = np.asarray(within[r[0]].todense()).ravel() > 0
        covers.append(float(unit_weight[mine].sum()))
        alone.append(float(unit_weight[mine & (n_cover == 1)].sum()))
        assigned.append(float(unit_weight[who == k].sum()))
    out = pd.DataFrame(index=sites.index)
    out["candidate_id"] = ids
    by_id = released_candidates.set_index(released_candidates["candidate_id"].astype(str))
    for col in ("name", "rank", "score"):
        if col in by_id.columns:
            out[col] = by_id[col].reindex(ids).to_numpy()
    for col in ("region", "fixed"):
        if col in sites.columns:
            out[col] = sites[col].to_numpy()
    for name, values in (
        ("covers_demand_weight", covers),
        ("alone_demand_weight", alone),
        ("assigned_demand_weight", assigned),
    ):
        out[name] = rule.released(values)
        out[f"{name}_label"] = rule.labels(values)
    reasons = []
    fixed = sites["fixed"].to_numpy(dtype=bool) if "fixed" in sites.columns else np.zeros(len(ids), bool)
    regions = sites["region"].to_numpy() if "region" in sites.columns else [None] * len(ids)
    for k in range(len(ids)):
        why = (
            "fixed open (required or existing)"
            if fixed[k]
            else f"covers {rule.label(alone[k])} demand weight no other chosen site covers"
        )
        if (
            regions[k] is not None
            and not (isinstance(regions[k], float) and math.isnan(regions[k]))
            and regions[k]
        ):
            why += f"; region {regions[k]}"
        reasons.append(why)
    out["reason"] = reasons
    known = {
        "candidate_id",
        "name",
        "rank",
        "score",
        "region",
        "fixed",
        "reason",
        "covers_demand_weight",
        "alone_demand_weight",
        "assigned_demand_weight",
        "covers_incidents",
        "alone_incidents",
    }
    for col in sites.columns:
        if col in known or col in out.columns or col == getattr(sites, "_geometry_column_name", None):
            continue
        s = sites[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            log.info("shareable sites: numeric column %r left out (not known to be public)", col)
            continue
        out[col] = s.to_numpy()
    if hasattr(sites, "geometry"):
        import geopandas as gpd

        return gpd.GeoDataFrame(out, geometry=sites.geometry.values, crs=sites.crs)
    return out


def release_curve(
    curve: pd.DataFrame, cover: UnitCoverage, *, unit_weight: F64, cutoff_min: float, rule: Rule
) -> pd.DataFrame:
    """The coverage curve: each row's chosen set re-measured on released units."""
    total = float(unit_weight.sum())
    w = [set_weight(cover, _ids(c), unit_weight, cutoff_min) for c in curve["chosen"]]
    out = pd.DataFrame({"n_sites": curve["n_sites"].to_numpy()})
    out["covered_demand_weight"] = rule.released(w)
    out["covered_demand_weight_label"] = rule.labels(w)
    out["covered_demand_share"], out["covered_demand_share_label"] = rule.shares(w, total)
    if "gap" in curve.columns:
        gap = curve["gap"].to_numpy(dtype=np.float64)
        out["gap"] = whole_percent(gap) / 100.0
        out["gap_label"] = [percent_label(g) for g in gap]
    for col in ("status", "chosen"):
        if col in curve.columns:
            out[col] = curve[col].to_numpy()
    return out


def release_sensitivity(
    sens: pd.DataFrame, cover: UnitCoverage, *, unit_weight: F64, chosen: list[str], rule: Rule
) -> pd.DataFrame:
    """Coverage at each sensitivity cutoff: the set re-chosen there and the run's own set."""
    total = float(unit_weight.sum())
    out = pd.DataFrame({"cutoff_min": sens["cutoff_min"].to_numpy()})
    if "n_sites" in sens.columns:
        out["n_sites"] = sens["n_sites"].to_numpy()
    w, here = [], []
    for row in sens.itertuples(index=False):
        cut = float(row.cutoff_min)
        if cut > cover.max_minutes + 1e-9:
            w.append(np.nan), here.append(np.nan)
            continue
        sites = _ids(getattr(row, "sites", ""))
        w.append(set_weight(cover, sites, unit_weight, cut) if sites else np.nan)
        here.append(set_weight(cover, chosen, unit_weight, cut))
    w_a, h_a = np.array(w, dtype=float), np.array(here, dtype=float)
    out["covered_demand_weight"] = rule.released(w_a)
    out["covered_demand_weight_label"] = [rule.label(v) if np.isfinite(v) else "" for v in w_a]
    out["covered_demand_share"], out["covered_demand_share_label"] = rule.shares(w_a, total)
    here_share = rule.shares(h_a, total)
    out["chosen_here_covered_demand_share"], out["chosen_here_covered_demand_share_label"] = here_share
    for col in ("sites", "status"):
        if col in sens.columns:
            out[col] = sens[col].to_numpy()
    return out


#: Impact measures this module knows how to redo from released units, and how to show them.
COUNT_MEASURES = (
    "incidents",
    "demand_weight",
    "demand_weight_within_cutoff",
    "fatal_incidents",
    "incidents_within_cutoff",
    "fatal_within_cutoff",
    "incidents_within_effect_zone",
    "fatal_within_effect_zone",
)
SHARE_MEASURES = ("incident_share_within_cutoff",)
OTHER_MEASURES = ("deaths_averted", "visits_per_day", "booths_needed", "booths_per_site")


def _capacity_inputs(exact: pd.DataFrame, params: dict[str, Any]) -> tuple[float | None, float]:
    """demand_per_day and uses per booth of the run (parameters first, else the exact table)."""
    sel = params.get("selection") or {}
    per_day = sel.get("demand_per_day")
    uses = float(sel.get("uses_per_booth_per_day") or settings.uses_per_booth_per_day)
    t = exact.set_index("measure") if "measure" in exact.columns else pd.DataFrame()
    if per_day is None and "visits_per_day" in t.index and "incident_share_within_cutoff" in t.index:
        share = float(t.loc["incident_share_within_cutoff", "value"]) / 100.0  # a percentage
        per_day = float(t.loc["visits_per_day", "value"]) / share if share > 0 else None
    if "booths_needed" in t.index and "uses_per_booth_per_day" not in sel:
        m = re.search(r"at ([\d.]+) uses", str(t.loc["booths_needed", "unit"]))
        if m:
            uses = float(m.group(1))
    return per_day, uses


def release_impact(
    exact: pd.DataFrame,
    cover: UnitCoverage,
    *,
    chosen: list[str],
    unit_count: F64,
    unit_fatal: F64,
    cutoff_m: float,
    params: dict[str, Any],
    rule: Rule,
    unit_weight: F64 | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """The impact table redone on released units; measures it does not know are left out.

    Returns the table (``measure, value, low, high, label, unit, source``) and the names of
    the measures left out.
    """
    from ..impact import EFFECT_HIGH, EFFECT_LOW, impact_table

    speed = cover.speed_m_per_min
    best, _ = cover.nearest(chosen, cover.max_minutes)
    dist = best * speed
    nonfatal = np.clip(unit_count - unit_fatal, 0.0, None)
    d2 = np.concatenate([dist, dist])
    w2 = np.concatenate([nonfatal, unit_fatal])
    f2 = np.concatenate([np.zeros(dist.size, bool), np.ones(dist.size, bool)])
    per_day, uses = _capacity_inputs(exact, params)
    zone = settings.effect_zone_m
    if zone > cover.max_minutes * speed + 1e-6:
        log.warning("shareable impact: the effect zone is beyond the released reach; left out")
    redo = impact_table(
        d2,
        cutoff_m=cutoff_m,
        counts=w2,
        fatal=f2,
        demand_per_day=per_day,
        uses_per_booth_per_day=uses,
        n_sites=len(chosen),
    ).set_index("measure")
    if unit_weight is not None:  # the demand weight rows: weight masses, not counts
        redo.loc["demand_weight", ["value", "unit", "source"]] = [
            float(unit_weight.sum()),
            "demand weight (the siting objective, not a count)",
            "incident data",
        ]
        redo.loc["demand_weight_within_cutoff", ["value", "unit", "source"]] = [
            float(unit_weight[dist <= cutoff_m + 1e-9].sum()), f"demand weight within {cutoff_m:g} m walk",
            "incident data",
        ]  # fmt: skip
    wanted = list(exact["measure"]) if "measure" in exact.columns else list(redo.index)
    known = set(COUNT_MEASURES) | set(SHARE_MEASURES) | set(OTHER_MEASURES)
    left_out = [m for m in wanted if m not in known or m not in redo.index]
    fz = (
        float(redo.loc["fatal_within_effect_zone", "value"])
        if "fatal_within_effect_zone" in redo.index
        else 0.0
    )
    fz_shown = rule.released([fz])[0]
    recs = []
    for m in wanted:
        if m in left_out:
            continue
        row = redo.loc[m]
        v, lo, hi = float(row["value"]), math.nan, math.nan
        unit = str(row["unit"]).replace(" (weighted)", "")
        if m in COUNT_MEASURES:
            value, label = rule.released([v])[0], rule.label(v)
        elif m in SHARE_MEASURES:  # the exact table gives percent; released: a share, whole percent
            if "incidents" in redo.index and "incidents_within_cutoff" in redo.index:
                value, label = rule.share(
                    redo.loc["incidents_within_cutoff", "value"], redo.loc["incidents", "value"]
                )
            else:
                value, label = whole_percent([v / 100.0])[0] / 100.0, percent_label(v / 100.0)
        elif m == "deaths_averted":
            value = math.nan
            if np.isfinite(fz_shown):
                lo, hi = round(EFFECT_LOW * fz_shown, 1), round(EFFECT_HIGH * fz_shown, 1)
                label = f"{lo:.1f} to {hi:.1f}"
            else:
                label = f"{NOT_SHOWN} (fewer than {rule.threshold + 1} fatal incidents behind it)"
        elif m == "visits_per_day":
            value = float(round(v))
            label = f"{int(value):,}"
        else:  # booths
            value = float(v)
            label = f"{int(v):,}"
        recs.append(
            {
                "measure": m,
                "value": value,
                "low": lo,
                "high": hi,
                "label": label,
                "unit": unit,
                "source": row["source"],
            }
        )
    if left_out:
        log.info("shareable impact: measures left out (no release rule): %s", ", ".join(left_out))
    return pd.DataFrame(
        recs, columns=["measure", "value", "low", "high", "label", "unit", "source"]
    ), left_out
