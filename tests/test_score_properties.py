"""Properties of the composite score: it follows coverage, and eligibility alone sets its scale."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

from siting._errors import InputError
from siting.score import ExtraLayer, check_weights, score_candidates, weight_problems

CUTOFF = 800.0
SPEED = 80.0
HYP = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def instances(draw: st.DrawFn, *, others: bool = True) -> dict:
    """Random candidates x demand within the cutoff, weights, hotspots, services and layers."""
    n_c = draw(st.integers(2, 7))
    n_d = draw(st.integers(1, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**31 - 1)))
    reach = rng.random((n_c, n_d)) < draw(st.floats(0.1, 0.9))
    metres = np.where(reach, rng.uniform(0, CUTOFF, (n_c, n_d)).round(0), 0.0)
    inst: dict = {
        "demand": sparse.csr_matrix((metres[reach], np.nonzero(reach)), shape=(n_c, n_d)),
        "weight": rng.integers(0, 6, n_d).astype(float),
        "hot": (rng.random(n_d) < 0.4) if draw(st.booleans()) else None,
        "services": None,
        "extra": [],
        "excluded": rng.random(n_c) < 0.25 if draw(st.booleans()) else None,
    }
    if others and draw(st.booleans()):
        s_reach = rng.random((n_c, 3)) < 0.5
        inst["services"] = sparse.csr_matrix(
            (rng.uniform(0, CUTOFF, int(s_reach.sum())), np.nonzero(s_reach)), shape=(n_c, 3)
        )
    if others and draw(st.booleans()):
        role = draw(st.sampled_from(["attract", "avoid"]))
        l_reach = rng.random((n_c, 4)) < 0.5
        inst["extra"] = [
            ExtraLayer(
                name="extra",
                role=role,
                weight=float(draw(st.sampled_from([0.05, 0.2, 1.0]))),
                metres=sparse.csr_matrix(
                    (rng.uniform(0, CUTOFF, int(l_reach.sum())), np.nonzero(l_reach)), shape=(n_c, 4)
                ),
                point_weight=rng.integers(1, 4, 4).astype(float),
            )
        ]
    return inst


def _score(inst: dict, **kw):  # type: ignore[no-untyped-def]
    n_c = inst["demand"].shape[0]
    return score_candidates(
        [f"c{i}" for i in range(n_c)],
        demand_metres=inst["demand"],
        demand_weight=inst["weight"],
        cutoff_m=CUTOFF,
        speed_m_per_min=SPEED,
        service_metres=inst["services"],
        extra=inst["extra"],
        excluded=inst["excluded"],
        demand_in_hotspot=inst["hot"],
        **kw,
    )


@HYP
@given(instances(others=False))
def test_demand_only_no_candidate_outranks_one_covering_twice_its_demand(inst: dict) -> None:
    t = _score(inst)
    w = t["covered_demand_weight"].to_numpy()
    rank = t["rank"].to_numpy()
    ok = ~np.isnan(rank)
    for i in np.flatnonzero(ok):
        for j in np.flatnonzero(ok):
            if w[j] > 2 * w[i]:
                assert rank[j] < rank[i], (i, j, w[i], w[j])


@HYP
@given(instances(), st.data())
def test_adding_demand_to_a_catchment_never_lowers_its_rank(inst: dict, data: st.DataObject) -> None:
    t = _score(inst)
    n_c = inst["demand"].shape[0]
    ok = np.flatnonzero(~np.isnan(t["rank"].to_numpy()))
    if len(ok) == 0:
        return
    x = int(data.draw(st.sampled_from(ok.tolist())))
    walk = data.draw(st.floats(0, CUTOFF))
    w_new = data.draw(st.floats(0.5, 50))
    # one more incident that only x reaches
    d = inst["demand"].tocoo()
    more = dict(inst)
    more["demand"] = sparse.csr_matrix(
        (np.append(d.data, walk), (np.append(d.row, x), np.append(d.col, d.shape[1]))),
        shape=(n_c, d.shape[1] + 1),
    )
    more["weight"] = np.append(inst["weight"], w_new)
    if inst["hot"] is not None:
        more["hot"] = np.append(inst["hot"], data.draw(st.booleans()))
    after = _score(more)
    assert after["rank"].iat[x] <= t["rank"].iat[x]
    assert after["score"].iat[x] >= t["score"].iat[x] - 1e-12


@HYP
@given(instances())
def test_excluded_candidates_do_not_change_the_eligible_scores(inst: dict) -> None:
    if inst["excluded"] is None or not inst["excluded"].any() or inst["excluded"].all():
        return
    keep = np.flatnonzero(~inst["excluded"])
    full = _score(inst)
    sub = dict(inst, excluded=None)
    sub["demand"] = inst["demand"][keep]
    if inst["services"] is not None:
        sub["services"] = inst["services"][keep]
    sub["extra"] = [
        ExtraLayer(e.name, e.role, e.weight, e.metres[keep], e.point_weight) for e in inst["extra"]
    ]
    alone = _score(sub)
    np.testing.assert_allclose(full["score"].to_numpy()[keep], alone["score"].to_numpy(), atol=1e-12)
    np.testing.assert_array_equal(full["rank"].to_numpy()[keep], alone["rank"].to_numpy())


def _two_sites(layer_weight: float):  # type: ignore[no-untyped-def]
    """'busy' covers 40 incidents 5 minutes away; 'quiet' covers none but every attract point."""
    demand = sparse.csr_matrix((np.full(40, 400.0), (np.zeros(40, int), np.arange(40))), shape=(2, 40))
    layer = sparse.csr_matrix((np.full(6, 100.0), (np.ones(6, int), np.arange(6))), shape=(2, 6))
    extra = [ExtraLayer("pharmacies", "attract", layer_weight, layer, np.ones(6))]
    return score_candidates(
        ["busy", "quiet"],
        demand_metres=demand,
        demand_weight=np.ones(40),
        cutoff_m=CUTOFF,
        speed_m_per_min=SPEED,
        extra=extra,
    ).set_index("candidate_id")


def test_attract_layer_cannot_lift_an_empty_site_unless_its_weight_says_so() -> None:
    t = _two_sites(0.2)
    assert t.loc["busy", "rank"] == 1 and t.loc["quiet", "rank"] == 2
    # the README's arithmetic: busy = (.45 * 40 + .15 * 20) / mix_top * (.6 / .8) = .75; quiet = .2 / .8
    assert t.loc["busy", "access_demand_weight"] == pytest.approx(40 * (1 - 400 / 800))
    assert t.loc["busy", "score"] == pytest.approx(0.6 / 0.8)
    assert t.loc["quiet", "score"] == pytest.approx(0.2 / 0.8)
    # the README's table, row by row (the figures it prints to three decimals)
    assert t.loc["busy", "covered_demand_weight"] == 40
    assert t.loc["busy", "part_demand"] == pytest.approx(0.45 / 0.8 * 40 / 35)
    assert round(t.loc["busy", "part_demand"], 3) == 0.643
    assert round(t.loc["busy", "part_walk"], 3) == 0.107
    assert t.loc["busy", "part_layer_pharmacies"] == 0 and t.loc["quiet", "part_layer_pharmacies"] == 0.25
    assert t.loc["quiet", "part_demand"] == 0 and t.loc["quiet", "part_walk"] == 0
    # a planner who weights the layer above demand and walk together gets what they asked for
    t = _two_sites(0.7)
    assert t.loc["quiet", "rank"] == 1
    assert round(t.loc["busy", "score"], 2) == 0.46 and round(t.loc["quiet", "score"], 2) == 0.54


@pytest.mark.parametrize(
    ("weights", "layers", "fragment"),
    [
        ({"demand": -0.1}, {}, "demand=-0.1 is negative"),
        ({"walk": math.nan}, {}, "walk=nan is not a finite number"),
        ({"hotspot": math.inf}, {}, "hotspot=inf is not a finite number"),
        ({}, {"bars": ("attract", -0.2)}, "layer_bars=-0.2 is negative"),
        ({"layer_bars": -1.0}, {"bars": ("services", 0.2)}, "layer_bars=-1 is negative"),
        ({"bogus": 1.0}, {}, "unknown score weight(s) bogus"),
    ],
)
def test_bad_weights_are_errors(weights: dict, layers: dict, fragment: str) -> None:
    problems = weight_problems(weights, layers)
    assert any(fragment in p for p in problems), problems
    with pytest.raises(InputError, match=r"component weight|unknown score weight"):
        check_weights(weights, layers)


def test_negative_weight_allowed_for_avoid_only_and_reported_together() -> None:
    assert weight_problems({}, {"bars": ("avoid", -0.3)}) == []
    assert weight_problems({"layer_bars": -0.3}, {"bars": ("avoid", 0.3)}) == []
    both = weight_problems({"demand": -1.0, "walk": math.nan}, {})
    assert len(both) == 2
    # an avoid layer counts against the score whatever the sign of its weight
    d = sparse.csr_matrix(([100.0, 100.0], ([0, 1], [0, 1])), shape=(2, 2))
    bars = sparse.csr_matrix(([100.0], ([0], [0])), shape=(2, 1))
    for sign in (1.0, -1.0):
        t = score_candidates(
            ["a", "b"],
            demand_metres=d,
            demand_weight=np.ones(2),
            cutoff_m=CUTOFF,
            speed_m_per_min=SPEED,
            extra=[ExtraLayer("bars", "avoid", sign * 0.3, bars, np.ones(1))],
        )
        assert t["part_layer_bars"].iat[0] < 0 and t["rank"].tolist() == [2.0, 1.0]


def test_nan_weight_through_score_candidates_is_an_error_not_zero_scores() -> None:
    d = sparse.csr_matrix(([100.0], ([0], [0])), shape=(1, 1))
    with pytest.raises(InputError, match="not a finite number"):
        score_candidates(
            ["a"],
            demand_metres=d,
            demand_weight=np.ones(1),
            cutoff_m=CUTOFF,
            speed_m_per_min=SPEED,
            weights={"walk": float("nan")},
        )
