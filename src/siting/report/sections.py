"""The report's sections, one function each, from the plan's tables through the page's figures.

Shareable reports read every incident-derived number from the privacy release (its
``_label`` columns); internal reports read the exact tables. Ranks and the choice of sites
come from the exact run either way (ordinals: no count can be read from them).
"""

from __future__ import annotations

from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import privacy, settings
from ..maps import esc, fmt
from ..maps.popups import margin_text, present, site_name, why_not_text
from .charts import bar_chart, line_chart
from .tables import kv_table, table

if TYPE_CHECKING:
    from ..maps.popups import Context
    from ..maps.release import Figures
    from ..plan import Plan


def _label(row: dict[str, Any], col: str, fig: Figures) -> str:
    lab = row.get(f"{col}_label")
    if isinstance(lab, str) and lab:
        return esc(lab)
    return fig.count(row.get(col)) if col in row else ""


def _rules(plan: Plan) -> list[str]:
    c = plan.candidates
    if c is None or "excluded_reason" not in c.columns:
        return []
    seen: list[str] = []
    for text in c["excluded_reason"].fillna("").astype(str):
        for part in (p.strip() for p in text.split(";")):
            if part and part not in seen:
                seen.append(part)
    return seen


def _mark(k: int) -> str:
    """Footnote mark k (0-based) as letters: a, b, ..., z, aa, ab (a number would read as a count)."""
    out = ""
    k += 1
    while k:
        k, r = divmod(k - 1, 26)
        out = chr(97 + r) + out
    return out


def ranked(plan: Plan, ctx: Context, max_rows: int) -> str:
    """The ranked table: chosen sites highlighted, exclusion reasons as short footnotes."""
    fig = ctx.fig
    c = fig.candidates
    if c is None or len(c) == 0:
        return "<p>No candidates.</p>"
    rules = _rules(plan)
    note_of = {r: _mark(k) for k, r in enumerate(rules)}
    t = c.copy()
    t["_r"] = pd.to_numeric(t["rank"], errors="coerce") if "rank" in t.columns else np.nan
    t = t.sort_values(["_r", "candidate_id"], na_position="last", kind="stable")
    head = (
        "<tr><th>rank</th><th>candidate</th><th>score (of 100)</th><th>incidents</th>"
        "<th>demand weight</th><th>average walk</th><th>services</th><th>region</th><th>status</th></tr>"
    )
    rows = []
    shown = t.head(max_rows)
    for r in shown.to_dict("records"):
        cid = str(r["candidate_id"])
        chosen = cid in ctx.chosen
        if chosen:
            status = f"<b>chosen site {ctx.chosen[cid]}</b>"
        elif bool(r.get("excluded")) if present(r.get("excluded")) else False:
            refs = [
                note_of[p.strip()]
                for p in str(r.get("excluded_reason") or "").split(";")
                if p.strip() in note_of
            ]
            status = "excluded " + "".join(f"<sup>{k}</sup>" for k in refs)
        elif cid in ctx.not_chosen:
            status = esc(ctx.not_chosen[cid]["why"])
        else:
            status = ""
        score, rank, walk = r.get("score"), r.get("rank"), r.get("mean_walk_min_label")
        walk_text = esc(walk) if present(walk) else fig.minutes(r.get("mean_walk_min"))
        services = fmt(r.get("services_within")) if present(r.get("services_within")) else ""
        region = esc(r.get("region")) if present(r.get("region")) else ""
        rows.append(
            f'<tr class="{"chosen" if chosen else ""}">'
            f'<td class="n">{fmt(int(rank)) if present(rank) else ""}</td>'
            f"<td>{site_name(cid, r.get('name'))}</td>"
            f'<td class="n">{fmt(round(float(score) * 100)) if present(score) else ""}</td>'
            f'<td class="n">{_label(r, "covered_incidents", fig)}</td>'
            f'<td class="n">{_label(r, "covered_demand_weight", fig)}</td>'
            f'<td class="n">{walk_text}</td><td class="n">{services}</td>'
            f"<td>{region}</td><td>{status}</td></tr>"
        )
    notes = ""
    if rules:
        notes = (
            '<p class="note">'
            + "; ".join(f"<sup>{_mark(k)}</sup> {esc(r)}" for k, r in enumerate(rules))
            + "</p>"
        )
    if len(t) > max_rows:
        notes += f'<p class="note">Showing the {max_rows:,} best ranked of {len(t):,} candidates.</p>'
    return f'<table class="ranked"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>{notes}'


def why_not(plan: Plan, ctx: Context) -> str:
    nc = plan.not_chosen
    if nc is None or not len(nc):
        return '<p class="note">No candidate ranked above a chosen site was left out.</p>'
    rows = []
    for rec in nc.to_dict("records"):
        cid = str(rec["candidate_id"])
        rank = fmt(int(rec["rank"])) if present(rec.get("rank")) else "excluded"
        rows.append(
            f"<tr><td class='n'>{rank}</td><td>{site_name(cid, ctx.names.get(cid))}</td>"
            f"<td>{why_not_text(rec, ctx)}</td></tr>"
        )
    return (
        "<table><thead><tr><th>rank</th><th>candidate</th><th>why it was not chosen</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def chosen_table(plan: Plan, ctx: Context) -> str:
    """The chosen sites: number, site, rank, region, what each reaches, exclusion margin."""
    fig = ctx.fig
    s = fig.sites
    if s is None or not len(s):
        return "<p>No sites were chosen in this run (scores only).</p>"
    cands = plan.candidates.set_index(plan.candidates["candidate_id"].astype(str))
    rows = []
    for k, r in enumerate(s.to_dict("records"), start=1):
        cid = str(r["candidate_id"])
        crow = cands.loc[cid].to_dict() if cid in cands.index else {}
        rank = crow.get("rank")
        reach = fig.cover([cid], ctx.cutoff_min)
        rows.append(
            f'<tr class="chosen"><td class="n">{k}</td><td>{site_name(cid, crow.get("name"))}</td>'
            f'<td class="n">{fmt(int(rank)) if present(rank) else ""}</td>'
            f"<td>{esc(crow.get('region')) if present(crow.get('region')) else ''}</td>"
            f'<td class="n">{esc(reach.get("count", ""))}</td>'
            f'<td class="n">{_label(r, "covers_demand_weight", fig)}</td>'
            f'<td class="n">{_label(r, "alone_demand_weight", fig)}</td>'
            f'<td class="n">{_label(r, "assigned_demand_weight", fig)}</td>'
            f"<td>{margin_text(crow)}</td></tr>"
        )
    cut = fmt(round(ctx.cutoff_min, 1))
    head = (
        "<tr><th>#</th><th>chosen site</th><th>rank</th><th>region</th>"
        f"<th>incidents within {cut} min</th><th>demand weight within {cut} min</th>"
        "<th>of it, reached alone</th><th>nearest site for</th><th>nearest exclusion</th></tr>"
    )
    note = (
        '<p class="note">Reached alone: by no other chosen site. Nearest site for: demand for which '
        "this is the closest chosen site (these add up across the sites). Demand weight: incidents "
        "weighted as the run was told (see Terms used).</p>"
    )
    return f'<table class="sites"><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table>{note}'


def _display(df: pd.DataFrame | None, fig: Figures) -> pd.DataFrame | None:
    if df is None:
        return None
    return df if fig.internal else privacy.display(df)


def coverage(plan: Plan, fig: Figures) -> str:
    cc = plan.coverage_curve if fig.internal else fig.released.coverage_curve
    if cc is None or len(cc) == 0:
        left = [s for s in getattr(fig.released, "left_out", []) if "coverage curve" in s]
        if left and plan.coverage_curve is not None:
            return f'<p class="note">Left out of this shareable report: {esc(left[0])}.</p>'
        return '<p class="note">No coverage curve in this run.</p>'
    value_name = (
        getattr(plan.coverage_curve, "attrs", {}).get("value_name")
        if plan.coverage_curve is not None
        else None
    )
    y = "covered_demand_share" if "covered_demand_share" in cc.columns else "covered_demand_weight"
    ys = pd.to_numeric(cc[y], errors="coerce").astype(float).tolist()
    chart = line_chart(
        [("coverage", cc["n_sites"].astype(float).tolist(), ys)],
        title=f"{value_name or 'Demand weight'} reached by the best set of n sites",
        xlabel="number of sites",
        ylabel="share of demand weight" if y == "covered_demand_share" else "demand weight",
        ymax=1.0 if y == "covered_demand_share" else None,
        percent=y == "covered_demand_share",
    )
    shown = _display(
        pd.DataFrame(cc).drop(columns=[c for c in ("bound", "gap", "gap_label") if c in cc.columns]), fig
    )
    return f'<div class="pair">{chart}{table(shown)}</div>'


def sensitivity_section(plan: Plan, fig: Figures, sensitivity: pd.DataFrame | None) -> str:
    df = sensitivity
    if df is None:
        df = fig.released.sensitivity if not fig.internal else None
        if df is None:
            src = plan.parameters.get("sensitivity")
            df = pd.DataFrame(src) if src else None
    if df is None or len(df) == 0 or "cutoff_min" not in df.columns:
        return (
            '<p class="note">No cutoff sensitivity in this run (run with the sensitivity cutoffs '
            f"{', '.join(fmt(v) for v in settings.sensitivity_cutoffs_min)} min to add it).</p>"
        )
    y = "covered_demand_share" if "covered_demand_share" in df.columns else "covered_demand_weight"
    share = y == "covered_demand_share"
    ylabel = "share of demand weight" if share else "demand weight"
    if "n_sites" in df.columns and pd.to_numeric(df["n_sites"], errors="coerce").nunique() > 1:
        series = [
            (
                f"{fmt(cut)} min",
                g["n_sites"].astype(float).tolist(),
                pd.to_numeric(g[y]).astype(float).tolist(),
            )
            for cut, g in df.sort_values(["cutoff_min", "n_sites"]).groupby("cutoff_min", sort=True)
        ]
        title, xlabel = "Coverage by cutoff", "number of sites"
    else:
        d = df.sort_values("cutoff_min")
        xs = d["cutoff_min"].astype(float).tolist()
        series = [("best set", xs, pd.to_numeric(d[y]).astype(float).tolist())]
        here = "chosen_here_covered_demand_share"
        if here in d.columns:
            series.append(("chosen sites", xs, pd.to_numeric(d[here]).astype(float).tolist()))
        title, xlabel = "Chosen sites against the best set, by walking cutoff", "cutoff (minutes)"
    chart = line_chart(
        series, title=title, xlabel=xlabel, ylabel=ylabel, ymax=1.0 if share else None, percent=share
    )
    return f'<div class="pair">{chart}{table(_display(pd.DataFrame(df), fig))}</div>'


def impact(plan: Plan, fig: Figures) -> str:
    imp = plan.impact if fig.internal else fig.released.impact
    if imp is None or len(imp) == 0:
        return '<p class="note">No impact estimate in this run.</p>'
    t = _display(pd.DataFrame(imp), fig)
    # one figure per measure, as text: the released label (shareable) or the exact text
    # (internal); the raw value/low/high columns would print a share of 0.84 as "0.8"
    shown = next((c for c in ("label", "text") if c in t.columns), None)
    if shown is not None:
        t = pd.DataFrame(
            {
                "measure": t["measure"].astype(str).str.replace("_", " "),
                "value": t[shown],
                **{c: t[c] for c in ("unit", "source") if c in t.columns},
            }
        )
    return table(t)


def time_profile_section(plan: Plan, fig: Figures) -> str:
    if fig.internal:
        from ..hotspots import time_profile

        d = plan.demand
        if d is None or len(d) == 0 or "date" not in d.columns:
            return '<p class="note">The incidents have no dates, so no time profile.</p>'
        prof = time_profile(d)
        keys = ("hour", "weekday") if bool(prof["has_time"].iloc[0]) else ("weekday",)
        bars = {
            k: (list(prof[k].index.astype(str)), prof[k].to_numpy(float), [False] * len(prof[k]))
            for k in keys
        }
    else:
        tp = fig.released.time_profile or {}
        if not tp:
            return '<p class="note">The incidents have no dates, so no time profile.</p>'
        bars = {
            k: (
                list(v["bin"].astype(str)),
                pd.to_numeric(v["count"], errors="coerce").where(v["status"] == "shown").fillna(0).to_numpy(float),
                list(v["status"] != "shown"),
            )
            for k, v in tp.items()
        }
    out = ['<div class="charts">']
    for key, title in (("hour", "Incidents by hour of day"), ("weekday", "Incidents by day of week")):
        if key not in bars:
            continue
        labels, vals, hidden = bars[key]
        out.append(
            bar_chart(labels, list(vals), title=title, ylabel="incidents", suppressed=hidden,
                      suppressed_height=(fig.threshold + 1) / 2)
        )  # fmt: skip
    out.append("</div>")
    if any(any(h) for _, _, h in bars.values()):
        out.append(
            f'<p class="note">Hatched bars: {esc(fig.suppressed_label)} incidents or withheld '
            "(drawn at mid height).</p>"
        )
    if "hour" not in bars:
        out.append('<p class="note">The incident dates carry no time of day, so no hourly profile.</p>')
    elif plan.parameters.get("timezone"):
        out.append(f'<p class="note">Hours of day and days of week in {esc(plan.parameters["timezone"])}.</p>')
    return "".join(out)


def hotspots_section(plan: Plan, fig: Figures) -> str:
    hs = plan.hotspots if fig.internal else fig.released.hotspots
    if hs is None or len(hs) == 0:
        return '<p class="note">No hotspot analysis in this run.</p>'
    cols = [c for c in hs.columns if c != "geometry"]
    t = pd.DataFrame(hs[cols]).copy()
    t["area_km2"] = (hs.geometry.area / 1e6).round(3).to_numpy()
    return table(_display(t, fig))


def _name(path: Any) -> str:
    """A file's name only: no local folders in a shareable document."""
    text = str(path or "")
    return PurePath(text).name if ("/" in text or "\\" in text) else text


def manifest(plan: Plan) -> str:
    """Inputs by file name and SHA-256 (no local paths), then the rest of the manifest."""
    man = plan.manifest or {}
    inputs = man.get("inputs")
    items = (
        list(inputs.items()) if isinstance(inputs, dict) else [(i.get("role", ""), i) for i in inputs or []]
    )
    rows = []
    for role, info in items:
        info = info if isinstance(info, dict) else {"path": info}
        rows.append(
            f"<tr><td>{esc(role)}</td><td>{esc(_name(info.get('path', '')))}</td>"
            f"<td><code>{esc(info.get('sha256', ''))}</code></td>"
            f"<td class='n'>{fmt(info.get('features', ''))}</td></tr>"
        )
    parts = []
    if rows:
        parts.append(
            "<table><thead><tr><th>input</th><th>file</th><th>SHA-256</th><th>features</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
        )
    net = man.get("network")
    if isinstance(net, dict):
        parts.append(
            kv_table(
                [
                    (
                        "network",
                        {
                            k: (_name(v) if k in ("source", "path") else v)
                            for k, v in net.items()
                            if k != "lines"
                        },
                    )
                ]
            )
        )
    other = [(k, v) for k, v in man.items() if k not in ("inputs", "network")]
    if other:
        parts.append(kv_table(other))
    return "".join(parts) or '<p class="note">No manifest recorded.</p>'


def parameters(plan: Plan) -> str:
    """The run's parameters, file paths reduced to file names."""

    def clean(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: (_name(x) if k == "path" else clean(x)) for k, x in v.items()}
        if isinstance(v, list):
            return [clean(x) for x in v]
        return v

    skip = {"sensitivity"}
    return kv_table([(k, clean(v)) for k, v in (plan.parameters or {}).items() if k not in skip])
