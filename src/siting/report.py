"""The report a planner attaches to a council memo: one self-contained, printable HTML page.

:func:`report_html` writes what was run (inputs with SHA-256, parameters, package
versions, seed), the chosen sites and why, the ranked table, the coverage curve and the
sensitivity of the result to the cutoff as inline SVG charts, impact ranges with their
sources, when incidents happen (hour of day, day of week, small counts suppressed), the
hotspots found, the privacy rule applied and the assumptions with their sources.

The page holds no script, no external resource and no incident location. Its text depends
only on the plan: the same inputs and seed give the same report, byte for byte (no clock
is read; the date shown is the manifest's ``created`` when the run recorded one).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import privacy, settings
from ._atomic import write_bytes_atomic
from .maps import esc, fmt, sites_table

if TYPE_CHECKING:
    from .plan import Plan

log = logging.getLogger(__name__)

#: Rows of the ranked table shown (the rest are counted in a note).
MAX_TABLE_ROWS = 300

#: Assumptions and their sources (DESIGN.md's table of defaults).
ASSUMPTIONS: tuple[tuple[str, str], ...] = (
    ("Walking speed", "4.8 km/h (80 m per minute), a common pedestrian planning speed; configurable."),
    (
        "Coverage cutoff",
        "10-minute walk, with 5 and 15 minutes as sensitivity cases. 5- and 10-minute "
        "walks were used to evaluate New York City's overdose prevention centres (B\u00f3rquez et al.); over "
        "70% of Insite's frequent users lived within four blocks.",
    ),
    (
        "Effect zone",
        "500 m on the street network: overdose deaths fell 35% within 500 m of Insite "
        "(Marshall et al., Lancet 2011) and 67% within 500 m of Toronto's sites (Rammohan et al., Lancet "
        "Public Health 2024). The report gives the range, not one number.",
    ),
    ("Capacity", "40 supervised uses per booth per day (Insite: about 500 a day on 12\u201313 booths)."),
    (
        "Distances",
        "Walking distances on the street network, both directions walkable, from the nearest "
        "point on the nearest street (off-street legs added as straight lines); points farther than the "
        "snapping limit from every street are listed and left out, never moved.",
    ),
    (
        "Small counts",
        "Counts of 1 to 10 are shown as \u201cfewer than 11\u201d (CMS cell-size rule; CDC WONDER "
        "suppresses 1\u20139); published incident maps can be reverse-geocoded to addresses "
        "(Brownstein 2006).",
    ),
)

_CSS = """
body{font:14px/1.45 Georgia,'Times New Roman',serif;color:#222;max-width:1000px;margin:24px auto;
padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;border-bottom:1px solid #bbb;margin-top:28px}
table{border-collapse:collapse;margin:8px 0;font:11px/1.3 Arial,sans-serif;max-width:100%}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f1f1f1}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#555;font-size:12px}.rule{border-left:4px solid #8a4b00;padding:4px 10px;background:#fff8ee}
.internal{border:3px solid #b00020;color:#b00020;padding:6px;font-weight:bold}
svg{font:11px Arial,sans-serif;margin:6px 0}code{font-size:11px;word-break:break-all}
.charts{display:flex;flex-wrap:wrap;gap:24px}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table,svg,.rule{break-inside:avoid}
a{color:inherit;text-decoration:none}}
"""

_PALETTE = ("#08519c", "#e6550d", "#31a354", "#756bb1", "#636363")


# --------------------------------------------------------------------- charts
def _nice_axis(v: float) -> tuple[float, float]:
    """``(top, step)`` of an axis from 0 that holds ``v`` in 3 to 6 round steps.

    >>> _nice_axis(23.0), _nice_axis(0.82), _nice_axis(0.0)
    ((25.0, 5.0), (1.0, 0.2), (1.0, 0.25))
    """
    if not np.isfinite(v) or v <= 0:
        return 1.0, 0.25
    raw = v / 5
    mag = 10 ** np.floor(np.log10(raw))
    step = next(k * mag for k in (1, 2, 2.5, 5, 10) if k * mag >= raw)
    top = step * np.ceil(v / step - 1e-9)
    return float(top), float(step)


def line_chart(
    series: list[tuple[str, list[float], list[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    ymax: float | None = None,
    percent: bool = False,
    width: int = 440,
    height: int = 260,
) -> str:
    """An inline SVG line chart; every text is escaped.

    >>> svg = line_chart([("s", [1, 2], [0.5, 0.75])], title="a<b", xlabel="x", ylabel="y")
    >>> svg.startswith("<svg") and "a&lt;b" in svg
    True
    """
    left, right, top, bottom = 52, 12, 26, 42
    pw, ph = width - left - right, height - top - bottom
    xs_all = [x for _, xs, _ in series for x in xs]
    ys_all = [y for _, _, ys in series for y in ys if np.isfinite(y)]
    x0, x1 = (min(xs_all), max(xs_all)) if xs_all else (0.0, 1.0)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    top_v, ystep = _nice_axis(max(ys_all) if ys_all else 1.0)
    if ymax is not None:
        top_v, ystep = ymax, ymax / 4

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + ph - (y / top_v) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
        f'<text x="{left}" y="15" font-weight="bold">{esc(title)}</text>',
    ]
    for k in range(round(top_v / ystep) + 1):
        v = ystep * k
        y = sy(v)
        lab = f"{v * 100:.0f}%" if percent else fmt(v)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e3e3e3"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{lab}</text>'
        )
    ticks = sorted(set(xs_all))
    if len(ticks) > 12:
        ticks = ticks[:: int(np.ceil(len(ticks) / 12))]
    for x in ticks:
        out.append(f'<text x="{sx(x):.1f}" y="{top + ph + 14}" text-anchor="middle">{fmt(x)}</text>')
    out.append(
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#444"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#444"/>'
    )
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">{esc(xlabel)}</text>')
    out.append(
        f'<text transform="translate(12,{top + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{esc(ylabel)}</text>"
    )
    for i, (name, xs, ys) in enumerate(series):
        c = _PALETTE[i % len(_PALETTE)]
        pts = [(sx(x), sy(y)) for x, y in zip(xs, ys, strict=True) if np.isfinite(y)]
        if pts:
            path = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{path}"/>')
            out.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{c}"/>' for a, b in pts)
        if len(series) > 1:
            ly = top + 6 + 14 * i
            out.append(
                f'<rect x="{left + pw - 110}" y="{ly}" width="10" height="10" fill="{c}"/>'
                f'<text x="{left + pw - 96}" y="{ly + 9}">{esc(name)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    labels: list[str],
    values: list[float],
    *,
    title: str,
    ylabel: str,
    suppressed: list[bool] | None = None,
    suppressed_height: float = 0.0,
    width: int = 440,
    height: int = 220,
) -> str:
    """An inline SVG bar chart; suppressed bars are drawn hatched at a fixed height."""
    left, right, top, bottom = 44, 8, 26, 34
    pw, ph = width - left - right, height - top - bottom
    sup = suppressed or [False] * len(values)
    shown = [suppressed_height if s else v for v, s in zip(values, sup, strict=True)]
    top_v, ystep = _nice_axis(max(shown) if shown else 1.0)
    bw = pw / max(len(values), 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#999" '
        'stroke-width="2"/></pattern></defs>',
        f'<text x="{left}" y="15" font-weight="bold">{esc(title)}</text>',
    ]
    for k in range(round(top_v / ystep) + 1):
        v = ystep * k
        y = top + ph - v / top_v * ph
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e3e3e3"/>'
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{fmt(v)}</text>'
        )
    step = max(1, int(np.ceil(len(labels) / 24)))
    for i, (lab, v, s) in enumerate(zip(labels, shown, sup, strict=True)):
        h = v / top_v * ph
        x = left + i * bw + 1
        fill = "url(#hatch)" if s else "#3182bd"
        out.append(
            f'<rect x="{x:.1f}" y="{top + ph - h:.1f}" width="{max(bw - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="{fill}"/>'
        )
        if i % step == 0:
            out.append(
                f'<text x="{x + bw / 2 - 1:.1f}" y="{top + ph + 13}" text-anchor="middle">{esc(lab)}</text>'
            )
    out.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#444"/>')
    out.append(
        f'<text transform="translate(11,{top + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{esc(ylabel)}</text></svg>"
    )
    return "".join(out)


# --------------------------------------------------------------------- tables
def _column_decimals(values: pd.Series) -> int | None:
    """Decimals for a float column (None: integers or not numeric), from its magnitude.

    >>> _column_decimals(pd.Series([0.5, 0.0772])), _column_decimals(pd.Series([4.85, 12.0]))
    (3, 2)
    >>> _column_decimals(pd.Series([1.0, 2.0])) is None
    True
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0 or np.all(v == np.round(v)):
        return None
    top = float(np.abs(v).max())
    return 3 if top < 1 else (2 if top < 100 else 1)


def _table(df: pd.DataFrame, *, numeric: set[str] | None = None) -> str:
    numeric = (
        numeric
        if numeric is not None
        else {
            c
            for c in df.columns
            if pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])
        }
    )
    decimals = {c: _column_decimals(df[c]) for c in numeric}
    head = "".join(f"<th>{esc(str(c).replace('_', ' '))}</th>" for c in df.columns)
    rows = []
    for rec in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, rec, strict=True):
            if c in numeric:
                d = decimals.get(c)
                text = fmt(v) if d is None or pd.isna(v) or not np.isfinite(v) else f"{v:,.{d}f}"
                cells.append(f'<td class="n">{text}</td>')
            else:
                cells.append(f"<td>{fmt(v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _kv_table(items: list[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{esc(k)}</th><td>{_value(v)}</td></tr>" for k, v in items)
    return f"<table>{rows}</table>"


def _value(v: Any) -> str:
    if isinstance(v, dict):
        return "; ".join(f"{esc(k)}: {_value(x)}" for k, x in v.items()) or "none"
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v) or "none"
    return fmt(v)


# -------------------------------------------------------------------- sections
def _ranked(plan: Plan, max_rows: int) -> str:
    c = plan.candidates
    if c is None or len(c) == 0:
        return "<p>No candidates.</p>"
    cols = ["rank", "candidate_id", *(["name"] if "name" in c.columns else []), "score"]
    comp = [
        col
        for col in (
            "covered_weight",
            "covered_count",
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
    return _table(t) + note


def _sites(plan: Plan) -> str:
    s = plan.sites
    if s is None or len(s) == 0:
        return "<p>No sites were chosen in this run (scores only).</p>"
    t = sites_table(plan)
    ll = s.to_crs(4326).geometry
    t["latitude"] = [f"{float(p.y):.6f}" for p in ll]
    t["longitude"] = [f"{float(p.x):.6f}" for p in ll]
    return _table(t)


def _coverage(plan: Plan) -> str:
    cc = plan.coverage_curve
    if cc is None or len(cc) == 0:
        return '<p class="note">No coverage curve in this run.</p>'
    y = "covered_share" if "covered_share" in cc.columns else "covered_weight"
    chart = line_chart(
        [("coverage", cc["n_sites"].astype(float).tolist(), cc[y].astype(float).tolist())],
        title="Demand covered by the best set of n sites",
        xlabel="number of sites",
        ylabel="share of demand covered" if y == "covered_share" else "weight covered",
        ymax=1.0 if y == "covered_share" else None,
        percent=y == "covered_share",
    )
    return chart + _table(pd.DataFrame(cc))


def _sensitivity_frame(plan: Plan, sensitivity: pd.DataFrame | None) -> pd.DataFrame | None:
    if sensitivity is not None:
        return sensitivity
    for src in (getattr(plan, "sensitivity", None), plan.parameters.get("sensitivity")):
        if src is not None and len(src):
            return pd.DataFrame(src)
    return None


def _sensitivity(plan: Plan, sensitivity: pd.DataFrame | None) -> str:
    df = _sensitivity_frame(plan, sensitivity)
    if df is None or len(df) == 0 or "cutoff_min" not in df.columns:
        return (
            '<p class="note">No cutoff sensitivity in this run (run with the sensitivity cutoffs '
            f"{', '.join(fmt(v) for v in settings.sensitivity_cutoffs_min)} min to add it).</p>"
        )
    y = "covered_share" if "covered_share" in df.columns else "covered_weight"
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
                ylabel="share of demand covered" if y == "covered_share" else "weight covered",
                ymax=1.0 if y == "covered_share" else None,
                percent=y == "covered_share",
            )
        )
    else:
        d = df.sort_values("cutoff_min")
        parts.append(
            line_chart(
                [("coverage", d["cutoff_min"].astype(float).tolist(), d[y].astype(float).tolist())],
                title="Coverage by walking cutoff",
                xlabel="cutoff (minutes)",
                ylabel="share of demand covered" if y == "covered_share" else "weight covered",
                ymax=1.0 if y == "covered_share" else None,
                percent=y == "covered_share",
            )
        )
    return "".join(parts) + _table(pd.DataFrame(df))


def _impact(plan: Plan) -> str:
    imp = plan.impact
    if imp is None or len(imp) == 0:
        return '<p class="note">No impact estimate in this run.</p>'
    return _table(pd.DataFrame(imp))


def _time_profile(plan: Plan, threshold: int) -> str:
    from .hotspots import time_profile

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
    if note_needed:
        out.append(
            f'<p class="note">Hatched bars: {esc(privacy.suppression_label(threshold))} incidents '
            "(drawn at the midpoint).</p>"
        )
    if not bool(prof["has_time"].iloc[0]):
        out.append('<p class="note">The incident dates carry no time of day, so no hourly profile.</p>')
    return "".join(out)


def _hotspots(plan: Plan) -> str:
    hs = plan.hotspots
    if hs is None or len(hs) == 0:
        return '<p class="note">No hotspot analysis in this run.</p>'
    cols = [c for c in hs.columns if c != "geometry"]
    t = pd.DataFrame(hs[cols]).copy()
    t["area_km2"] = (hs.geometry.area / 1e6).round(3).to_numpy()
    return _table(t)


def _manifest(plan: Plan) -> str:
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
        parts.append(_kv_table(other))
    return "".join(parts) or '<p class="note">No manifest recorded.</p>'


# ---------------------------------------------------------------------- page
def report_html(
    plan: Plan,
    *,
    sensitivity: pd.DataFrame | None = None,
    threshold: int | None = None,
    internal: bool = False,
    max_rows: int = MAX_TABLE_ROWS,
) -> str:
    """The report of a plan as one HTML page (no scripts, no external resources).

    Parameters
    ----------
    sensitivity
        Coverage at each sensitivity cutoff: ``cutoff_min``, ``covered_share`` (or
        ``covered_weight``) and optionally ``n_sites`` (one line per cutoff) and ``sites``.
        Defaults to ``plan.sensitivity`` or ``plan.parameters['sensitivity']`` when present.
    threshold
        Small-count suppression threshold (default: the run's, else the setting).
    internal
        Mark the report internal (it was made with incident points opted in).
    """
    params = plan.parameters or {}
    t = int(
        threshold
        if threshold is not None
        else params.get("suppression_threshold", settings.suppression_threshold)
    )
    internal = internal or bool(params.get("include_incident_points", False))
    when = (plan.manifest or {}).get("created")
    c = plan.candidates
    n_c = 0 if c is None else len(c)
    n_ex = (
        int(c["excluded"].fillna(False).astype(bool).sum())
        if c is not None and "excluded" in c.columns
        else 0
    )
    n_inc = 0 if plan.demand is None else len(plan.demand)
    inc_text = esc(privacy.suppression_label(t)) if 0 < n_inc <= t else f"{n_inc:,}"
    cutoff = params.get("cutoff_min", settings.cutoff_min)
    summary = [
        ("Scenario", plan.name),
        ("Candidates", f"{n_c:,} scored, {n_ex:,} excluded"),
        ("Incidents", inc_text),
        (
            "Walking cutoff",
            f"{fmt(cutoff)} min" + (f" ({fmt(params['cutoff_m'])} m)" if "cutoff_m" in params else ""),
        ),
        ("Sites chosen", "none" if plan.sites is None else f"{len(plan.sites):,}"),
    ]
    if params.get("incidents_from") and params.get("incidents_to"):
        summary.append(("Incidents dated", f"{params['incidents_from']} to {params['incidents_to']}"))
    if when:
        summary.append(("Run", when))
    classification = "internal" if internal else "public"
    banner = (
        '<p class="internal">INTERNAL: made with incident locations opted in. Do not share.</p>'
        if internal
        else ""
    )
    assumptions = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in ASSUMPTIONS)
    sections = [
        ("What was run", _kv_table(summary)),
        ("Chosen sites and why", _sites(plan)),
        ("Ranked candidates", _ranked(plan, max_rows)),
        ("How many sites: the coverage curve", _coverage(plan)),
        ("Sensitivity to the walking cutoff", _sensitivity(plan, sensitivity)),
        ("Impact, with its range and sources", _impact(plan)),
        ("When incidents happen", _time_profile(plan, t)),
        ("Hotspots", _hotspots(plan)),
        ("Privacy rule applied", f'<p class="rule">{esc(privacy.privacy_rule(t))}</p>'),
        ("Assumptions", f"<table>{assumptions}</table>"),
        ("Parameters", _kv_table(list(params.items()))),
        ("Manifest", _manifest(plan)),
    ]
    body = "".join(f"<section><h2>{esc(h)}</h2>{content}</section>" for h, content in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>'
        f'<meta name="siting-classification" content="{classification}"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>{esc(plan.name)}: siting report</title><style>{_CSS}</style></head><body>"
        f'<h1>{esc(plan.name)}</h1><p class="note">Supervised consumption site planning report '
        f"(siting)</p>{banner}{body}</body></html>\n"
    )


def save_report(plan: Plan, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write :func:`report_html` to ``path`` (temporary file, then renamed)."""
    path = Path(path)
    data = report_html(plan, **kwargs).encode("utf-8")
    write_bytes_atomic(path, data)
    log.info("report written: %s (%.2f MB)", path, len(data) / 1e6)
    return path
