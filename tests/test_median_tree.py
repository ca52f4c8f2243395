"""The p-median's Lagrangian branch and bound against brute force and the plain MILP.

Brute force enumerates every open set; the plain MILP is the same model with the
Lagrangian steps switched off (``PMedian.lagrangian = False``). Few subgradient steps per
node (monkeypatched) make small instances branch, so the tree's branching, leaves and
fixing are exercised, not only its root.
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting._errors import InfeasibleError
from siting.locate import PMedian
from siting.locate import _median_tree as tree
from siting.locate._median_bound import beyond_costs, lagrangian_fixing

CUTOFF = 10.0
PENALTY = 25.0
HYP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw: st.DrawFn) -> dict:
    """Up to 10 candidates and 30 demand points, sparse within the cutoff or complete,
    with fixed sites now and then (no quotas: the tree is not used with them)."""
    n_c = draw(st.integers(2, 10))
    n_d = draw(st.integers(1, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    d = np.round(rng.random((n_c, n_d)) * 14, draw(st.sampled_from([0, 1])))  # whole numbers too
    if draw(st.booleans()):
        d[d > CUTOFF] = np.inf
    w = rng.integers(0, 5, size=n_d).astype(float)
    ids = [f"s{j}" for j in range(n_c)]
    kw: dict = {"candidate_ids": ids}
    if draw(st.integers(0, 3)) == 0:
        kw["fixed"] = [ids[draw(st.integers(0, n_c - 1))]]
    return {
        "d": d,
        "w": w,
        "p": draw(st.integers(1, max(1, n_c - 1))),
        "kw": kw,
        "beyond": draw(st.sampled_from(["penalty", "exclude"])),
    }


def _model(inst: dict) -> PMedian | None:
    try:
        return PMedian(
            inst["d"],
            weights=inst["w"],
            cutoff=CUTOFF,
            p=inst["p"],
            beyond=inst["beyond"],
            penalty=PENALTY if inst["beyond"] == "penalty" else None,
            **inst["kw"],
        )
    except InfeasibleError:
        return None


def _brute(m: PMedian) -> float:
    """The least cost over every open set (``inf``: none serves every row that must be)."""
    best = math.inf
    fixed = set(np.flatnonzero(m.fixed))
    for s in itertools.combinations(range(m.n_active), m.p):
        if fixed <= set(s):
            mask = np.zeros(m.n_active, bool)
            mask[list(s)] = True
            best = min(best, m.evaluate(mask))
    return best


def _few_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tree, "ROOT_STEPS", 2)
    monkeypatch.setattr(tree, "NODE_STEPS", 2)


def _start(m: PMedian) -> np.ndarray:
    """The first p candidates with the fixed ones: a poor but feasible start."""
    mask = m.fixed.copy()
    for j in range(m.n_active):
        if mask.sum() >= m.p:
            break
        mask[j] = True
    return mask


@HYP
@given(instances(), st.booleans())
def test_tree_finds_the_brute_force_optimum(inst: dict, few: bool) -> None:
    m = _model(inst)
    if m is None:
        return
    best = _brute(m)
    start = _start(m)
    if not math.isfinite(best) or not math.isfinite(m.evaluate(start)):
        return
    offset = m.unreached_weight * PENALTY if inst["beyond"] == "penalty" else 0.0
    with pytest.MonkeyPatch.context() as mp:
        if few:
            _few_steps(mp)
        t = tree.tree_search(m, beyond_costs(m), start, tol=1e-9)
    assert t.finished
    assert t.objective + offset == pytest.approx(best, abs=1e-9)
    assert m.evaluate(t.mask) == pytest.approx(best, abs=1e-9)
    assert int(t.mask.sum()) == m.p and t.mask[m.fixed].all()


@HYP
@given(instances())
def test_tree_stopped_early_keeps_a_true_bound(inst: dict) -> None:
    """Stopped by its deadline after the root, the tree's bound is still a lower bound."""
    m = _model(inst)
    if m is None:
        return
    best = _brute(m)
    start = _start(m)
    if not math.isfinite(best) or not math.isfinite(m.evaluate(start)):
        return
    offset = m.unreached_weight * PENALTY if inst["beyond"] == "penalty" else 0.0
    with pytest.MonkeyPatch.context() as mp:
        _few_steps(mp)
        t = tree.tree_search(m, beyond_costs(m), start, deadline=time.perf_counter() - 1.0)
    assert t.bound + offset <= best + 1e-9
    assert t.objective + offset >= best - 1e-9


@HYP
@given(instances())
def test_solve_through_the_tree_matches_brute_force(inst: dict) -> None:
    m = _model(inst)
    if m is None:
        return
    best = _brute(m)
    if not math.isfinite(best):
        return
    with pytest.MonkeyPatch.context() as mp:
        _few_steps(mp)
        r = m.solve()
    assert r.status == "optimal"
    assert r.objective == pytest.approx(best, abs=1e-7 * max(1.0, best))
    assert best - 1e-6 * max(1.0, best) <= r.bound <= r.objective + 1e-9


def _euclidean(n_c: int, n_d: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c, d = rng.random((n_c, 2)) * 10, rng.random((n_d, 2)) * 10
    return np.hypot(*(c[:, None, :] - d[None, :, :]).transpose(2, 0, 1)), rng.integers(1, 4, n_d).astype(
        float
    )


@pytest.mark.parametrize(("size", "seed", "p"), [((60, 150), 1, 8), ((80, 80), 2, 5)])
def test_tree_matches_the_plain_milp(size, seed: int, p: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Medium instances where the root bound leaves a gap: the branch and bound proves
    what the plain MILP proves, with the same set cost, and the same tree twice."""
    d, w = _euclidean(*size, seed)
    m = PMedian(d, weights=w, p=p)
    fx = lagrangian_fixing(m, beyond_costs(m), m.greedy(swap=True), seconds=5)
    assert fx.bound < fx.objective - 1e-6  # the root alone does not prove it
    r = PMedian(d, weights=w, p=p).solve()
    again = PMedian(d, weights=w, p=p).solve()
    monkeypatch.setattr(PMedian, "lagrangian", False)
    plain = PMedian(d, weights=w, p=p).solve()
    assert r.status == plain.status == "optimal"
    assert r.method == "branch-and-bound"
    assert r.objective == pytest.approx(plain.objective, rel=1e-9)
    assert r.bound <= r.objective and r.gap <= 1e-8
    assert (again.chosen, again.objective) == (r.chosen, r.objective)


@HYP
@given(instances(), st.integers(0, 2**31 - 1))
def test_swap_search_improves_within_the_forced_and_closed_sites(inst: dict, seed: int) -> None:
    """The root's local search returns its set's exact cost, never worse than the start,
    keeps forced sites open, opens no closed one, and stops at a set no single swap
    improves (checked by trying every swap)."""
    m = _model(inst)
    if m is None:
        return
    start = _start(m)
    rows = m.rows
    cost = rows.weight[rows.row_of_entry()] * rows.dist
    beyond = beyond_costs(m)
    rng = np.random.default_rng(seed)
    state = np.zeros(m.n_active, np.int8)
    state[start & (rng.random(m.n_active) < 0.3)] = 1
    state[~start & (rng.random(m.n_active) < 0.3)] = -1
    y = start.copy()
    before = tree.set_cost(rows.ptr, rows.cand, cost, beyond, y)
    got = tree._swap_search(rows.ptr, rows.cand, cost, beyond, state, y, 1000)
    if not math.isfinite(before):
        return
    assert got <= before
    assert got == pytest.approx(tree.set_cost(rows.ptr, rows.cand, cost, beyond, y), abs=1e-9)
    assert int(y.sum()) == m.p and y[state == 1].all() and not y[state == -1].any()
    for j in np.flatnonzero(y & (state == 0)):
        for k in np.flatnonzero(~y & (state == 0)):
            z = y.copy()
            z[j], z[k] = False, True
            assert tree.set_cost(rows.ptr, rows.cand, cost, beyond, z) >= got - 1e-9
