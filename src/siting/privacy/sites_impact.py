"""The per-site impact figures and the value curve, as shareable outputs may show them.

Like every derived figure (see the package docstring), a site's attendance, the deaths it
is expected to avert and the deaths-averted bands are recomputed from the released demand
units (their count and fatal masses) with the same curve and bands as the run, never from
the incidents themselves, and shown with the rule: counts as :meth:`Rule.label`, deaths
averted to one decimal only where the released fatal count behind them is above the
threshold. A site's hour bars are released with :func:`release_profile` (no per-site total
is published), and its recommended hours, visits and booths are recomputed from those
released bars, hidden bars counted as 0.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import settings
from .partition import release_profile
from .rule import minutes_label, percent_label, whole_percent

if TYPE_CHECKING:
    from ..plan import Plan
    from .release import ReleasedPlan
    from .rule import Rule


def _settings(plan: Plan) -> tuple[Any, Any, dict[str, Any]]:
    from ..decay import DecayCurve
    from ..effects import bands_from_config
    from ..site_impact import SiteSettings

    imp = (plan.parameters or {}).get("impact_led") or {}
    curve = DecayCurve.parse(imp["decay_spec"]) if imp.get("decay_spec") else DecayCurve("linear")
    bands = bands_from_config(imp.get("bands") or None)
    st = SiteSettings(
        curve=curve,
        bands=bands,
        hours_share=float(imp.get("hours_share", 0.8)),
        demand_per_day=None,
        uses_per_booth_per_day=imp.get("uses_per_booth_per_day"),
        booth_minutes=float(imp.get("booth_minutes", 27.0)),
        wait_target_min=float(imp.get("wait_target_min", 5.0)),
    )
    return st, bands, imp


def _deaths_label(value: float, fatal: float, rule: Rule, *, band_hidden: bool = False) -> str:
    if not math.isfinite(value):
        return "not estimated"
    if band_hidden:
        return f"not shown (a distance band holds {rule.suppressed_label} fatal incidents)"
    if not (math.isfinite(fatal) and fatal >= rule.threshold + 1):
        return f"not shown ({rule.suppressed_label} fatal incidents)"
    return f"{value:.1f}"


def _fatal_by_band(metres: Any, unit_fatal: np.ndarray, bands: Any) -> np.ndarray:
    """Released fatal mass per chosen site (rows of ``metres``) and effect band (columns),
    each unit at its nearest chosen site, as the deaths-averted figures count them."""
    from scipy import sparse

    n_s = metres.shape[0]
    out = np.zeros((n_s, len(bands)))
    m = sparse.coo_matrix(metres)
    if not m.nnz:
        return out
    order = np.lexsort((m.row, m.data, m.col))  # per unit: the nearest site first
    col, row, dist = m.col[order], m.row[order], m.data[order]
    first = np.ones(col.size, dtype=bool)
    first[1:] = col[1:] != col[:-1]
    col, row, dist = col[first], row[first], dist[first]
    ends = np.array([b.end_m for b in bands])
    k = np.searchsorted(ends, dist, side="left")
    ok = k < len(bands)
    np.add.at(out, (row[ok], k[ok]), np.asarray(unit_fatal, dtype=np.float64)[col[ok]])
    return out


def _band_gate(fatal: np.ndarray, bands: Any, estimate: str, rule: Rule) -> bool:
    """May a deaths-averted figure over these bands be shown? Only when every band that
    adds to it (an effect above 0 on a fatal count above 0) holds a count above the
    threshold: with the three estimates a reader could otherwise solve for each band's count."""
    for f, b in zip(fatal, bands, strict=True):
        if b.value(estimate) > 0 and f > 1e-9 and f < rule.threshold + 1:
            return False
    return True


def release_site_tables(
    plan: Plan, rel: ReleasedPlan, *, workers: int = 1
) -> tuple[pd.DataFrame | None, pd.DataFrame | None, pd.DataFrame | None]:
    """``(site_impact, site_hours, deaths_bands)`` for shareable outputs (``None`` when absent)."""
    from ..decay import DEFAULT_LIMIT_MIN
    from ..effects import max_distance_m
    from ..hours import percent_floor
    from ..site_impact import attendance_by_curve, hours_and_booths, site_tables

    if plan.site_impact is None or not len(plan.site_impact):
        return None, None, None
    rule = rel.rule
    st, bands, imp = _settings(plan)
    p = plan.parameters or {}
    speed = float(p.get("walking_speed_m_per_min", settings.walking_speed_m_per_min))
    cutoff_min = float(p.get("cutoff_min", settings.cutoff_min))
    chosen = [str(c) for c in plan.site_impact["candidate_id"]]
    has_fatal = rel.demand.fatal_total is not None
    longest = max(st.curve.reach, DEFAULT_LIMIT_MIN) * speed  # every documented curve's reach too
    max_m = max(cutoff_min * speed, longest, max_distance_m(bands) if has_fatal else 0.0)
    metres = rel.reach_from(chosen, max_m, workers=workers)
    minutes = metres.copy()
    minutes.data = minutes.data / speed
    counts = rel.demand.unit_count
    t = site_tables(
        chosen,
        minutes=minutes,
        metres=metres,
        cutoff_min=cutoff_min,
        counts=counts,
        fatal=rel.demand.unit_fatal if has_fatal else None,
        settings=st,
    )
    si = t["site_impact"]
    by_band = _fatal_by_band(metres, rel.demand.unit_fatal, bands) if has_fatal else None
    # a site's deaths averted are shown only where each band behind them is above the
    # threshold, and for every site or none (else the bands' totals give the hidden site's)
    gate = {
        e: bool(by_band is not None and all(_band_gate(by_band[s], bands, e, rule) for s in range(len(si))))
        for e in ("low", "central", "high")
    }
    per_day = imp.get("demand_per_day")
    total = float(counts.sum())
    hours_rows: list[pd.DataFrame] = []
    recs = []
    exact_hours = plan.site_hours if plan.site_hours is not None else pd.DataFrame()
    for row in si.itertuples(index=False):
        sid = str(row.candidate_id)
        prof = None
        g = exact_hours[exact_hours["candidate_id"].astype(str) == sid] if len(exact_hours) else exact_hours
        if len(g) == 24:
            bars = release_profile(g.sort_values("hour")["incidents"].to_numpy(dtype=float), rule)
            prof = np.nan_to_num(bars.value, nan=0.0)
            hours_rows.append(
                pd.DataFrame(
                    {
                        "candidate_id": sid,
                        "hour": np.arange(24),
                        "incidents": bars.value,
                        "incidents_label": bars.label,
                        "status": bars.status,
                    }
                )
            )
        visits = float(per_day) * float(row.attendance) / total if per_day and total > 0 else None
        hb = hours_and_booths(prof, visits, st)
        if prof is None:
            hb["hours_text"] = str((p.get("impact_led") or {}).get("hours_note") or hb["hours_text"])
        fatal_near = float(row.fatal_near)
        rec = {
            "candidate_id": sid,
            "incidents_within_cutoff": rule.released([row.incidents_within_cutoff])[0],
            "incidents_within_cutoff_label": rule.label(row.incidents_within_cutoff),
            "attendance": rule.released([row.attendance])[0],
            "attendance_label": rule.label(row.attendance),
            "fatal_near": rule.released([fatal_near])[0] if has_fatal else math.nan,
            "fatal_near_label": rule.label(fatal_near) if has_fatal else "not estimated",
        }
        for e in ("low", "central", "high"):
            v = float(getattr(row, f"deaths_{e}"))
            label = _deaths_label(v, fatal_near, rule, band_hidden=not gate[e])
            rec[f"deaths_{e}"] = round(v, 1) if label[:1].isdigit() else math.nan
            rec[f"deaths_{e}_label"] = label
        share = float(hb["hours_share"])
        known = math.isfinite(share)
        rec.update(
            hours_window=hb["hours_window"],
            hours_share=math.floor(share * 100 + 1e-9) / 100 if known else math.nan,
            hours_share_label=percent_floor(share) if known else "",
            hours_text=hb["hours_text"],
            visits_per_day=float(np.floor(hb["visits_per_day"] + 0.5)) if visits is not None else math.nan,
            booths_erlang=hb["booths_erlang"],
            booths_rule=hb["booths_rule"],
            peak_hour=hb["peak_hour"],
            peak_wait_min=minutes_label(hb["peak_wait_min"]),
        )
        recs.append(rec)
    site_hours = pd.concat(hours_rows, ignore_index=True) if hours_rows else None
    out = pd.DataFrame(recs)
    by_curve = attendance_by_curve(minutes, counts)
    out.attrs["attendance_by_curve"] = {k: rule.label(v) for k, v in by_curve.items()}
    return out, site_hours, _release_bands(t["deaths_bands"], rule, bands) if has_fatal else None


def _release_bands(table: pd.DataFrame, rule: Rule, bands: Any = None) -> pd.DataFrame | None:
    if table is None or not len(table):
        return None
    out = table[["band", "start_m", "end_m", "share_low", "share_central", "share_high", "source"]].copy()
    f = table["fatal_incidents"].to_numpy(dtype=float)
    out["fatal_incidents"] = rule.released(f)
    out["fatal_incidents_label"] = rule.labels(f)
    is_total = (table["band"].astype(str) == "total").to_numpy()
    per_band = f[~is_total]
    for e in ("low", "central", "high"):
        vals = table[e].to_numpy(dtype=float)
        # the total of an estimate is shown only when no band adding to it is hidden
        # (else the total minus the shown bands is the hidden one)
        ok = bands is None or len(bands) != per_band.size or _band_gate(per_band, bands, e, rule)
        labels = [
            _deaths_label(v, n, rule, band_hidden=bool(tot and not ok))
            for v, n, tot in zip(vals, f, is_total, strict=True)
        ]
        out[e] = [round(v, 1) if lab[:1].isdigit() else math.nan for v, lab in zip(vals, labels, strict=True)]
        out[f"{e}_label"] = labels
    return out


def release_value_curve(plan: Plan, rel: ReleasedPlan, *, workers: int = 1) -> pd.DataFrame | None:
    """The attendance or deaths-averted curve, each row's chosen set re-measured on released units."""
    from ..effects import band_effect, max_distance_m

    curve = plan.coverage_curve
    model = ((plan.parameters or {}).get("selection") or {}).get("model")
    if (
        curve is None
        or not len(curve)
        or "chosen" not in curve.columns
        or model not in ("attendance", "deaths")
    ):
        return None
    rule = rel.rule
    st, bands, imp = _settings(plan)
    p = plan.parameters or {}
    speed = float(p.get("walking_speed_m_per_min", settings.walking_speed_m_per_min))
    sets = [[s for s in str(c).split(";") if s] for c in curve["chosen"]]
    ids = sorted({s for group in sets for s in group})
    deaths = model == "deaths"
    if deaths and rel.demand.fatal_total is None:
        return None
    max_m = max_distance_m(bands) if deaths else st.curve.reach * speed
    metres = rel.reach_from(ids, max_m, workers=workers).tocsr()
    pos = {c: i for i, c in enumerate(ids)}
    # attendance in incidents, as in the per-site table and the what-if (the objective's
    # demand weight stays in the internal curve)
    mass = rel.demand.unit_fatal if deaths else rel.demand.unit_count
    total = float(mass.sum())
    estimate = str(imp.get("estimate", "low"))
    values, behind = [], []
    for group in sets:
        sub = metres[[pos[c] for c in group]]
        best = np.full(sub.shape[1], np.inf)
        if sub.nnz:
            cols = sub.indices
            np.minimum.at(best, cols, sub.data)
        if deaths:
            eff = band_effect(best, bands, estimate)  # type: ignore[arg-type]
            values.append(float(np.dot(mass, eff)))
            ends = np.array([b.end_m for b in bands])
            k = np.searchsorted(ends, best, side="left")
            per = np.bincount(k[k < len(bands)], weights=mass[k < len(bands)], minlength=len(bands))
            behind.append(
                float(mass[np.isfinite(best)].sum()) if _band_gate(per, bands, estimate, rule) else 0.0
            )
        else:
            a = st.curve(np.where(np.isfinite(best), best / speed, np.inf))
            values.append(float(np.dot(mass, a)))
            behind.append(values[-1])
    out = pd.DataFrame({"n_sites": curve["n_sites"].to_numpy()})
    v = np.array(values)
    if deaths:
        labels = [_deaths_label(x, n, rule) for x, n in zip(v, behind, strict=True)]
        out["covered_demand_weight"] = [
            round(x, 1) if lab[:1].isdigit() else math.nan for x, lab in zip(v, labels, strict=True)
        ]
        out["covered_demand_weight_label"] = labels
    else:
        out["covered_demand_weight"] = rule.released(v)
        out["covered_demand_weight_label"] = rule.labels(v)
    share = v / total if total > 0 else np.zeros_like(v)
    out["covered_demand_share"] = whole_percent(share) / 100.0
    out["covered_demand_share_label"] = [percent_label(s) for s in share]
    if "gap" in curve.columns:
        gap = curve["gap"].to_numpy(dtype=np.float64)
        out["gap"] = whole_percent(gap) / 100.0
        out["gap_label"] = [percent_label(g) for g in gap]
    for col in ("status", "chosen"):
        if col in curve.columns:
            out[col] = curve[col].to_numpy()
    out.attrs["value_name"] = "expected deaths averted" if deaths else "expected attendance (incidents)"
    return out


def value_reasons(plan: Plan, rel: ReleasedPlan) -> None:
    """For the attendance and deaths models: each released site's reason in the model's terms.

    The released sites otherwise explain a choice in coverage terms; these models chose on
    attendance or deaths averted, so the reason quotes that site's released figure.
    """
    sel = (plan.parameters or {}).get("selection") or {}
    model = sel.get("model")
    if model not in ("attendance", "deaths") or rel.sites is None or rel.site_impact is None:
        return
    est = str(((plan.parameters or {}).get("impact_led") or {}).get("estimate", "low"))
    si = rel.site_impact.set_index(rel.site_impact["candidate_id"].astype(str))
    reasons = []
    for row in rel.sites.to_dict("records"):
        sid = str(row["candidate_id"])
        if row.get("fixed") is True or row.get("fixed") == 1:
            why = "fixed open (required or existing)"
        elif sid not in si.index:
            why = str(row.get("reason", ""))
        elif model == "deaths":
            label = si.loc[sid, f"deaths_{est}_label"]
            why = f"averts {label} deaths ({est} estimate) among the fatal incidents nearest it"
        else:
            why = f"draws {si.loc[sid, 'attendance_label']} expected attendance (incidents)"
        reg = row.get("region")
        if isinstance(reg, str) and reg:
            why += f"; region {reg}"
        reasons.append(why)
    rel.sites["reason"] = reasons
