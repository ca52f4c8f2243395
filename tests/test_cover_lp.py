"""Maximal covering at county size (locate/_cover_lp.py): the bound by column generation,
reduced-cost fixing and the restricted MILP, against brute force (small instances) and
the plain MILP (medium ones). The county path is forced by lowering ``LARGE_ROWS``."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from scipy import sparse
from test_locate import _FIXED_OUTSIDE_QUOTA, CUTOFF, HYP, _build, _subsets, brute_coverage, instances

from siting._errors import InfeasibleError
from siting.locate import MaximalCovering, base, coverage_curve
from siting.locate._cover_lp import Dual


def _coverage(inst: dict, s: tuple[int, ...]) -> float:
    return float(inst["w"][(inst["d"] <= CUTOFF)[list(s)].any(axis=0)].sum())


@HYP
@given(instances(), st.sampled_from([30.0, 1e-3]))
@example(_FIXED_OUTSIDE_QUOTA, 30.0)
def test_county_path_matches_brute_force(inst: dict, time_limit: float) -> None:
    """Proven optimal within the limit (before, the greedy's set with the subgradient's gap),
    quotas, fixed and excluded sites included; with a tiny time limit the bound stays honest."""
    expect = brute_coverage(inst, inst["p"])
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(base, "LARGE_ROWS", 0)
        m = _build(MaximalCovering, inst, p=inst["p"])
        if m is None:
            assert expect is None
            return
        try:
            r = m.solve(time_limit)
        except InfeasibleError:
            assert expect is None
            return
    assert expect is not None
    ids = inst["kw"]["candidate_ids"]
    feasible = {frozenset(ids[j] for j in s) for s in _subsets(inst, inst["p"])}
    assert frozenset(r.chosen) in feasible
    assert r.bound >= expect - 1e-6
    if time_limit > 1 or r.status == "optimal":
        assert r.status == "optimal"
        assert r.objective == pytest.approx(expect, abs=1e-6)
    assert r.objective == pytest.approx(_coverage(inst, tuple(ids.index(c) for c in r.chosen)))


@HYP
@given(instances(constraints=False), st.integers(0, 2**31 - 1))
def test_lagrangian_and_forced_bounds_hold_for_every_set(inst: dict, seed: int) -> None:
    """For any multipliers, L(lam) bounds every set, and L(lam | open j) every set opening j
    (a set with a dominated candidate is matched by one without it)."""
    m = _build(MaximalCovering, inst, p=inst["p"])
    if m is None or m.rows.n == 0:
        return
    lam = np.random.default_rng(seed).random(m.rows.n) * m.rows.weight
    dual = Dual(m)
    bound = dual.value(lam)
    forced = dual.forced_bounds(bound)
    assert np.all(forced[~dual.col_ok] == -np.inf)
    for s in _subsets(inst, inst["p"]):
        value = _coverage(inst, s)
        assert bound >= value - 1e-9
        for j in s:
            if dual.col_ok[j]:
                assert forced[j] >= value - 1e-9


def _clustered(n_c: int, n_d: int, seed: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Candidates and demand in overlapping clusters on a plane; minutes = distance."""
    rng = np.random.default_rng(seed)
    centres = rng.random((8, 2)) * 60

    def points(n: int) -> np.ndarray:
        c = centres[rng.integers(0, len(centres), n)]
        return c + rng.normal(0, 1, (n, 2)) * rng.uniform(2, 8, (n, 1))

    cand, dem = points(n_c), points(n_d)
    dist = np.hypot(cand[:, None, 0] - dem[None, :, 0], cand[:, None, 1] - dem[None, :, 1])
    dist[dist > CUTOFF] = np.inf
    rows, cols = np.nonzero(np.isfinite(dist))
    costs = sparse.csr_matrix((dist[rows, cols] + 0.01, (rows, cols)), shape=dist.shape)
    return costs, rng.integers(1, 4, n_d).astype(float)


@pytest.mark.parametrize(("seed", "p"), [(0, 4), (1, 6), (2, 8)])
def test_county_path_proves_what_the_plain_milp_finds(
    seed: int, p: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Medium instances: under a time limit the county path proves the plain MILP's optimum
    (before, it returned the greedy's set with the subgradient's gap)."""
    costs, w = _clustered(120, 3000, seed)
    plain = MaximalCovering(costs, weights=w, p=p).solve()
    assert plain.status == "optimal"
    monkeypatch.setattr(base, "LARGE_ROWS", 0)
    r = MaximalCovering(costs, weights=w, p=p).solve(time_limit=60)
    assert r.status == "optimal"
    assert r.objective == pytest.approx(plain.objective)
    assert r.bound >= plain.objective - 1e-6
    assert MaximalCovering(costs, weights=w, p=p).solve(time_limit=60).chosen == r.chosen  # deterministic


def test_curve_on_the_county_path_matches_plain_solves(monkeypatch: pytest.MonkeyPatch) -> None:
    """A curve re-solves one model (reusing the last restriction's candidates) for 1..K sites."""
    costs, w = _clustered(120, 3000, 0)
    plain = coverage_curve(costs, weights=w, k_max=6, cutoff=CUTOFF)
    monkeypatch.setattr(base, "LARGE_ROWS", 0)
    county = coverage_curve(costs, weights=w, k_max=6, cutoff=CUTOFF, time_limit=60)
    assert list(county["status"]) == ["optimal"] * 6
    np.testing.assert_allclose(county["covered_demand_weight"], plain["covered_demand_weight"])
