"""The coverage curve: the best coverage for 1, 2, ... sites ("how many sites do we need?")."""

from __future__ import annotations

import logging
from typing import Any, Literal

import pandas as pd

from .._errors import InfeasibleError
from ..budget import Step
from .coverage import MaximalCovering

log = logging.getLogger(__name__)

CURVE_COLUMNS = [
    "n_sites",
    "covered_incidents",
    "covered_incident_share",
    "covered_demand_weight",
    "covered_demand_share",
    "bound",
    "gap",
    "status",
    "chosen",
]


def coverage_curve(
    costs: Any,
    *,
    k_max: int,
    time_limit: float | None = None,
    method: Literal["milp", "greedy"] = "milp",
    **kwargs: Any,
) -> pd.DataFrame:
    """Best coverage for 1..``k_max`` sites (maximal covering solved for each ``p``).

    Keyword arguments are those of :class:`~siting.locate.MaximalCovering` (``p``
    excluded). Numbers of sites the constraints cannot meet (fewer than the fixed sites,
    quotas) are left out. ``time_limit`` bounds the whole curve: each solve gets an equal
    part of what is left.

    Returns
    -------
    DataFrame with ``n_sites``, ``covered_incidents`` and ``covered_incident_share``
    (incidents within the cutoff of the chosen sites), ``covered_demand_weight`` and
    ``covered_demand_share`` (the objective: demand weight covered, or served within
    capacity), ``bound`` and ``gap`` (on the demand weight), ``status``, ``chosen`` (ids
    joined by ``;``).
    """
    recs = []
    share = Step(time_limit)
    model: MaximalCovering | None = None
    prev: list[str] = []
    for k in range(1, int(k_max) + 1):
        try:  # one model for the whole curve: merging and dominance are done once
            if model is None:
                model = MaximalCovering(costs, p=k, **kwargs)
            else:
                model.set_p(k)
        except InfeasibleError as err:
            log.info("coverage curve: %d sites infeasible (%s)", k, err)
            continue
        if prev:
            model.warm_start(prev)  # the best set for k - 1 sites, completed greedily
        try:
            r = model.solve(share.allot(int(k_max) - k + 1), method=method)
        except InfeasibleError as err:  # e.g. quotas no set of k sites meets (not caught earlier)
            log.info("coverage curve: %d sites infeasible (%s)", k, err)
            continue
        prev = r.chosen
        recs.append(
            {
                "n_sites": k,
                "covered_incidents": r.covered_incidents,
                "covered_incident_share": r.covered_incident_share,
                "covered_demand_weight": r.objective,
                "covered_demand_share": r.objective / r.total_weight if r.total_weight else 0.0,
                "bound": r.bound,
                "gap": r.gap,
                "status": r.status,
                "chosen": ";".join(r.chosen),
            }
        )
    return pd.DataFrame(recs, columns=CURVE_COLUMNS)
