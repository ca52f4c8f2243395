"""An attacker's tools against our shareable outputs (used by the attack suite).

:class:`Audit` is the interval audit: unknown whole counts ``x >= 0`` (incidents per
"atom", the finest pieces the published geometry splits the study area into), and every
published figure as a linear relation ``lo <= sum(coef * x) <= hi``. The feasible range of
any combination of unknowns is then a pair of integer programmes (HiGHS, through
scipy.optimize.milp). A protected value (a true count of 1..threshold) is *pinned* when
its whole feasible range lies inside 1..threshold: the attacker has recovered a small
count, or proved that a small area holds an incident.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, milp

#: Upper bound for unknowns nothing else bounds (more incidents than any test holds).
BIG = 1e6


@dataclass
class Audit:
    """Linear relations an attacker knows about ``n`` unknown non-negative whole counts."""

    n: int
    integer: bool = True
    rows: list[tuple[np.ndarray, np.ndarray, float, float]] = field(default_factory=list)
    upper: np.ndarray | None = None

    def add(self, idx, lo: float, hi: float, coef=None) -> None:  # type: ignore[no-untyped-def]
        """``lo <= sum(coef[k] * x[idx[k]]) <= hi`` (``hi`` may be ``inf``)."""
        idx = np.asarray(idx, dtype=np.int64)
        c = np.ones(idx.size) if coef is None else np.asarray(coef, dtype=np.float64)
        self.rows.append((idx, c, float(lo), float(hi) if math.isfinite(hi) else np.inf))

    def _matrix(self) -> tuple[sparse.csr_matrix, np.ndarray, np.ndarray]:
        r, c, v, lo, hi = [], [], [], [], []
        for k, (idx, coef, a, b) in enumerate(self.rows):
            r.extend([k] * idx.size)
            c.extend(idx.tolist())
            v.extend(coef.tolist())
            lo.append(a)
            hi.append(b)
        a_mat = sparse.csr_matrix((v, (r, c)), shape=(len(self.rows), self.n))
        return a_mat, np.array(lo), np.array(hi)

    def range(self, idx, coef=None) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        """Least and greatest feasible value of ``sum(coef * x[idx])`` (``inf`` if unbounded)."""
        idx = np.asarray(idx, dtype=np.int64)
        obj = np.zeros(self.n)
        np.add.at(obj, idx, 1.0 if coef is None else np.asarray(coef, dtype=np.float64))
        a_mat, lo, hi = self._matrix()
        cons = [LinearConstraint(a_mat, lo, hi)] if len(self.rows) else []
        ub = np.full(self.n, BIG) if self.upper is None else self.upper
        bounds = Bounds(np.zeros(self.n), ub)
        integrality = np.ones(self.n) if self.integer else np.zeros(self.n)
        out = []
        for sign in (1.0, -1.0):
            res = milp(
                sign * obj,
                constraints=cons,
                bounds=bounds,
                integrality=integrality,
                options={"presolve": True, "mip_rel_gap": 0.0},
            )
            if res.status != 0:
                msg = f"audit programme not solved: {res.message}"
                raise AssertionError(msg)
            out.append(sign * res.fun)
        lo_v, hi_v = out
        return float(lo_v), (math.inf if hi_v >= BIG / 2 else float(hi_v))

    def feasible(self) -> bool:
        a_mat, lo, hi = self._matrix()
        res = milp(
            np.zeros(self.n),
            constraints=[LinearConstraint(a_mat, lo, hi)],
            bounds=Bounds(np.zeros(self.n), np.full(self.n, BIG)),
            integrality=np.ones(self.n) if self.integer else np.zeros(self.n),
        )
        return res.status == 0


def pinned(lo: float, hi: float, threshold: int) -> bool:
    """Is a feasible range confined to 1..threshold (a small count recovered)?"""
    return math.ceil(lo - 1e-6) >= 1 and math.floor(hi + 1e-6) <= threshold


def located(lo: float) -> bool:
    """Is a piece proved to hold at least one incident?"""
    return math.ceil(lo - 1e-6) >= 1
