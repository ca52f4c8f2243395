"""``--time-limit`` bounds the whole selection: greedy swaps, main solve, curve, sensitivity."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import sparse

from siting.budget import SELECTION_SHARES, TimeBudget, describe
from siting.locate import MaximalCovering, PMedian
from siting.locate._greedy import coverage_greedy
from siting.selection import SelectionSpec, solve_selection


def _instance(seed: int = 0, n_c: int = 12, n_d: int = 120) -> tuple[sparse.csr_matrix, np.ndarray]:
    rng = np.random.default_rng(seed)
    m = sparse.random(n_c, n_d, density=0.15, random_state=rng, format="csr")
    m.data = np.round(m.data * 10.0, 1)
    return m, rng.integers(1, 6, n_d).astype(float)


def test_shares_pass_unused_time_on() -> None:
    b = TimeBudget(100.0, {"choice": 0.5, "curve": 0.3, "sensitivity": 0.2})
    with b.step("choice") as s:
        assert s.allot() == pytest.approx(50.0, abs=0.1)
    # the choice used ~nothing: the curve gets 0.3 / (0.3 + 0.2) of what is left
    assert b.allot("curve") == pytest.approx(60.0, abs=0.1)
    with b.step("curve") as s:
        assert s.allot(solves_left=4) == pytest.approx(15.0, abs=0.1)
    assert b.allot("sensitivity") == pytest.approx(100.0, abs=0.1)
    r = b.report()
    assert r["limit_s"] == 100.0 and set(r["steps"]) == {"choice", "curve"}
    assert "of the 100 s time limit" in describe(r)
    assert TimeBudget(None, SELECTION_SHARES).allot("choice") is None


def test_swaps_stop_at_the_deadline() -> None:
    costs, w = _instance(9)  # an instance where swaps improve the greedy (229 -> 232)
    m = MaximalCovering(costs, weights=w, p=5)
    plain = coverage_greedy(m, n_target=5, target_weight=None, swap=False)
    swapped = coverage_greedy(m, n_target=5, target_weight=None, swap=True)
    assert m.evaluate(swapped) > m.evaluate(plain)
    past = coverage_greedy(m, n_target=5, target_weight=None, swap=True, deadline=time.perf_counter() - 1)
    assert np.array_equal(plain, past)  # no swap once the deadline has passed


@pytest.mark.parametrize("cls", [MaximalCovering, PMedian])
def test_the_solve_limit_covers_the_greedy_start(cls, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    costs, w = _instance(1)
    kw = {"penalty": 20.0} if cls is PMedian else {}
    model = cls(costs, weights=w, p=4, **kw)
    seen: list[float | None] = []
    greedy = model.greedy

    def spy(swap: bool, deadline: float | None = None):  # type: ignore[no-untyped-def]
        seen.append(None if deadline is None else deadline - time.perf_counter())
        return greedy(swap, deadline)

    monkeypatch.setattr(model, "greedy", spy)
    model.solve(8.0)
    assert seen and seen[0] is not None and 0 < seen[0] <= 0.25 * 8.0 + 1e-6


def test_every_solve_of_a_selection_keeps_within_what_is_left(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The choice and each curve solve get at most the budget left when they start."""
    costs, w = _instance(2)
    calls: list[tuple[float, float]] = []
    limit = 6.0
    solve = MaximalCovering.solve
    budget = TimeBudget.for_selection(limit, steps=("choice", "curve"))

    def spy(self, time_limit=None, **kw):  # type: ignore[no-untyped-def]
        calls.append((time_limit, budget.remaining()))
        return solve(self, time_limit, **kw)

    monkeypatch.setattr(MaximalCovering, "solve", spy)
    spec = SelectionSpec(model="coverage", p=3, time_limit=limit, curve_max=4)
    _, curve = solve_selection(costs, spec, weights=w, candidate_ids=[str(i) for i in range(12)], cutoff=None,
                               budget=budget)
    assert len(calls) == 1 + 4 and list(curve["n_sites"]) == [1, 2, 3, 4]
    assert calls[0][0] <= limit * 0.55 / 0.80 + 1e-6  # the choice's share (less what building took)
    for given, left in calls:
        assert given is not None and given <= left + 1e-3  # (a millisecond of bookkeeping)
    # the curve's four solves share the curve's allotment: the first gets at most a quarter
    assert calls[1][0] <= calls[1][1] / 4 + 1e-3
    report = budget.report()
    assert set(report["steps"]) == {"choice", "curve"}
    assert report["used_s"] <= limit + 0.5  # HiGHS stops a little after its own limit


def test_highs_gets_no_more_than_the_limit_when_a_start_is_in_hand(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each MILP used to get at least a second, so a 5-solve curve under a 1 s share took 5 s."""
    from siting.locate import base

    given: list[float | None] = []
    run = base.run_highs

    def spy(lp, time_limit, *a, **kw):  # type: ignore[no-untyped-def]
        given.append(time_limit)
        return run(lp, time_limit, *a, **kw)

    monkeypatch.setattr(base, "run_highs", spy)
    costs, w = _instance(3)
    MaximalCovering(costs, weights=w, p=3).solve(0.2)
    assert given and all(t is not None and t <= 0.2 for t in given), given
    MaximalCovering(costs, weights=w, p=3).solve(0.001)  # spent before it starts: the floor, not a second
    assert given[-1] == base.MIN_MILP_SECONDS


def test_time_between_steps_is_reported_apart_and_not_charged() -> None:
    b = TimeBudget(10.0, {"choice": 0.5, "curve": 0.5})
    with b.step("choice"):
        time.sleep(0.05)
    time.sleep(0.2)  # isochrones, tables: not solving
    assert b.remaining() == pytest.approx(10.0 - b.used["choice"], abs=1e-9)  # the sleep is not charged
    r = b.report()
    assert r["used_s"] == pytest.approx(r["steps"]["choice"]) and r["elapsed_s"] >= r["used_s"] + 0.19
    assert "more for isochrones and tables" in describe(r)
