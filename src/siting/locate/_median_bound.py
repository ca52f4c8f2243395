"""Lagrangian relaxation of the p-median: a lower bound, good open sets, and the
candidates it proves an optimum can do without.

Relaxing "each demand row is served once" (``sum_j x_rj + u_r = 1``) with a multiplier
``lam_r`` per row leaves, for any ``lam``,

    L(lam) = sum_r lam_r + sum_r min(0, b_r - lam_r) + min over open sets of sum_j rho_j,
    rho_j  = sum over the rows j reaches of min(0, c_rj - lam_r),

a lower bound on the p-median (``c_rj = w_r d_rj``; ``b_r`` is the row's cost beyond every
open site: ``w_r`` times the penalty, or infinite when a row must be reached or reaches
every candidate). The open set minimising ``sum rho`` honours ``p``, fixed sites and
regional quotas (regions are disjoint, so taking the cheapest within each lower quota and
then the cheapest overall within upper quotas is optimal). Subgradient steps (Beasley
1993) raise the bound; each step's open set is a feasible choice too, so the best one seen
is kept.

Reduced-cost fixing: forcing candidate ``j`` open (closed) changes the inner minimum by a
known amount, so ``L`` with ``j`` forced is at hand. When it exceeds the best cost found,
no set opening (closing) ``j`` can beat that cost: ``j`` may stay closed (must be open) in
the search for an optimum. At county and OR-Library sizes this leaves a few dozen of
hundreds of candidates, and the exact MILP on those is small. The smallest such forced
bound is kept, so the bound reported for the whole model stays honest.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import SolverError
from .._jit import njit

if TYPE_CHECKING:
    from ._common import F64, Mask

log = logging.getLogger(__name__)

#: Halve the subgradient step after this many steps without a better bound (Beasley 1993).
STALL = 30
#: Seconds the fixing may take before the MILP without a time limit, and its share of
#: the time left with one.
FIXING_SECONDS = 30.0
FIXING_SHARE = 0.3
#: Seconds the branch and bound may take before the MILP without a time limit, and its
#: share of the time left with one.
TREE_SECONDS = 60.0
TREE_SHARE = 0.6
#: Nodes the branch and bound may take before the MILP (pmed36 takes about 1,100; where
#: the tree fails to find the optimum its bound is already near, HiGHS does better).
TREE_NODES = 10_000


@njit(cache=True)
def lagrangian(ptr, cand, cost, beyond, lam, ok, rho):  # type: ignore[no-untyped-def]
    """``sum_r lam_r + min(0, b_r - lam_r)``, and ``rho`` per candidate (``ok`` ones only).

    Entries are sorted by cost within rows, so a row's scan stops at the first entry
    costing at least its multiplier."""
    rho[:] = 0.0
    val = 0.0
    for r in range(ptr.size - 1):
        lr = lam[r]
        val += lr
        if beyond[r] < lr:
            val += beyond[r] - lr
        for k in range(ptr[r], ptr[r + 1]):
            c = cost[k] - lr
            if c >= 0.0:
                break
            j = cand[k]
            if ok[j]:
                rho[j] += c
    return val


@njit(cache=True)
def subgradient(ptr, cand, cost, beyond, lam, is_open, g):  # type: ignore[no-untyped-def]
    """The subgradient ``g_r = 1 - (open sites cheaper than lam_r) - [b_r < lam_r]`` and its
    squared norm."""
    norm = 0.0
    for r in range(ptr.size - 1):
        lr = lam[r]
        s = 1.0
        if beyond[r] < lr:
            s -= 1.0
        for k in range(ptr[r], ptr[r + 1]):
            if cost[k] >= lr:
                break
            if is_open[cand[k]]:
                s -= 1.0
        g[r] = s
        norm += s * s
    return norm


@njit(cache=True)
def set_cost(ptr, cand, cost, beyond, is_open):  # type: ignore[no-untyped-def]
    """The exact cost of an open set: each row at its nearest open site, or beyond."""
    tot = 0.0
    for r in range(ptr.size - 1):
        best = beyond[r]
        for k in range(ptr[r], ptr[r + 1]):
            if is_open[cand[k]]:
                if cost[k] < best:
                    best = cost[k]
                break
        tot += best
    return tot


@dataclass
class Fixing:
    """What the Lagrangian proved (see the module docstring)."""

    bound: float  # a lower bound on the optimum of the whole model
    mask: Mask  # the best open set seen
    objective: float  # its cost
    closed: Mask  # an optimum exists that leaves these closed
    opened: Mask  # every set cheaper than ``objective`` opens these
    forced_bound: float  # least L with a closed candidate opened or an opened one closed
    steps: int
    lam: F64  # the multipliers of the best bound


class _Inner:
    """The inner minimum: the cheapest open set for ``rho`` under p, fixed sites and quotas."""

    def __init__(self, model: Any) -> None:
        self.p = int(model.p)
        self.region = model.region
        self.lo, self.hi = model.quota_limits()
        self.quota = bool(self.lo or self.hi)
        self.n = model.n_active

    def choose(self, rho: F64, fixed: Mask, ok: Mask) -> Mask | None:
        """The open set (``None``: no feasible set)."""
        mask = fixed.copy()
        free = ok & ~fixed
        need = self.p - int(mask.sum())
        if need < 0:
            return None
        if not self.quota:
            idx = np.flatnonzero(free)
            if len(idx) < need:
                return None
            take = idx[np.argsort(rho[idx], kind="stable")[:need]]
            mask[take] = True
            return mask
        return self._with_quotas(rho, mask, free)

    def _with_quotas(self, rho: F64, mask: Mask, free: Mask) -> Mask | None:
        order = np.flatnonzero(free)
        order = order[np.argsort(rho[order], kind="stable")]
        count: dict[Any, int] = {}
        for j in np.flatnonzero(mask):
            count[self.region[j]] = count.get(self.region[j], 0) + 1
        for name, k in self.hi.items():
            if count.get(name, 0) > k:
                return None
        for name, k in self.lo.items():
            for j in order:
                if count.get(name, 0) >= k:
                    break
                if not mask[j] and self.region[j] == name:
                    mask[j] = True
                    count[name] = count.get(name, 0) + 1
            if count.get(name, 0) < k:
                return None
        for j in order:
            if mask.sum() >= self.p:
                break
            r = self.region[j]
            if mask[j] or (r in self.hi and count.get(r, 0) + 1 > self.hi[r]):
                continue
            mask[j] = True
            count[r] = count.get(r, 0) + 1
        return mask if mask.sum() == self.p else None

    def forced(self, rho: F64, fixed: Mask, ok: Mask, y: Mask, inner: float) -> tuple[F64, F64]:
        """Per candidate, the inner minimum with it forced open and forced closed
        (``inf`` when no feasible set allows it); ``y`` is the unforced minimiser."""
        n = self.n
        f_open = np.full(n, math.inf)
        f_closed = np.full(n, math.inf)
        f_open[y] = inner
        f_closed[~y & ~fixed] = inner
        if not self.quota:
            free_in = y & ~fixed
            free_out = ok & ~y & ~fixed
            if free_in.any():  # opening an outside candidate replaces the dearest inside one
                worst = float(rho[free_in].max())
                f_open[free_out] = inner - worst + rho[free_out]
            if free_out.any():  # closing an inside one takes the cheapest outside one
                f_closed[free_in] = inner - rho[free_in] + float(rho[free_out].min())
            return f_open, f_closed
        for j in np.flatnonzero(ok & ~y & ~fixed):
            fx = fixed.copy()
            fx[j] = True
            m = self.choose(rho, fx, ok)
            if m is not None:
                f_open[j] = float(rho[m].sum())
        for j in np.flatnonzero(y & ~fixed):
            ok2 = ok.copy()
            ok2[j] = False
            m = self.choose(rho, fixed, ok2)
            if m is not None:
                f_closed[j] = float(rho[m].sum())
        return f_open, f_closed


def lagrangian_fixing(
    model: Any,
    beyond_cost: F64,
    start: Mask,
    *,
    seconds: float,
    max_steps: int = 5000,
    rel_tol: float = 1e-9,
) -> Fixing:
    """Subgradient optimisation of ``L(lam)`` from ``start`` with reduced-cost fixing.

    ``model`` is an uncapacitated :class:`~siting.locate.PMedian` (rows sorted by distance
    within each row); ``beyond_cost`` the cost of each row beyond every open site (``inf``
    where there is no such option). Stops when the bound meets the best set within
    ``rel_tol``, the step vanishes, after ``max_steps`` or ``seconds``.
    """
    rows = model.rows
    n = model.n_active
    ptr, cand = rows.ptr, rows.cand
    r_e = rows.row_of_entry()
    cost = rows.weight[r_e] * rows.dist
    inner = _Inner(model)
    fixed = model.fixed.copy()
    ok = np.ones(n, bool)
    best_mask = start.copy()
    ub = float(set_cost(ptr, cand, cost, beyond_cost, start))
    # start: every row's multiplier at its cost in the start set
    lam = np.minimum(beyond_cost, _row_costs(ptr, cand, cost, beyond_cost, start))
    lam = np.where(np.isfinite(lam), lam, 0.0)
    rho = np.zeros(n)
    g = np.zeros(rows.n)
    best_l = -math.inf
    best_lam = lam.copy()
    forced_bound = math.inf
    theta, stall = 2.0, 0
    t0 = time.perf_counter()
    steps = 0

    def tol() -> float:
        return rel_tol * max(1.0, abs(ub))

    while steps < max_steps and time.perf_counter() - t0 < seconds:
        steps += 1
        base = float(lagrangian(ptr, cand, cost, beyond_cost, lam, ok, rho))
        y = inner.choose(rho, fixed, ok)
        if y is None:  # no feasible set left below the incumbent: it is optimal
            best_l = max(best_l, ub)
            break
        if not (ok & ~fixed).any() or int(fixed.sum()) == inner.p:
            # one open set is left (the fixed one): its cost is the restricted optimum
            c = float(set_cost(ptr, cand, cost, beyond_cost, fixed))
            if c < ub:
                ub, best_mask = c, fixed.copy()
            best_l = max(best_l, c)
            break
        val_in = float(rho[y].sum())
        lval = base + val_in
        if not math.isfinite(best_l) or lval > best_l + 1e-12 * max(1.0, abs(best_l)):
            best_l, stall = lval, 0
            best_lam = lam.copy()
        else:
            stall += 1
            if stall >= STALL:
                theta, stall = theta / 2, 0
        c = float(set_cost(ptr, cand, cost, beyond_cost, y))
        if c < ub:
            ub, best_mask = c, y.copy()
        if best_l >= ub - tol():
            break
        # reduced-cost fixing: without quotas every step (cheap), with quotas every 50
        if not inner.quota or steps % 50 == 1:
            f_open, f_closed = inner.forced(rho, fixed, ok, y, val_in)
            cut = ub + tol()
            close = ok & ~fixed & (base + f_open > cut) & ~best_mask
            must = ok & ~fixed & (base + f_closed > cut)
            if close.any() or must.any():
                forced_bound = min(
                    forced_bound,
                    float((base + f_open)[close].min()) if close.any() else math.inf,
                    float((base + f_closed)[must].min()) if must.any() else math.inf,
                )
                ok &= ~close
                fixed |= must
                stall = 0
                continue  # the restricted problem: recompute before stepping
        if theta < 1e-5:
            break
        norm = float(subgradient(ptr, cand, cost, beyond_cost, lam, y, g))
        if norm <= 0.0:
            best_l = max(best_l, lval)
            break
        t = theta * (ub - lval) / norm
        lam = np.maximum(0.0, lam + t * g)
    bound = min(best_l, forced_bound, ub)
    return Fixing(
        bound=bound,
        mask=best_mask,
        objective=ub,
        closed=~ok,
        opened=fixed & ~model.fixed,
        forced_bound=forced_bound,
        steps=steps,
        lam=best_lam,
    )


def _row_costs(ptr: Any, cand: Any, cost: F64, beyond: F64, is_open: Mask) -> F64:
    out = beyond.copy()
    o = is_open[cand]
    r_e = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr))
    np.minimum.at(out, r_e[o], cost[o])
    return out


def beyond_costs(model: Any) -> F64:
    """Per merged row, its cost beyond every open site: weight times the penalty, or
    ``inf`` where the row must be reached (``beyond='exclude'``, or no penalty given)."""
    rows = model.rows
    if model.beyond == "penalty" and not math.isnan(model.penalty):
        return rows.weight * model.penalty
    return np.full(rows.n, math.inf)


def restricted(model: Any, fx: Fixing) -> Any:
    """The model on the candidates ``fx`` left free: ``fx.closed`` excluded, ``fx.opened``
    fixed open. Its candidates are named by their index in ``model`` (as strings), its
    demand columns are ``model``'s merged rows; every open set it allows costs there what
    it costs in ``model``, less the weight no candidate reaches (``model``'s offset)."""
    from scipy import sparse

    rows = model.rows
    n = model.n_active
    ids = [str(j) for j in range(n)]
    mat = sparse.coo_matrix((rows.dist, (rows.cand, rows.row_of_entry())), shape=(n, rows.n))
    from .median import PMedian

    return PMedian(
        mat.tocsr(),
        weights=rows.weight,
        candidate_ids=ids,
        p=int(model.p),
        beyond=model.beyond,
        penalty=None if math.isnan(model.penalty) else model.penalty,
        regions=list(model.region),
        quotas=dict(model.quotas),
        fixed=[ids[j] for j in np.flatnonzero(model.fixed | fx.opened)],
        excluded=[ids[j] for j in np.flatnonzero(fx.closed)],
    )


def _branch(
    model: Any, fx: Fixing, t0: float, time_limit: float | None, tol: float, offset: float, bound: float
) -> tuple[Fixing, float]:
    """The Lagrangian branch and bound (:mod:`siting.locate._median_tree`) from the root's
    multipliers and fixings, for ``TREE_NODES`` nodes and ``TREE_SECONDS`` or its share of
    the time left: ``fx``
    with the best set found, and the bound (with ``offset``) it proves."""
    from ._median_tree import tree_search

    seconds = TREE_SECONDS
    if time_limit is not None:
        seconds = TREE_SHARE * max(0.0, time_limit - (time.perf_counter() - t0))
    tr = tree_search(
        model,
        beyond_costs(model),
        fx.mask,
        lam=fx.lam,
        closed=fx.closed,
        opened=fx.opened,
        deadline=time.perf_counter() + seconds,
        max_nodes=TREE_NODES,
        tol=0.5 * tol,  # half: the proof must stay within tol through rounding
    )
    obj = model.evaluate(tr.mask)
    # the tree searched the sets the root's fixing left; the others cost fx.forced_bound or more
    proven = tr.bound
    bound = min(max(bound, min(proven, fx.forced_bound) + offset), obj)
    log.info(
        "p-median branch and bound: %d nodes, best %.6g, bound %.6g%s",
        tr.nodes,
        obj,
        bound,
        "" if tr.finished else " (stopped by the time)",
    )
    if tr.objective < fx.objective:
        fx = replace(fx, mask=tr.mask, objective=tr.objective)
    return fx, bound


def solve_by_fixing(
    model: Any, start: Mask, t0: float, time_limit: float | None, mip_rel_gap: float, threads: int | None
) -> Any:
    """Lagrangian bound and reduced-cost fixing from ``start`` (see
    :mod:`siting.locate._median_bound`): the result when the bound proves the best set
    optimal, else the MILP on the candidates left free when fixing removed some; else
    the best set seen and the bound, for the MILP on the whole model."""
    if not model.feasible(start):  # e.g. fixed sites and lower quotas overfill p: the MILP says
        return start, -math.inf
    offset = 0.0
    if model.beyond == "penalty" and model.unreached_weight:
        offset = model.unreached_weight * model.penalty
    seconds = FIXING_SECONDS
    if time_limit is not None:
        seconds = FIXING_SHARE * max(0.0, time_limit - (time.perf_counter() - t0))
    fx = lagrangian_fixing(model, beyond_costs(model), start, seconds=seconds)
    obj = model.evaluate(fx.mask)
    bound = min(fx.bound + offset, obj)
    log.info(
        "p-median Lagrangian: bound %.6g, best %.6g after %d steps; %d candidates closed, %d opened",
        bound,
        obj,
        fx.steps,
        int(fx.closed.sum()),
        int(fx.opened.sum()),
    )
    tol = max(1e-6, mip_rel_gap * abs(obj))
    if obj - bound <= tol:
        return model.result(fx.mask, obj, bound, time.perf_counter() - t0, "optimal", "lagrangian")
    lo, hi = model.quota_limits()
    if model.tree and not (lo or hi):
        fx, bound = _branch(model, fx, t0, time_limit, tol, offset, bound)
        obj = model.evaluate(fx.mask)
        if obj - bound <= tol:
            return model.result(fx.mask, obj, bound, time.perf_counter() - t0, "optimal", "branch-and-bound")
    if not (fx.closed.any() or fx.opened.any()):
        return fx.mask, bound
    sub = restricted(model, fx)
    sub.lagrangian = False  # it was just tried on these candidates
    sub.warm_start([str(j) for j in np.flatnonzero(fx.mask)])
    left = None if time_limit is None else max(0.01, time_limit - (time.perf_counter() - t0))
    try:
        r = sub.solve(left, mip_rel_gap=mip_rel_gap, threads=threads)
    except SolverError:  # nothing found in the time left: the fixing's set and bound stand
        return model.result(fx.mask, obj, bound, time.perf_counter() - t0, "time-limit-feasible", "milp")
    mask = np.zeros(model.n_active, bool)
    mask[[int(c) for c in r.chosen]] = True
    sub_obj = model.evaluate(mask)
    if sub_obj > obj:  # the restricted solve ran out of time with a worse set
        mask, sub_obj = fx.mask, obj
    # every set the fixing left out costs at least fx.forced_bound (above obj)
    bound = min(max(bound, min(r.bound + offset, fx.forced_bound + offset)), sub_obj)
    proven = r.status == "optimal" or sub_obj - bound <= tol
    status = "optimal" if proven else "time-limit-feasible"
    return model.result(mask, sub_obj, bound, time.perf_counter() - t0, status, "milp")
