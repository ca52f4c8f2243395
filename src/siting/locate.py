"""Choosing a set of sites: maximal covering, p-median and fewest sites, solved exactly.

Every model is built from a cost matrix (candidates x demand walking minutes), so it does
not care where the minutes came from: :mod:`siting.reach`, an OD matrix from another tool
(:func:`siting._matrix.read_od_matrix`) or a dense array such as the OR-Library p-median
instances.

The cost matrix
    A scipy sparse matrix (any format) or a dense array, one row per candidate and one
    column per demand point. In a sparse matrix an *absent* entry means "beyond the
    cutoff" and an explicit zero is a real distance of zero. In a dense array ``NaN`` and
    ``inf`` mean beyond the cutoff. Entries above ``cutoff`` (when given) are dropped.

Demand points that no candidate can tell apart (the same candidates at the same
minutes, or for covering models the same covering candidates) are merged into one row
with the summed weight before a model is built: a county's 200,000 incidents collapse to
the few thousand patterns that matter.

Formulations (all solved with HiGHS through its array API)
    * Maximal covering: binary ``open_j``, continuous ``covered_i <= sum open_j`` over the
      candidates covering ``i``; demand covered by only one candidate is folded into that
      candidate's objective coefficient.
    * p-median: the compact "radius" formulation (Elloumi 2010; Garcia, Labbe & Marin
      2011). For each demand row the distinct distances ``D_1 < ... < D_K`` are sorted and
      ``beyond_k`` says "no open site within ``D_k``"; the cost is
      ``D_1 + sum_k (D_{k+1} - D_k) beyond_k``. The chained form
      ``beyond_{k-1} <= beyond_k + sum_{d_ij = D_k} open_j`` has one non-zero per
      (demand, candidate) pair, not a triangle of them, and the same LP bound as
      Elloumi's. Levels past the one where at least ``n - p + 1`` candidates (or a fixed
      site) lie are dropped: some open site is always that close.
    * Fewest sites: minimise the number of open sites subject to covered weight
      ``>= target x total weight``.
    * Capacity (any model): assignment variables per (demand, candidate) pair, served
      demand at a site at most its capacity, demand above capacity not counted as served
      (maximal covering, fewest sites) or counted at the penalty (p-median).

Capacity units
    A site's capacity is ``booths x uses_per_booth_per_day`` supervised visits per day.
    Demand weights are converted to visits per day with ``demand_per_day``: the planner's
    estimate of the daily visits the *whole* demand layer represents, spread over the
    points in proportion to their weight (a point of weight ``w`` stands for
    ``w / total_weight x demand_per_day`` visits a day).

Status
    ``optimal`` only when HiGHS proves it (gap within ``mip_rel_gap``, default 1e-9);
    ``time-limit-feasible`` when the time limit stopped the search with a solution;
    ``heuristic`` for the greedy, with its gap to the LP relaxation bound. Nothing
    unproven is ever called optimal.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import sparse

from . import settings
from ._errors import InfeasibleError, InputError, SolverError

log = logging.getLogger(__name__)

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

Quota = tuple[str, int]
_OPS = {">=": ">=", "==": "==", "=": "==", "<=": "<="}
_EPS = 1e-9
#: Extra distance levels per demand row beyond the greedy's, in the p-median row generation.
_CAP_MARGIN = 3

__all__ = [
    "Capacity",
    "FewestSites",
    "MaximalCovering",
    "PMedian",
    "Result",
    "coverage_curve",
    "parse_quota",
]


# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class Capacity:
    """Capacity of each site, and how demand weight becomes visits per day.

    Attributes
    ----------
    booths
        Booths per site: one number for every candidate, or a mapping
        ``candidate_id -> booths`` (candidates not named get ``default_booths``).
    demand_per_day
        Supervised visits per day the whole demand layer represents; a demand point of
        weight ``w`` stands for ``w / total_weight x demand_per_day`` visits a day.
    uses_per_booth_per_day
        Supervised uses one booth handles per day (default 40: Insite, about 500 a day on
        12-13 booths).
    default_booths
        Booths at candidates absent from a ``booths`` mapping.
    """

    booths: float | Mapping[str, float]
    demand_per_day: float
    uses_per_booth_per_day: float = field(default_factory=lambda: settings.uses_per_booth_per_day)
    default_booths: float = 0.0

    def visits_per_day(self, candidate_ids: Sequence[str]) -> F64:
        """Capacity of each candidate in visits per day."""
        if isinstance(self.booths, Mapping):
            unknown = sorted(set(map(str, self.booths)) - set(candidate_ids))
            if unknown:
                msg = f"`capacity.booths` names unknown candidate ids {unknown[:5]}; check the ids"
                raise InputError(msg)
            b = np.array(
                [float(self.booths.get(c, self.default_booths)) for c in candidate_ids]
            )
        else:
            b = np.full(len(candidate_ids), float(self.booths))
        if not np.all(np.isfinite(b)) or np.any(b < 0):
            msg = "`capacity.booths` must be finite and >= 0"
            raise InputError(msg)
        if not (math.isfinite(self.demand_per_day) and self.demand_per_day > 0):
            msg = f"`capacity.demand_per_day` must be a positive number, got {self.demand_per_day}"
            raise InputError(msg)
        if not (math.isfinite(self.uses_per_booth_per_day) and self.uses_per_booth_per_day > 0):
            msg = "`capacity.uses_per_booth_per_day` must be a positive number"
            raise InputError(msg)
        return b * float(self.uses_per_booth_per_day)


def parse_quota(text: str) -> tuple[str, Quota]:
    """Parse ``'NAME>=1'``, ``'NAME==1'`` (or ``=``) or ``'NAME<=2'`` into ``(name, (op, k))``.

    Examples
    --------
    >>> parse_quota("Seattle>=1")
    ('Seattle', ('>=', 1))
    >>> parse_quota("King County = 2")
    ('King County', ('==', 2))
    """
    for op in (">=", "<=", "==", "="):
        if op in text:
            name, _, k = text.partition(op)
            name = name.strip()
            try:
                kk = int(k.strip())
            except ValueError:
                kk = -1
            if not name or kk < 0:
                break
            return name, (_OPS[op], kk)
    msg = f"quota {text!r} is not of the form 'NAME>=K', 'NAME==K' or 'NAME<=K' (K a whole number)"
    raise InputError(msg)


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
        ``covers_weight`` (demand within the cutoff), ``alone_weight`` (demand no other
        chosen site covers), ``assigned_weight`` (demand it is nearest to), ``reason``.
    covered_weight, total_weight
        Demand weight within the cutoff of a chosen site, and all demand weight.
    served_weight
        With capacity: weight served within capacity; otherwise equal to covered_weight.
    excluded_weight
        p-median with ``beyond='exclude'``: weight no candidate reaches, left out.
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
    excluded_weight: float = 0.0

    @property
    def covered_share(self) -> float:
        """Covered weight as a share of all demand weight."""
        return self.covered_weight / self.total_weight if self.total_weight > 0 else 0.0

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
            "covered_weight": self.covered_weight,
            "total_weight": self.total_weight,
            "served_weight": self.served_weight,
            "excluded_weight": self.excluded_weight,
        }


@dataclass
class _Rows:
    """Demand-major sparse costs after merging: row r has entries ``ptr[r]:ptr[r+1]``."""

    ptr: I64
    cand: I64  # compact candidate index (active candidates only)
    dist: F64
    weight: F64  # merged weight of each row

    @property
    def n(self) -> int:
        return len(self.weight)

    def row_of_entry(self) -> I64:
        return np.repeat(np.arange(self.n, dtype=np.int64), np.diff(self.ptr))


# --------------------------------------------------------------------------- base model


class _Model:
    """Shared input handling; subclasses add the formulation and the greedy."""

    name: ClassVar[str] = ""
    sense: ClassVar[int] = 1  # 1 minimise, -1 maximise
    _merge_by_distance: ClassVar[bool] = False

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
    ) -> None:
        coo, n_c, n_d = _to_coo(costs, cutoff)
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
        self.cutoff = cutoff
        self.p = p
        pos = {c: i for i, c in enumerate(ids)}

        fixed_ids = [str(f) for f in fixed]
        unknown = [f for f in fixed_ids if f not in pos]
        if unknown:
            msg = (
                f"fixed sites {unknown[:5]} are not candidate ids; a required site must be "
                "one of the candidates"
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
        self.regions_all = reg
        self.region = reg[self.active]
        self.quotas: dict[str, Quota] = {}
        for name, q in (quotas or {}).items():
            op, k = q
            if op not in _OPS or int(k) != k or k < 0:
                msg = f"quota for {name!r} must be ('>=' | '==' | '<=', whole number >= 0), got {q!r}"
                raise InputError(msg)
            self.quotas[str(name)] = (_OPS[op], int(k))

        self.capacity = capacity
        if capacity is not None:
            cap_visits = capacity.visits_per_day(ids)[self.active]
            # capacity in weight units
            self.cap = cap_visits * self.total_weight / capacity.demand_per_day
        else:
            self.cap = None

        # keep entries to active candidates and positive-weight demand
        keep = (~is_excl[coo.row]) & (w[coo.col] > 0)
        d_row = coo.col[keep].astype(np.int64)
        d_cand = compact[coo.row[keep]]
        d_dist = coo.data[keep].astype(np.float64)
        self._demand_cols = n_d
        self._w_input = w
        self._raw = (d_row, d_cand, d_dist)
        self.rows, self.unreached_weight = self._merge(d_row, d_cand, d_dist, w)
        log.info(
            "%s: %d candidates (%d active), %d demand points -> %d distinct rows",
            self.name, n_c, self.n_active, n_d, self.rows.n,
        )
        self._check_feasible()

    # ---- preparation

    def _merge(self, d_row: I64, d_cand: I64, d_dist: F64, w: F64) -> tuple[_Rows, float]:
        n_d = len(w)
        order = np.lexsort((d_cand, d_dist, d_row)) if self._merge_by_distance else np.lexsort(
            (d_dist, d_cand, d_row)
        )
        d_row, d_cand, d_dist = d_row[order], d_cand[order], d_dist[order]
        counts = _bincount(d_row, minlength=n_d)
        ptr = np.concatenate([[0], np.cumsum(counts)])
        reached = np.flatnonzero(counts > 0)
        unreached_weight = float(w[counts == 0].sum())
        # key per reached row: its candidate pattern (and distances for the median)
        cand32 = d_cand.astype(np.int32)
        if self._merge_by_distance:
            keys = [
                cand32[ptr[r] : ptr[r + 1]].tobytes() + d_dist[ptr[r] : ptr[r + 1]].tobytes()
                for r in reached
            ]
        else:
            keys = [cand32[ptr[r] : ptr[r + 1]].tobytes() for r in reached]
        codes, _ = pd.factorize(pd.Series(keys, dtype=object), sort=False)
        n_u = int(codes.max()) + 1 if len(codes) else 0
        rep = np.full(n_u, -1, np.int64)
        # first demand row of each group is its representative
        first = np.unique(codes, return_index=True)[1]
        rep[codes[first]] = reached[first]
        mw = _bincount(codes, weights=w[reached], minlength=n_u)
        lens = counts[rep]
        new_ptr = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
        idx = np.concatenate([np.arange(ptr[r], ptr[r + 1]) for r in rep]) if n_u else np.zeros(
            0, np.int64
        )
        rows = _Rows(new_ptr, d_cand[idx], d_dist[idx], mw.astype(np.float64))
        return rows, unreached_weight

    def _region_index(self) -> dict[str, F64]:
        return {name: np.flatnonzero(self.region == name) for name in self.quotas}

    def _check_feasible(self) -> None:
        n_fixed = int(self.fixed.sum())
        p = self.p
        if p is not None:
            if p < 1:
                msg = f"`p` must be at least 1, got {p}"
                raise InfeasibleError(msg)
            if p < n_fixed:
                msg = f"p={p} is smaller than the {n_fixed} fixed sites; raise p or fix fewer sites"
                raise InfeasibleError(msg)
            if p > self.n_active:
                msg = (
                    f"p={p} exceeds the {self.n_active} candidates available "
                    "(after exclusions); lower p"
                )
                raise InfeasibleError(msg)
        lower_total = 0
        for name, (op, k) in self.quotas.items():
            members = np.flatnonzero(self.region == name)
            fixed_in = int(self.fixed[members].sum())
            if op in (">=", "==") and len(members) < k:
                msg = (
                    f"quota '{name}{op}{k}' needs {k} sites but only {len(members)} "
                    f"candidates in region {name!r} are available"
                )
                raise InfeasibleError(msg)
            if op in ("<=", "==") and fixed_in > k:
                msg = f"quota '{name}{op}{k}' allows {k} sites but {fixed_in} fixed sites lie in {name!r}"
                raise InfeasibleError(msg)
            if op in (">=", "=="):
                lower_total += k
            if p is not None and op in (">=", "==") and k > p:
                msg = f"quota '{name}{op}{k}' needs more sites than p={p}"
                raise InfeasibleError(msg)
        if p is not None and lower_total > p:
            msg = f"the regional quotas need {lower_total} sites together, more than p={p}"
            raise InfeasibleError(msg)

    def _dominated(self) -> npt.NDArray[np.bool_]:
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
        rows = self.rows
        a = sparse.csr_matrix(
            (np.ones(len(rows.cand)), (rows.cand, rows.row_of_entry())), shape=(n, rows.n)
        )
        size = np.asarray(a.sum(axis=1)).ravel()
        ov = (a @ a.T).tocoo()
        j, k, v = ov.row, ov.col, ov.data
        sub = (j != k) & (v >= size[j]) & ((size[k] > size[j]) | (k < j))
        out[j[sub]] = True
        out[size == 0] = True
        # a candidate covering nothing is dominated by any other
        out &= ~self.fixed
        keep_needed = self.p if self.p is not None else 1
        if (~out).sum() < keep_needed:
            return np.zeros(n, bool)
        return out

    def _constraint_text(self) -> str:
        parts = []
        if self.p is not None:
            parts.append(f"p={self.p}")
        if self.fixed.any():
            parts.append(f"{int(self.fixed.sum())} fixed sites")
        parts += [f"quota '{n}{op}{k}'" for n, (op, k) in self.quotas.items()]
        if self.cap is not None:
            parts.append("capacity")
        return ", ".join(parts) or "the model"

    # ---- shared MILP pieces

    def _site_rows(
        self, n_cols: int
    ) -> tuple[list[I64], list[I64], list[F64], list[float], list[float]]:
        """Cardinality (sum open = p) and quota rows on the first n_active columns."""
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
                if op in (">=", "==") and k > 0:  # pragma: no cover - caught by the pre-check
                    msg = f"quota '{name}{op}{k}': no candidate lies in region {name!r}"
                    raise InfeasibleError(msg)
                continue
            ri.append(np.full(len(members), nrow, np.int64))
            ci.append(members.astype(np.int64))
            vals.append(np.ones(len(members)))
            lo.append(float(k) if op in (">=", "==") else -math.inf)
            hi.append(float(k) if op in ("<=", "==") else math.inf)
            nrow += 1
        return ri, ci, vals, lo, hi

    def _build(self, lp_only: bool = False, fix_open: npt.NDArray[np.bool_] | None = None) -> _Lp:
        raise NotImplementedError

    def _evaluate(self, open_mask: npt.NDArray[np.bool_]) -> float:
        raise NotImplementedError

    def _greedy(self, swap: bool) -> npt.NDArray[np.bool_]:
        raise NotImplementedError

    # ---- solve

    @classmethod
    def from_cost_matrix(cls, costs: Any, **kwargs: Any) -> _Model:
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
            mask = self._greedy(swap=True)
            obj = self._evaluate(mask)
            lp = self._build(lp_only=True)
            bound, status, _ = _run_highs(lp, time_limit, mip_rel_gap, threads, None)
            if status == "infeasible":
                msg = f"the constraints together cannot be met ({self._constraint_text()})"
                raise InfeasibleError(
                    msg
                )
            if status not in ("optimal",):
                bound = math.inf if self.sense < 0 else -math.inf
            return self._result(mask, obj, bound, time.perf_counter() - t0, "heuristic", "greedy")
        if method != "milp":
            msg = f"`method` must be 'milp' or 'greedy', got {method!r}"
            raise InputError(msg)
        try:
            start = self._greedy(swap=False)
        except InfeasibleError:
            raise
        except SolverError:
            start = None
        lp = self._build()
        bound, status, x = _run_highs(lp, time_limit, mip_rel_gap, threads, start)
        if status == "infeasible":
            msg = f"the constraints together cannot be met ({self._constraint_text()})"
            raise InfeasibleError(msg)
        if x is None:
            if start is None:
                msg = f"HiGHS found no solution within the time limit for {self.name}"
                raise SolverError(msg)
            mask = start
        else:
            mask = x[: self.n_active] > 0.5
        obj = self._evaluate(mask)
        if status == "optimal":
            st = "optimal"
        else:
            st = "time-limit-feasible"
        # a bound can never be worse than the solution we hold
        bound = max(bound, obj) if self.sense < 0 else min(bound, obj)
        return self._result(mask, obj, bound, time.perf_counter() - t0, st, "milp")

    # ---- reporting

    def _covering_sets(self) -> tuple[I64, I64]:
        rows = self.rows
        return rows.row_of_entry(), rows.cand

    def _result(
        self,
        mask: npt.NDArray[np.bool_],
        obj: float,
        bound: float,
        seconds: float,
        status: str,
        method: str,
    ) -> Result:
        rows = self.rows
        r_e = rows.row_of_entry()
        open_e = mask[rows.cand]
        cnt = _bincount(r_e[open_e], minlength=rows.n)
        covered = float(rows.weight[cnt > 0].sum())
        sel = np.flatnonzero(mask)
        covers = _bincount(rows.cand[open_e], weights=rows.weight[r_e[open_e]],
                             minlength=self.n_active)
        alone_e = open_e & (cnt[r_e] == 1)
        alone = _bincount(rows.cand[alone_e], weights=rows.weight[r_e[alone_e]],
                            minlength=self.n_active)
        # nearest open site of each row (entries sorted by distance within rows for median)
        assigned = np.zeros(self.n_active)
        if open_e.any():
            e_open = np.flatnonzero(open_e)
            order = np.lexsort((rows.cand[e_open], rows.dist[e_open], r_e[e_open]))
            e_sorted = e_open[order]
            first = np.concatenate([[True], r_e[e_sorted][1:] != r_e[e_sorted][:-1]])
            e_first = e_sorted[first]
            assigned = _bincount(rows.cand[e_first], weights=rows.weight[r_e[e_first]],
                                   minlength=self.n_active)
        served = covered if self.cap is None else self._served(mask)
        recs = []
        for j in sel:
            reg = self.region[j]
            if self.fixed[j]:
                why = "fixed open (required or existing)"
            else:
                why = f"covers {alone[j]:.6g} demand weight no other chosen site covers"
            if reg is not None:
                why += f"; region {reg}"
            recs.append(
                {
                    "candidate_id": self.candidate_ids[self.active[j]],
                    "region": reg,
                    "fixed": bool(self.fixed[j]),
                    "covers_weight": float(covers[j]),
                    "alone_weight": float(alone[j]),
                    "assigned_weight": float(assigned[j]),
                    "reason": why,
                }
            )
        sites = pd.DataFrame(
            recs,
            columns=["candidate_id", "region", "fixed", "covers_weight", "alone_weight",
                     "assigned_weight", "reason"],
        )
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
            served_weight=float(served),
            excluded_weight=float(getattr(self, "excluded_weight", 0.0)),
        )

    def _served(self, mask: npt.NDArray[np.bool_]) -> float:
        """Weight served within capacity by the open sites (max flow as an LP)."""
        lp = _capacitated_coverage_lp(self, mask)
        val, status, _ = _run_highs(lp, None, 1e-9, None, None)
        if status != "optimal":  # pragma: no cover - a fixed transport LP is always feasible
            msg = f"could not evaluate served demand (HiGHS status {status})"
            raise SolverError(msg)
        return val

    # ---- greedy helpers shared by the models

    def _quota_limits(self) -> tuple[dict[str, int], dict[str, int]]:
        lo: dict[str, int] = {}
        hi: dict[str, int] = {}
        for name, (op, k) in self.quotas.items():
            if op in (">=", "=="):
                lo[name] = k
            if op in ("<=", "=="):
                hi[name] = k
        return lo, hi

    def _can_add(self, j: int, count: dict[str, int], hi: dict[str, int]) -> bool:
        r = self.region[j]
        return not (r in hi and count.get(r, 0) + 1 > hi[r])

    def _greedy_fill(
        self,
        gain_fn: Any,
        add_fn: Any,
        n_target: int | None,
        stop_fn: Any = None,
    ) -> npt.NDArray[np.bool_]:
        """Greedy: fixed sites, then quota lower bounds, then best gain until done."""
        mask = np.zeros(self.n_active, bool)
        count: dict[str, int] = {}
        lo, hi = self._quota_limits()
        for j in np.flatnonzero(self.fixed):
            mask[j] = True
            add_fn(int(j))
            r = self.region[j]
            count[r] = count.get(r, 0) + 1

        def pick(allowed: npt.NDArray[np.bool_]) -> int:
            g = gain_fn()
            g = np.where(allowed & ~mask, g, -np.inf)
            j = int(np.argmax(g))
            if not np.isfinite(g[j]):
                return -1
            return j

        for name, k in lo.items():
            members = self.region == name
            while count.get(name, 0) < k:
                j = pick(members)
                if j < 0:  # pragma: no cover - pre-check makes this unreachable
                    msg = f"quota '{name}>={k}' cannot be met"
                    raise InfeasibleError(msg)
                mask[j] = True
                add_fn(j)
                count[name] = count.get(name, 0) + 1
        while True:
            if n_target is not None and mask.sum() >= n_target:
                break
            if stop_fn is not None and stop_fn():
                break
            allowed = np.array([self._can_add(j, count, hi) for j in range(self.n_active)]) if hi \
                else np.ones(self.n_active, bool)
            j = pick(allowed)
            if j < 0:
                if n_target is not None:
                    msg = (
                        f"cannot open {n_target} sites within the quotas "
                        f"({self._constraint_text()})"
                    )
                    raise InfeasibleError(msg)
                msg = "the greedy ran out of candidates before reaching the target"
                raise SolverError(msg)
            mask[j] = True
            add_fn(j)
            r = self.region[j]
            count[r] = count.get(r, 0) + 1
        return mask

    def _swap_ok(self, out: int, inn: int, mask: npt.NDArray[np.bool_]) -> bool:
        if not self.quotas:
            return True
        ra, rb = self.region[out], self.region[inn]
        if ra == rb:
            return True
        lo, hi = self._quota_limits()
        cnt_a = int((self.region[mask] == ra).sum())
        cnt_b = int((self.region[mask] == rb).sum())
        return not ((ra in lo and cnt_a - 1 < lo[ra]) or (rb in hi and cnt_b + 1 > hi[rb]))


# --------------------------------------------------------------------------- HiGHS glue


@dataclass
class _Lp:
    sense: int
    offset: float
    cost: F64
    col_lo: F64
    col_hi: F64
    integer: npt.NDArray[np.int32]
    a: sparse.csr_matrix
    row_lo: F64
    row_hi: F64
    meta: dict[str, Any] = field(default_factory=dict)


def _make_lp(
    sense: int,
    offset: float,
    cost: F64,
    col_lo: F64,
    col_hi: F64,
    n_int: int,
    ri: list[I64],
    ci: list[I64],
    vals: list[F64],
    row_lo: list[F64] | F64,
    row_hi: list[F64] | F64,
    lp_only: bool,
) -> _Lp:
    n_cols = len(cost)
    rlo = np.concatenate([np.atleast_1d(np.asarray(x, np.float64)) for x in row_lo]) if len(
        row_lo
    ) else np.zeros(0)
    rhi = np.concatenate([np.atleast_1d(np.asarray(x, np.float64)) for x in row_hi]) if len(
        row_hi
    ) else np.zeros(0)
    a = sparse.csr_matrix(
        (
            np.concatenate(vals) if vals else np.zeros(0),
            (np.concatenate(ri) if ri else np.zeros(0, np.int64),
             np.concatenate(ci) if ci else np.zeros(0, np.int64)),
        ),
        shape=(len(rlo), n_cols),
    )
    a.sum_duplicates()
    integer = np.zeros(n_cols, np.int32)
    if not lp_only:
        integer[:n_int] = 1
    return _Lp(sense, offset, cost, col_lo, col_hi, integer, a, rlo, rhi)


def _run_highs(
    lp: _Lp,
    time_limit: float | None,
    mip_rel_gap: float,
    threads: int | None,
    start: npt.NDArray[np.bool_] | None,
    heuristic_effort: float | None = None,
) -> tuple[float, str, F64 | None]:
    """Solve; return (bound, status, column values or None).

    ``bound`` is the MIP dual bound (or the LP optimum for a pure LP), in the model's
    sense, including the objective offset.
    """
    import highspy

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("random_seed", int(settings.seed))
    h.setOptionValue("mip_rel_gap", float(mip_rel_gap))
    h.setOptionValue("mip_abs_gap", 1e-7)
    # restarting the root after reduced-cost fixing costs more than it saves on these
    # models (measured: p-median pmed16 42 s -> 21 s, covering p=20 at 200k points 70 s -> 14 s)
    h.setOptionValue("mip_allow_restart", False)
    if threads is not None:
        h.setOptionValue("threads", int(threads))
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    a = lp.a.tocsr()
    a.sort_indices()
    is_mip = bool(lp.integer.any())
    if not is_mip:
        h.setOptionValue("solver", "ipm")  # faster than simplex on the chained rows
    if heuristic_effort is not None:
        h.setOptionValue("mip_heuristic_effort", float(heuristic_effort))
    status = h.passModel(
        len(lp.cost),
        int(a.shape[0]),
        int(a.nnz),
        2,  # row-wise
        int(lp.sense),
        float(lp.offset),
        np.ascontiguousarray(lp.cost, np.float64),
        np.ascontiguousarray(lp.col_lo, np.float64),
        np.ascontiguousarray(lp.col_hi, np.float64),
        np.ascontiguousarray(lp.row_lo, np.float64),
        np.ascontiguousarray(lp.row_hi, np.float64),
        np.ascontiguousarray(a.indptr, np.int32),
        np.ascontiguousarray(a.indices, np.int32),
        np.ascontiguousarray(a.data, np.float64),
        np.ascontiguousarray(lp.integer, np.int32),
    )
    if status == highspy.HighsStatus.kError:
        msg = "HiGHS rejected the model (internal error building it)"
        raise SolverError(msg)
    if start is not None and is_mip:
        idx = np.arange(len(start), dtype=np.int32)
        h.setSolution(len(start), idx, start.astype(np.float64))
    h.run()
    ms = h.getModelStatus()
    if ms == highspy.HighsModelStatus.kModelEmpty:
        # no constraints: each column sits at its better bound
        better_hi = (lp.cost * lp.sense) < 0
        x0 = np.where(better_hi, lp.col_hi, lp.col_lo)
        return float(lp.offset + lp.cost @ x0), "optimal", x0
    info = h.getInfo()
    MS = highspy.HighsModelStatus
    if ms in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        return math.nan, "infeasible", None
    has_sol = info.primal_solution_status == highspy.kSolutionStatusFeasible
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_sol else None
    if ms == MS.kOptimal:
        st = "optimal"
    elif ms in (MS.kTimeLimit, MS.kInterrupt, MS.kSolutionLimit, MS.kIterationLimit):
        st = "time-limit"
    else:
        msg = f"HiGHS stopped with status {h.modelStatusToString(ms)}"
        raise SolverError(msg)
    if is_mip:
        bound = float(info.mip_dual_bound)
    else:
        bound = float(info.objective_function_value) if st == "optimal" else (
            -math.inf if lp.sense > 0 else math.inf
        )
    return bound, st, x


def _capacitated_coverage_lp(model: _Model, mask: npt.NDArray[np.bool_]) -> _Lp:
    """Max served weight with the open set fixed: a transport LP over covered pairs."""
    rows = model.rows
    assert model.cap is not None
    r_e = rows.row_of_entry()
    keep = mask[rows.cand]
    r_e, c_e = r_e[keep], rows.cand[keep]
    m = len(r_e)
    cost = np.ones(m)
    ri = [r_e, rows.n + c_e]
    ci = [np.arange(m), np.arange(m)]
    vals = [np.ones(m), rows.weight[r_e]]
    # flows are fractions of each row: sum_j f_rj <= 1, sum_r w_r f_rj <= cap_j
    cost = rows.weight[r_e].copy()
    return _make_lp(
        -1, 0.0, cost, np.zeros(m), np.ones(m), 0, ri, ci, vals,
        [np.full(rows.n, -math.inf), np.full(model.n_active, -math.inf)],
        [np.ones(rows.n), model.cap],
        True,
    )


def _bincount(x: Any, weights: Any = None, minlength: int = 0) -> Any:
    """np.bincount that returns floats when weighted, even for empty input."""
    out = np.bincount(np.asarray(x, np.int64), weights=weights, minlength=minlength)
    return out.astype(np.float64) if weights is not None else out


def _to_coo(costs: Any, cutoff: float | None) -> tuple[sparse.coo_matrix, int, int]:
    """Validated COO (candidates x demand) of finite entries within the cutoff."""
    if sparse.issparse(costs):
        coo = sparse.coo_matrix(costs)
        data = np.asarray(coo.data, np.float64)
        row, col = coo.row, coo.col
    else:
        arr = np.asarray(costs, dtype=np.float64)
        if arr.ndim != 2:
            msg = f"the cost matrix must be 2-D (candidates x demand), got shape {arr.shape}"
            raise InputError(msg)
        row, col = np.nonzero(np.isfinite(arr))
        data = arr[row, col]
        coo = sparse.coo_matrix((data, (row, col)), shape=arr.shape)
    n_c, n_d = coo.shape
    ok = np.isfinite(data)
    if np.any(data[ok] < 0):
        msg = "the cost matrix has negative entries; travel times and distances must be >= 0"
        raise InputError(msg)
    if cutoff is not None:
        if not (math.isfinite(cutoff) and cutoff >= 0):
            msg = f"`cutoff` must be a finite number >= 0, got {cutoff}"
            raise InputError(msg)
        ok &= data <= cutoff
    row, col, data = row[ok], col[ok], data[ok]
    if len(row):
        key = row.astype(np.int64) * n_d + col
        if len(np.unique(key)) != len(key):
            msg = "the cost matrix has duplicate (candidate, demand) entries; give each pair once"
            raise InputError(msg)
    return sparse.coo_matrix((data, (row, col)), shape=(n_c, n_d)), n_c, n_d


# --------------------------------------------------------------------------- coverage


class MaximalCovering(_Model):
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
        :class:`Capacity`; demand above a site's capacity is not counted as served.

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

    def __init__(self, costs: Any, *, weights: npt.ArrayLike | None = None,
                 candidate_ids: Sequence[Any] | None = None, p: int, **kw: Any) -> None:
        super().__init__(costs, weights=weights, candidate_ids=candidate_ids, p=p, **kw)

    def _build(self, lp_only: bool = False, fix_open: npt.NDArray[np.bool_] | None = None) -> _Lp:
        if self.cap is not None:
            return _coverage_capacity_lp(self, lp_only, target=None)
        rows = self.rows
        n = self.n_active
        lens = np.diff(rows.ptr)
        single = lens == 1
        y_cost = _bincount(rows.cand[rows.ptr[:-1][single]], weights=rows.weight[single],
                             minlength=n)
        multi = np.flatnonzero(~single)
        nm = len(multi)
        cost = np.concatenate([y_cost, rows.weight[multi]])
        col_lo = np.concatenate([self.fixed.astype(np.float64), np.zeros(nm)])
        col_hi = np.concatenate([(~self._dominated()).astype(np.float64), np.ones(nm)])
        # rows: covered_r - sum open_j <= 0
        r_e = rows.row_of_entry()
        mpos = np.full(rows.n, -1, np.int64)
        mpos[multi] = np.arange(nm)
        em = mpos[r_e] >= 0
        ri, ci, vals, lo, hi = self._site_rows(n + nm)
        base = len(lo)
        ri += [base + np.arange(nm), base + mpos[r_e[em]]]
        ci += [n + np.arange(nm), rows.cand[em]]
        vals += [np.ones(nm), -np.ones(int(em.sum()))]
        lo_a = [np.asarray(lo), np.full(nm, -math.inf)]
        hi_a = [np.asarray(hi), np.zeros(nm)]
        return _make_lp(-1, 0.0, cost, col_lo, col_hi, n, ri, ci, vals, lo_a, hi_a, lp_only)

    def _evaluate(self, mask: npt.NDArray[np.bool_]) -> float:
        if self.cap is not None:
            return self._served(mask)
        rows = self.rows
        r_e = rows.row_of_entry()
        cnt = _bincount(r_e[mask[rows.cand]], minlength=rows.n)
        return float(rows.weight[cnt > 0].sum())

    def _greedy(self, swap: bool) -> npt.NDArray[np.bool_]:
        return _coverage_greedy(self, n_target=self.p, target_weight=None, swap=swap)


def _capacity_rows(ri: list[Any], ci: list[Any], vals: list[Any], start: int, model: _Model, c_e: I64,
                   wr: F64) -> None:
    """Append the capacity rows shared by the capacitated models, from row ``start`` on.

    Columns: ``open_j`` at ``0..n-1`` and the flows ``f_e`` at ``n..n+m-1``. Rows:
    ``sum_r w_r f_rj - cap_j open_j <= 0`` (n rows), then ``f_e - open_j(e) <= 0`` (m rows).
    """
    n = model.n_active
    m = len(c_e)
    b3 = start + n
    ri += [start + c_e, start + np.arange(n), b3 + np.arange(m), b3 + np.arange(m)]
    ci += [n + np.arange(m), np.arange(n), n + np.arange(m), c_e]
    vals += [wr, -model.cap, np.ones(m), -np.ones(m)]


def _coverage_capacity_lp(model: _Model, lp_only: bool, target: float | None) -> _Lp:
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
    ri, ci, vals, lo, hi = model._site_rows(n + m)
    base = len(lo)
    # sum_j f_rj <= 1
    ri.append(base + r_e)
    ci.append(n + np.arange(m))
    vals.append(np.ones(m))
    _capacity_rows(ri, ci, vals, base + rows.n, model, c_e, wr)
    lo_a: list[F64] = [np.asarray(lo), np.full(rows.n + n + m, -math.inf)]
    hi_a: list[F64] = [np.asarray(hi), np.ones(rows.n), np.zeros(n), np.zeros(m)]
    col_lo = np.concatenate([model.fixed.astype(np.float64), np.zeros(m)])
    col_hi = np.ones(n + m)
    if target is None:
        cost = np.concatenate([np.zeros(n), wr])
        return _make_lp(-1, 0.0, cost, col_lo, col_hi, n, ri, ci, vals, lo_a, hi_a, lp_only)
    b4 = base + rows.n + n + m  # after the capacity rows
    ri.append(np.full(m, b4))
    ci.append(n + np.arange(m))
    vals.append(wr)
    lo_a.append(np.array([target]))
    hi_a.append(np.array([math.inf]))
    cost = np.concatenate([np.ones(n), np.zeros(m)])
    return _make_lp(1, 0.0, cost, col_lo, col_hi, n, ri, ci, vals, lo_a, hi_a, lp_only)


def _coverage_greedy(
    model: _Model, *, n_target: int | None, target_weight: float | None, swap: bool
) -> npt.NDArray[np.bool_]:
    """Greedy coverage (with capacity: proportional assignment of each new site's room)."""
    rows = model.rows
    n = model.n_active
    r_e = rows.row_of_entry()
    c_e = rows.cand
    cnt = np.zeros(rows.n, np.int64)
    resid = rows.weight.copy()  # capacity case: weight not yet served
    csc = sparse.csr_matrix((np.ones(len(c_e)), (c_e, r_e)), shape=(n, rows.n))
    state = {"served": 0.0}

    def gain() -> F64:
        if model.cap is None:
            return _bincount(c_e, weights=rows.weight[r_e] * (cnt[r_e] == 0), minlength=n)
        avail = _bincount(c_e, weights=resid[r_e], minlength=n)
        return np.minimum(avail, model.cap)

    def add(j: int) -> None:
        members = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
        if model.cap is None:
            state["served"] += float(rows.weight[members[cnt[members] == 0]].sum())
            cnt[members] += 1
        else:
            tot = float(resid[members].sum())
            take = min(tot, float(model.cap[j]))
            if tot > 0:
                resid[members] *= 1.0 - take / tot
            state["served"] += take
            cnt[members] += 1

    stop = None
    if target_weight is not None:
        def stop() -> bool:
            return state["served"] >= target_weight * (1 - 1e-12)

    mask = model._greedy_fill(gain, add, n_target, stop)
    if target_weight is not None and state["served"] < target_weight * (1 - 1e-12):
        # pragma: no cover - pick() raises first
        msg = "the greedy cannot reach the coverage target"
        raise SolverError(msg)
    if not swap:
        return mask
    if target_weight is not None:
        return _drop_redundant(model, mask, target_weight)
    if model.cap is not None:
        return mask  # swaps need the exact served LP; the greedy keeps its choice
    improved = True
    it = 0
    while improved and it < 50:
        improved = False
        it += 1
        for j in np.flatnonzero(mask & ~model.fixed):
            members = csc.indices[csc.indptr[j] : csc.indptr[j + 1]]
            loss = float(rows.weight[members[cnt[members] == 1]].sum())
            cnt[members] -= 1
            mask[j] = False
            g = gain()
            g[mask] = -np.inf
            g[j] = -np.inf
            order = np.argsort(-g, kind="stable")
            done = False
            for k in order[:50]:
                if g[k] <= loss + _EPS * max(1.0, loss):
                    break
                if model._swap_ok(int(j), int(k), mask | (np.arange(n) == j)):
                    kmem = csc.indices[csc.indptr[k] : csc.indptr[k + 1]]
                    cnt[kmem] += 1
                    mask[k] = True
                    improved = done = True
                    break
            if not done:
                cnt[members] += 1
                mask[j] = True
    return mask


def _drop_redundant(model: _Model, mask: npt.NDArray[np.bool_], target: float) -> npt.NDArray[np.bool_]:
    lo, _ = model._quota_limits()
    for j in np.flatnonzero(mask & ~model.fixed)[::-1]:
        r = model.region[j]
        if r in lo and int((model.region[mask] == r).sum()) - 1 < lo[r]:
            continue
        mask[j] = False
        if model._evaluate_served(mask) < target * (1 - 1e-12):  # type: ignore[attr-defined]
            mask[j] = True
    return mask


# --------------------------------------------------------------------------- fewest sites


class FewestSites(_Model):
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

    def __init__(self, costs: Any, *, weights: npt.ArrayLike | None = None,
                 candidate_ids: Sequence[Any] | None = None, target: float, **kw: Any) -> None:
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

    def _evaluate_served(self, mask: npt.NDArray[np.bool_]) -> float:
        if self.cap is not None:
            return self._served(mask)
        rows = self.rows
        r_e = rows.row_of_entry()
        cnt = _bincount(r_e[mask[rows.cand]], minlength=rows.n)
        return float(rows.weight[cnt > 0].sum())

    def _evaluate(self, mask: npt.NDArray[np.bool_]) -> float:
        return float(mask.sum())

    def _build(self, lp_only: bool = False, fix_open: npt.NDArray[np.bool_] | None = None) -> _Lp:
        if self.cap is not None:
            return _coverage_capacity_lp(self, lp_only, target=self.target_weight)
        rows = self.rows
        n = self.n_active
        m = rows.n
        r_e = rows.row_of_entry()
        cost = np.concatenate([np.ones(n), np.zeros(m)])
        col_lo = np.concatenate([self.fixed.astype(np.float64), np.zeros(m)])
        col_hi = np.concatenate([(~self._dominated()).astype(np.float64), np.ones(m)])
        ri, ci, vals, lo, hi = self._site_rows(n + m)
        base = len(lo)
        ri += [base + np.arange(m), base + r_e, np.full(m, base + m)]
        ci += [n + np.arange(m), rows.cand, n + np.arange(m)]
        vals += [np.ones(m), -np.ones(len(r_e)), rows.weight]
        lo_a = [np.asarray(lo), np.full(m, -math.inf), np.array([self.target_weight * (1 - 1e-12)])]
        hi_a = [np.asarray(hi), np.zeros(m), np.array([math.inf])]
        return _make_lp(1, 0.0, cost, col_lo, col_hi, n, ri, ci, vals, lo_a, hi_a, lp_only)

    def _greedy(self, swap: bool) -> npt.NDArray[np.bool_]:
        return _coverage_greedy(self, n_target=None, target_weight=self.target_weight, swap=swap)

    def _result(self, mask, obj, bound, seconds, status, method):  # type: ignore[no-untyped-def]
        # the number of sites is an integer: a fractional bound rounds up
        if method == "greedy" or status != "optimal":
            bound = math.ceil(bound - 1e-6) if math.isfinite(bound) else bound
        return super()._result(mask, obj, bound, seconds, status, method)


# --------------------------------------------------------------------------- p-median


class PMedian(_Model):
    """Choose ``p`` sites minimising total weighted walking minutes.

    Parameters
    ----------
    costs, weights, candidate_ids, p, cutoff, regions, quotas, fixed, excluded, capacity
        As for :class:`MaximalCovering`.
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
    _merge_by_distance = True

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
        complete = bool(np.all(np.diff(rows.ptr) == self.n_active)) and self.unreached_weight == 0
        maxd = float(rows.dist.max()) if len(rows.dist) else 0.0
        self.excluded_weight = 0.0
        if beyond == "penalty" and not complete:
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
        self._complete = complete

    # -- exact value of an open set
    def _row_costs(self, mask: npt.NDArray[np.bool_]) -> F64:
        rows = self.rows
        r_e = rows.row_of_entry()
        big = self.penalty if self.beyond == "penalty" else math.inf
        best = np.full(rows.n, big if not self._complete else math.inf)
        o = mask[rows.cand]
        np.minimum.at(best, r_e[o], rows.dist[o])
        return best

    def _evaluate(self, mask: npt.NDArray[np.bool_]) -> float:
        if self.cap is not None:
            lp = _median_capacity_lp(self, lp_only=True, fix=mask)
            val, status, _ = _run_highs(lp, None, 1e-9, None, None)
            if status == "infeasible":
                return math.inf
            return val
        best = self._row_costs(mask)
        val = float(np.dot(self.rows.weight, best)) if len(best) else 0.0
        if self.beyond == "penalty":
            val += self.unreached_weight * (0.0 if math.isnan(self.penalty) else self.penalty)
        return val

    def _build(self, lp_only: bool = False, fix_open: npt.NDArray[np.bool_] | None = None) -> _Lp:
        if self.cap is not None:
            return _median_capacity_lp(self, lp_only=lp_only, fix=None)
        return _median_radius_lp(self, lp_only)

    def solve(
        self,
        time_limit: float | None = None,
        *,
        method: Literal["milp", "greedy"] = "milp",
        mip_rel_gap: float = 1e-9,
        threads: int | None = None,
    ) -> Result:
        """Solve; see :meth:`MaximalCovering.solve`.

        Without capacity the MILP is solved by row generation on the radius formulation:
        each demand row starts with only the distance levels up to its distance in the
        greedy-plus-swap solution (a relaxation: farther levels are not charged), the
        relaxed MILP is solved, and rows whose nearest chosen site lies beyond their
        levels get more levels, until the relaxed optimum costs what it claims. The
        relaxed optimum is a lower bound throughout, so the reported bound stays honest
        when the time limit stops the loop.
        """
        if method != "milp" or self.cap is not None:
            return super().solve(time_limit, method=method, mip_rel_gap=mip_rel_gap,
                                 threads=threads)
        t0 = time.perf_counter()
        info = _median_levels(self)
        r_e, lev, n_lev = info["r_e"], info["lev"], info["n_lev"]

        def true_level(mask: npt.NDArray[np.bool_]) -> I64:
            out = n_lev.copy()
            o = mask[self.rows.cand]
            np.minimum.at(out, r_e[o], lev[o])
            return out

        try:
            best_mask: npt.NDArray[np.bool_] | None = self._greedy(swap=True)
        except SolverError:
            best_mask = None
        if best_mask is not None:
            best_obj = self._evaluate(best_mask)
            cap: I64 | None = true_level(best_mask)
        else:
            best_obj = math.inf
            cap = None
        if cap is not None:
            cap = np.minimum(cap + _CAP_MARGIN, n_lev)
            cap = self._lp_levels(cap, info, time_limit, t0, threads)
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
            lp = _median_radius_lp(self, False, cap)
            # the greedy-plus-swap start is strong: HiGHS's own heuristics rarely pay here
            b, st, x = _run_highs(lp, remaining, mip_rel_gap, threads, best_mask,
                                  heuristic_effort=0.0 if best_mask is not None else None)
            if st == "infeasible":
                msg = f"the constraints together cannot be met ({self._constraint_text()})"
                raise InfeasibleError(msg)
            if math.isfinite(b):
                bound = max(bound, b)
            mask = None
            if x is not None:
                mask = x[: self.n_active] > 0.5
                obj = self._evaluate(mask)
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
            log.info("p-median row generation %d: bound %.6g, best %.6g, %d rows extended",
                     it, bound, best_obj, int(viol.sum()))
            if not viol.any():  # pragma: no cover - then best_obj == bound above
                proven = True
                break
            assert cap is not None
            cap = np.where(viol, np.maximum(tl, cap + _CAP_MARGIN), cap)
        if best_mask is None:
            msg = "HiGHS found no p-median solution within the time limit"
            raise SolverError(msg)
        bound = min(bound, best_obj)
        status = "optimal" if proven else "time-limit-feasible"
        return self._result(best_mask, best_obj, bound, time.perf_counter() - t0, status, "milp")

    def _lp_levels(
        self,
        cap: I64,
        info: dict[str, Any],
        time_limit: float | None,
        t0: float,
        threads: int | None,
    ) -> I64:
        """Extend the rows' levels until the relaxed LP optimum is the full LP optimum.

        A row whose last "beyond" variable is positive in the LP would keep paying past
        its cap in the full model; it gets the levels up to where the open fractions at
        its next distances use that remainder up.
        """
        rows = self.rows
        r_e, lev, n_lev = info["r_e"], info["lev"], info["n_lev"]
        for _ in range(100):
            if time_limit is not None and time.perf_counter() - t0 > time_limit:
                break
            lp = _median_radius_lp(self, True, cap)
            _, st, x = _run_highs(lp, None, 1e-9, threads, None)
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

    def _greedy(self, swap: bool) -> npt.NDArray[np.bool_]:
        rows = self.rows
        n = self.n_active
        r_e = rows.row_of_entry()
        c_e = rows.cand
        # an unreachable row costs "big"; with exclude, big makes any reach worth it
        if self.beyond == "penalty" and not self._complete:
            big = self.penalty
        else:
            dmax = float(rows.dist.max()) if len(rows.dist) else 0.0
            big = (dmax + 1.0) * max(1.0, float(rows.weight.sum())) * 4.0
        best = np.full(rows.n, big)
        wr = rows.weight[r_e]

        def gain() -> F64:
            return _bincount(c_e, weights=wr * np.maximum(0.0, best[r_e] - rows.dist),
                               minlength=n)

        col = sparse.csr_matrix((np.arange(len(c_e)) + 1, (c_e, r_e)), shape=(n, rows.n))

        def add(j: int) -> None:
            e = col.data[col.indptr[j] : col.indptr[j + 1]].astype(np.int64) - 1
            np.minimum.at(best, r_e[e], rows.dist[e])

        mask = self._greedy_fill(gain, add, self.p)

        def recompute(m: npt.NDArray[np.bool_]) -> F64:
            b = np.full(rows.n, big)
            o = m[c_e]
            np.minimum.at(b, r_e[o], rows.dist[o])
            return b

        if swap:
            improved = True
            it = 0
            cur = float(np.dot(rows.weight, best))
            while improved and it < 50:
                improved = False
                it += 1
                for j in np.flatnonzero(mask & ~self.fixed):
                    mask[j] = False
                    b_wo = recompute(mask)
                    cost_wo = float(np.dot(rows.weight, b_wo))
                    best[:] = b_wo
                    g = gain()
                    g[mask] = -np.inf
                    g[j] = -np.inf
                    done = False
                    for k in np.argsort(-g, kind="stable")[:50]:
                        if cost_wo - g[k] >= cur - _EPS * max(1.0, abs(cur)):
                            break
                        if self._swap_ok(int(j), int(k), mask | (np.arange(n) == j)):
                            mask[k] = True
                            best[:] = recompute(mask)
                            cur = float(np.dot(rows.weight, best))
                            improved = done = True
                            break
                    if not done:
                        mask[j] = True
                        best[:] = recompute(mask)
        if self.beyond == "exclude" and np.any(recompute(mask) >= big):
            msg = (
                "the greedy left demand beyond the cutoff of every chosen site "
                "(beyond='exclude'); use the MILP or a penalty"
            )
            raise SolverError(msg)
        return mask


def _median_levels(model: PMedian) -> dict[str, Any]:
    """Per entry its distance level within its row, and per row the level counts."""
    rows = model.rows
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
    return {"r_e": r_e, "lev": lev, "n_lev": n_lev}


def _median_radius_lp(model: PMedian, lp_only: bool, cap_level: I64 | None = None) -> _Lp:
    """The compact radius formulation (see the module docstring).

    ``cap_level`` (per row) relaxes the model: row r pays at most its level-``cap`` distance
    (levels above are dropped), so the optimum is a lower bound; exact when no row's
    nearest open site lies above its cap.
    """
    rows = model.rows
    n = model.n_active
    p = model.p
    assert p is not None
    r_e = rows.row_of_entry()
    m_e = len(r_e)
    lens = np.diff(rows.ptr)
    start = rows.ptr[:-1]
    pos = np.arange(m_e) - start[r_e]  # position within row (sorted by distance)
    new = np.ones(m_e, bool)
    if m_e:
        new[1:] = (r_e[1:] != r_e[:-1]) | (rows.dist[1:] != rows.dist[:-1])
    g = np.cumsum(new) - 1
    lev = g - g[start[r_e]] if m_e else g
    n_lev = np.zeros(rows.n, np.int64)
    if m_e:
        n_lev = lev[rows.ptr[1:] - 1] + 1
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
    has_pen = model.beyond == "penalty" and not model._complete
    if model.beyond == "penalty":
        incomplete = lens < n
    else:
        incomplete = np.zeros(rows.n, bool)
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
    lv = rows.dist[new]
    l_off = np.concatenate([[0], np.cumsum(n_lev)])
    # z costs: w_r (D[k+1] - D[k]) with D[L] = penalty
    zr = np.repeat(np.arange(rows.n), z_n)
    zk = np.arange(n_z) - z_off[zr]
    d_k = lv[l_off[zr] + zk]
    nxt = l_off[zr] + zk + 1
    d_next = np.where(zk + 1 < n_lev[zr], lv[np.minimum(nxt, len(lv) - 1)] if len(lv) else 0.0,
                      model.penalty if has_pen else 0.0)
    z_cost = rows.weight[zr] * (d_next - d_k)
    first_level = lv[l_off[:-1][n_lev > 0]] if len(lv) else np.zeros(0)
    offset = float(np.dot(rows.weight[n_lev > 0], first_level))
    if model.beyond == "penalty" and model.unreached_weight > 0:
        offset += model.unreached_weight * model.penalty
    # matrix entries
    ri, ci, vals, lo, hi = model._site_rows(n + n_z)
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
    out = _make_lp(
        1, offset, cost, col_lo, col_hi, n, ri, ci, vals,
        [np.asarray(lo), row_lo_c], [np.asarray(hi), np.full(n_rows, math.inf)], lp_only,
    )
    out.meta = {"z_n": z_n, "z_off": z_off, "relaxed": relaxed}
    return out


def _median_capacity_lp(model: PMedian, lp_only: bool, fix: npt.NDArray[np.bool_] | None) -> _Lp:
    """Capacitated p-median: assignment fractions per pair plus an unserved fraction."""
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
        ri, ci, vals, lo, hi = model._site_rows(n + m + rows.n)
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
    _capacity_rows(ri, ci, vals, base + rows.n, model, c_e, wr)
    lo_a = [np.asarray(lo), np.ones(rows.n), np.full(n + m, -math.inf)]
    hi_a = [np.asarray(hi), np.ones(rows.n), np.zeros(n + m)]
    cost = np.concatenate([np.zeros(n), wr * rows.dist, rows.weight * pen])
    col_lo = np.concatenate([y_lo, np.zeros(m + rows.n)])
    col_hi = np.concatenate([y_hi, np.ones(m), u_hi])
    offset = model.unreached_weight * pen if model.beyond == "penalty" else 0.0
    return _make_lp(1, offset, cost, col_lo, col_hi, n, ri, ci, vals, lo_a, hi_a, lp_only)


# --------------------------------------------------------------------------- curve


def coverage_curve(
    costs: Any,
    *,
    k_max: int,
    time_limit: float | None = None,
    method: Literal["milp", "greedy"] = "milp",
    **kwargs: Any,
) -> pd.DataFrame:
    """Best coverage for 1..``k_max`` sites (maximal covering solved for each ``p``).

    Keyword arguments are those of :class:`MaximalCovering` (``p`` excluded). Numbers of
    sites the constraints cannot meet (fewer than the fixed sites, quotas) are left out.

    Returns
    -------
    DataFrame with ``n_sites``, ``covered_weight``, ``covered_share``, ``bound``, ``gap``,
    ``status``, ``chosen`` (ids joined by ``;``).
    """
    recs = []
    for k in range(1, int(k_max) + 1):
        try:
            model = MaximalCovering(costs, p=k, **kwargs)
        except InfeasibleError as err:
            log.info("coverage curve: %d sites infeasible (%s)", k, err)
            continue
        r = model.solve(time_limit, method=method)
        recs.append(
            {
                "n_sites": k,
                "covered_weight": r.objective,
                "covered_share": r.objective / r.total_weight if r.total_weight else 0.0,
                "bound": r.bound,
                "gap": r.gap,
                "status": r.status,
                "chosen": ";".join(r.chosen),
            }
        )
    return pd.DataFrame(
        recs, columns=["n_sites", "covered_weight", "covered_share", "bound", "gap", "status",
                       "chosen"]
    )
