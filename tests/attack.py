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
        key = len(self.rows)
        cached = self.__dict__.get("_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        r, c, v, lo, hi = [], [], [], [], []
        for k, (idx, coef, a, b) in enumerate(self.rows):
            r.extend([k] * idx.size)
            c.extend(idx.tolist())
            v.extend(coef.tolist())
            lo.append(a)
            hi.append(b)
        a_mat = sparse.csr_matrix((v, (r, c)), shape=(len(self.rows), self.n))
        out = (a_mat, np.array(lo), np.array(hi))
        self.__dict__["_cache"] = (key, out)
        return out

    def least(self, idx, coef=None) -> float:  # type: ignore[no-untyped-def]
        """Least feasible value of ``sum(coef * x[idx])``."""
        return self._extreme(idx, coef, 1.0)

    def most(self, idx, coef=None) -> float:  # type: ignore[no-untyped-def]
        """Greatest feasible value of ``sum(coef * x[idx])``."""
        return self._extreme(idx, coef, -1.0)

    def range(self, idx, coef=None) -> tuple[float, float]:  # type: ignore[no-untyped-def]
        """Least and greatest feasible value of ``sum(coef * x[idx])`` (``inf`` if unbounded)."""
        lo = self._extreme(idx, coef, 1.0)
        hi = self._extreme(idx, coef, -1.0)
        return lo, (math.inf if hi >= BIG / 2 else hi)

    def _objective(self, idx, coef) -> np.ndarray:  # type: ignore[no-untyped-def]
        obj = np.zeros(self.n)
        np.add.at(obj, np.asarray(idx, dtype=np.int64), 1.0 if coef is None else np.asarray(coef, np.float64))
        return obj

    def _classes(self) -> tuple[np.ndarray, sparse.csr_matrix, np.ndarray, np.ndarray]:
        """Unknowns that enter every relation alike, merged into one (an exact reduction for
        whole non-negative counts): class of each unknown, and the merged relations."""
        key = (len(self.rows), self.n)
        cached = self.__dict__.get("_merged")
        if cached is not None and cached[0] == key:
            return cached[1]
        a_mat, lo, hi = self._matrix()
        csc = a_mat.tocsc()
        csc.sort_indices()
        sig = {}
        cls = np.empty(self.n, dtype=np.int64)
        for j in range(self.n):
            a, b = csc.indptr[j], csc.indptr[j + 1]
            k = (csc.indices[a:b].tobytes(), np.round(csc.data[a:b], 9).tobytes())
            cls[j] = sig.setdefault(k, len(sig))
        first = np.zeros(len(sig), dtype=np.int64)
        first[cls[::-1]] = np.arange(self.n)[::-1]
        merged = csc[:, first].tocsr()
        out = (cls, merged, lo, hi)
        self.__dict__["_merged"] = (key, out)
        return out

    def _extreme(self, idx, coef, sign: float) -> float:  # type: ignore[no-untyped-def]
        """min (sign 1) or max (sign -1) as an integer programme over merged unknowns.

        Unknowns in one class may be merged when the objective treats them alike too (it
        does for every region built from atoms and cells); otherwise the full model is used.
        """
        obj = self._objective(idx, coef)
        cls, merged, lo, hi = self._classes()
        n_cls = merged.shape[1]
        per = np.full(n_cls, np.nan)
        per[cls] = obj  # last write wins; uniform classes give the same value
        uniform = np.allclose(per[cls], obj)
        if uniform and self.upper is None:
            a_mat, c, n = merged, per, n_cls
        else:
            a_mat, c, n = self._matrix()[0], obj, self.n
        cons = [LinearConstraint(a_mat, lo, hi)] if len(self.rows) else []
        ub = np.full(n, BIG) if (self.upper is None or n != self.n) else self.upper
        res = milp(
            sign * c,
            constraints=cons,
            bounds=Bounds(np.zeros(n), ub),
            integrality=np.ones(n) if self.integer else np.zeros(n),
            options={"presolve": True, "mip_rel_gap": 0.0},
        )
        if res.status != 0:
            msg = f"audit programme not solved: {res.message}"
            raise AssertionError(msg)
        return float(sign * res.fun)

    def feasible(self) -> bool:
        """Do the relations admit any whole counts at all (LP relaxation first: quick no)?"""
        _, merged, lo, hi = self._classes()
        n = merged.shape[1]
        cons = [LinearConstraint(merged, lo, hi)]
        for integer in (False, True) if self.integer else (False,):
            res = milp(
                np.zeros(n),
                constraints=cons,
                bounds=Bounds(np.zeros(n), np.full(n, BIG)),
                integrality=np.ones(n) if integer else np.zeros(n),
            )
            if res.status != 0:
                return False
        return True


def pinned(lo: float, hi: float, threshold: int) -> bool:
    """Is a feasible range confined to 1..threshold (a small count recovered)?"""
    return math.ceil(lo - 1e-6) >= 1 and math.floor(hi + 1e-6) <= threshold


def located(lo: float) -> bool:
    """Is a piece proved to hold at least one incident?"""
    return math.ceil(lo - 1e-6) >= 1


# ===================================================================== the attacker's map
def parse_label(text: object, threshold: int, base: int) -> tuple[float, float]:
    """The whole counts a published label stands for (the rule is public)."""
    from siting.privacy import Rule

    s = str(text).strip()
    if s.startswith("fewer than "):
        return 0.0, float(int(s.removeprefix("fewer than ").replace(",", "")) - 1)
    if s in ("not shown", ""):
        return float(threshold + 1), math.inf
    return tuple(float(v) for v in Rule(threshold, base, allow_weaker=True).window(float(s.replace(",", ""))))  # type: ignore[return-value]


@dataclass
class Atoms:
    """The pieces an attacker splits the study area into with the published geometry.

    Possible incident positions are points every ``spacing_m`` along every street (and the
    true incidents, whose pieces are possible by definition); a piece is the set of
    positions sharing a hexagon cell and the same membership in every published catchment.
    """

    cell: np.ndarray  # cell index of each atom
    member: np.ndarray  # atoms x catchments, bool
    street_m: np.ndarray  # street length of each atom
    incident_atom: np.ndarray  # atom of each true incident

    @property
    def n(self) -> int:
        return int(self.cell.size)


def street_points(net, spacing_m: float = 5.0):  # type: ignore[no-untyped-def]
    """Points every ``spacing_m`` along every edge, as snapped points, with x, y and length."""
    import shapely

    from siting.network import Snapped

    length = np.asarray(net.edge_length_m, dtype=np.float64)
    n = np.maximum(1, np.ceil(length / spacing_m)).astype(np.int64)
    edge = np.repeat(np.arange(length.size), n)
    start = np.repeat(np.cumsum(n) - n, n)
    k = np.arange(edge.size) - start
    step = length[edge] / n[edge]
    offset = (k + 0.5) * step
    xy = shapely.get_coordinates(shapely.line_interpolate_point(net.edge_geometries()[edge], offset))
    snapped = Snapped(
        np.arange(edge.size), edge, offset, np.zeros(edge.size), np.zeros(0, np.int64), edge.size
    )
    return snapped, xy, step


def catchments(net, candidates, targets, cutoffs_m: list[float]):  # type: ignore[no-untyped-def]
    """Bool matrix targets x (candidates x cutoffs): within each cutoff's walk of each candidate."""
    from siting.reach import walking_reach

    src = net.snap(candidates.geometry.values, max_snap_m=250.0)
    r = walking_reach(net, src, targets, cutoff_m=max(cutoffs_m))
    rows = np.repeat(src.index, np.diff(r.indptr))
    out = np.zeros((len(targets), len(candidates) * len(cutoffs_m)), dtype=bool)
    for k, c in enumerate(cutoffs_m):
        ok = r.metres <= c + 1e-9
        out[r.target[ok], rows[ok] + k * len(candidates)] = True
    return out


def build_atoms(net, area, candidates, demand, cutoffs_m: list[float]) -> Atoms:  # type: ignore[no-untyped-def]
    """Atoms from street points and the true incidents (see :class:`Atoms`)."""
    import shapely

    pts, xy, length = street_points(net)
    m_pts = catchments(net, candidates, pts, cutoffs_m)
    c_pts = area.cell_index(xy[:, 0], xy[:, 1])
    ixy = shapely.get_coordinates(demand.geometry.values)
    snapped = net.snap(demand.geometry.values, max_snap_m=1e9)
    m_inc = catchments(net, candidates, snapped, cutoffs_m)
    c_inc = area.cell_index(ixy[:, 0], ixy[:, 1])
    keys = np.column_stack([np.concatenate([c_pts, c_inc]), np.vstack([m_pts, m_inc]).astype(np.int8)])
    uniq, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    street = np.bincount(inverse[: len(c_pts)], weights=length, minlength=len(uniq))
    return Atoms(
        cell=uniq[:, 0], member=uniq[:, 1:].astype(bool), street_m=street, incident_atom=inverse[len(c_pts) :]
    )


# ================================================================ what the outputs say
@dataclass
class Published:
    """Every relation a reader of one shareable release knows, over the attacker's atoms.

    Unknowns: nonfatal and fatal incidents per atom (``x``, ``y``), then the hour bars, the
    weekday bars and the incidents left out far from streets when those are published.
    """

    audit: Audit
    atoms: Atoms
    fatal: bool
    threshold: int
    cells: dict[int, tuple[float, float]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    hour_vars: list[int] = field(default_factory=list)
    weekday_vars: list[int] = field(default_factory=list)

    def x(self, atoms) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.asarray(atoms, dtype=np.int64)

    def y(self, atoms) -> np.ndarray:  # type: ignore[no-untyped-def]
        return np.asarray(atoms, dtype=np.int64) + self.atoms.n

    def count(self, atoms) -> np.ndarray:  # type: ignore[no-untyped-def]
        """Variables whose sum is the number of incidents in ``atoms``."""
        a = np.asarray(atoms, dtype=np.int64)
        return np.concatenate([a, a + self.atoms.n]) if self.fatal else a


def read_release(rel, atoms: Atoms, *, weights: tuple[float, float] | None = None) -> Published:  # type: ignore[no-untyped-def]
    """The relations a reader gets from a ReleasedPlan's published labels (not its numbers)."""
    t, b = rel.rule.threshold, rel.rule.base
    fatal = "fatal_label" in rel.cells.columns
    n_main = atoms.n * (2 if fatal else 1)
    extra = 0
    prof = rel.time_profile
    hours = prof.get("hour")
    wk = prof.get("weekday")
    hour_vars = list(range(n_main, n_main + (len(hours) if hours is not None else 0)))
    extra += len(hour_vars)
    weekday_vars = list(range(n_main + extra, n_main + extra + (len(wk) if wk is not None else 0)))
    extra += len(weekday_vars)
    audit = Audit(n_main + extra)
    pub = Published(
        audit=audit, atoms=atoms, fatal=fatal, threshold=t, hour_vars=hour_vars, weekday_vars=weekday_vars
    )
    every = np.arange(atoms.n)
    for j, row in enumerate(rel.cells.itertuples(index=False)):
        mine = np.flatnonzero(atoms.cell == j)
        lo, hi = parse_label(row.count_label, t, b)
        pub.cells[j] = (lo, hi)
        audit.add(pub.count(mine), lo, hi)
        if fatal:
            audit.add(pub.y(mine), *parse_label(row.fatal_label, t, b))
    totals = rel.totals.set_index("measure")["label"]
    audit.add(pub.count(every), *parse_label(totals["incidents"], t, b))
    if fatal and "fatal_incidents" in totals.index:
        audit.add(pub.y(every), *parse_label(totals["fatal_incidents"], t, b))
    n_total = pub.count(every)
    for name, var in (("hour", hour_vars), ("weekday", weekday_vars)):
        frame = prof.get(name)
        if frame is None:
            continue
        for v, lab in zip(var, frame["label"], strict=True):
            audit.add([v], *parse_label(lab, t, b))
        # every incident is dated in these tests: the bars add up to the total
        audit.add(
            np.concatenate([var, n_total]),
            0.0,
            0.0,
            coef=np.concatenate([np.ones(len(var)), -np.ones(n_total.size)]),
        )
    return pub


def add_choice(
    pub: Published,
    chosen: list[int],
    *,
    candidates: int,
    cutoff_index: int,
    swappable,  # type: ignore[no-untyped-def]
    weights: tuple[float, float],
) -> list[tuple[np.ndarray, np.ndarray]]:
    """What an optimal maximal-covering choice says: no single swap covers more weight.

    ``chosen`` are candidate positions; ``swappable(s, c)`` says whether ``c`` may replace
    ``s`` (not excluded, same region under quotas). Returns the (gained, lost) atom sets of
    every swap, the regions the choice says something about.
    """
    mem = pub.atoms.member[:, cutoff_index * candidates : (cutoff_index + 1) * candidates]
    cov = mem[:, chosen].any(axis=1)
    w0, w1 = weights
    regions = []
    for s in chosen:
        others = [k for k in chosen if k != s]
        base = mem[:, others].any(axis=1) if others else np.zeros(pub.atoms.n, bool)
        for c in range(candidates):
            if c in chosen or not swappable(s, c):
                continue
            new = base | mem[:, c]
            lost = np.flatnonzero(cov & ~new)  # what s alone brings
            gained = np.flatnonzero(new & ~cov)  # what c would bring instead
            if gained.size == 0:
                continue
            idx = np.concatenate([pub.x(lost), pub.x(gained)])
            coef = np.concatenate([np.full(lost.size, w0), np.full(gained.size, -w0)])
            if pub.fatal:
                idx = np.concatenate([idx, pub.y(lost), pub.y(gained)])
                coef = np.concatenate([coef, np.full(lost.size, w1), np.full(gained.size, -w1)])
            pub.audit.add(idx, 0.0, math.inf, coef=coef)
            regions.append((lost, gained))
    return regions


# ====================================================================== the base table
@dataclass
class BaseTable:
    """A release's base table as unknowns: incidents per cell (nonfatal, fatal), the bars.

    Column blocks of ``audit``: ``x`` (cells), ``y`` (fatal per cell, when published),
    ``hour``, ``weekday``; further blocks can be appended (``add_block``) for a second
    release's additions.
    """

    audit: Audit
    blocks: dict[str, np.ndarray]
    threshold: int
    base: int

    def add_block(self, name: str, size: int) -> np.ndarray:
        start = self.audit.n
        self.audit.n += size
        self.blocks[name] = np.arange(start, start + size)
        return self.blocks[name]


def _label(rel, *keys: str):  # type: ignore[no-untyped-def]
    t = rel.totals.set_index("measure")["label"]
    return [t[k] for k in keys]


def base_table(
    rel,
    *,
    into: BaseTable | None = None,
    add: dict[str, np.ndarray] | None = None,  # type: ignore[no-untyped-def]
    prefix: str = "",
) -> BaseTable:
    """Relations a reader gets from the published cells, totals and bars of one release.

    With ``into`` and ``add`` (blocks of additions per cell/bar), the relations say that
    this release's values are ``into``'s unknowns plus the additions (the next month).
    """
    t, b = rel.rule.threshold, rel.rule.base
    n = len(rel.cells)
    fatal = "fatal_label" in rel.cells.columns
    prof = rel.time_profile
    if into is None:
        bt = BaseTable(Audit(0), {}, t, b)
        bt.add_block("x", n)
        if fatal:
            bt.add_block("y", n)
        for k in ("hour", "weekday"):
            if k in prof:
                bt.add_block(k, len(prof[k]))
    else:
        bt = into

    def terms(block: str, idx) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[no-untyped-def]
        v = [bt.blocks[block][idx]]
        if add is not None and block in add:
            v.append(add[block][idx])
        allv = np.concatenate([np.atleast_1d(a) for a in v])
        return allv, np.ones(allv.size)

    cells = np.arange(n)
    every_x, _ = terms("x", cells)
    every = every_x
    for j, row in enumerate(rel.cells.itertuples(index=False)):
        idx, _ = terms("x", [j])
        if fatal:
            idx = np.concatenate([idx, terms("y", [j])[0]])
        bt.audit.add(idx, *parse_label(row.count_label, t, b))
        if fatal:
            bt.audit.add(terms("y", [j])[0], *parse_label(row.fatal_label, t, b))
    if fatal:
        every = np.concatenate([every_x, terms("y", cells)[0]])
        bt.audit.add(terms("y", cells)[0], *parse_label(_label(rel, "fatal_incidents")[0], t, b))
    bt.audit.add(every, *parse_label(_label(rel, "incidents")[0], t, b))
    for k in ("hour", "weekday"):
        if k not in prof:
            continue
        bars = np.arange(len(prof[k]))
        for i, lab in enumerate(prof[k]["label"]):
            bt.audit.add(terms(k, [i])[0], *parse_label(lab, t, b))
        idx = terms(k, bars)[0]
        bt.audit.add(
            np.concatenate([idx, every]),
            0.0,
            0.0,
            coef=np.concatenate([np.ones(idx.size), -np.ones(every.size)]),
        )
    manifest = (rel.manifest or {}).get("inputs", {}).get("demand", {})
    if "features" in manifest and "left_out_far_from_streets" in manifest:
        left = bt.add_block(f"{prefix}left_out", 1)
        bt.audit.add(left, *parse_label(manifest["left_out_far_from_streets"], t, b))
        bt.audit.add(np.concatenate([every, left]), *parse_label(manifest["features"], t, b))
    return bt
