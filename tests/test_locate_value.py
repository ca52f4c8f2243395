"""Maximise attendance and expected deaths averted: brute force, honest bounds, hand checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse
from scipy.optimize import linprog

from siting._errors import InfeasibleError, InputError
from siting.decay import KINDS, DecayCurve
from siting.effects import DEFAULT_BANDS, band_effect
from siting.locate import MODELS, Capacity, MaximizeAttendance, MaximizeDeathsAverted, ValueResult

HYP = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TOL = 1e-6


@st.composite
def value_instances(draw: st.DrawFn, *, scale: float, constraints: bool = True) -> dict:
    """Candidates x demand costs (minutes or metres) with missing pairs, weights, p and constraints."""
    n_c = draw(st.integers(2, 6))
    n_d = draw(st.integers(1, 9))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    d = np.round(rng.random((n_c, n_d)) * scale, 1)
    d[rng.random((n_c, n_d)) < 0.3] = np.inf
    if draw(st.booleans()):
        d[rng.random((n_c, n_d)) < 0.2] = 0.0  # at the door: a real distance of 0
    if draw(st.booleans()):
        d[:, -1] = d[:, 0]  # identical demand (merged internally)
    w = rng.integers(0, 4, size=n_d).astype(float)
    ids = [f"s{j}" for j in range(n_c)]
    kw: dict = {"candidate_ids": ids}
    if constraints and draw(st.booleans()):
        kw["regions"] = [draw(st.sampled_from(["A", "B", None])) for _ in range(n_c)]
        kw["quotas"] = {"A": (draw(st.sampled_from([">=", "==", "<="])), draw(st.integers(0, 2)))}
    if constraints and draw(st.booleans()):
        kw["fixed"] = [ids[draw(st.integers(0, n_c - 1))]]
    if constraints and draw(st.booleans()):
        kw["excluded"] = [i for i in ids if i not in kw.get("fixed", [])][:1]
    return {"d": d, "w": w, "p": draw(st.integers(1, n_c)), "kw": kw}


def feasible_sets(inst: dict):
    d, kw, p = inst["d"], inst["kw"], inst["p"]
    ids = kw["candidate_ids"]
    fixed = {ids.index(f) for f in kw.get("fixed", [])}
    excl = {ids.index(f) for f in kw.get("excluded", [])}
    regions = kw.get("regions", [None] * d.shape[0])
    for s in itertools.combinations([j for j in range(d.shape[0]) if j not in excl], p):
        counts = {name: sum(regions[j] == name for j in s) for name in kw.get("quotas", {})}
        ok = fixed <= set(s) and all(
            {">=": counts[n] >= k, "==": counts[n] == k, "<=": counts[n] <= k}[op]
            for n, (op, k) in kw.get("quotas", {}).items()
        )
        if ok:
            yield s


def brute_value(values: np.ndarray, w: np.ndarray, inst: dict) -> tuple[float, tuple] | None:
    """Best sum_i w_i max_{j in S} v_ij over the feasible sets, by enumeration."""
    best = None
    for s in feasible_sets(inst):
        val = float(w @ values[list(s)].max(axis=0))
        if best is None or val > best[0] + 1e-12:
            best = (val, s)
    return best


def check_honest(r: ValueResult, best: float) -> None:
    """Objective <= optimum <= bound, and the gap is what they say."""
    assert r.objective <= best + TOL
    assert r.bound >= best - TOL
    if r.status == "optimal":
        assert r.objective == pytest.approx(best, abs=TOL)
    if r.objective > 0:
        assert r.gap == pytest.approx((r.bound - r.objective) / r.objective, abs=1e-9)


# --------------------------------------------------------------------------- attendance
@HYP
@given(value_instances(scale=16.0), st.sampled_from(KINDS), st.sampled_from(["milp", "greedy"]))
def test_attendance_matches_brute_force(inst: dict, kind: str, method: str) -> None:
    curve = DecayCurve.default(kind)
    values = curve(inst["d"])
    best = brute_value(values, inst["w"], inst)
    try:
        model = MaximizeAttendance(inst["d"], weights=inst["w"], p=inst["p"], curve=curve, **inst["kw"])
        r = model.solve(method=method)
    except InfeasibleError:
        assert best is None
        return
    assert best is not None
    assert isinstance(r, ValueResult) and r.model == "attendance"
    check_honest(r, best[0])
    if method == "milp":
        assert r.status == "optimal" and r.method in ("milp", "lagrangian")
    else:
        # the greedy's set is proven optimal when its Lagrangian bound meets it
        assert (r.status, r.method) in (("heuristic", "greedy"), ("optimal", "lagrangian"))
    # the reported objective is the chosen set's real attendance
    ids = inst["kw"]["candidate_ids"]
    s = [ids.index(c) for c in r.chosen]
    assert r.objective == pytest.approx(float(inst["w"] @ values[s].max(axis=0)), abs=TOL)
    # each site's value is what the incidents it is most attractive to bring
    assert r.sites["expected_attendance"].sum() == pytest.approx(r.objective, abs=TOL)


def capacitated_value(values: np.ndarray, w: np.ndarray, cap: np.ndarray, s: tuple) -> float:
    """Max sum w v x with sum_j x_ij <= 1 and sum_i w v x <= cap_j (scipy linprog, independent)."""
    pairs = [(i, j) for i in range(values.shape[1]) for j in s if values[j, i] > 0]
    if not pairs:
        return 0.0
    c = [-w[i] * values[j, i] for i, j in pairs]
    a = np.zeros((values.shape[1] + len(s), len(pairs)))
    for k, (i, j) in enumerate(pairs):
        a[i, k] = 1
        a[values.shape[1] + list(s).index(j), k] = w[i] * values[j, i]
    b = np.concatenate([np.ones(values.shape[1]), cap[list(s)]])
    res = linprog(c, A_ub=a, b_ub=b, bounds=(0, 1), method="highs")
    assert res.status == 0
    return -float(res.fun)


@HYP
@given(value_instances(scale=14.0, constraints=False), st.integers(0, 2), st.sampled_from(["milp", "greedy"]))
def test_capacitated_attendance_matches_enumeration(inst: dict, booths: int, method: str) -> None:
    """Each site takes in at most booths x 40 visits a day; demand_per_day = 40 x total weight / 3."""
    w = inst["w"]
    if w.sum() == 0:
        return
    per_day = 40.0 * w.sum() / 3.0
    cap_w = np.full(inst["d"].shape[0], booths * 40.0 * w.sum() / per_day)  # = booths x 3 weight units
    values = DecayCurve.default("linear")(inst["d"])
    best = max(capacitated_value(values, w, cap_w, s) for s in feasible_sets(inst))
    r = MaximizeAttendance(
        inst["d"],
        weights=w,
        p=inst["p"],
        capacity=Capacity(booths=booths, demand_per_day=per_day),
        **inst["kw"],
    ).solve(method=method)
    check_honest(r, best)
    ids = inst["kw"]["candidate_ids"]
    s = tuple(ids.index(c) for c in r.chosen)
    assert r.objective == pytest.approx(capacitated_value(values, w, cap_w, s), abs=TOL)
    assert (r.sites["expected_attendance"] <= cap_w[0] + TOL).all()


def test_attendance_by_hand() -> None:
    """Linear curve to 10 min. Site a: incidents at 0, 5 and 10 min (1 + 0.5 + 0); site b:
    two incidents at 2 min (0.8 each) and the one at 5 min at 4 min (0.6)."""
    t = np.array([[0.0, 5.0, 10.0, np.inf, np.inf], [np.inf, 4.0, np.inf, 2.0, 2.0]])
    one = MaximizeAttendance(t, candidate_ids=["a", "b"], p=1).solve()
    assert one.chosen == ["b"] and one.objective == pytest.approx(2.2)
    both = MaximizeAttendance(t, candidate_ids=["a", "b"], p=2).solve()
    # the incident at 5/4 min goes to b, its more attractive site: 1 + 0.6 + 0.8 + 0.8
    assert both.objective == pytest.approx(3.2)
    v = both.sites.set_index("candidate_id")["expected_attendance"]
    assert v["a"] == pytest.approx(1.0) and v["b"] == pytest.approx(2.2)
    assert "adds 1 expected attendance" in both.sites.set_index("candidate_id").loc["a", "reason"]
    assert both.covered_weight == 4  # the incident at exactly 10 min attends with 0: out of reach
    heavy = MaximizeAttendance(t, weights=np.full(5, 1500.0), candidate_ids=["a", "b"], p=2).solve()
    # 1,500 x (1 + 0): whole with separators, as a planner reads it (was "adds 1.5e+03")
    assert "adds 1,500 expected attendance" in heavy.sites.set_index("candidate_id").loc["a", "reason"]
    s = both.summary()
    assert s["value_name"] == "expected attendance" and "linear" in s["description"]


# --------------------------------------------------------------------------- deaths averted
@HYP
@given(
    value_instances(scale=6000.0), st.sampled_from(["low", "central"]), st.sampled_from(["milp", "greedy"])
)
def test_deaths_match_brute_force(inst: dict, estimate: str, method: str) -> None:
    fatal = (inst["w"] > 1).astype(float)  # fatal incidents: counts, not siting weights
    values = band_effect(inst["d"], DEFAULT_BANDS, estimate)  # type: ignore[arg-type]
    best = brute_value(values, fatal, inst)
    try:
        r = MaximizeDeathsAverted(
            inst["d"], weights=fatal, p=inst["p"], estimate=estimate, **inst["kw"]
        ).solve(method=method)
    except InfeasibleError:
        assert best is None
        return
    assert best is not None
    check_honest(r, best[0])
    assert r.chosen_on == estimate and set(r.estimates) == {"low", "central", "high"}
    ids = inst["kw"]["candidate_ids"]
    s = [ids.index(c) for c in r.chosen]
    for e in ("low", "central", "high"):
        direct = float(fatal @ band_effect(inst["d"][s], DEFAULT_BANDS, e).max(axis=0))  # type: ignore[arg-type]
        assert r.estimates[e] == pytest.approx(direct, abs=TOL)
    assert r.estimates["low"] <= r.estimates["central"] <= r.estimates["high"]
    assert r.objective == pytest.approx(r.estimates[estimate], abs=TOL)


def test_deaths_by_hand_and_choice_depends_on_the_estimate() -> None:
    """Site a: 1 fatal at 100 m. Site b: 3 fatal at 900 m. Low: a (0.35 vs 0); central:
    b (3 x 0.30 = 0.90 vs 0.51). Both choices report the whole range."""
    d = np.array([[100.0, np.inf, np.inf, np.inf], [np.inf, 900.0, 900.0, 900.0]])
    low = MaximizeDeathsAverted(d, candidate_ids=["a", "b"], p=1, estimate="low").solve()
    cen = MaximizeDeathsAverted(d, candidate_ids=["a", "b"], p=1, estimate="central").solve()
    assert low.chosen == ["a"] and low.estimates == pytest.approx(
        {"low": 0.35, "central": 0.51, "high": 0.67}
    )
    assert cen.chosen == ["b"] and cen.estimates == pytest.approx({"low": 0.0, "central": 0.9, "high": 1.8})
    assert "500 m-5 km" in low.description


def test_deaths_counts_fatal_incidents_not_weights() -> None:
    """The issue-9 case as a choice: three incidents at one address, one fatal; the model is
    given fatal counts, so the answer is 0.35-0.67 whatever the siting weight was."""
    d = np.array([[40.0, 40.0, 40.0]])
    r = MaximizeDeathsAverted(d, weights=[0, 1, 0], p=1).solve()
    assert r.estimates["low"] == pytest.approx(0.35) and r.estimates["high"] == pytest.approx(0.67)


def test_value_model_errors() -> None:
    d = np.array([[1.0, 2.0]])
    with pytest.raises(InputError, match="never chosen on 'high'"):
        MaximizeDeathsAverted(d, p=1, estimate="high")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="no capacity"):
        MaximizeDeathsAverted(d, p=1, capacity=Capacity(booths=1, demand_per_day=10))
    with pytest.raises(InputError, match="decay curve"):
        MaximizeAttendance(d, p=1, curve="gravity")
    with pytest.raises(InfeasibleError):
        MaximizeAttendance(d, p=2)
    assert {"attendance", "deaths"} <= set(MODELS)
    assert MaximizeAttendance.options == ("p", "curve")
    assert MaximizeDeathsAverted.options == ("p", "bands", "estimate")


def test_honest_bound_under_a_time_limit() -> None:
    """A random attendance instance stopped early keeps an honest bound (never below its
    objective; infinite when nothing was proven yet); given time, the MILP proves optimality
    and the greedy's LP bound lies above that optimum."""
    rng = np.random.default_rng(3)
    m = sparse.random(30, 150, density=0.2, random_state=rng, format="csr")
    m.data = m.data * 15
    r = MaximizeAttendance(m, p=4, curve="exponential").solve(time_limit=0.01)
    assert r.status in ("time-limit-feasible", "optimal")
    assert r.bound >= r.objective - TOL and r.gap >= 0
    full = MaximizeAttendance(m, p=4, curve="exponential").solve()
    assert full.status == "optimal" and full.gap == 0 and full.objective >= r.objective - TOL
    g = MaximizeAttendance(m, p=4, curve="exponential").solve(method="greedy")
    assert g.objective <= full.objective + TOL and g.bound >= full.objective - TOL
    assert g.gap == pytest.approx((g.bound - g.objective) / g.objective)


def test_lagrangian_bound_is_honest_and_can_prove_optimality() -> None:
    """Three incidents, linear curve: a at 0/5 min of incidents 0 and 1, b at 0 min of incident 2.
    With p=2 the best set {a, b} takes 1 + 0.5 + 1 = 2.5; the Lagrangian bound proves it."""
    from siting.locate._value import best_open_set, lagrangian_bound

    t = np.array([[0.0, 5.0, np.inf], [np.inf, np.inf, 0.0], [3.0, 3.0, np.inf]])
    m = MaximizeAttendance(t, candidate_ids=["a", "b", "c"], p=2)
    bound, mask, value = lagrangian_bound(m, np.array([False, True, True]))
    assert value == pytest.approx(2.5) and bound == pytest.approx(2.5, abs=1e-6)
    assert [m.candidate_ids[j] for j in np.flatnonzero(mask)] == ["a", "b"]
    r = m.solve(method="greedy")
    assert r.status == "optimal" and r.method == "lagrangian" and r.objective == pytest.approx(2.5)
    # the inner problem honours quotas and fixed sites
    q = MaximizeAttendance(
        t, candidate_ids=["a", "b", "c"], p=2, regions=["X", "X", "Y"], quotas={"Y": (">=", 1)}, fixed=["b"]
    )
    assert best_open_set(q, np.array([5.0, 1.0, -1.0])).tolist() == [False, True, True]


@HYP
@given(value_instances(scale=16.0), st.sampled_from(KINDS))
def test_pruned_candidates_are_in_no_better_set(inst: dict, kind: str) -> None:
    """Reduced-cost fixing: a candidate the Lagrangian bound drops belongs to no feasible set
    worth more than the set in hand (checked by enumeration), so the exact solve may skip it."""
    from siting.locate._value import lagrangian_bound, lagrangian_prune

    curve = DecayCurve.default(kind)
    values = curve(inst["d"])
    try:
        m = MaximizeAttendance(inst["d"], weights=inst["w"], p=inst["p"], curve=curve, **inst["kw"])
        start = m.greedy(swap=True)
    except InfeasibleError:
        return
    info: dict = {}
    # a loose bound (few steps) prunes less, never wrongly
    _, _, value = lagrangian_bound(m, start, iterations=5, out=info)
    drop = lagrangian_prune(m, info["lam"], value)
    ids = inst["kw"]["candidate_ids"]
    dropped = {ids.index(m.candidate_ids[m.active[j]]) for j in np.flatnonzero(drop)}
    for s in feasible_sets(inst):
        if dropped & set(s):
            assert float(inst["w"] @ values[list(s)].max(axis=0)) <= value + TOL


def test_pruning_keeps_the_exact_answer_on_a_larger_instance() -> None:
    """A 40 x 300 instance where the Lagrangian bound alone does not prove the optimum: the
    MILP on the candidates left after pruning gives the full MILP's optimum."""
    from siting.locate._value import lagrangian_bound, lagrangian_prune
    from siting.locate.median import PMedian

    rng = np.random.default_rng(11)
    m = sparse.random(40, 300, density=0.25, random_state=rng, format="csr")
    m.data = m.data * 12
    model = MaximizeAttendance(m, p=3, curve="linear")
    info: dict = {}
    bound, _, value = lagrangian_bound(model, model.greedy(swap=True), out=info)
    assert bound - value > 1 and lagrangian_prune(model, info["lam"], value).any()  # the path under test
    r = model.solve()
    full = PMedian.solve(MaximizeAttendance(m, p=3, curve="linear"), method="milp")  # no pruning
    assert r.status == full.status == "optimal"
    assert r.objective == pytest.approx(full.objective, abs=TOL)


def test_capacity_in_visits_by_site() -> None:
    """Capacity given as visits a day per site (the queue's figure) replaces booths x 40.
    Site a reaches incidents at 0 and 2 min (1 + 0.8 by the linear curve), b one at 0 min.
    300 visits a day for 3 units of weight: a unit is 100 visits. a may take 50 visits
    (0.5 units), b keeps booths x 40 = 40 visits (0.4 units): p=1 picks a (0.5 > 0.4)."""
    t = np.array([[0.0, 2.0, np.inf], [np.inf, np.inf, 0.0]])
    cap = Capacity(booths=1, demand_per_day=300, visits={"a": 50.0})
    assert cap.visits_per_day(["a", "b"]).tolist() == [50.0, 40.0]
    r = MaximizeAttendance(t, candidate_ids=["a", "b"], p=1, capacity=cap).solve()
    assert r.chosen == ["a"] and r.objective == pytest.approx(0.5) and r.status == "optimal"
    both = MaximizeAttendance(t, candidate_ids=["a", "b"], p=2, capacity=cap).solve()
    assert both.objective == pytest.approx(0.9)
    with pytest.raises(InputError, match="unknown candidate"):
        Capacity(booths=1, demand_per_day=300, visits={"zz": 1.0}).visits_per_day(["a"])
