"""The report's "what the sites would achieve" section: each estimate, how, its source, its range.

Attendance, deaths averted (by band), opening hours and booths of the chosen sites
(:mod:`siting.site_impact`), from the released tables on shareable reports
(:func:`siting.privacy.release_plan`) and the exact ones, marked, on internal reports.
Every estimate is printed with how it is made, where its figures come from and its range.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..maps import esc, fmt
from .charts import bar_chart, line_chart
from .tables import table

if TYPE_CHECKING:
    from ..plan import Plan

#: The sources printed for the booth estimate.
SOURCE_ERLANG_TABLE = (
    "Erlang's C formula (M/M/c queue); this implementation reproduces the published Erlang C table "
    "of Dunlop, Girma & Irvine, Digital Mobile Communications and the TETRA System (Wiley 1999), "
    "App. A.4 (8 servers carry 3.87 erlangs at 5% queueing, 10 servers 4.08 at 1%)"
)
SOURCE_BOOTH_TIME = (
    "Insite, Vancouver: about 40 supervised uses per booth a day over its 18 open hours "
    "(09:00-03:00), one use every 27 minutes per booth"
)
SOURCE_WAIT = (
    "a planning choice, not a published threshold: long waits turn people away from supervised "
    "sites (Small et al., Qual Health Res 2011) but no study gives a number"
)
SOURCE_RULE = "40 supervised uses per booth a day (Insite: about 500 a day on 12-13 booths)"
CAVEAT_DEATHS = (
    "Both studies compare area death rates before and after sites opened (ecological designs): an "
    "association near sites, not a measured effect of any one new site. The central values are the "
    "midpoints of the published ends, not published estimates. Over 500 m, Marshall et al. found no "
    "significant change; Rammohan et al. report the fall stayed significant, though weaker, out to "
    "5 km, and give no figure for that band in the text we could read: the 60% high value is the "
    "figure the lead author gave for the whole 5 km (CP24, February 2024)."
)


def _released(plan: Plan, released: Any, internal: bool) -> tuple[Any, Any, Any, Any]:
    """``(site_impact, site_hours, deaths_bands, curve)`` as the page may show them."""
    if internal:
        return plan.site_impact, plan.site_hours, plan.deaths_bands, plan.coverage_curve
    if released is None:
        from ..privacy import release_plan

        released = release_plan(plan)
    return released.site_impact, released.site_hours, released.deaths_bands, released.coverage_curve


def _text(row: Any, col: str, internal: bool, *, kind: str = "count") -> str:
    """A cell as text: the released label on shareable pages, the exact number on internal ones."""
    if not internal:
        lab = row.get(f"{col}_label")
        if lab is not None and not (isinstance(lab, float) and math.isnan(lab)):
            return str(lab)
    v = row.get(col)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "not estimated"
    if kind == "deaths":
        return f"{float(v):.1f}"
    if kind == "count":
        return f"{float(v):,.0f}" if internal else fmt(v)
    return fmt(v)


def _wait(v: Any) -> str:
    """The busiest hour's mean wait: released pages carry text ("2 min"), internal ones minutes."""
    if isinstance(v, str):
        return v
    if v is None or not math.isfinite(float(v)):
        return ""
    return f"{float(v):.1f} min"


def _hours_chart(g: pd.DataFrame, site: str, window: str, threshold: int, internal: bool) -> str:
    g = g.sort_values("hour")
    vals = g["incidents"].to_numpy(dtype=float)
    if internal:
        sup = [False] * 24
        shown = np.nan_to_num(vals).tolist()
    else:
        status = g["status"].astype(str).to_numpy()
        sup = [s != "shown" for s in status]
        shown = [0.0 if s else float(v) for v, s in zip(vals, sup, strict=True)]
    title = f"Site {site}: incidents within the cutoff by hour" + (f" (open {window})" if window else "")
    return bar_chart(
        [str(h) for h in range(24)],
        shown,
        title=title,
        ylabel="incidents",
        suppressed=sup,
        suppressed_height=(threshold + 1) / 2,
        width=380,
        height=180,
    )


def impact_led_section(
    plan: Plan, *, released: Any = None, internal: bool = False, threshold: int = 10
) -> str:
    """The section's HTML (see the module doc)."""
    site, hours, bands, curve = _released(plan, released, internal)
    if plan.site_impact is None or site is None or not len(site):
        return '<p class="note">No sites were chosen, so there is nothing to estimate.</p>'
    params = plan.parameters or {}
    imp = params.get("impact_led") or {}
    sel = params.get("selection") or {}
    model = str(sel.get("model", ""))
    out: list[str] = [
        '<p class="note">Estimates from the incident data and published studies, not promises. '
        "Each comes with how it is made, its source and its range."
        + (
            ""
            if internal
            else " Figures are estimated from the published hexagon counts (see the privacy rule)."
        )
        + "</p>"
    ]
    if model == "deaths":
        out.append(
            f"<p>The sites were chosen to maximise expected deaths averted on the "
            f"<b>{esc(str(imp.get('estimate', 'low')))}</b> estimate; the other estimates of the same "
            "sites are shown beside it, so the range carries through the choice.</p>"
        )
    elif model == "attendance":
        out.append(
            f"<p>The sites were chosen to maximise expected attendance: {esc(str(imp.get('decay', '')))}.</p>"
        )

    # ------------------------------------------------------------------ per site
    rows = []
    for r in site.to_dict("records"):
        deaths = " / ".join(
            _text(r, f"deaths_{e}", internal, kind="deaths") for e in ("low", "central", "high")
        )
        rows.append(
            {
                "site": str(r["candidate_id"]),
                "incidents within the cutoff": _text(r, "incidents_within_cutoff", internal),
                "expected attendance": _text(r, "attendance", internal),
                "deaths averted (low / central / high)": deaths,
                "opening hours": str(r.get("hours_text", "")),
                "visits a day": _text(r, "visits_per_day", internal, kind="other"),
                "booths (Erlang C)": fmt(r.get("booths_erlang")) or "not estimated",
                "booths (40 a day)": fmt(r.get("booths_rule")) or "not estimated",
                "mean wait, busiest hour": _wait(r.get("peak_wait_min")),
            }
        )
    out.append("<h3>Per site</h3>" + table(pd.DataFrame(rows), numeric=set()))
    if hours is not None and len(hours):
        charts = ['<div class="charts">']
        windows = {str(r["candidate_id"]): str(r.get("hours_window", "")) for r in site.to_dict("records")}
        for sid, g in hours.groupby("candidate_id", sort=False):
            charts.append(_hours_chart(g, str(sid), windows.get(str(sid), ""), threshold, internal))
        charts.append("</div>")
        out.append("".join(charts))
        if not internal:
            out.append(
                f'<p class="note">Hatched bars: fewer than {threshold + 1} incidents, or withheld so that '
                "none can be worked out from the others (drawn at the midpoint).</p>"
            )

    # ------------------------------------------------------------------ how, source, range
    by_curve = site.attrs.get("attendance_by_curve") or {}
    att_range = ", ".join(f"{esc(k)} {esc(str(v) if not internal else fmt(v))}" for k, v in by_curve.items())
    tz = imp.get("timezone") or "the incidents' own"
    years = imp.get("years")
    per = f" The data span {years:.1f} years." if isinstance(years, int | float) and years else ""
    share = imp.get("hours_share", 0.8)
    how = [
        (
            "Expected attendance",
            "Each incident counts once, at its most attractive chosen site, times the share expected to "
            f"attend at that walking time: {imp.get('decay', '')}.",
            str(imp.get("decay_source", "")),
            f"The same sites under each documented curve at its defaults: {att_range}." if att_range else "",
        ),
        (
            "Deaths averted",
            "Each fatal incident takes the effect of the distance band of its nearest chosen site (network "
            "metres); counted from fatal incidents, never siting weights; over the period of the data." + per,
            "Marshall et al., Lancet 2011 (Insite: 35% fewer deaths within 500 m); Rammohan et al., "
            "Lancet Public Health 2024 (Toronto: 67% within 500 m, weaker to 5 km). Every band and its "
            "source below.",
            "Low to high as printed; the central value is the midpoint.",
        ),
        (
            "Opening hours",
            f"The shortest daily window of whole hours holding {round(float(share) * 100)}% of the "
            f"incidents within the site's walking cutoff, by hour of day in {tz} time zone.",
            "The incidents' timestamps.",
            "The hours a higher share (95%) would need are printed beside the window.",
        ),
        (
            "Booths (Erlang C)",
            f"The fewest booths keeping the mean wait under {fmt(imp.get('wait_target_min', 5))} minutes "
            f"in the busiest open hour: visits a day ({fmt(imp.get('demand_per_day')) or 'not given'} "
            "for all incidents, shared by expected attendance) spread over the hours like the site's "
            f"incidents; each visit holds a booth {fmt(imp.get('booth_minutes', 27))} minutes on average.",
            f"{SOURCE_ERLANG_TABLE}. Booth time: {SOURCE_BOOTH_TIME}. Wait target: {SOURCE_WAIT}.",
            f"Cross-check: {SOURCE_RULE}, the 'booths (40 a day)' column. Without --demand-per-day no "
            "booths are estimated.",
        ),
    ]
    out.append(
        "<h3>How each estimate is made, its source and its range</h3>"
        + table(pd.DataFrame(how, columns=["estimate", "how", "source", "range"]), numeric=set())
    )

    # ------------------------------------------------------------------ bands
    if bands is not None and len(bands):
        recs = []
        for r in bands.to_dict("records"):
            eff = (
                ""
                if str(r["band"]) == "total"
                else f"{r['share_low']:.0%} / {r['share_central']:.0%} / {r['share_high']:.0%}"
            )
            recs.append(
                {
                    "band": str(r["band"]),
                    "fatal incidents": _text(r, "fatal_incidents", internal),
                    "deaths averted (low / central / high)": " / ".join(
                        _text(r, e, internal, kind="deaths") for e in ("low", "central", "high")
                    ),
                    "effect (low / central / high)": eff,
                    "source": str(r["source"]),
                }
            )
        out.append(
            "<h3>Deaths averted by distance band, each with its source</h3>"
            + table(pd.DataFrame(recs), numeric=set())
        )
        out.append(f'<p class="note">{esc(CAVEAT_DEATHS)}</p>')
    else:
        out.append('<p class="note">The incidents have no fatal flag: deaths averted are not estimated.</p>')

    # ------------------------------------------------------------------ value curve
    if curve is not None and len(curve) and curve.attrs.get("value_name"):
        y = curve["covered_demand_weight"].astype(float).tolist()
        out.append(
            line_chart(
                [(str(curve.attrs["value_name"]), curve["n_sites"].astype(float).tolist(), y)],
                title=f"Best {curve.attrs['value_name']} by number of sites",
                xlabel="number of sites",
                ylabel=str(curve.attrs["value_name"]),
            )
        )
    return "".join(out)
