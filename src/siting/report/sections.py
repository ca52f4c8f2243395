"""The report's sections, one function each, from the plan's tables."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import privacy, settings
from ..maps import esc, fmt, sites_table
from .charts import bar_chart, line_chart
from .tables import kv_table, table

if TYPE_CHECKING:
    from ..plan import Plan


def ranked(plan: Plan, max_rows: int) -> str:
    c = plan.candidates
    if c is None or len(c) == 0:
        return "<p>No candidates.</p>"
    cols = ["rank", "candidate_id", *(["name"] if "name" in c.columns else []), "score"]
    comp = [
        col
        for col in (
            "covered_incidents",
            "covered_demand_weight",
            "access_demand_weight",
            "mean_walk_min",
            "services_within",
            "nearest_service_min",
            "hotspot_share",
        )
        if col in c.columns
    ]
    comp += sorted(col for col in c.columns if str(col).startswith(("layer_", "part_")))
    cols += comp + [col for col in ("region", "excluded_reason") if col in c.columns]
    cols = [col for col in cols if col in c.columns]
    t = pd.DataFrame(c[cols]).sort_values(
        [col for col in ("rank", "candidate_id") if col in cols], na_position="last", kind="stable"
    )
    note = ""
    if len(t) > max_rows:
        note = f'<p class="note">Showing the {max_rows:,} best ranked of {len(t):,} candidates.</p>'
        t = t.iloc[:max_rows]
    return table(t) + note


def sites(plan: Plan) -> str:
    s = plan.sites
    if s is None or len(s) == 0:
        return "<p>No sites were chosen in this run (scores only).</p>"
    t = sites_table(plan)
    ll = s.to_crs(4326).geometry
    t["latitude"] = [f"{float(p.y):.6f}" for p in ll]
    t["longitude"] = [f"{float(p.x):.6f}" for p in ll]
    return table(t)


def coverage(plan: Plan) -> str:
    cc = plan.coverage_curve
    if cc is None or len(cc) == 0:
        return '<p class="note">No coverage curve in this run.</p>'
    y = "covered_demand_share" if "covered_demand_share" in cc.columns else "covered_demand_weight"
    chart = line_chart(
        [("coverage", cc["n_sites"].astype(float).tolist(), cc[y].astype(float).tolist())],
        title="Demand covered by the best set of n sites",
        xlabel="number of sites",
        ylabel="share of demand weight covered" if y == "covered_demand_share" else "demand weight covered",
        ymax=1.0 if y == "covered_demand_share" else None,
        percent=y == "covered_demand_share",
    )
    return chart + table(privacy.display(pd.DataFrame(cc)))


def sensitivity_frame(plan: Plan, sensitivity: pd.DataFrame | None) -> pd.DataFrame | None:
    if sensitivity is not None:
        return sensitivity
    for src in (getattr(plan, "sensitivity", None), plan.parameters.get("sensitivity")):
        if src is not None and len(src):
            return pd.DataFrame(src)
    return None


def sensitivity_section(plan: Plan, sensitivity: pd.DataFrame | None) -> str:
    df = sensitivity_frame(plan, sensitivity)
    if df is None or len(df) == 0 or "cutoff_min" not in df.columns:
        return (
            '<p class="note">No cutoff sensitivity in this run (run with the sensitivity cutoffs '
            f"{', '.join(fmt(v) for v in settings.sensitivity_cutoffs_min)} min to add it).</p>"
        )
    y = "covered_demand_share" if "covered_demand_share" in df.columns else "covered_demand_weight"
    parts = []
    if "n_sites" in df.columns and df["n_sites"].nunique() > 1:
        series = [
            (f"{fmt(cut)} min", g["n_sites"].astype(float).tolist(), g[y].astype(float).tolist())
            for cut, g in df.sort_values(["cutoff_min", "n_sites"]).groupby("cutoff_min", sort=True)
        ]
        parts.append(
            line_chart(
                series,
                title="Coverage by cutoff",
                xlabel="number of sites",
                ylabel="share of demand weight covered" if y == "covered_demand_share" else "demand weight covered",
                ymax=1.0 if y == "covered_demand_share" else None,
                percent=y == "covered_demand_share",
            )
        )
    else:
        d = df.sort_values("cutoff_min")
        parts.append(
            line_chart(
                [("coverage", d["cutoff_min"].astype(float).tolist(), d[y].astype(float).tolist())],
                title="Coverage by walking cutoff",
                xlabel="cutoff (minutes)",
                ylabel="share of demand weight covered" if y == "covered_demand_share" else "demand weight covered",
                ymax=1.0 if y == "covered_demand_share" else None,
                percent=y == "covered_demand_share",
            )
        )
    return "".join(parts) + table(privacy.display(pd.DataFrame(df)))


def impact(plan: Plan) -> str:
    imp = plan.impact
    if imp is None or len(imp) == 0:
        return '<p class="note">No impact estimate in this run.</p>'
    t = pd.DataFrame(imp)
    if "label" in t.columns:  # released: the figure as the rule shows it
        t = t[[c for c in ("measure", "label", "unit", "source") if c in t.columns]].rename(
            columns={"label": "value"}
        )
    return table(t)


def time_profile_section(plan: Plan, threshold: int, *, released: Any = None) -> str:
    """Incidents by hour of day and weekday: the released bars on a shareable report."""
    if released is not None:
        return _released_time_profile(released)
    from ..hotspots import time_profile

    d = plan.demand
    if d is None or len(d) == 0 or "date" not in d.columns:
        return '<p class="note">The incidents have no dates, so no time profile.</p>'
    prof = time_profile(d)
    out = ['<div class="charts">']
    note_needed = False
    for key, title, _xl in (
        ("hour", "Incidents by hour of day", "hour"),
        ("weekday", "Incidents by day of week", "day"),
    ):
        s = prof[key]
        if key == "hour" and not bool(prof["has_time"].iloc[0]):
            continue
        vals = s.to_numpy(dtype=float)
        sup = [(0 < v <= threshold) for v in vals]
        note_needed |= any(sup)
        shown = [0.0 if s_ else v for v, s_ in zip(vals, sup, strict=True)]
        out.append(
            bar_chart(
                [str(i) for i in s.index],
                shown,
                title=title,
                ylabel="incidents",
                suppressed=sup,
                suppressed_height=(threshold + 1) / 2,
            )
        )
    out.append("</div>")
    if bool(prof["has_time"].iloc[0]) and plan.parameters.get("timezone"):  # figures: the zone of the hours
        out.append(f'<p class="note">Hours of day and days of week in {esc(plan.parameters["timezone"])}.</p>')
    if note_needed:
        out.append(
            f'<p class="note">Hatched bars: {esc(privacy.suppression_label(threshold))} incidents '
            "(drawn at the midpoint).</p>"
        )
    if not bool(prof["has_time"].iloc[0]):
        out.append('<p class="note">The incident dates carry no time of day, so no hourly profile.</p>')
    return "".join(out)


def _released_time_profile(rel: Any) -> str:
    """The released bars: shown values, hatched "fewer than 11" and "not shown" bars."""
    prof = rel.time_profile
    if not prof:
        return '<p class="note">The incidents have no dates, so no time profile.</p>'
    t = rel.rule.threshold
    out = ['<div class="charts">']
    for key, title in (("hour", "Incidents by hour of day"), ("weekday", "Incidents by day of week")):
        if key not in prof:
            continue
        bars = prof[key]
        hidden = (bars["status"] != "shown").tolist()
        values = [0.0 if h else float(v) for v, h in zip(bars["count"], hidden, strict=True)]
        out.append(
            bar_chart(
                bars["bin"].astype(str).tolist(),
                values,
                title=title,
                ylabel="incidents",
                suppressed=hidden,
                suppressed_height=float(rel.rule.first_shown) / 2,
            )
        )
    out.append("</div>")
    if any((f["status"] != "shown").any() for f in prof.values()):
        out.append(
            f'<p class="note">Hatched bars: {esc(rel.rule.suppressed_label)} incidents, or not shown '
            f"(a value that would let a hidden one be worked out); drawn at half of "
            f"{rel.rule.first_shown}, the smallest number ever shown.</p>"
        )
    if "hour" not in prof:
        out.append('<p class="note">The incident dates carry no time of day, so no hourly profile.</p>')
    return "".join(out)


def hotspots_section(plan: Plan) -> str:
    hs = plan.hotspots
    if hs is None or len(hs) == 0:
        return '<p class="note">No hotspot analysis in this run.</p>'
    cols = [c for c in hs.columns if c != "geometry"]
    t = pd.DataFrame(hs[cols]).copy()
    t["area_km2"] = (hs.geometry.area / 1e6).round(3).to_numpy()
    return table(t)


def manifest(plan: Plan) -> str:
    man = plan.manifest or {}
    parts = []
    inputs = man.get("inputs")
    rows = []
    if isinstance(inputs, dict):
        for role, info in inputs.items():
            info = info if isinstance(info, dict) else {"path": info}
            rows.append(
                {
                    "input": role,
                    "path": info.get("path", ""),
                    "sha256": info.get("sha256", ""),
                    "features": info.get("features", ""),
                }
            )
    elif isinstance(inputs, list):
        for info in inputs:
            info = info if isinstance(info, dict) else {"path": info}
            rows.append(
                {
                    "input": info.get("role", ""),
                    "path": info.get("path", ""),
                    "sha256": info.get("sha256", ""),
                    "features": info.get("features", ""),
                }
            )
    if rows:
        body = "".join(
            f"<tr><td>{esc(r['input'])}</td><td>{esc(r['path'])}</td><td><code>{esc(r['sha256'])}</code></td>"
            f'<td class="n">{fmt(r["features"])}</td></tr>'
            for r in rows
        )
        parts.append(
            "<table><thead><tr><th>input</th><th>file</th><th>SHA-256</th><th>features</th></tr>"
            f"</thead><tbody>{body}</tbody></table>"
        )
    other = [(k, v) for k, v in man.items() if k != "inputs"]
    if other:
        parts.append(kv_table(other))
    return "".join(parts) or '<p class="note">No manifest recorded.</p>'
