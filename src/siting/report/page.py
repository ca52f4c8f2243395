"""The report page: sections in order, styles for screen and print, and the atomic write."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import privacy, settings
from .._atomic import write_bytes_atomic
from ..maps import esc, fmt
from .impact_led import impact_led_section
from .intake import intake_section
from .sections import (
    coverage,
    hotspots_section,
    impact,
    manifest,
    ranked,
    sensitivity_section,
    sites,
    time_profile_section,
)
from .tables import kv_table

if TYPE_CHECKING:
    import os

    import pandas as pd

    from ..plan import Plan

log = logging.getLogger("siting.report")

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

CSS = """
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


# ---------------------------------------------------------------------- page
def report_html(
    plan: Plan,
    *,
    sensitivity: pd.DataFrame | None = None,
    threshold: int | None = None,
    internal: bool = False,
    released: Any = None,
    max_rows: int = MAX_TABLE_ROWS,
) -> str:
    """The report of a plan as one HTML page (no scripts, no external resources).

    Parameters
    ----------
    sensitivity
        Coverage at each sensitivity cutoff: ``cutoff_min``, ``covered_demand_share`` (or
        ``covered_demand_weight``) and optionally ``n_sites`` (one line per cutoff) and ``sites``.
        Defaults to ``plan.sensitivity`` or ``plan.parameters['sensitivity']`` when present.
    threshold
        Small-count suppression threshold (default: the run's, else the setting).
    internal
        Draw the exact figures and mark the report INTERNAL (also when the plan was made
        with incident points opted in). Otherwise every incident-derived figure is the
        released one (:mod:`siting.maps.release`) and the report can be shared.
    released
        The plan's :class:`~siting.privacy.ReleasedPlan`, when already computed.
    """
    from ..maps.release import figures

    internal = internal or bool((plan.parameters or {}).get("include_incident_points", False))
    if released is None and threshold is not None:
        base = privacy.rule_for(plan)
        rule = privacy.Rule(threshold=int(threshold), base=base.base, allow_weaker=base.allow_weaker)
        released = privacy.release_plan(plan, rule)
    fig = figures(plan, released=released, internal=internal)
    exact_plan = plan
    plan = exact_plan if internal else privacy.shareable_plan(exact_plan, fig.released)
    params = plan.parameters or {}
    t = fig.threshold
    when = (plan.manifest or {}).get("created")
    c = plan.candidates
    n_c = 0 if c is None else len(c)
    n_ex = (
        int(c["excluded"].fillna(False).astype(bool).sum())
        if c is not None and "excluded" in c.columns
        else 0
    )
    if not internal:
        inc_text = esc(fig.released.total("incidents")[1])
    else:
        n_inc = 0 if exact_plan.demand is None else len(exact_plan.demand)
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
    elif params.get("incidents_period"):
        summary.append(("Incidents dated", params["incidents_period"]))
    if when:
        summary.append(("Run", when))
    classification = "internal" if internal else "public"
    banner = (
        f'<p class="internal">{esc(fig.statement)}</p>'
        if internal
        else f'<p class="note">{esc(fig.note)} {esc(fig.statement)}</p>'
    )
    if not internal:
        sensitivity = None  # a caller's table is exact; the released one is in the view
    assumptions = "".join(f"<tr><th>{esc(k)}</th><td>{esc(v)}</td></tr>" for k, v in ASSUMPTIONS)
    sections = [
        ("What was run", kv_table(summary)),
        ("What was read", intake_section(plan, internal=internal)),
        ("Chosen sites and why", sites(plan)),
        ("Ranked candidates", ranked(plan, max_rows)),
        ("How many sites: the coverage curve", coverage(plan)),
        ("Sensitivity to the walking cutoff", sensitivity_section(plan, sensitivity)),
        ("Impact, with its range and sources", impact(plan)),
        (
            "What the sites would achieve: attendance, deaths averted, opening hours, booths",
            impact_led_section(plan, released=fig.released, internal=internal, threshold=t),
        ),
        (
            "When incidents happen",
            time_profile_section(exact_plan, t, released=None if internal else fig.released),
        ),
        ("Hotspots", hotspots_section(plan)),
        ("Privacy rule applied", privacy_section(fig)),
        ("Assumptions", f"<table>{assumptions}</table>"),
        ("Parameters", kv_table(list(params.items()))),
        ("Manifest", manifest(plan)),
    ]
    body = "".join(f"<section><h2>{esc(h)}</h2>{content}</section>" for h, content in sections)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"/>'
        f'<meta name="siting-classification" content="{classification}"/>'
        '<meta name="viewport" content="width=device-width, initial-scale=1"/>'
        f"<title>{esc(plan.name)}: siting report</title><style>{CSS}</style></head><body>"
        f'<h1>{esc(plan.name)}</h1><p class="note">Supervised consumption site planning report '
        f"(siting)</p>{banner}{body}</body></html>\n"
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
