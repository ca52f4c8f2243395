"""The base of every model: input handling, constraints, the solve driver and the report.

A model (see :mod:`siting.locate.coverage` for the shortest one) subclasses :class:`Model`
and adds three things: ``build`` (its MILP as an :class:`~siting.locate._highs.Lp`),
``evaluate`` (the exact objective of an open set) and ``greedy`` (a good open set fast).
Everything else, from merging demand rows and checking quotas to the solve, the time
limit and the per-site reasons, is shared here.
"""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from .._errors import InfeasibleError, InputError, SolverError
from ..impact import amount
from ._common import F64, I64, Mask, Rows, bincount, merge_rows, to_coo
from ._inputs import Quota, check_feasible, check_quota, incident_counts, parse_quota
from ._highs import Lp, run_highs
from .capacity import Capacity, served_lp
from .result import SITE_COLUMNS, Result

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)


#: Merged demand rows from which a model counts as county-sized: the MILP then starts from
#: greedy plus swaps and first tries a quick bound (:meth:`Model.quick_bound`).
LARGE_ROWS = 20_000
#: Seconds the quick bound takes before HiGHS when there is no time limit (with a limit,
#: a county-sized model spends it on the bound instead of HiGHS: see :meth:`Model.solve`).
QUICK_BOUND_SECONDS = 10.0
#: The least time HiGHS gets when the limit is spent but a start is in hand: it then returns
#: the start with its status and bound (a whole second each made a 5-solve curve take 5 s).
MIN_MILP_SECONDS = 0.05


def _within(bound: float, obj: float, rel_gap: float) -> bool:
    """Is the gap between a bound and an objective within ``rel_gap``?"""
    return abs(bound - obj) <= rel_gap * max(abs(obj), 1e-12)
#: Share of a solve's time limit the greedy start's swaps may use (the MILP gets the rest).
SWAP_SHARE = 0.25


def swap_deadline(t0: float, time_limit: float | None, share: float = SWAP_SHARE) -> float | None:
    """When a solve that started at ``t0`` must stop improving its greedy start by swaps."""
    return None if time_limit is None else t0 + share * time_limit


class Model:
    """Shared input handling; subclasses add the formulation and the greedy.

    Attributes a subclass may read: ``rows`` (merged demand, :class:`~._common.Rows`),
    ``n_active`` and ``active`` (candidates left after exclusions), ``fixed``, ``region``
    and ``quotas``, ``cap`` (capacity in weight units or ``None``), ``total_weight`` and
    ``unreached_weight``, ``excluded_weight`` (weight a model leaves out, default 0).
    """

    #: The model's name in results and on the command line (``--model``).
    name: ClassVar[str] = ""
    #: 1 minimise, -1 maximise.
    sense: ClassVar[int] = 1
    #: Merge demand rows only when their distances match too (models that use distance).
    merge_by_distance: ClassVar[bool] = False
    #: A restriction of a county-sized model (see :meth:`refine`): solved by the MILP alone.
    restricted: bool = False
    #: The model's own keyword arguments beyond the shared ones (what a selection passes).
    options: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        costs: Any,
        *,
        weights: npt.ArrayLike | None,
        candidate_ids: Sequence[Any] | None,
        p: int | None,
        cutoff: float | None = None,
        regions: Sequence[Any] | None = None,
        fixed: Sequence[Any] = (),
        excluded: Sequence[Any] = (),
        quotas: Mapping[str, Quota] | None = None,
        capacity: Capacity | None = None,
        counts: npt.ArrayLike | None = None,
    ) -> None:
        coo, n_c, n_d = to_coo(costs, cutoff)
        if candidate_ids is None:
            candidate_ids = [str(i) for i in range(n_c)]
        ids = [str(c) for c in candidate_ids]
        if len(ids) != n_c:
            msg = f"`candidate_ids` has {len(ids)} ids but the cost matrix has {n_c} rows"
            raise InputError(msg)
        if len(set(ids)) != len(ids):
            dup = pd.Series(ids)[pd.Series(ids).duplicated()].iloc[0]
            msg = f"`candidate_ids` must be unique; {dup!r} appears more than once"
            raise InputError(msg)
        w = np.ones(n_d) if weights is None else np.asarray(weights, dtype=np.float64).ravel()
        if len(w) != n_d:
            msg = f"`weights` has {len(w)} values but the cost matrix has {n_d} demand columns"
            raise InputError(msg)
        if not np.all(np.isfinite(w)) or np.any(w < 0):
            msg = "`weights` must be finite and >= 0"
            raise InputError(msg)
        self.candidate_ids = ids
        self.total_weight = float(w.sum())
        self.counts = incident_counts(counts, n_d)
        self.total_incidents = int(self.counts.sum())
        self.excluded_weight = 0.0
        self.cutoff = cutoff
        self.p = p
        pos = {c: i for i, c in enumerate(ids)}

        fixed_ids = [str(f) for f in fixed]
        unknown = [f for f in fixed_ids if f not in pos]
        if unknown:
            msg = (
                f"fixed sites {unknown[:5]} are not candidate ids; a required site must be one of "
                "the candidates"
            )
            raise InfeasibleError(msg)
        excl_ids = [str(f) for f in excluded]
        unknown = [f for f in excl_ids if f not in pos]
        if unknown:
            msg = f"`excluded` names unknown candidate ids {unknown[:5]}; check the ids"
            raise InputError(msg)
        both = sorted(set(fixed_ids) & set(excl_ids))
        if both:
            msg = f"candidates {both[:5]} are both fixed open and excluded; drop one of the two"
            raise InfeasibleError(msg)
        is_excl = np.zeros(n_c, bool)
        is_excl[[pos[e] for e in excl_ids]] = True
        self.active = np.flatnonzero(~is_excl)  # compact index -> input index
        compact = np.full(n_c, -1, np.int64)
        compact[self.active] = np.arange(len(self.active))
        self.n_active = len(self.active)
        self.fixed = np.zeros(self.n_active, bool)
        self.fixed[compact[[pos[f] for f in fixed_ids]]] = True

        if regions is None:
            reg = np.array([None] * n_c, dtype=object)
        else:
            reg = np.array([None if r is None else str(r) for r in regions], dtype=object)
            if len(reg) != n_c:
                msg = f"`regions` has {len(reg)} labels but there are {n_c} candidates"
                raise InputError(msg)
        self.region = reg[self.active]
        self.quotas: dict[str, Quota] = {
            str(name): check_quota(name, q) for name, q in (quotas or {}).items()
        }

        self.capacity = capacity
        self.cap: F64 | None = None
        if capacity is not None:
            cap_visits = capacity.visits_per_day(ids)[self.active]
            self.cap = cap_visits * self.total_weight / capacity.demand_per_day  # weight units

        # which incidents each active candidate covers (weight aside): the incident counts
        cov = (~is_excl[coo.row]) & (self.counts[coo.col] > 0)
        self.covers = sparse.csr_matrix(
            (np.ones(int(cov.sum()), np.int8), (compact[coo.row[cov]], coo.col[cov])),
            shape=(self.n_active, n_d),
        )
        # keep entries to active candidates and positive-weight demand
        keep = (~is_excl[coo.row]) & (w[coo.col] > 0)
        d_row = coo.col[keep].astype(np.int64)
        d_cand = compact[coo.row[keep]]
        d_dist = coo.data[keep].astype(np.float64)
        self.rows: Rows
        self.rows, self.unreached_weight = merge_rows(
            d_row, d_cand, d_dist, w, by_distance=self.merge_by_distance
        )
        log.info(
            "%s: %d candidates (%d active), %d demand points -> %d distinct rows",
            self.name,
            n_c,
            self.n_active,
            n_d,
            self.rows.n,
        )
        self._dominated: Mask | None = None
        self._warm: Mask | None = None
        check_feasible(self)

    def set_p(self, p: int) -> None:
        """Re-solve the same model for another number of sites (a curve): everything built
        from the demand is kept; raises :class:`InfeasibleError` as the constructor would."""
        self.p = p
        check_feasible(self)

    def warm_start(self, chosen: Sequence[Any]) -> None:
        """Offer the sites of a related solve (fewer sites, another cutoff) as a start for the
        next :meth:`solve`: they are completed to ``p`` sites greedily and used when that set
        is feasible and better than the model's own greedy start. Ids that are not active
        candidates are ignored; the result stays exact either way."""
        pos = {self.candidate_ids[a]: k for k, a in enumerate(self.active)}
        mask = np.zeros(self.n_active, bool)
        mask[[pos[str(c)] for c in chosen if str(c) in pos]] = True
        self._warm = mask

    def feasible(self, mask: Mask) -> bool:
        """Does the open set meet ``p``, the fixed sites and the quotas?"""
        if (self.p is not None and int(mask.sum()) != self.p) or bool((self.fixed & ~mask).any()):
            return False
        lo, hi = self.quota_limits()
        regs = list(self.region[mask])
        return all(regs.count(r) >= k for r, k in lo.items()) and all(regs.count(r) <= k for r, k in hi.items())

    def _warm_or(self, start: Mask | None) -> Mask | None:
        """The better of ``start`` and the warm start completed to ``p`` sites (used once)."""
        warm, self._warm = self._warm, None
        if warm is None or self.p is None or int(warm.sum()) > self.p:
            return start
        saved = self.fixed
        try:
            self.fixed = saved | warm  # the greedy opens these first, then fills up to p
            cand = self.greedy(swap=False)
        except SolverError:  # InfeasibleError included: no completion within the quotas
            return start
        finally:
            self.fixed = saved
        if not self.feasible(cand):
            return start
        if start is None:
            return cand
        better = (self.evaluate(cand) - self.evaluate(start)) * self.sense < 0
        return cand if better else start

    # ---- what a model adds

    def build(self, lp_only: bool = False) -> Lp:
        """The model's MILP (or its LP relaxation with ``lp_only``)."""
        raise NotImplementedError

    def evaluate(self, mask: Mask) -> float:
        """The exact objective of the open set ``mask`` (over active candidates)."""
        raise NotImplementedError

    def greedy(self, swap: bool, deadline: float | None = None) -> Mask:
        """A feasible open set found fast (with swap improvement when ``swap``).

        Swaps stop once ``time.perf_counter()`` passes ``deadline`` (``None``: no limit).
        """
        raise NotImplementedError

    def quick_bound(self, objective: float, seconds: float) -> float | None:
        """A valid bound on the optimum found in about ``seconds`` without HiGHS (e.g.
        Lagrangian), or ``None``; ``objective`` is the best known feasible value."""
        return None

    def refine(self, start: Mask, seconds: float | None, rel_gap: float) -> tuple[Mask, float | None]:
        """A start at least as good as ``start`` and a valid bound (or ``None``) for a
        county-sized model, in about ``seconds`` (``None``: no limit; the quick bound then
        gets :data:`QUICK_BOUND_SECONDS`). By default the start and :meth:`quick_bound`."""
        budget = QUICK_BOUND_SECONDS if seconds is None else seconds
        return start, self.quick_bound(self.evaluate(start), budget)

    # ---- checks

    def constraint_text(self) -> str:
        """The constraints in words, for error messages."""
        parts = []
        if self.p is not None:
            parts.append(f"p={self.p}")
        if self.fixed.any():
            parts.append(f"{int(self.fixed.sum())} fixed sites")
        parts += [f"quota '{n}{op}{k}'" for n, (op, k) in self.quotas.items()]
        if self.cap is not None:
            parts.append("capacity")
        return ", ".join(parts) or "the model"

    def infeasible(self) -> InfeasibleError:
        """The error for a model HiGHS proved infeasible."""
        return InfeasibleError(f"the constraints together cannot be met ({self.constraint_text()})")

    def quota_limits(self) -> tuple[dict[str, int], dict[str, int]]:
        """Per region with a quota: the least and the most sites allowed."""
        lo: dict[str, int] = {}
        hi: dict[str, int] = {}
        for name, (op, k) in self.quotas.items():
            if op in (">=", "=="):
                lo[name] = k
            if op in ("<=", "=="):
                hi[name] = k
        return lo, hi

    def dominated(self) -> Mask:
        """Candidates whose covered demand is a subset of another candidate's.

        Opening the larger one instead never covers less, so the smaller one can be left
        out of a covering model. Used only without quotas and capacity (where a swap
        could break a regional count or a capacity), never for fixed sites, and only
        while at least ``p`` candidates remain.
        """
        n = self.n_active
        out = np.zeros(n, bool)
        if self.quotas or self.cap is not None or n < 2:
            return out
        from ._kernels import dominated, sort_by_row

        if self._dominated is None:  # computed once: a curve re-solves the model for each p
            rows = self.rows
            order, c_ptr = sort_by_row(rows.cand, n)  # each candidate's rows, ascending
            self._dominated = dominated(c_ptr, rows.row_of_entry()[order], rows.ptr, rows.cand, self.fixed)
        out = self._dominated.copy()
        # (a candidate covering nothing is dominated by any other; fixed sites never are)
        keep_needed = self.p if self.p is not None else 1
        if (~out).sum() < keep_needed:
            return np.zeros(n, bool)
        return out

    # ---- shared MILP pieces

    def site_rows(self) -> tuple[list[I64], list[I64], list[F64], list[float], list[float]]:
        """Cardinality (sum open = p) and quota rows on the first ``n_active`` columns.

        Returns the coordinate pieces ``(rows, cols, values)`` and the row bounds
        ``(lo, hi)``; a formulation appends its own rows after them.
        """
        ri: list[I64] = []
        ci: list[I64] = []
        vals: list[F64] = []
        lo: list[float] = []
        hi: list[float] = []
        nrow = 0
        if self.p is not None:
            ri.append(np.zeros(self.n_active, np.int64))
            ci.append(np.arange(self.n_active, dtype=np.int64))
            vals.append(np.ones(self.n_active))
            lo.append(float(self.p))
            hi.append(float(self.p))
            nrow += 1
        for name, (op, k) in self.quotas.items():
            members = np.flatnonzero(self.region == name)
            if len(members) == 0:
                continue  # an empty region with a positive lower quota is refused by the pre-check
            ri.append(np.full(len(members), nrow, np.int64))
            ci.append(members.astype(np.int64))
            vals.append(np.ones(len(members)))
            lo.append(float(k) if op in (">=", "==") else -math.inf)
            hi.append(float(k) if op in ("<=", "==") else math.inf)
            nrow += 1
        return ri, ci, vals, lo, hi

    def covered_weight(self, mask: Mask) -> float:
        """Demand weight within the cutoff of an open site (served within capacity, with one)."""
        if self.cap is not None:
            return self.served_weight(mask)
        return float(self.rows.weight[self.rows.covered(mask)].sum())

    def served_weight(self, mask: Mask) -> float:
        """Weight served within capacity by the open sites (max flow as an LP)."""
        assert self.cap is not None
        val, status, _ = run_highs(served_lp(self.rows, self.cap, mask), None, 1e-9, None, None)
        if status != "optimal":  # pragma: no cover - a fixed transport LP is always feasible
            msg = f"could not evaluate served demand (HiGHS status {status})"
            raise SolverError(msg)
        return val

    # ---- solve

    @classmethod
    def from_cost_matrix(cls, costs: Any, **kwargs: Any) -> Model:
        """Build the model from a candidates x demand cost matrix (see the class doc)."""
        return cls(costs, **kwargs)

    def solve(
        self,
        time_limit: float | None = None,
        *,
        method: Literal["milp", "greedy"] = "milp",
        mip_rel_gap: float = 1e-9,
        threads: int | None = None,
    ) -> Result:
        """Solve the model.

        Parameters
        ----------
        time_limit
            Seconds HiGHS may spend; when it runs out the best solution found is returned
            with status ``time-limit-feasible`` and its gap.
        method
            ``milp`` (exact, HiGHS) or ``greedy`` (greedy plus swap improvement, with its
            gap to the LP relaxation bound).
        mip_rel_gap
            Relative gap at which HiGHS stops and calls the solution optimal.
        threads
            HiGHS threads (default: HiGHS's choice).
        """
        t0 = time.perf_counter()
        if method == "greedy":
            # the swaps may use most of the limit; the LP bound needs the rest
            mask = self._warm_or(self.greedy(swap=True, deadline=swap_deadline(t0, time_limit, share=0.8)))
            assert mask is not None
            obj = self.evaluate(mask)
            bound, status, _ = run_highs(self.build(lp_only=True), time_limit, mip_rel_gap, threads, None)
            if status == "infeasible":
                raise self.infeasible()
            if status != "optimal":
                bound = math.inf if self.sense < 0 else -math.inf
            return self.result(mask, obj, bound, time.perf_counter() - t0, "heuristic", "greedy")
        if method != "milp":
            msg = f"`method` must be 'milp' or 'greedy', got {method!r}"
            raise InputError(msg)
        large = self.rows.n >= LARGE_ROWS and not self.restricted
        try:
            # at county size the swaps pay for themselves: a better start and a tighter gap
            start: Mask | None = self.greedy(swap=large, deadline=swap_deadline(t0, time_limit))
        except InfeasibleError:
            raise
        except SolverError:
            start = None
        if start is not None and not self.feasible(start):
            start = None  # never trusted as a solution: HiGHS decides
        start = self._warm_or(start)
        quick = None
        if large and start is not None:
            left = None if time_limit is None else time_limit - (time.perf_counter() - t0)
            start, quick = self.refine(start, None if left is None else max(0.0, 0.9 * left), mip_rel_gap)
            obj0 = self.evaluate(start)
            if quick is not None and _within(quick, obj0, mip_rel_gap):
                return self.result(start, obj0, quick, time.perf_counter() - t0, "optimal", "milp")
            if quick is not None and time_limit is not None:
                # at this size HiGHS needs minutes for the root LP alone and overruns a short
                # limit (measured: 25 s for a 5 s limit, 460 s for 40 s at 97k rows); keep
                # to the limit with the refined start and its bound
                log.info("%s: %d rows, time limit %.0f s: no whole MILP", self.name, self.rows.n, time_limit)
                bound = max(quick, obj0) if self.sense < 0 else min(quick, obj0)
                st = "optimal" if _within(bound, obj0, mip_rel_gap) else "time-limit-feasible"
                return self.result(start, obj0, bound, time.perf_counter() - t0, st, "milp")
        remaining = None
        if time_limit is not None:
            # with a start in hand the limit is the caller's (HiGHS hands the start back when time
            # runs out); without one HiGHS gets a second to find any solution at all
            floor = MIN_MILP_SECONDS if start is not None else 1.0
            remaining = max(floor, time_limit - (time.perf_counter() - t0))
        bound, status, x = run_highs(self.build(), remaining, mip_rel_gap, threads, start)
        if status == "infeasible":
            raise self.infeasible()
        if x is None:
            if start is None:
                msg = f"HiGHS found no solution within the time limit for {self.name}"
                raise SolverError(msg)
            mask = start
        else:
            mask = x[: self.n_active] > 0.5
        obj = self.evaluate(mask)
        st = "optimal" if status == "optimal" else "time-limit-feasible"
        if quick is not None and not math.isnan(bound):  # the tighter of the two valid bounds
            bound = min(bound, quick) if self.sense < 0 else max(bound, quick)
        # a bound can never be worse than the solution we hold
        bound = max(bound, obj) if self.sense < 0 else min(bound, obj)
        if st != "optimal" and _within(bound, obj, mip_rel_gap):
            st = "optimal"
        return self.result(mask, obj, bound, time.perf_counter() - t0, st, "milp")

    # ---- reporting

    def incident_counts(self, sel: I64) -> dict[str, Any]:
        """Incidents (rows, not weight) the open sites ``sel`` cover: in all, per site, per site alone."""
        sub = self.covers[sel]
        per_col = bincount(sub.indices, minlength=self.covers.shape[1])
        once = (per_col == 1) * self.counts
        return {
            "covered": int(self.counts[per_col > 0].sum()),
            "covers": np.asarray(sub @ self.counts).ravel().astype(np.int64),
            "alone": np.asarray(sub @ once).ravel().astype(np.int64),
        }

    def result(
        self, mask: Mask, obj: float, bound: float, seconds: float, status: str, method: str
    ) -> Result:
        """The :class:`Result` of an open set: the figures and a reason per chosen site."""
        rows = self.rows
        r_e = rows.row_of_entry()
        open_e = mask[rows.cand]
        cnt = bincount(r_e[open_e], minlength=rows.n)
        covered = float(rows.weight[cnt > 0].sum())
        sel = np.flatnonzero(mask)
        covers = bincount(rows.cand[open_e], weights=rows.weight[r_e[open_e]], minlength=self.n_active)
        alone_e = open_e & (cnt[r_e] == 1)
        alone = bincount(rows.cand[alone_e], weights=rows.weight[r_e[alone_e]], minlength=self.n_active)
        # nearest open site of each row
        assigned = np.zeros(self.n_active)
        if open_e.any():
            e_open = np.flatnonzero(open_e)
            order = np.lexsort((rows.cand[e_open], rows.dist[e_open], r_e[e_open]))
            e_sorted = e_open[order]
            first = np.concatenate([[True], r_e[e_sorted][1:] != r_e[e_sorted][:-1]])
            e_first = e_sorted[first]
            assigned = bincount(
                rows.cand[e_first], weights=rows.weight[r_e[e_first]], minlength=self.n_active
            )
        served = covered if self.cap is None else self.served_weight(mask)
        inc = self.incident_counts(sel)
        recs = []
        for k, j in enumerate(sel):
            reg = self.region[j]
            if self.fixed[j]:
                why = "fixed open (required or existing)"
            else:
                why = (
                    f"covers {int(inc['alone'][k]):,} incidents (demand weight {amount(alone[j])}) "
                    "no other chosen site covers"
                )
            if reg is not None:
                why += f"; region {reg}"
            recs.append(
                {
                    "candidate_id": self.candidate_ids[self.active[j]],
                    "region": reg,
                    "fixed": bool(self.fixed[j]),
                    "covers_incidents": int(inc["covers"][k]),
                    "covers_demand_weight": float(covers[j]),
                    "alone_incidents": int(inc["alone"][k]),
                    "alone_demand_weight": float(alone[j]),
                    "assigned_demand_weight": float(assigned[j]),
                    "reason": why,
                }
            )
        sites = pd.DataFrame(recs, columns=SITE_COLUMNS)
        if obj == 0 and bound == 0:
            gap = 0.0
        else:
            gap = abs(bound - obj) / max(abs(obj), 1e-12)
            if gap < 1e-12:
                gap = 0.0
        return Result(
            model=self.name,
            objective=float(obj),
            bound=float(bound),
            gap=float(gap),
            solve_seconds=float(seconds),
            status=status,
            method=method,
            chosen=[self.candidate_ids[self.active[j]] for j in sel],
            sites=sites,
            covered_weight=covered,
            total_weight=self.total_weight,
            covered_incidents=int(inc["covered"]),
            total_incidents=self.total_incidents,
            served_weight=float(served),
            excluded_weight=float(self.excluded_weight),
        )
