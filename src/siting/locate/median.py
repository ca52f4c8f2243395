"""p-median: choose ``p`` sites minimising total weighted walking minutes.

The compact "radius" formulation (Elloumi 2010; Garcia, Labbe & Marin 2011). For each
demand row the distinct distances ``D_1 < ... < D_K`` are sorted and ``beyond_k`` says
"no open site within ``D_k``"; the cost is ``D_1 + sum_k (D_{k+1} - D_k) beyond_k``. The
chained form ``beyond_{k-1} <= beyond_k + sum_{d_ij = D_k} open_j`` has one non-zero per
(demand, candidate) pair, not a triangle of them, and the same LP bound as Elloumi's.
Levels past the one where at least ``n - p + 1`` candidates (or a fixed site) lie are
dropped: some open site is always that close.

Without capacity the MILP is solved by row generation on that formulation (see
:meth:`PMedian.solve`); with capacity, by assignment variables
(:func:`median_capacity_lp`).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt

from .._errors import InputError, SolverError
from ._greedy import median_greedy
from ._highs import Lp, make_lp, run_highs
from .base import Model, swap_deadline
from .capacity import capacity_rows

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._common import F64, I64, Mask, Rows
    from .result import Result

log = logging.getLogger(__name__)

#: Extra distance levels per demand row beyond the greedy's, in the row generation.
CAP_MARGIN = 3


@dataclass(frozen=True)
class Levels:
    """Distinct distances within each demand row (entries sorted by distance within rows)."""

    r_e: I64  # row of each entry
    lev: I64  # level of each entry within its row (0: the nearest distance)
    n_lev: I64  # distinct distances per row
    new: Mask  # the entry starts a new level


def distance_levels(rows: Rows) -> Levels:
    """The :class:`Levels` of merged p-median rows."""
    r_e = rows.row_of_entry()
    m_e = len(r_e)
    start = rows.ptr[:-1]
    new = np.ones(m_e, bool)
    if m_e:
        new[1:] = (r_e[1:] != r_e[:-1]) | (rows.dist[1:] != rows.dist[:-1])
    g = np.cumsum(new) - 1
    lev = g - g[start[r_e]] if m_e else g
    n_lev = np.zeros(rows.n, np.int64)
    if m_e:
        n_lev = lev[rows.ptr[1:] - 1] + 1
    return Levels(r_e=r_e, lev=lev, n_lev=n_lev, new=new)


class PMedian(Model):
    """Choose ``p`` sites minimising total weighted walking minutes.

    Parameters
    ----------
    costs, weights, candidate_ids, p, cutoff, regions, quotas, fixed, excluded, capacity
        As for :class:`~siting.locate.MaximalCovering`.
    beyond
        What happens to demand farther than the cutoff from every chosen site:
        ``"penalty"`` counts it at ``penalty`` minutes; ``"exclude"`` leaves out demand no
        candidate reaches (reported as ``excluded_weight``) and requires every other
        demand point to be within the cutoff of a chosen site (infeasible otherwise).
        Dense matrices without missing entries never need either.
    penalty
        Minutes charged for demand beyond the cutoff (at least the largest entry).

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[0.0, 1.0, 5.0], [1.0, 0.0, 2.0], [5.0, 2.0, 0.0]])
    >>> r = PMedian(d, p=1).solve()
    >>> r.chosen, r.objective
    (['1'], 3.0)
    """

    name = "median"
    sense = 1
    merge_by_distance = True
    options: ClassVar[tuple[str, ...]] = ("p", "beyond", "penalty")
    #: Try the Lagrangian bound and reduced-cost fixing before the MILP (uncapacitated).
    lagrangian: bool = True
    #: Then the Lagrangian branch and bound (uncapacitated, without quotas).
    tree: bool = True

    def __init__(
        self,
        costs: Any,
        *,
        weights: npt.ArrayLike | None = None,
        candidate_ids: Sequence[Any] | None = None,
        p: int,
        beyond: Literal["penalty", "exclude"] = "penalty",
        penalty: float | None = None,
        **kw: Any,
    ) -> None:
        if beyond not in ("penalty", "exclude"):
            msg = f"`beyond` must be 'penalty' or 'exclude', got {beyond!r}"
            raise InputError(msg)
        self.beyond = beyond
        super().__init__(costs, weights=weights, candidate_ids=candidate_ids, p=p, **kw)
        rows = self.rows
        #: every demand row reaches every active candidate: no penalty needed
        self.complete = bool(np.all(np.diff(rows.ptr) == self.n_active)) and self.unreached_weight == 0
        maxd = float(rows.dist.max()) if len(rows.dist) else 0.0
        if beyond == "penalty" and not self.complete:
            if penalty is None:
                msg = (
                    "some demand lies beyond the cutoff of some candidates: give `penalty` "
                    "(minutes charged for it) or use beyond='exclude'"
                )
                raise InputError(msg)
            if not (math.isfinite(penalty) and penalty >= maxd):
                msg = f"`penalty` must be at least the largest cost ({maxd:g}), got {penalty}"
                raise InputError(msg)
        if beyond == "exclude":
            self.excluded_weight = self.unreached_weight
        self.penalty = float(penalty) if penalty is not None else math.nan

    @cached_property
    def levels(self) -> Levels:
        """The distance levels of the merged rows (computed once)."""
        return distance_levels(self.rows)

    def row_costs(self, mask: Mask) -> F64:
        """Per merged row, the distance to its nearest open site (the penalty beyond)."""
        rows = self.rows
        r_e = rows.row_of_entry()
        big = self.penalty if self.beyond == "penalty" else math.inf
        best = np.full(rows.n, big if not self.complete else math.inf)
        o = mask[rows.cand]
        np.minimum.at(best, r_e[o], rows.dist[o])
        return best

    def evaluate(self, mask: Mask) -> float:
        if self.cap is not None:
            val, status, _ = run_highs(
                median_capacity_lp(self, lp_only=True, fix=mask), None, 1e-9, None, None
            )
            return math.inf if status == "infeasible" else val
        best = self.row_costs(mask)
        val = float(np.dot(self.rows.weight, best)) if len(best) else 0.0
        if self.beyond == "penalty":
            val += self.unreached_weight * (0.0 if math.isnan(self.penalty) else self.penalty)
        return val

    def build(self, lp_only: bool = False) -> Lp:
        if self.cap is not None:
            return median_capacity_lp(self, lp_only=lp_only, fix=None)
        return radius_lp(self, lp_only)

    def greedy(self, swap: bool, deadline: float | None = None) -> Mask:
        rows = self.rows
        if self.beyond == "penalty" and not self.complete:
            big = self.penalty
        else:  # every row must be reached: so costly that any reach is worth it
            dmax = float(rows.dist.max()) if len(rows.dist) else 0.0
            big = (dmax + 1.0) * max(1.0, float(rows.weight.sum())) * 4.0
        return median_greedy(self, swap, big=big, reach_all=self.beyond == "exclude", deadline=deadline)

    def solve(
        self,
        time_limit: float | None = None,
        *,
        method: Literal["milp", "greedy"] = "milp",
        mip_rel_gap: float = 1e-9,
        threads: int | None = None,
    ) -> Result:
        """Solve; see :meth:`siting.locate.base.Model.solve`.

        Without capacity the MILP is solved by row generation on the radius formulation:
        each demand row starts with only the distance levels up to its distance in the
        greedy-plus-swap solution (a relaxation: farther levels are not charged), the
        relaxed MILP is solved, and rows whose nearest chosen site lies beyond their
        levels get more levels, until the relaxed optimum costs what it claims. The
        relaxed optimum is a lower bound throughout, so the reported bound stays honest
        when the time limit stops the loop.

        Before it (``lagrangian``): the Lagrangian bound with reduced-cost fixing
        (:mod:`~siting.locate._median_bound`), then, without quotas (``tree``), a
        Lagrangian branch and bound (:mod:`~siting.locate._median_tree`); the MILP runs
        only when neither proves the best set within its time.
        """
        if method != "milp" or self.cap is not None:
            return super().solve(time_limit, method=method, mip_rel_gap=mip_rel_gap, threads=threads)
        t0 = time.perf_counter()
        lv = self.levels

        def true_level(mask: Mask) -> I64:
            out = lv.n_lev.copy()
            o = mask[self.rows.cand]
            np.minimum.at(out, lv.r_e[o], lv.lev[o])
            return out

        try:
            best_mask: Mask | None = self.greedy(swap=True, deadline=swap_deadline(t0, time_limit))
        except SolverError:
            best_mask = None
        best_mask = self._warm_or(best_mask)
        cap: I64 | None = None
        best_obj = math.inf
        lag_bound = -math.inf
        if best_mask is not None and self.lagrangian:
            from ._median_bound import solve_by_fixing

            done = solve_by_fixing(self, best_mask, t0, time_limit, mip_rel_gap, threads)
            if isinstance(done, tuple):  # nothing fixed: a better start and a bound
                best_mask, lag_bound = done
            else:
                return done
        if best_mask is not None:
            best_obj = self.evaluate(best_mask)
            cap = np.minimum(true_level(best_mask) + CAP_MARGIN, lv.n_lev)
            cap = self._lp_levels(cap, time_limit, t0, threads)
        bound = -math.inf
        proven = False
        it = 0
        while True:
            it += 1
            remaining = None
            if time_limit is not None:
                remaining = time_limit - (time.perf_counter() - t0)
                if remaining <= 0:
                    break
            lp = radius_lp(self, False, cap)
            # the greedy-plus-swap start is strong: HiGHS's own heuristics rarely pay here
            b, st, x = run_highs(
                lp,
                remaining,
                mip_rel_gap,
                threads,
                best_mask,
                heuristic_effort=0.0 if best_mask is not None else None,
            )
            if st == "infeasible":
                raise self.infeasible()
            if math.isfinite(b):
                bound = max(bound, b)
            mask = None
            if x is not None:
                mask = x[: self.n_active] > 0.5
                obj = self.evaluate(mask)
                if obj < best_obj:
                    best_obj, best_mask = obj, mask
            tol = max(1e-6, mip_rel_gap * abs(best_obj)) if math.isfinite(best_obj) else 0.0
            if best_obj - bound <= tol:
                proven = st == "optimal" or best_obj - bound <= 1e-9
                break
            if st != "optimal" or mask is None:
                break
            tl = true_level(mask)
            viol = tl > cap if cap is not None else np.zeros(len(tl), bool)
            log.info(
                "p-median row generation %d: bound %.6g, best %.6g, %d rows extended",
                it,
                bound,
                best_obj,
                int(viol.sum()),
            )
            if not viol.any():  # pragma: no cover - then best_obj == bound above
                proven = True
                break
            assert cap is not None
            cap = np.where(viol, np.maximum(tl, cap + CAP_MARGIN), cap)
        if best_mask is None:
            msg = "HiGHS found no p-median solution within the time limit"
            raise SolverError(msg)
        bound = min(max(bound, lag_bound), best_obj)
        if not proven and best_obj - bound <= max(1e-6, mip_rel_gap * abs(best_obj)):
            proven = True
        status = "optimal" if proven else "time-limit-feasible"
        return self.result(best_mask, best_obj, bound, time.perf_counter() - t0, status, "milp")

    def _lp_levels(self, cap: I64, time_limit: float | None, t0: float, threads: int | None) -> I64:
        """Extend the rows' levels until the relaxed LP optimum is the full LP optimum.

        A row whose last "beyond" variable is positive in the LP would keep paying past
        its cap in the full model; it gets the levels up to where the open fractions at
        its next distances use that remainder up.
        """
        rows = self.rows
        r_e, lev, n_lev = self.levels.r_e, self.levels.lev, self.levels.n_lev
        for _ in range(100):
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
            lp = radius_lp(self, True, cap)
            _, st, x = run_highs(lp, None, 1e-9, threads, None)
            if st != "optimal" or x is None:
                break
            y = x[: self.n_active]
            z_n = np.asarray(lp.meta["z_n"])
            z_off = np.asarray(lp.meta["z_off"])
            relaxed = np.asarray(lp.meta["relaxed"])
            # remainder each relaxed row carries past its cap
            last = z_off[:-1] + z_n - 1
            xz = x[self.n_active :]
            v = np.ones(rows.n)
            if len(xz):
                v = np.where(z_n > 0, xz[np.clip(last, 0, len(xz) - 1)], 1.0)
            v = np.where(relaxed, v, 0.0)
            need = v > 1e-7
            if not need.any():
                break
            # cumulative open fraction from the cap onwards, along each row's sorted entries
            tail = need[r_e] & (lev >= cap[r_e])
            yt = np.where(tail, y[rows.cand], 0.0)
            cum = np.cumsum(yt)
            cum_before_row = np.concatenate([[0.0], cum])[rows.ptr[:-1]]
            within = cum - cum_before_row[r_e]
            hit = tail & (within >= v[r_e] - 1e-7)
            big = np.iinfo(np.int64).max
            first = np.full(rows.n, big)
            np.minimum.at(first, r_e[hit], lev[hit])
            new_cap = np.where(first < big, first + 1, n_lev)
            new_cap = np.where(need, np.maximum(new_cap, cap + 1), cap)
            log.info("p-median LP levels: %d rows extended", int(need.sum()))
            cap = new_cap
        return cap


def radius_lp(model: PMedian, lp_only: bool, cap_level: I64 | None = None) -> Lp:
    """The compact radius formulation (see the module docstring).

    ``cap_level`` (per row) relaxes the model: row r pays at most its level-``cap`` distance
    (levels above are dropped), so the optimum is a lower bound; exact when no row's
    nearest open site lies above its cap.
    """
    rows = model.rows
    n = model.n_active
    p = model.p
    assert p is not None
    lv = model.levels
    r_e, lev, n_lev, new = lv.r_e, lv.lev, lv.n_lev, lv.new
    m_e = len(r_e)
    lens = np.diff(rows.ptr)
    pos = np.arange(m_e) - rows.ptr[:-1][r_e]  # position within row (sorted by distance)
    # truncation: first level where >= n-p+1 candidates lie within it, or a fixed site
    last_of_level = np.ones(m_e, bool)
    if m_e:
        last_of_level[:-1] = new[1:]
    cum_ok = ((pos + 1) >= n - p + 1) & last_of_level
    flag = cum_ok | model.fixed[rows.cand]
    big = np.iinfo(np.int64).max
    first_flag = np.full(rows.n, big)
    if m_e:
        np.minimum.at(first_flag, r_e, np.where(flag, lev, big))
    truncated = first_flag < big
    t = np.where(truncated, first_flag, n_lev)
    has_pen = model.beyond == "penalty" and not model.complete
    incomplete = lens < n if model.beyond == "penalty" else np.zeros(rows.n, bool)
    # number of "beyond" variables per row
    z_n = np.where(truncated, t, np.where(incomplete & has_pen, n_lev, n_lev - 1))
    z_n = np.maximum(z_n, 0)
    # constraint rows per row: levels 0..min(t, L-1), none when t == 0
    c_n = np.where(t == 0, 0, np.minimum(t, n_lev - 1) + 1)
    relaxed = np.zeros(rows.n, bool)
    if cap_level is not None:
        relaxed = cap_level < z_n
        z_n = np.where(relaxed, cap_level, z_n)
        c_n = np.where(relaxed, cap_level, c_n)
    z_off = np.concatenate([[0], np.cumsum(z_n)])
    c_off = np.concatenate([[0], np.cumsum(c_n)])
    n_z = int(z_off[-1])
    n_rows = int(c_off[-1])
    # level values
    lvals = rows.dist[new]
    l_off = np.concatenate([[0], np.cumsum(n_lev)])
    # z costs: w_r (D[k+1] - D[k]) with D[L] = penalty
    zr = np.repeat(np.arange(rows.n), z_n)
    zk = np.arange(n_z) - z_off[zr]
    d_k = lvals[l_off[zr] + zk]
    nxt = l_off[zr] + zk + 1
    d_next = np.where(
        zk + 1 < n_lev[zr],
        lvals[np.minimum(nxt, len(lvals) - 1)] if len(lvals) else 0.0,
        model.penalty if has_pen else 0.0,
    )
    z_cost = rows.weight[zr] * (d_next - d_k)
    first_level = lvals[l_off[:-1][n_lev > 0]] if len(lvals) else np.zeros(0)
    offset = float(np.dot(rows.weight[n_lev > 0], first_level))
    if model.beyond == "penalty" and model.unreached_weight > 0:
        offset += model.unreached_weight * model.penalty
    # matrix entries
    ri, ci, vals, lo, hi = model.site_rows()
    base = len(lo)
    keep = (lev < c_n[r_e]) & (c_n[r_e] > 0)
    ri.append(base + c_off[r_e[keep]] + lev[keep])
    ci.append(rows.cand[keep])
    vals.append(np.ones(int(keep.sum())))
    # +z_{r,k} in constraint row k (k < z_n, k < c_n)
    zin = zk < c_n[zr]
    ri.append(base + c_off[zr[zin]] + zk[zin])
    ci.append(n + np.arange(n_z)[zin])
    vals.append(np.ones(int(zin.sum())))
    # -z_{r,k-1} in constraint row k (1 <= k < c_n)
    zprev = zk + 1 < c_n[zr]
    ri.append(base + c_off[zr[zprev]] + zk[zprev] + 1)
    ci.append(n + np.arange(n_z)[zprev])
    vals.append(-np.ones(int(zprev.sum())))
    cr = np.repeat(np.arange(rows.n), c_n)
    ck = np.arange(n_rows) - c_off[cr]
    row_lo_c = np.where(ck == 0, 1.0, 0.0)
    cost = np.concatenate([np.zeros(n), z_cost])
    col_lo = np.concatenate([model.fixed.astype(np.float64), np.zeros(n_z)])
    col_hi = np.concatenate([np.ones(n), np.ones(n_z)])
    log.info("p-median radius formulation: %d rows, %d beyond-variables", n_rows, n_z)
    out = make_lp(
        1,
        offset,
        cost,
        col_lo,
        col_hi,
        n,
        ri,
        ci,
        vals,
        [np.asarray(lo), row_lo_c],
        [np.asarray(hi), np.full(n_rows, math.inf)],
        lp_only,
    )
    out.meta = {"z_n": z_n, "z_off": z_off, "relaxed": relaxed}
    return out


def median_capacity_lp(model: PMedian, lp_only: bool, fix: Mask | None) -> Lp:
    """Capacitated p-median: assignment fractions per pair plus an unserved fraction.

    With ``fix`` the open set is fixed and the LP gives that set's exact cost.
    """
    rows = model.rows
    n = model.n_active
    assert model.cap is not None
    r_e = rows.row_of_entry()
    c_e = rows.cand
    m = len(r_e)
    wr = rows.weight[r_e]
    pen = model.penalty if model.beyond == "penalty" and not math.isnan(model.penalty) else 0.0
    u_hi = np.ones(rows.n) if model.beyond == "penalty" else np.zeros(rows.n)
    if fix is None:
        ri, ci, vals, lo, hi = model.site_rows()
        y_lo = model.fixed.astype(np.float64)
        y_hi = np.ones(n)
    else:
        ri, ci, vals, lo, hi = [], [], [], [], []
        y_lo = fix.astype(np.float64)
        y_hi = fix.astype(np.float64)
    base = len(lo)
    # sum_j f_rj + u_r = 1
    ri += [base + r_e, base + np.arange(rows.n)]
    ci += [n + np.arange(m), n + m + np.arange(rows.n)]
    vals += [np.ones(m), np.ones(rows.n)]
    capacity_rows(ri, ci, vals, base + rows.n, model.cap, c_e, wr)
    lo_a = [np.asarray(lo), np.ones(rows.n), np.full(n + m, -math.inf)]
    hi_a = [np.asarray(hi), np.ones(rows.n), np.zeros(n + m)]
    cost = np.concatenate([np.zeros(n), wr * rows.dist, rows.weight * pen])
    col_lo = np.concatenate([y_lo, np.zeros(m + rows.n)])
    col_hi = np.concatenate([y_hi, np.ones(m), u_hi])
    offset = model.unreached_weight * pen if model.beyond == "penalty" else 0.0
    return make_lp(1, offset, cost, col_lo, col_hi, n, ri, ci, vals, lo_a, hi_a, lp_only)
