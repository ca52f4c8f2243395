"""Maximal covering: choose ``p`` sites maximising the demand weight within the cutoff.

Binary ``open_j``, continuous ``covered_i <= sum open_j`` over the candidates covering
``i``; demand covered by only one candidate is folded into that candidate's objective
coefficient, and candidates whose coverage is a subset of another's are left out when no
quota or capacity could make them matter.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import numpy.typing as npt

from ._common import F64, Mask, bincount
from ._greedy import coverage_greedy
from ._highs import Lp, make_lp
from .base import Model
from .capacity import capacity_rows

if TYPE_CHECKING:
    from collections.abc import Sequence


class MaximalCovering(Model):
    """Choose ``p`` sites maximising the demand weight within the cutoff.

    Parameters
    ----------
    costs
        Candidates x demand minutes (sparse: absent = beyond the cutoff) or a dense array
        (then give ``cutoff``).
    weights
        Demand weights (default 1 each).
    candidate_ids
        Candidate ids (text; default ``"0"``, ``"1"``, ...).
    p
        Number of sites, fixed sites included.
    cutoff
        Entries above it do not cover.
    regions, quotas
        A region label per candidate, and ``{"NAME": (op, k)}`` with op ``>=``, ``==``,
        ``<=``.
    fixed, excluded
        Candidate ids forced open / never opened.
    capacity
        :class:`~siting.locate.Capacity`; demand above a site's capacity is not counted as
        served.

    Examples
    --------
    >>> import numpy as np
    >>> costs = np.array([[1.0, 2.0, np.inf], [np.inf, 3.0, 4.0]])
    >>> r = MaximalCovering(costs, weights=[1, 1, 5], candidate_ids=["a", "b"], p=1,
    ...                     cutoff=10).solve()
    >>> r.chosen, r.objective, r.status
    (['b'], 6.0, 'optimal')
    """

    name = "coverage"
    sense = -1
    options: ClassVar[tuple[str, ...]] = ("p",)

    def __init__(
        self,
        costs: Any,
        *,
        weights: npt.ArrayLike | None = None,
        candidate_ids: Sequence[Any] | None = None,
        p: int,
        **kw: Any,
    ) -> None:
        super().__init__(costs, weights=weights, candidate_ids=candidate_ids, p=p, **kw)
        self._lam: F64 | None = None  # the Lagrangian multipliers of the last quick bound
        self._cols: Mask | None = None  # the candidates of the last restricted LP (a curve reuses them)

    def build(self, lp_only: bool = False) -> Lp:
        if self.cap is not None:
            return coverage_capacity_lp(self, lp_only, target=None)
        rows = self.rows
        n = self.n_active
        lens = np.diff(rows.ptr)
        single = lens == 1
        y_cost = bincount(rows.cand[rows.ptr[:-1][single]], weights=rows.weight[single], minlength=n)
        multi = np.flatnonzero(~single)
        nm = len(multi)
        cost = np.concatenate([y_cost, rows.weight[multi]])
        col_lo = np.concatenate([self.fixed.astype(np.float64), np.zeros(nm)])
        col_hi = np.concatenate([(~self.dominated()).astype(np.float64), np.ones(nm)])
        # rows: covered_r - sum open_j <= 0
        r_e = rows.row_of_entry()
        mpos = np.full(rows.n, -1, np.int64)
        mpos[multi] = np.arange(nm)
        em = mpos[r_e] >= 0
        ri, ci, vals, lo, hi = self.site_rows()
        base = len(lo)
        ri += [base + np.arange(nm), base + mpos[r_e[em]]]
        ci += [n + np.arange(nm), rows.cand[em]]
        vals += [np.ones(nm), -np.ones(int(em.sum()))]
        lo_a = [np.asarray(lo), np.full(nm, -math.inf)]
        hi_a = [np.asarray(hi), np.zeros(nm)]
        return make_lp(-1, 0.0, cost, col_lo, col_hi, n, ri, ci, vals, lo_a, hi_a, lp_only)

    def evaluate(self, mask: Mask) -> float:
        return self.covered_weight(mask)

    def greedy(self, swap: bool, deadline: float | None = None) -> Mask:
        return coverage_greedy(self, n_target=self.p, target_weight=None, swap=swap, deadline=deadline)

    def refine(self, start: Mask, seconds: float | None, rel_gap: float) -> tuple[Mask, float | None]:
        """A better start and a bound by column generation and reduced-cost fixing (see
        :mod:`siting.locate._cover_lp`): exact where it says the bound meets the start.
        With capacity, the subgradient bound of :meth:`quick_bound` (``None``)."""
        if self.cap is not None or self.p is None or self.rows.n == 0:
            return super().refine(start, seconds, rel_gap)
        from ._cover_lp import refine

        return refine(self, start, seconds, rel_gap)

    def quick_bound(self, objective: float, seconds: float) -> float | None:
        """An upper bound by Lagrangian relaxation of the covering rows (subgradient), in
        about ``seconds``: at county size HiGHS cannot even solve the root LP in minutes,
        while this bound costs a sparse pass over the pairs per step. Valid whatever the
        number of steps (quotas are relaxed); ``None`` with capacity."""
        if self.cap is not None or self.p is None or self.rows.n == 0:
            return None
        from ._kernels import cover_bound, sort_by_row

        rows = self.rows
        order, c_ptr = sort_by_row(rows.cand, self.n_active)
        c_rows = rows.row_of_entry()[order]
        col_ok = ~self.dominated()
        # any multipliers give a valid bound: a curve starts from those of the previous p
        lam = rows.weight * 0.5 if self._lam is None else self._lam
        self._lam = lam
        mu, best = 2.0, math.inf
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < seconds and mu >= 1e-6:
            b, mu = cover_bound(c_ptr, c_rows, rows.weight, col_ok, self.fixed, self.p, objective, 25, lam, mu)
            best = min(best, float(b))
            if best - objective <= 1e-9 * max(1.0, abs(objective)):
                break
        return best


def coverage_capacity_lp(model: Model, lp_only: bool, target: float | None) -> Lp:
    """Capacitated coverage: open_j, flow f_rj (fraction of row r served at j).

    Maximise served weight (coverage) or, with ``target``, minimise the number of sites
    subject to served weight >= target.
    """
    rows = model.rows
    n = model.n_active
    assert model.cap is not None
    r_e = rows.row_of_entry()
    c_e = rows.cand
    m = len(r_e)
    wr = rows.weight[r_e]
    ri, ci, vals, lo, hi = model.site_rows()
    base = len(lo)
    # sum_j f_rj <= 1
    ri.append(base + r_e)
    ci.append(n + np.arange(m))
    vals.append(np.ones(m))
    capacity_rows(ri, ci, vals, base + rows.n, model.cap, c_e, wr)
    lo_a: list[F64] = [np.asarray(lo), np.full(rows.n + n + m, -math.inf)]
    hi_a: list[F64] = [np.asarray(hi), np.ones(rows.n), np.zeros(n), np.zeros(m)]
    col_lo = np.concatenate([model.fixed.astype(np.float64), np.zeros(m)])
    col_hi = np.ones(n + m)
    if target is None:
        cost = np.concatenate([np.zeros(n), wr])
        return make_lp(-1, 0.0, cost, col_lo, col_hi, n, ri, ci, vals, lo_a, hi_a, lp_only)
    b4 = base + rows.n + n + m  # after the capacity rows
    ri.append(np.full(m, b4))
    ci.append(n + np.arange(m))
    vals.append(wr)
    lo_a.append(np.array([target]))
    hi_a.append(np.array([math.inf]))
    cost = np.concatenate([np.ones(n), np.zeros(m)])
    return make_lp(1, 0.0, cost, col_lo, col_hi, n, ri, ci, vals, lo_a, hi_a, lp_only)
