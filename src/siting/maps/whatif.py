"""The offline what-if: click candidates to build a set and see what it reaches, at once.

The page gets, per candidate, the "atoms" of released demand units it reaches within the
cutoff (units reached by exactly the same candidates, grouped) and each atom's mass: the
coverage of any set is then a sum the page's script does in microseconds, with no
server, and it equals :meth:`siting.privacy.ReleasedPlan.cover` for that set. Its total
is shown through the same rule as every other number (``Figures.rule_js``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .text import esc, fmt

if TYPE_CHECKING:
    from ..plan import Plan
    from .release import Figures

#: The candidates' layer name (the what-if listens to clicks on it).
CANDIDATE_LAYER = "Candidates (colour = rank)"


def whatif_data(plan: Plan, fig: Figures, *, layer: str = CANDIDATE_LAYER) -> dict[str, Any] | None:
    """What the page's ``Siting.whatif`` needs (None when there is nothing to compare)."""
    if plan.candidates is None or not len(plan.candidates):
        return None
    units = fig.units()
    pos = {c: i for i, c in enumerate(units.candidate_ids)}
    ids = [str(c) for c in plan.candidates["candidate_id"]]
    atoms = [units.atoms[pos[c]] if c in pos else [] for c in ids]
    chosen = [str(c) for c in plan.sites["candidate_id"]] if plan.sites is not None else []
    rec = [ids.index(c) for c in chosen if c in ids]
    out = {
        "ids": ids,
        "cand": atoms,
        "mass": [round(float(m), 3) for m in np.asarray(units.mass)],
        "total": float(units.total),
        "rec": rec,
        "rule": fig.rule_js(),
        "group": layer,
    }
    from .whatif_values import value_payload  # attendance and deaths runs: their own sum

    value = value_payload(plan, fig.released) if fig.released is not None else None
    if value is not None:
        out["value"] = value
    return out


def whatif_html(plan: Plan, fig: Figures, *, cutoff_min: float) -> str:
    """The what-if panel (folded until opened)."""
    cut = fmt(round(cutoff_min, 1))
    has_rec = plan.sites is not None and len(plan.sites)
    rec_rows = (
        "<tr><td>Recommended set</td><td class='siting-whatif-rec-count'></td>"
        "<td class='siting-whatif-rec-share'></td></tr>"
        if has_rec
        else ""
    )
    rec_button = (
        '<button type="button" class="siting-whatif-rec">Start from the recommended set</button> '
        if has_rec
        else ""
    )
    how = (
        "estimated from the published hexagon counts, like every figure here" if not fig.internal else "exact"
    )
    return (
        '<details class="siting-fold" data-desktop-closed><summary>What if? Build your own set</summary>'
        '<div class="siting-body">'
        '<p><label><input type="checkbox" class="siting-whatif-mode"> Click candidates on the map to add or '
        "remove them</label></p>"
        f"<p>{rec_button}<button type='button' class='siting-whatif-clear'>Clear</button></p>"
        "<p>Your set: <span class='siting-whatif-set'>none yet</span></p>"
        f"<table class='siting-whatif-figs'><tr><th></th><th>Incidents</th><th>Share</th></tr>"
        "<tr><td>Your set</td><td class='siting-whatif-count'></td><td class='siting-whatif-share'></td></tr>"
        f"{rec_rows}</table>"
        f"<p>Difference from the recommended set: <b class='siting-whatif-diff'></b></p>"
        f"{_value_rows(plan, has_rec)}"
        f'<p class="siting-privacy">Incidents within a {cut}-minute walk of any site of the set, '
        f"{esc(how)}.</p>"
        "</div></details>"
    )


def _value_rows(plan: Plan, has_rec: Any) -> str:
    """The value models' own figure for the set (attendance, or deaths averted low / central / high)."""
    model = ((plan.parameters or {}).get("selection") or {}).get("model")
    if model not in ("attendance", "deaths"):
        return ""
    if model == "deaths":
        head = "Deaths averted (low / central / high)"
        how = (
            "each fatal incident takes the effect of the distance band of its nearest site of the set; "
            "shown only where more fatal incidents than the threshold lie behind it"
        )
    else:
        head = "Expected attendance (incidents)"
        how = (
            "each incident counts once, at its most attractive site of the set, times the share "
            "expected to attend at that walking time"
        )
    rec = (
        "<tr><td>Recommended set</td><td class='siting-whatif-rec-value'></td></tr>" if has_rec else ""
    )
    return (
        f"<table class='siting-whatif-figs siting-whatif-values'><tr><th></th><th>{esc(head)}</th></tr>"
        f"<tr><td>Your set</td><td class='siting-whatif-value'></td></tr>{rec}</table>"
        f"<p class='siting-privacy'>{esc(how)}.</p>"
    )
