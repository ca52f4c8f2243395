"""The plan as a reader of a shareable page may see it.

:func:`shareable_plan` returns a copy of a :class:`~siting.plan.Plan` in which every table
derived from incidents is replaced by its released text (:func:`siting.privacy.display` of
the :class:`~siting.privacy.ReleasedPlan`'s tables): candidates, sites, hotspots, coverage
curve, sensitivity, impact, per-site figures, parameters and manifest; the incidents
themselves are left out (an empty frame), and the choice tables keep their decisions
(named sets and reasons) but not their exact shares. Code that draws a plan (the report's
sections) can draw this view unchanged and show only released values.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from .release import display

if TYPE_CHECKING:
    import pandas as pd

    from ..plan import Plan
    from .release import ReleasedPlan

#: Columns of ``plan.not_chosen`` / ``plan.findings`` that are decisions or settings, not figures.
_TEXT_ONLY = ("share", "weight", "incidents", "covered", "count", "score")


def _decisions_only(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """Keep the named sets and reasons of a choice table; drop its exact shares and counts."""
    if df is None:
        return None
    keep = [c for c in df.columns if not any(w in str(c) for w in _TEXT_ONLY)]
    return df[keep].copy()


def shareable_plan(plan: Plan, rel: ReleasedPlan) -> Plan:
    """The plan with every incident-derived table replaced by its released text."""
    params = dict(rel.parameters)
    if rel.sensitivity is not None:
        params["sensitivity"] = rel.sensitivity.to_dict("records")
    roles = {
        k: (v.get("role") if isinstance(v, dict) else None)
        for k, v in (plan.parameters.get("layers") or {}).items()
    }
    extra = {k: v for k, v in (plan.extra_layers or {}).items() if roles.get(k) != "demand"}
    return dataclasses.replace(
        plan,
        candidates=display(rel.candidates),
        demand=plan.demand.iloc[:0],
        extra_layers=extra,
        sites=display(rel.sites),
        hotspots=display(rel.hotspots),
        coverage_curve=rel.coverage_curve,
        impact=rel.impact,
        site_impact=getattr(rel, "site_impact", None),
        site_hours=getattr(rel, "site_hours", None),
        deaths_bands=getattr(rel, "deaths_bands", None),
        parameters=params,
        manifest=rel.manifest,
        not_chosen=_decisions_only(plan.not_chosen),
        findings=_decisions_only(plan.findings),
    )
