"""Fewest sites: the smallest set whose coverage reaches a share of all demand weight.

Minimise the number of open sites subject to covered weight ``>= target x total weight``
(``target=1.0`` is set covering).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from .._errors import InfeasibleError, InputError
from ._greedy import coverage_greedy
from ._highs import Lp, make_lp
from .base import Model
from .coverage import coverage_capacity_lp

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._common import Mask
    from .result import Result


class FewestSites(Model):
    """The fewest sites whose coverage reaches ``target`` x all demand weight.

    ``target=1.0`` is set covering. The target is a share of *all* demand weight, including
    demand no candidate reaches (a target above the reachable share is infeasible).
    Fixed sites count toward the number of sites.

    Examples
    --------
    >>> import numpy as np
    >>> costs = np.array([[1.0, 2.0, np.inf], [np.inf, 3.0, 4.0]])
    >>> FewestSites(costs, weights=[1, 1, 5], target=0.8, cutoff=10).solve().chosen
    ['1']
    """

    name = "min-sites"
    sense = 1
    options: ClassVar[tuple[str, ...]] = ("target",)

    def __init__(
        self,
        costs: Any,
        *,
        weights: npt.ArrayLike | None = None,
        candidate_ids: Sequence[Any] | None = None,
        target: float,
        **kw: Any,
    ) -> None:
        if not (0 < target <= 1):
            msg = f"`target` is a share of demand weight in (0, 1], got {target}"
            raise InputError(msg)
        self.target = float(target)
        super().__init__(costs, weights=weights, candidate_ids=candidate_ids, p=None, **kw)
        reachable = self.total_weight - self.unreached_weight
        self.target_weight = self.target * self.total_weight
        if self.target_weight > reachable * (1 + 1e-12):
            msg = (
                f"target {self.target:.1%} of demand is unreachable: only "
                f"{reachable / self.total_weight:.1%} lies within the cutoff of any candidate"
            )
            raise InfeasibleError(msg)
        if self.cap is not None and self.target_weight > float(self.cap.sum()) * (1 + 1e-12):
            msg = (
                f"target {self.target:.1%} of demand is unreachable: all candidates together "
                "have too little capacity"
            )
            raise InfeasibleError(msg)

    def evaluate(self, mask: Mask) -> float:
        return float(mask.sum())

    def build(self, lp_only: bool = False) -> Lp:
        if self.cap is not None:
            return coverage_capacity_lp(self, lp_only, target=self.target_weight)
        rows = self.rows
        n = self.n_active
        m = rows.n
        r_e = rows.row_of_entry()
        cost = np.concatenate([np.ones(n), np.zeros(m)])
        col_lo = np.concatenate([self.fixed.astype(np.float64), np.zeros(m)])
        col_hi = np.concatenate([(~self.dominated()).astype(np.float64), np.ones(m)])
        ri, ci, vals, lo, hi = self.site_rows()
        base = len(lo)
        ri += [base + np.arange(m), base + r_e, np.full(m, base + m)]
        ci += [n + np.arange(m), rows.cand, n + np.arange(m)]
        vals += [np.ones(m), -np.ones(len(r_e)), rows.weight]
        lo_a = [np.asarray(lo), np.full(m, -math.inf), np.array([self.target_weight * (1 - 1e-12)])]
        hi_a = [np.asarray(hi), np.zeros(m), np.array([math.inf])]
        return make_lp(1, 0.0, cost, col_lo, col_hi, n, ri, ci, vals, lo_a, hi_a, lp_only)

    def greedy(self, swap: bool, deadline: float | None = None) -> Mask:
        return coverage_greedy(
            self, n_target=None, target_weight=self.target_weight, swap=swap, deadline=deadline
        )

    def result(
        self, mask: Mask, obj: float, bound: float, seconds: float, status: str, method: str
    ) -> Result:
        # the number of sites is an integer: a fractional bound rounds up
        if method == "greedy" or status != "optimal":
            bound = math.ceil(bound - 1e-6) if math.isfinite(bound) else bound
        return super().result(mask, obj, bound, seconds, status, method)
