"""The report page: the recommendation first, then the evidence; styles for screen and print.

Page 1 holds the recommendation with its figures, a map of the chosen sites and their
walking areas (drawn from the network, no tiles), the chosen sites' table and the
findings a planner must see before defending the choice. The rest follows in the order a
reader checks it. Written atomically.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import privacy
from .._atomic import write_bytes_atomic
from ..maps import esc, fmt
from ..maps.legend import DEFINITIONS
from ..maps.popups import Context
from ..maps.release import figures
from ..maps.summary import findings, headline, plan_context, reach_sentence
from .figure import map_figure
from .impact_led import impact_led_section
from .intake import intake_section
from .sections import (
    chosen_table,
    coverage,
    hotspots_section,
    impact,
    manifest,
    parameters,
    ranked,
    sensitivity_section,
    time_profile_section,
    why_not,
)
from .tables import kv_table

if TYPE_CHECKING:
    import os

    from ..plan import Plan

log = logging.getLogger("siting.report")

def capacity_assumption(params: dict[str, Any]) -> str:
    """The Capacity row of the assumptions: the rule the choice used, when it used one.

    >>> capacity_assumption({})[:40]
    '40 supervised uses per booth per day (In'
    >>> "the queue (Erlang C)" in capacity_assumption({"selection": {"capacity_rule": "erlang"}})
    True
    """
    default = dict(ASSUMPTIONS)["Capacity"]
    sel = params.get("selection") or {}
    rule = sel.get("capacity_rule")
    if rule == "erlang":
        wait = (params.get("impact_led") or {}).get("wait_target_min", 5)
        per_day = sel.get("demand_per_day")
        return (
            "The sites were chosen within each candidate's capacity by the queue (Erlang C): the visits "
            f"a day its booths serve with the mean wait under {fmt(wait)} minutes in its busiest open "
            "hour, visits spread over the hours like the incidents it reaches"
            + (f" ({fmt(per_day)} visits a day for all incidents)" if per_day else "")
            + f". Cross-check: {default}"
        )
    if rule == "uses":
        uses = sel.get("uses_per_booth_per_day") or 40
        return (
            f"The sites were chosen within each candidate's capacity: its booths x {fmt(uses)} supervised "
            f"uses per booth per day. Source of the default: {default}"
        )
    return default


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
        "Counts of 0 to 10 are shown as \u201cfewer than 11\u201d (CMS cell-size rule; CDC WONDER "
        "suppresses 1\u20139); published incident maps can be reverse-geocoded to addresses "
        "(Brownstein 2006).",
    ),
)

CSS = """
body{font:13px/1.45 Georgia,'Times New Roman',serif;color:#1a1a1a;max-width:1000px;margin:24px auto;
padding:0 16px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:17px;border-bottom:1px solid #bbb;margin:22px 0 6px}
h3{font-size:14px;margin:10px 0 4px}
table{border-collapse:collapse;margin:6px 0;font:11px/1.3 Arial,sans-serif;max-width:100%}
th,td{border:1px solid #ccc;padding:2px 5px;text-align:left;vertical-align:top}
th{background:#f1f1f1}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.chosen td{background:#fff4c2;font-weight:bold}
.note{color:#555;font-size:11.5px}.lead{font-size:15px;margin:6px 0}
.rule{border-left:4px solid #8a4b00;padding:4px 10px;background:#fff8ee}
.internal{border:3px solid #b00020;color:#b00020;padding:6px;font-weight:bold}
.flags{border-left:4px solid #d55e00;background:#fff6f0;padding:4px 10px;margin:8px 0}
.flags li{margin:3px 0}
figure.map{margin:6px 0}figure.map svg{width:100%;height:auto;max-height:118mm;display:block}
figcaption{font-size:11px;color:#444}
svg{font:11px Arial,sans-serif;margin:4px 0}
svg .site{font:bold 12px Arial,sans-serif;paint-order:stroke;stroke:#fff;stroke-width:3px}
svg .num{font:bold 10px Arial,sans-serif;text-anchor:middle}
svg .street{font:italic 10px Arial,sans-serif;fill:#5a5040;text-anchor:middle;paint-order:stroke;
stroke:#fff;stroke-width:2.5px}svg .legend{font:10px Arial,sans-serif}
code{font-size:10px;word-break:break-all}
.charts,.pair{display:flex;flex-wrap:wrap;gap:18px;align-items:flex-start}
.pair table{flex:1 1 280px}
table.ranked td:nth-child(2){max-width:230px}
@page{size:A4;margin:12mm 11mm}
@media print{body{margin:0;max-width:none;padding:0;font-size:11.5px}.first{break-after:page}
h2{break-after:avoid}h2+*{break-before:avoid}section{break-inside:auto}
table,svg,.rule,.pair,.charts,figure,.flags{break-inside:avoid}tr{break-inside:avoid}
a{color:inherit;text-decoration:none}.lead{font-size:13.5px}
figure.map svg{max-height:98mm}.flags{font-size:11px;margin:6px 0}.flags h3{margin:4px 0 2px}}
"""


def _first_page(plan: Plan, ctx: Context, *, when: str) -> str:
    fig = ctx.fig
    cut = fmt(round(ctx.cutoff_min, 1))
    dated = f" &middot; {esc(when)}" if when else ""
    parts = [
        f'<h1>{esc(plan.name)}</h1><p class="note">Supervised consumption site planning report '
        f"(siting){dated} &middot; walking cutoff {cut} minutes</p>"
    ]
    if fig.internal:
        parts.append(f'<p class="internal">{esc(fig.statement)}</p>')
    lead = headline(plan, ctx)
    sentence = reach_sentence(plan, ctx)
    ranks = []
    if plan.sites is not None and len(plan.sites):
        c = plan.candidates.set_index(plan.candidates["candidate_id"].astype(str))
        for cid in plan.sites["candidate_id"].astype(str):
            r = c["rank"].get(cid) if "rank" in c.columns else None
            if r is not None and pd.notna(r):
                ranks.append(f"{esc(cid)} ranks {fmt(int(r))} of {fmt(ctx.n_ranked)} by score")
    rank_text = (" " + "; ".join(ranks) + ".") if ranks else ""
    parts.append(f'<p class="lead"><b>{lead}.</b> {sentence}{rank_text}</p>')
    if fig.note:
        parts.append(f'<p class="note">{esc(fig.note)}</p>')
    from ..basemap import basemap_for

    svg = map_figure(
        plan, names=ctx.names, base=plan.basemap if plan.basemap is not None else basemap_for(plan)
    )
    if svg:
        parts.append(
            f'<figure class="map">{svg}<figcaption>Figure 1. The chosen sites (numbered) and the areas '
            f"within a 5, 10 and 15-minute walk of them on the run's street network; dots: the twenty "
            "next-best candidates. Drawn from the network, no incident shown.</figcaption></figure>"
        )
    parts.append(chosen_table(plan, ctx))
    flags = findings(plan, ctx)
    if flags:
        items = "".join(f"<li>{s}</li>" for s in flags)
        parts.append(f'<div class="flags"><h3>Check before deciding</h3><ul>{items}</ul></div>')
    return '<section class="first">' + "".join(parts) + "</section>"


def report_html(
    plan: Plan,
    *,
    released: Any = None,
    internal: bool = False,
    sensitivity: pd.DataFrame | None = None,
    threshold: int | None = None,
    max_rows: int = MAX_TABLE_ROWS,
) -> str:
    """The report of a plan as one HTML page (no scripts, no external resources).

    Parameters
    ----------
    released
        The run's :class:`~siting.privacy.ReleasedPlan` (made here when not given): every
        incident-derived figure comes from it.
    internal
        Exact figures instead, marked INTERNAL (implied when the run opted in to incident points).
    sensitivity
        A coverage-by-cutoff table to show instead of the run's.
    threshold
        Deprecated: the rule is the run's; ignored.
    """
    del threshold
    params = plan.parameters or {}
    internal = internal or bool(params.get("include_incident_points", False))
    fig = figures(plan, released=released, internal=internal)
    ctx = plan_context(plan, fig)
    # the run's own record (parameters, manifest, what was read) holds exact figures about the
    # incidents (the selection's objective, row counts, the file's SHA-256, first and last
    # dates): a shareable report shows the release's version of it
    shown = (
        plan
        if internal
        else dataclasses.replace(plan, parameters=fig.released.parameters, manifest=fig.released.manifest)
    )
    params = shown.parameters or {}
    when = str((plan.manifest or {}).get("created") or params.get("date") or "")
    c = plan.candidates
    n_c = 0 if c is None else len(c)
    n_ex = (
        int(c["excluded"].fillna(False).astype(bool).sum())
        if c is not None and "excluded" in c.columns
        else 0
    )
    summary = [
        ("Scenario", plan.name),
        ("Candidates", f"{n_c:,} scored, {n_ex:,} excluded"),
        ("Incidents", fig.total()),
        (
            "Walking cutoff",
            f"{fmt(ctx.cutoff_min)} min"
            + (f" ({fmt(params['cutoff_m'])} m)" if "cutoff_m" in params else ""),
        ),
        ("Sites chosen", "none" if plan.sites is None else f"{len(plan.sites):,}"),
    ]
    if params.get("incidents_from") and params.get("incidents_to"):
        summary.append(("Incidents dated", f"{params['incidents_from']} to {params['incidents_to']}"))
    elif params.get("incidents_period"):
        summary.append(("Incidents dated", params["incidents_period"]))
    if when:
        summary.append(("Run", when))
    classification = "internal" if internal else "public"
    if not internal:
        sensitivity = None  # a caller's table is exact; the released one comes from fig
    assumptions = "".join(
        f"<tr><th>{esc(k)}</th><td>{esc(capacity_assumption(params) if k == 'Capacity' else v)}</td></tr>"
        for k, v in ASSUMPTIONS
    )
    terms = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in DEFINITIONS)
    sections = [
        ("Why not the higher-ranked candidates", why_not(plan, ctx)),
        ("Ranked candidates (chosen sites highlighted)", ranked(plan, ctx, max_rows)),
        ("How many sites: the coverage curve", coverage(plan, fig)),
        ("Sensitivity to the walking cutoff", sensitivity_section(plan, fig, sensitivity)),
        ("Impact, with its range and sources", impact(plan, fig)),
        (
            "What the sites would achieve: attendance, deaths averted, opening hours, booths",
            impact_led_section(plan, released=fig.released, internal=internal, threshold=fig.threshold),
        ),
        ("When incidents happen", time_profile_section(plan, fig)),
        ("Hotspots", hotspots_section(plan, fig)),
        ("Terms used", f"<table>{terms}</table>"),
        ("Privacy rule applied", privacy_section(fig)),
        ("What was run", kv_table(summary)),
        (
            "What was read",
            intake_section(plan, internal=internal, manifest=None if internal else fig.released.manifest),
        ),
        ("Assumptions", f"<table>{assumptions}</table>"),
        ("Parameters", parameters(shown)),
        ("Manifest: inputs by file name and SHA-256", manifest(shown)),
    ]
    body = "".join(f"<section><h2>{esc(h)}</h2>{content}</section>" for h, content in sections if content)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>'
        f'<meta name="siting-classification" content="{classification}"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>{esc(plan.name)}: siting report</title><style>{CSS}</style></head><body>"
        f"{_first_page(plan, ctx, when=when)}{body}</body></html>\n"
    )


def privacy_section(fig: Any) -> str:
    """The privacy statement: the rule, threshold and base of a shareable report, or INTERNAL."""
    if fig.internal:
        return f'<p class="rule internal">{esc(fig.statement)}</p>'
    rel = fig.released
    return (
        f'<p class="rule">{esc(fig.statement)}</p><p class="note">{esc(fig.note)}</p>'
        f'<p class="note">{esc(rel.demand.weight_note)} Method: {esc(privacy.METHOD)}</p>'
    )


def save_report(plan: Plan, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Write :func:`report_html` to ``path`` (temporary file, then renamed)."""
    path = Path(path)
    data = report_html(plan, **kwargs).encode("utf-8")
    write_bytes_atomic(path, data)
    log.info("report written: %s (%.2f MB)", path, len(data) / 1e6)
    return path
