"""What the value models share: each incident goes to its most valuable open site.

A value model (:class:`~siting.locate.MaximizeAttendance`,
:class:`~siting.locate.MaximizeDeathsAverted`) turns each (candidate, incident) pair in
reach into a value ``v_ij`` in ``(0, 1]`` that falls with distance (the share that attends,
the share of a death averted) and chooses ``p`` sites maximising
``sum_i w_i max_{j open} v_ij``: each incident counts once, at its most valuable open site.

The exact solve is a p-median in disguise. With the cost ``c_ij = 1 - v_ij`` and a cost of
1 for incidents no open site reaches, ``sum_i w_i min_j c_ij = W - value``, so the p-median
machinery (the compact radius formulation, its row generation, the greedy with swaps)
solves it exactly, and its proven lower bound on the cost is a proven upper bound on the
value: ``bound = W - cost bound``. The :class:`ValueResult` reports the value, that bound
and the gap between them, never the cost.

With capacity, a site's capacity caps the *value* it takes in (attending visits), and an
incident may split between sites when its first choice is full: assignment variables
``x_ij`` with ``sum_j x_ij <= 1``, ``x_ij <= open_j`` and
``sum_i w_i v_ij x_ij <= cap_j open_j``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from .._errors import InfeasibleError, InputError, SolverError
from ..impact import figure
from ..budget import Step
from ._common import F64, Mask, bincount, to_coo
from ._highs import Lp, make_lp, run_highs
from .base import swap_deadline
from .capacity import capacity_rows
from .median import PMedian
from .result import Result

if TYPE_CHECKING:
    from collections.abc import Sequence


@dataclass
class ValueResult(Result):
    """A :class:`Result` whose objective is a value to maximise (attendance, deaths averted).

    Attributes (beyond :class:`Result`)
    -----------------------------------
    value_name, value_unit
        What the objective counts, in words (``"expected attendance"``, ``"demand weight"``).
    estimates
        The chosen set's value under each estimate (deaths: ``low``, ``central``, ``high``).
    chosen_on
        The estimate the choice maximised (deaths), or ``None``.
    description
        The curve or bands used, in words.
    """

    value_name: str = ""
    value_unit: str = ""
    estimates: dict[str, float] = field(default_factory=dict)
    chosen_on: str | None = None
    description: str = ""

    def summary(self) -> dict[str, Any]:
        out = super().summary()
        out.update(
            {
                "value_name": self.value_name,
                "value_unit": self.value_unit,
                "estimates": dict(self.estimates),
                "chosen_on": self.chosen_on,
                "description": self.description,
            }
        )
        return out


class ValueModel(PMedian):
    """Base of the value models: subclasses give ``value_of(costs)`` and their names.

    ``costs`` are whatever unit the subclass's values need (walking minutes for
    attendance, network metres for deaths averted); entries whose value is 0 are out of
    reach and dropped. The solve runs in cost form (``sense`` stays 1, minimise
    ``W - value``); :meth:`result` turns it back into the value, its upper bound and gap.
    """

    value_name: ClassVar[str] = "value"
    #: The column of ``Result.sites`` holding each site's share of the objective.
    value_column: ClassVar[str] = "value"
    value_unit: ClassVar[str] = "demand weight"
    #: Not the p-median's branch and bound: their costs (1 - value) are seldom whole
    #: numbers, where the tree proves the optimum within the tolerance only, and the MILP
    #: after their own pruning reports the bound HiGHS proves.
    tree = False

    def value_of(self, costs: F64) -> F64:
        """Value (0..1, non-increasing with the cost) of each entry of the cost matrix."""
        raise NotImplementedError

    def reach(self) -> float | None:
        """Costs above this have no value (``None``: no limit)."""
        return None

    def describe(self) -> str:
        """The values in words (the curve or the bands), for results and the report."""
        return ""

    def __init__(
        self,
        costs: Any,
        *,
        weights: npt.ArrayLike | None = None,
        candidate_ids: Sequence[Any] | None = None,
        p: int,
        cutoff: float | None = None,
        **kw: Any,
    ) -> None:
        reach = self.reach()
        limit = reach if cutoff is None else (cutoff if reach is None else min(cutoff, reach))
        coo, n_c, n_d = to_coo(costs, limit)
        v = np.asarray(self.value_of(np.asarray(coo.data, np.float64)), np.float64)
        if np.any(~np.isfinite(v)) or np.any(v < 0) or np.any(v > 1):
            msg = f"{self.name}: values must lie in [0, 1]"  # pragma: no cover - curves and bands check this
            raise InputError(msg)
        keep = v > 0
        #: what rebuilds this model with more candidates excluded (:meth:`without`)
        self._args: dict[str, Any] = {
            "costs": costs,
            "weights": weights,
            "candidate_ids": candidate_ids,
            "p": p,
            "cutoff": cutoff,
            **kw,
        }
        #: every cost within reach, valued or not (for other estimates and per-site figures)
        self.raw = sparse.csr_matrix((coo.data, (coo.row, coo.col)), shape=(n_c, n_d))
        # the p-median on c = 1 - v (explicit zeros kept: v = 1 is a real cost of 0)
        as_cost = sparse.coo_matrix((1.0 - v[keep], (coo.row[keep], coo.col[keep])), shape=(n_c, n_d))
        capacity = kw.pop("capacity", None)
        super().__init__(
            as_cost,
            weights=weights,
            candidate_ids=candidate_ids,
            p=p,
            beyond="penalty",
            penalty=1.0,
            capacity=capacity,
            **kw,
        )
        self.cutoff = limit
        self.raw_weights = np.ones(n_d) if weights is None else np.asarray(weights, np.float64).ravel()

    # ---- values of an open set

    def value(self, mask: Mask) -> float:
        """The objective of the open set: weight at its most valuable open site, times that value."""
        return self.total_weight - self.evaluate(mask)

    def evaluate(self, mask: Mask) -> float:
        if self.cap is not None:
            val, status, _ = run_highs(value_capacity_lp(self, True, fix=mask), None, 1e-9, None, None)
            if status != "optimal":  # pragma: no cover - a fixed transport LP is always feasible
                msg = f"could not evaluate the capacitated {self.value_name} (HiGHS status {status})"
                raise SolverError(msg)
            return val
        return super().evaluate(mask)

    def build(self, lp_only: bool = False) -> Lp:
        if self.cap is not None:
            return value_capacity_lp(self, lp_only, fix=None)
        return super().build(lp_only)

    def served_weight(self, mask: Mask) -> float:
        """With capacity: the value taken in within capacity (the objective)."""
        return self.value(mask)

    def site_values(self, mask: Mask) -> F64:
        """Per active candidate, the value of the incidents whose most valuable open site it is
        (without capacity; ties go to the lower candidate index)."""
        rows = self.rows
        r_e = rows.row_of_entry()
        out = np.zeros(self.n_active)
        o = np.flatnonzero(mask[rows.cand])
        if not len(o):
            return out
        order = np.lexsort((rows.cand[o], rows.dist[o], r_e[o]))
        e = o[order]
        first = np.concatenate([[True], r_e[e][1:] != r_e[e][:-1]])
        e = e[first]
        return bincount(
            rows.cand[e], weights=rows.weight[r_e[e]] * (1.0 - rows.dist[e]), minlength=self.n_active
        )

    def own_args(self) -> dict[str, Any]:
        """The subclass's own constructor arguments (the curve, the bands), for :meth:`without`."""
        return {}

    def without(self, drop: Mask) -> ValueModel:
        """The same model with the active candidates ``drop`` excluded too."""
        args = dict(self._args)
        ids = [self.candidate_ids[self.active[j]] for j in np.flatnonzero(drop)]
        args["candidate_ids"] = self.candidate_ids
        args["excluded"] = [*map(str, args.get("excluded") or ()), *ids]
        return type(self)(args.pop("costs"), **args, **self.own_args())

    def values_for(self, mask: Mask, value_of: Any) -> float:
        """The open set's value under another value function of the same costs (estimates)."""
        raw = self.raw[self.active][mask].tocsc()
        best = np.zeros(raw.shape[1])
        if raw.nnz:
            vals = np.asarray(value_of(raw.data), np.float64)
            cols = np.repeat(np.arange(raw.shape[1]), np.diff(raw.indptr))
            np.maximum.at(best, cols, vals)
        return float(np.dot(self.raw_weights, best))

    def solve(
        self,
        time_limit: float | None = None,
        *,
        method: Literal["milp", "greedy"] = "milp",
        mip_rel_gap: float = 1e-9,
        threads: int | None = None,
    ) -> Result:
        """Solve; see :meth:`siting.locate.base.Model.solve`.

        Without capacity, the greedy-plus-swap set is improved and bounded first by
        Lagrangian relaxation (:func:`lagrangian_bound`), which takes a fraction of a
        second. When that bound meets the best set found, the set is proven optimal
        (``status='optimal'``, ``method='lagrangian'``) and HiGHS is not needed;
        otherwise ``method='greedy'`` returns the set with that bound and its gap, and
        ``method='milp'`` goes on to the exact MILP (keeping the tighter bound).
        """
        if self.cap is not None and method in ("milp", "greedy"):
            return self._solve_capacitated(time_limit, method, mip_rel_gap, threads)
        if self.cap is not None or method not in ("milp", "greedy"):
            return super().solve(time_limit, method=method, mip_rel_gap=mip_rel_gap, threads=threads)
        t0 = time.perf_counter()
        start = self.greedy(swap=True, deadline=swap_deadline(t0, time_limit))
        if self.p is not None and int(start.sum()) != self.p:  # fixed sites and lower quotas overfill p
            raise self.infeasible()
        info: dict[str, Any] = {}
        bound_value, mask, value = lagrangian_bound(self, start, out=info)
        cost = self.evaluate(mask)
        proven = bound_value - value <= mip_rel_gap * max(1.0, abs(value))
        if method == "greedy" or proven:
            status, how = ("optimal", "lagrangian") if proven else ("heuristic", "greedy")
            return self.result(
                mask, cost, self.total_weight - bound_value, time.perf_counter() - t0, status, how
            )
        left = None if time_limit is None else max(0.0, time_limit - (time.perf_counter() - t0))
        drop = lagrangian_prune(self, info["lam"], value)
        if drop.any():
            # the exact MILP on the candidates that can still be in an optimal set: the
            # ones dropped cannot beat the set in hand, so the optimum and bound carry over
            sub = self.without(drop).solve(left, method="milp", mip_rel_gap=mip_rel_gap, threads=threads)
            keep_ids = set(sub.chosen)
            best = np.array([self.candidate_ids[a] in keep_ids for a in self.active])
            sub_value, sub_bound = float(sub.objective), min(float(sub.bound), bound_value)
            if sub_value < value:  # pragma: no cover - the sub-model holds the set in hand
                best, sub_value = mask, value
            return self.result(
                best,
                self.total_weight - sub_value,
                self.total_weight - max(sub_bound, sub_value),
                time.perf_counter() - t0,
                sub.status,
                sub.method,
            )
        res = super().solve(left, method="milp", mip_rel_gap=mip_rel_gap, threads=threads)
        if res.bound > bound_value:  # the Lagrangian bound stays valid: keep the tighter one
            res.bound = max(bound_value, res.objective)
            res.gap = (res.bound - res.objective) / max(abs(res.objective), 1e-12) if res.objective else 0.0
        res.solve_seconds = time.perf_counter() - t0
        return res

    def _solve_capacitated(
        self, time_limit: float | None, method: str, mip_rel_gap: float, threads: int | None
    ) -> Result:
        """With capacity: greedy plus swaps bounded by the LP relaxation first; when the bound
        meets the set, it is optimal (``status='optimal'``, ``method='greedy'``) and no branching
        is needed; otherwise ``milp`` goes on to the exact MILP."""
        t0 = time.perf_counter()
        half = None if time_limit is None else 0.5 * time_limit
        first = super().solve(half, method="greedy", mip_rel_gap=1e-9, threads=threads)
        proven = math.isfinite(first.bound) and first.bound - first.objective <= mip_rel_gap * max(
            1.0, abs(first.objective)
        )
        if proven:
            first.status = "optimal"
        if proven or method == "greedy":
            first.solve_seconds = time.perf_counter() - t0
            return first
        left = None if time_limit is None else max(1.0, time_limit - (time.perf_counter() - t0))
        res = super().solve(left, method="milp", mip_rel_gap=mip_rel_gap, threads=threads)
        if first.objective > res.objective + 1e-9 * max(1.0, abs(first.objective)):  # stopped early
            first.bound = min(first.bound, res.bound)
            first.gap = (first.bound - first.objective) / max(abs(first.objective), 1e-12)
            first.status, first.solve_seconds = res.status, time.perf_counter() - t0
            return first
        if math.isfinite(first.bound) and first.bound < res.bound:  # both bounds are valid
            res.bound = max(first.bound, res.objective)
            res.gap = (res.bound - res.objective) / max(abs(res.objective), 1e-12) if res.objective else 0.0
        res.solve_seconds = time.perf_counter() - t0
        return res

    # ---- the result, in value terms

    def result(
        self, mask: Mask, obj: float, bound: float, seconds: float, status: str, method: str
    ) -> Result:
        base = super().result(mask, obj, bound, seconds, status, method)
        value = self.total_weight - obj
        ub = self.total_weight - bound if math.isfinite(bound) else math.inf
        ub = max(ub, value)
        if value == 0 and ub == 0:
            gap = 0.0
        else:
            gap = (ub - value) / max(abs(value), 1e-12)
            gap = 0.0 if gap < 1e-12 else gap
        sites = base.sites.copy()
        per_site = self.site_values(mask) if self.cap is None else self._capacitated_site_values(mask)
        sel = np.flatnonzero(mask)
        sites[self.value_column] = per_site[sel]
        reasons = []
        for j in sel:
            without = mask.copy()
            without[j] = False
            alone = value - self.value(without) if self.cap is None else math.nan
            reg = self.region[j]
            if self.fixed[j]:
                why = "fixed open (required or existing)"
            elif math.isnan(alone):
                why = f"takes in {figure(per_site[j])} {self.value_name} within its capacity"
            else:
                why = f"adds {figure(alone)} {self.value_name} no other chosen site would"
            if reg is not None:
                why += f"; region {reg}"
            reasons.append(why)
        sites["reason"] = reasons
        fields = {f: getattr(base, f) for f in base.__dataclass_fields__}
        fields.update(
            objective=float(value), bound=float(ub), gap=float(gap), sites=sites, served_weight=float(value)
        )
        return ValueResult(
            **fields, value_name=self.value_name, value_unit=self.value_unit, description=self.describe()
        )

    def _capacitated_site_values(self, mask: Mask) -> F64:
        lp = value_capacity_lp(self, True, fix=mask)
        _, status, x = run_highs(lp, None, 1e-9, None, None)
        out = np.zeros(self.n_active)
        if status != "optimal" or x is None:  # pragma: no cover - always feasible
            return out
        c_e, wv = lp.meta["c_e"], lp.meta["wv"]
        return bincount(c_e, weights=wv * x[self.n_active :], minlength=self.n_active)


def value_capacity_lp(model: ValueModel, lp_only: bool, fix: Mask | None) -> Lp:
    """Capacitated value model, in cost form ``W - sum w v x`` (see the module doc).

    Columns: ``open_j`` (0..n-1), then ``x_e`` per entry in reach. ``fix`` pins the open
    set (an LP that evaluates it).
    """
    rows = model.rows
    assert model.cap is not None
    n = model.n_active
    r_e = rows.row_of_entry()
    c_e = rows.cand
    m = len(c_e)
    wv = rows.weight[r_e] * (1.0 - rows.dist)  # value taken in per unit of x_e
    ri, ci, vals, lo, hi = model.site_rows() if fix is None else ([], [], [], [], [])
    base = len(lo)
    # sum_j x_rj <= 1 per merged row
    ri.append(base + r_e)
    ci.append(n + np.arange(m))
    vals.append(np.ones(m))
    capacity_rows(ri, ci, vals, base + rows.n, model.cap, c_e, wv)
    n_rows = rows.n + n + m
    cost = np.concatenate([np.zeros(n), -wv])
    if fix is None:
        col_lo = np.concatenate([model.fixed.astype(np.float64), np.zeros(m)])
        col_hi = np.ones(n + m)
    else:
        col_lo = np.concatenate([fix.astype(np.float64), np.zeros(m)])
        col_hi = np.concatenate([fix.astype(np.float64), np.ones(m)])
    out = make_lp(
        1,
        model.total_weight,
        cost,
        col_lo,
        col_hi,
        n,
        ri,
        ci,
        vals,
        [np.asarray(lo), np.full(n_rows, -math.inf)],
        [np.asarray(hi), np.concatenate([np.ones(rows.n), np.zeros(n + m)])],
        lp_only or fix is not None,
    )
    out.meta = {"c_e": c_e, "wv": wv}
    return out


#: Columns of :func:`value_curve` (the coverage curve's, with the value in ``covered_demand_weight``).
VALUE_CURVE_COLUMNS = [
    "n_sites",
    "covered_demand_weight",
    "covered_demand_share",
    "bound",
    "gap",
    "status",
    "chosen",
]


def value_curve(
    cls: type[ValueModel],
    costs: Any,
    *,
    k_max: int,
    time_limit: float | None = None,
    method: Literal["milp", "greedy"] = "milp",
    **kwargs: Any,
) -> pd.DataFrame:
    """Best value for 1..``k_max`` sites ("how many sites do we need?" in attendance or deaths).

    The columns are the coverage curve's, so the report draws it the same way:
    ``covered_demand_weight`` holds the value (expected attendance, deaths averted on the
    chosen estimate) and ``covered_demand_share`` its share of all demand weight (all fatal
    incidents for deaths). ``attrs['value_name']`` says which. Numbers of sites the constraints cannot
    meet are left out.
    """
    recs = []
    share = Step(time_limit)  # the limit bounds the whole curve
    for k in range(1, int(k_max) + 1):
        try:
            model = cls(costs, p=k, **kwargs)
        except InfeasibleError:
            continue
        r = model.solve(share.allot(int(k_max) - k + 1), method=method)
        recs.append(
            {
                "n_sites": k,
                "covered_demand_weight": r.objective,
                "covered_demand_share": r.objective / r.total_weight if r.total_weight else 0.0,
                "bound": r.bound,
                "gap": r.gap,
                "status": r.status,
                "chosen": ";".join(r.chosen),
            }
        )
    out = pd.DataFrame(recs, columns=VALUE_CURVE_COLUMNS)
    out.attrs["value_name"] = cls.value_name + (
        " (demand weight)" if cls.value_unit == "demand weight" else ""
    )
    return out


def best_open_set(model: ValueModel, gain: F64) -> Mask:
    """The open set maximising ``sum gain_j`` with p sites, fixed sites and regional quotas.

    Fixed sites first, then the best of each region with a lower quota until it is met,
    then the best of the rest within upper quotas: optimal for these constraints (regions
    are disjoint, so an exchange argument applies). Gains may be negative.
    """
    n = model.n_active
    mask = model.fixed.copy()
    lo, hi = model.quota_limits()
    count: dict[Any, int] = {}
    for j in np.flatnonzero(mask):
        count[model.region[j]] = count.get(model.region[j], 0) + 1
    order = np.argsort(-gain, kind="stable")
    for name, k in lo.items():
        for j in order:
            if count.get(name, 0) >= k:
                break
            if not mask[j] and model.region[j] == name:
                mask[j] = True
                count[name] = count.get(name, 0) + 1
    p = model.p if model.p is not None else n
    for j in order:
        if mask.sum() >= p:
            break
        r = model.region[j]
        if mask[j] or (r in hi and count.get(r, 0) + 1 > hi[r]):
            continue
        mask[j] = True
        count[r] = count.get(r, 0) + 1
    return mask


def lagrangian_prune(model: ValueModel, lam: F64, value: float) -> Mask:
    """Active candidates that are in no open set worth more than ``value`` (reduced-cost fixing).

    With multipliers ``lam`` (from :func:`lagrangian_bound`), the Lagrangian function with
    candidate ``j`` forced open is an upper bound on the value of every feasible set that
    holds ``j``. When that bound is below ``value`` (a set already in hand), no set with
    ``j`` can be optimal, so ``j`` can be left out of the exact solve without changing its
    optimum or its bound.
    """
    rows = model.rows
    r_e = rows.row_of_entry()
    slack = np.maximum(0.0, (1.0 - rows.dist) - lam[r_e])
    gain = bincount(rows.cand, weights=rows.weight[r_e] * slack, minlength=model.n_active)
    base = float(np.dot(rows.weight, lam))
    tol = 1e-7 * max(1.0, abs(value))
    drop = np.zeros(model.n_active, bool)
    lo, hi = model.quota_limits()
    if not lo and not hi and model.p is not None:  # no quotas: the best p-set with j, at once
        free = np.flatnonzero(~model.fixed)
        k = model.p - int(model.fixed.sum())
        if k <= 0 or not len(free):
            return drop
        order = free[np.argsort(-gain[free], kind="stable")]
        top = np.cumsum(gain[order])
        with_top = top[min(k, len(order)) - 1]  # j among the k best: the k best
        rest = top[k - 2] if k >= 2 else 0.0  # otherwise j and the k - 1 best
        rank = np.empty(len(order), np.int64)
        rank[np.searchsorted(free, order)] = np.arange(len(order))
        fixed_gain = float(gain[model.fixed].sum())
        forced_all = np.where(rank < k, with_top, gain[free] + rest) + base + fixed_gain
        drop[free] = forced_all < value - tol
        return drop
    for j in np.flatnonzero(~model.fixed):
        model.fixed[j] = True
        try:
            forced = base + float(gain[best_open_set(model, gain)].sum())
        finally:
            model.fixed[j] = False
        drop[j] = forced < value - tol
    return drop


def lagrangian_bound(
    model: ValueModel, start: Mask, *, iterations: int = 300, out: dict[str, Any] | None = None
) -> tuple[float, Mask, float]:
    """An upper bound on the best value, by Lagrangian relaxation of "each incident counts once".

    With multipliers ``lam_r >= 0`` for ``sum_j x_rj <= 1``, every
    ``L(lam) = sum_r w_r lam_r + max over open sets of sum_j open_j sum_r w_r max(0, v_rj - lam_r)``
    is a valid upper bound (their minimum is the LP bound); subgradient steps from the start
    set's own values lower it. Each step's maximising open set is a feasible choice too, so
    the best one seen is kept (a Lagrangian heuristic). Uncapacitated models only; each step
    is one pass over the (site, incident) pairs.

    Returns ``(bound, best open set, its value)``.
    """
    rows = model.rows
    r_e = rows.row_of_entry()
    v = 1.0 - rows.dist
    w = rows.weight
    n = model.n_active

    def value_of(mask: Mask) -> float:
        best_v = np.zeros(rows.n)
        o = mask[rows.cand]
        np.maximum.at(best_v, r_e[o], v[o])
        return float(np.dot(w, best_v))

    lam = np.zeros(rows.n)
    o = start[rows.cand]
    np.maximum.at(lam, r_e[o], v[o])  # each row's value in the start set
    best_mask, target = start.copy(), value_of(start)  # the best choice seen: a lower bound
    best = math.inf
    best_lam = lam.copy()
    theta = 2.0
    stall = 0
    for _ in range(iterations):
        slack = np.maximum(0.0, v - lam[r_e])
        gain = bincount(rows.cand, weights=w[r_e] * slack, minlength=n)
        y = best_open_set(model, gain)
        value = float(np.dot(w, lam) + gain[y].sum())
        if value < best - 1e-12:
            best, stall, best_lam = value, 0, lam.copy()
        else:
            stall += 1
            if stall >= 10:
                theta, stall = theta / 2, 0
        primal = value_of(y)
        if primal > target + 1e-12:
            best_mask, target = y.copy(), primal
        if best - target <= 1e-9 * max(1.0, abs(best)) or theta < 1e-6:
            break
        # subgradient of L at lam: w_r (1 - number of open sites with v_rj > lam_r)
        used = bincount(r_e[y[rows.cand] & (slack > 0)], minlength=rows.n)
        g = w * (1.0 - used)
        norm = float(np.dot(g, g))
        if norm <= 0:
            break
        lam = np.maximum(0.0, lam - theta * (value - target) / norm * g)
    if out is not None:
        out["lam"] = best_lam
    return max(best, target), best_mask, target
