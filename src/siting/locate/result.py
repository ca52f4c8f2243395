"""What a solve found: :class:`Result`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

#: Columns of :attr:`Result.sites`.
SITE_COLUMNS = [
    "candidate_id",
    "region",
    "fixed",
    "covers_incidents",
    "covers_demand_weight",
    "alone_incidents",
    "alone_demand_weight",
    "assigned_demand_weight",
    "reason",
]


@dataclass
class Result:
    """What a solve found.

    Attributes
    ----------
    model
        ``coverage``, ``median`` or ``min-sites``.
    objective
        Covered (served) weight for coverage; total weighted minutes for median (beyond
        the cutoff at the penalty); number of sites for min-sites.
    bound
        Best proven bound on the objective (upper for maximisation, lower for
        minimisation).
    gap
        ``|bound - objective| / |objective|`` (0 when both are 0).
    solve_seconds
        Wall time of the solve, including model building.
    status
        ``optimal`` (proven), ``time-limit-feasible`` or ``heuristic`` (greedy).
    method
        ``milp`` or ``greedy``.
    chosen
        Chosen candidate ids in input order.
    sites
        One row per chosen site: ``candidate_id``, ``region``, ``fixed``,
        ``covers_incidents`` and ``covers_demand_weight`` (within the cutoff),
        ``alone_incidents`` and ``alone_demand_weight`` (what no other chosen site covers),
        ``assigned_demand_weight`` (demand it is nearest to), ``reason``.
    covered_weight, total_weight
        Demand weight within the cutoff of a chosen site, and all demand weight.
    served_weight
        With capacity: weight served within capacity; otherwise equal to covered_weight.
    covered_incidents, total_incidents
        Incidents (counted, not weighted) within the cutoff of a chosen site, and all.
    excluded_weight
        p-median with ``beyond='exclude'``: weight no candidate reaches, left out.

    Weights belong to the objective; every count a planner reads is a count of
    incidents. :meth:`summary` names the two apart (``*_demand_weight`` and
    ``*_incidents``).
    """

    model: str
    objective: float
    bound: float
    gap: float
    solve_seconds: float
    status: str
    method: str
    chosen: list[str]
    sites: pd.DataFrame
    covered_weight: float
    total_weight: float
    served_weight: float
    covered_incidents: int = 0
    total_incidents: int = 0
    excluded_weight: float = 0.0

    @property
    def covered_share(self) -> float:
        """Covered weight as a share of all demand weight."""
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 0.0

    @property
    def covered_incident_share(self) -> float:
        """Covered incidents as a share of all incidents."""
        return self.covered_incidents / self.total_incidents if self.total_incidents > 0 else 0.0

    def summary(self) -> dict[str, Any]:
        """A JSON-ready dictionary of the headline figures."""
        return {
            "model": self.model,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "solve_seconds": self.solve_seconds,
            "status": self.status,
            "method": self.method,
            "chosen": list(self.chosen),
            "covered_incidents": self.covered_incidents,
            "total_incidents": self.total_incidents,
            "covered_demand_weight": self.covered_weight,
            "total_demand_weight": self.total_weight,
            "served_demand_weight": self.served_weight,
            "excluded_demand_weight": self.excluded_weight,
        }
