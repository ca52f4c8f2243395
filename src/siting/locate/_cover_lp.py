"""Maximal covering at county size: a bound by column generation, a better start, and
reduced-cost fixing down to a MILP HiGHS can prove.

At 5,000 candidates x 97,000 distinct demand rows HiGHS cannot solve the root LP of the
whole model in minutes, and a subgradient on the Lagrangian of the covering rows stalls
far from the LP bound (6.4% above the best set found on the county case, where the LP
bound turns out to be integral). Here the Lagrangian multipliers come from the LP of a
small restricted model instead:

1. the LP over a few hundred candidates (demand rows merged by the candidates of the
   restriction that cover them) is solved by HiGHS; its row duals, spread over the
   original rows in proportion to their weight (weight ``w`` on rows the restriction
   does not cover), are multipliers ``lam`` of the whole model;
2. the Lagrangian ``L(lam) = sum_r (w_r - lam_r) + the p best sums of lam over a
   candidate's rows`` is evaluated on the **whole** model: a valid upper bound for any
   ``0 <= lam <= w``, however ``lam`` was found (quotas relaxed);
3. candidates whose sum of ``lam`` beats the p-th best are added to the restriction, and
   the LP is solved again, until none does (then ``L`` equals the LP bound) or time runs
   out.

The restricted model of the last round gives a start (its exact MILP). When the bound
and the start still differ, reduced-cost fixing leaves out every candidate ``j`` with
``L(lam | open j) <= the start's coverage``: no set containing it covers more. What is
left is solved exactly; its optimum is the optimum of the whole model, and with a time
limit the reported bound is the larger of its bound and the best ``L(lam | open j)`` of
the candidates left out.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING

import numpy as np
from scipy import sparse

from .._errors import SolverError
from ._common import F64, Mask, bincount
from ._highs import lp_duals, make_lp

if TYPE_CHECKING:
    from .coverage import MaximalCovering

log = logging.getLogger(__name__)

#: Candidates of the first restricted LP beyond the start (the best covering alone).
FIRST_COLUMNS = 100
#: Candidates added to the restriction per round at most (those whose sum of lam is largest).
ADDED_COLUMNS = 200
#: The most merged rows a restricted MILP may have (beyond it HiGHS needs minutes).
MAX_MILP_ROWS = 20_000


class Dual:
    """The Lagrangian of the covering rows of a model, evaluated on all its rows."""

    def __init__(self, model: MaximalCovering) -> None:
        from ._kernels import sort_by_row

        rows = model.rows
        self.model = model
        self.r_e = rows.row_of_entry()
        order, self.c_ptr = sort_by_row(rows.cand, model.n_active)
        self.c_rows = self.r_e[order]
        self.col_ok = ~model.dominated()
        self.s: F64 = np.empty(model.n_active)
        self.chosen = np.empty(max(int(model.p or 1), 1), np.int64)

    def value(self, lam: F64) -> float:
        """``L(lam)``; leaves each candidate's sum of ``lam`` in ``self.s`` and the p best
        (fixed sites first) in ``self.chosen[: self.m]``."""
        from ._kernels import _cover_dual

        m = self.model
        val, self.m = _cover_dual(
            self.c_ptr, self.c_rows, m.rows.weight, lam, self.col_ok, m.fixed, int(m.p), self.s, self.chosen
        )
        return float(val)

    def pth(self) -> float:
        """The least sum of ``lam`` among the free candidates ``L`` chose (``inf``: none)."""
        free = [int(j) for j in self.chosen[: self.m] if not self.model.fixed[j]]
        return float(self.s[free].min()) if free else math.inf

    def forced_bounds(self, bound: float) -> F64:
        """Per candidate, ``L(lam | open j)`` for the ``lam`` of the last :meth:`value`
        (``bound``): a bound on every set that opens ``j``; ``-inf`` for candidates no set
        may open (dominated ones are left out of the model; with every site fixed, all)."""
        t = self.pth()
        out = np.where(self.col_ok, bound - t + self.s, -math.inf)
        out[self.chosen[: self.m]] = bound
        return out


def _restricted_lp(
    model: MaximalCovering, dual: Dual, cols: Mask, seconds: float | None
) -> tuple[float, F64] | None:
    """The LP of the model restricted to ``cols`` (solved within ``seconds``); its
    multipliers spread over all rows."""
    from ._kernels import row_hashes

    rows = model.rows
    w = rows.weight
    e = cols[rows.cand]
    cnt = bincount(dual.r_e[e], minlength=rows.n)
    ptr = np.concatenate([[0], np.cumsum(cnt)]).astype(np.int64)
    cand = rows.cand[e]
    h1, h2 = row_hashes(ptr, cand, np.zeros(len(cand), np.uint64), False, 0x5EED)
    covered = np.flatnonzero(cnt > 0)
    key = np.empty(len(covered), dtype=[("a", np.uint64), ("b", np.uint64)])
    key["a"], key["b"] = h1[covered], h2[covered]
    # a hash collision would only merge two rows of this LP: the bound below stays valid
    _, first, inv = np.unique(key, return_index=True, return_inverse=True)
    inv = inv.reshape(-1)
    n_r = len(first)
    big_w = bincount(inv, weights=w[covered], minlength=n_r)
    rep = covered[first]
    lens = cnt[rep]
    starts = np.concatenate([[0], np.cumsum(lens)[:-1]]).astype(np.int64)
    idx = np.repeat(ptr[rep] - starts, lens) + np.arange(int(lens.sum()), dtype=np.int64)
    k = np.flatnonzero(cols)
    pos = np.full(model.n_active, -1, np.int64)
    pos[k] = np.arange(len(k))
    nk = len(k)
    # columns: open_k (k in cols), covered_R; rows: sum open = p, covered_R - sum open <= 0
    ri = [np.zeros(nk, np.int64), 1 + np.arange(n_r), 1 + np.repeat(np.arange(n_r), lens)]
    ci = [np.arange(nk, dtype=np.int64), nk + np.arange(n_r), pos[cand[idx]]]
    vals = [np.ones(nk), np.ones(n_r), -np.ones(len(idx))]
    lo = np.concatenate([model.fixed[k].astype(np.float64), np.zeros(n_r)])
    hi = np.concatenate([dual.col_ok[k].astype(np.float64), np.ones(n_r)])
    lp = make_lp(
        -1, 0.0, np.concatenate([np.zeros(nk), big_w]), lo, hi, 0, ri, ci, vals,
        [np.array([float(model.p)]), np.full(n_r, -math.inf)],
        [np.array([float(model.p)]), np.zeros(n_r)], True,
    )  # fmt: skip
    got = lp_duals(lp, seconds)
    if got is None:
        return None
    value, row_dual = got
    lam_r = np.clip(np.abs(row_dual[1:]), 0.0, big_w)
    share = np.divide(lam_r, big_w, out=np.zeros(n_r), where=big_w > 0)
    lam = w.copy()  # rows the restriction does not cover: lam = w
    lam[covered] = share[inv] * w[covered]
    return value, lam


def column_bound(
    model: MaximalCovering,
    start: Mask,
    objective: float,
    rounds_end: float,
    deadline: float,
    rel_gap: float,
    cols0: Mask | None,
) -> tuple[float, F64, Mask, Dual]:
    """The least ``L(lam)`` over the rounds of column generation (no round starts after
    ``rounds_end``, no LP runs past ``deadline``: ``time.perf_counter()`` values); its
    ``lam``; the last restriction (columns); the :class:`Dual`, evaluated at that ``lam``."""
    dual = Dual(model)
    n = model.n_active
    single = bincount(model.rows.cand, weights=model.rows.weight[dual.r_e], minlength=n)
    cols = start | model.fixed
    free = np.flatnonzero(dual.col_ok & ~cols)
    cols[free[np.argsort(-single[free], kind="stable")[:FIRST_COLUMNS]]] = True
    if cols0 is not None and len(cols0) == n:
        cols |= cols0
    best, best_lam = math.inf, model.rows.weight.copy()
    rounds = 0
    while True:
        rounds += 1
        left = None if math.isinf(deadline) else deadline - time.perf_counter()
        got = _restricted_lp(model, dual, cols, left)
        if got is None:
            break
        val = dual.value(got[1])
        if val < best:
            best, best_lam = val, got[1]
        t = dual.pth()
        add = np.flatnonzero(dual.col_ok & ~cols & (dual.s > t + 1e-9 * max(1.0, abs(t))))
        log.info(
            "coverage bound: round %d, %d candidates, LP %.6g, bound %.6g, %d candidates to add",
            rounds, int(cols.sum()), got[0], val, len(add),
        )  # fmt: skip
        if best - objective <= rel_gap * max(abs(objective), 1e-12) or len(add) == 0:
            break
        if time.perf_counter() > rounds_end:
            break
        cols[add[np.argsort(-dual.s[add], kind="stable")[:ADDED_COLUMNS]]] = True
    best = min(best, dual.value(best_lam))  # (lam = w when no LP was solved: still a bound)
    return best, best_lam, cols, dual


def restricted_solve(
    model: MaximalCovering, keep: Mask, start: Mask, seconds: float | None, rel_gap: float
) -> tuple[Mask, float, bool] | None:
    """The model restricted to the candidates ``keep`` (a superset of the fixed sites and of
    ``start``) solved by its MILP: (open set, bound of the restricted model, proven). ``None``
    when it is too large for HiGHS or has no feasible set (quotas)."""
    from .._errors import InfeasibleError
    from .coverage import MaximalCovering

    rows = model.rows
    k = np.flatnonzero(keep)
    pos = np.full(model.n_active, -1, np.int64)
    pos[k] = np.arange(len(k))
    e = keep[rows.cand]
    costs = sparse.csr_matrix(
        (np.ones(int(e.sum())), (pos[rows.cand[e]], rows.row_of_entry()[e])), shape=(len(k), rows.n)
    )
    ids = [str(j) for j in k]
    try:
        sub = MaximalCovering(
            costs, weights=rows.weight, candidate_ids=ids, p=int(model.p), cutoff=1.0,
            regions=list(model.region[k]), fixed=[ids[i] for i in np.flatnonzero(model.fixed[k])],
            quotas=model.quotas,
        )  # fmt: skip
        sub.restricted = True
        if sub.rows.n >= MAX_MILP_ROWS:
            log.info("coverage: the restricted model has %d rows: no MILP", sub.rows.n)
            return None
        sub.warm_start([ids[i] for i in np.flatnonzero(start[k])])
        r = sub.solve(seconds, mip_rel_gap=rel_gap)
    except (InfeasibleError, SolverError):
        return None
    mask = np.zeros(model.n_active, bool)
    mask[[int(c) for c in r.chosen]] = True
    return mask, r.bound, r.status == "optimal"


def refine(
    model: MaximalCovering, start: Mask, seconds: float | None, rel_gap: float
) -> tuple[Mask, float]:
    """A set at least as good as ``start`` and a valid upper bound on the optimum, in about
    ``seconds`` (``None``: until proven). The bound equals the set's coverage (within
    ``rel_gap``) when the restricted MILP proves it."""
    t0 = time.perf_counter()
    deadline = math.inf if seconds is None else t0 + seconds

    def left() -> float | None:
        return None if seconds is None else max(0.0, deadline - time.perf_counter())

    obj = model.evaluate(start)

    def close(bound: float) -> bool:
        return bound - obj <= rel_gap * max(abs(obj), 1e-12)

    # the column generation may use half of the time; the restricted MILPs get the rest
    cg_end = t0 + (0.5 * seconds if seconds is not None else 60.0)
    bound, _, cols, dual = column_bound(model, start, obj, cg_end, deadline, rel_gap, model._cols)
    model._cols = cols
    if close(bound):
        return start, bound
    # the restriction's MILP for a better start, in at most half of the time left
    half = left()
    half = None if half is None else half / 2
    got = restricted_solve(model, cols | start | model.fixed, start, half, rel_gap)
    if got is not None and model.evaluate(got[0]) > obj:
        start, obj = got[0], model.evaluate(got[0])
        if close(bound):
            return start, bound
    # reduced-cost fixing: no set opening a candidate left out covers more than `obj`
    forced = dual.forced_bounds(bound)
    keep = (forced > obj) | start | model.fixed
    out = float(forced[~keep].max(initial=-math.inf))
    log.info("coverage: reduced-cost fixing keeps %d of %d candidates", int(keep.sum()), model.n_active)
    if seconds is not None and left() == 0.0:
        return start, bound
    got = restricted_solve(model, keep, start, left(), rel_gap)
    if got is None:
        return start, bound
    mask, sub_bound, _ = got
    if model.evaluate(mask) >= obj:
        start, obj = mask, model.evaluate(mask)
    # every set within `keep` covers at most sub_bound; every other set at most `out`
    return start, min(bound, max(sub_bound, out, obj))
