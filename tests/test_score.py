"""Scores on a small hand-built network, checked against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from siting.layers import LayerSpec
from siting.pipeline import prepare, score_plan
from siting.scenario import Scenario
from siting.score import score_candidates

from helpers import write_lines, write_points


@pytest.fixture
def street(tmp_path):  # type: ignore[no-untyped-def]
    """One straight 1 km street; candidates A at 0 m and B at 500 m; incidents at 100, 400, 900 m."""
    net = write_lines(tmp_path / "street.geojson", [[(0, 0), (1000, 0)]])
    # projected GeoJSON keeps the hand-computed distances exact (no lat/lon round trip)
    cands = write_points(tmp_path / "cands.geojson", [(0, 0), (500, 0)], site=["A", "B"])
    demand = write_points(tmp_path / "od.geojson", [(100, 0), (400, 0), (900, 0)], weight=[1, 2, 1])
    services = write_points(tmp_path / "svc.geojson", [(600, 0)], id=["s1"])
    return net, cands, demand, services


def test_hand_computed_scores(street) -> None:  # type: ignore[no-untyped-def]
    net, cands, demand, services = street
    sc = Scenario(
        network=net,
        demand=LayerSpec(demand, role="demand"),
        candidates=LayerSpec(cands, role="candidates", id_column="site"),
        services=LayerSpec(services, role="services"),
        cutoff_m=450.0,
        speed_m_per_min=80.0,
    )
    plan = score_plan(prepare(sc))
    t = plan.candidates.set_index("candidate_id")
    # A (0 m) reaches incidents at 100 m (w1) and 400 m (w2); 900 m is beyond 450 m.
    assert t.loc["A", "covered_demand_weight"] == pytest.approx(3.0)
    assert t.loc["A", "covered_incidents"] == 2
    # access: 1 * (1 - 100/450) + 2 * (1 - 400/450) = 350/450 + 100/450 = 1
    assert t.loc["A", "access_demand_weight"] == pytest.approx(1.0)
    assert t.loc["A", "mean_walk_min"] == pytest.approx((100 + 400) / 2 / 80, abs=1e-6)
    assert t.loc["A", "services_within"] == 0
    assert np.isnan(t.loc["A", "nearest_service_min"])
    # B (500 m) reaches all three: 400 m, 100 m and 400 m away; the service 100 m away.
    assert t.loc["B", "covered_demand_weight"] == pytest.approx(4.0)
    assert t.loc["B", "covered_incidents"] == 3
    assert t.loc["B", "access_demand_weight"] == pytest.approx((50 + 2 * 350 + 50) / 450)
    assert t.loc["B", "mean_walk_min"] == pytest.approx((400 + 100 + 400) / 3 / 80, abs=1e-6)
    assert t.loc["B", "services_within"] == 1
    assert t.loc["B", "nearest_service_min"] == pytest.approx(100 / 80, abs=1e-6)
    cutoff_min = 450 / 80
    # default weights demand .45, walk .15, services .15, service access .15; no hotspot
    # analysis on three incidents, so its .10 drops out and the rest are divided by .9.
    # demand and walk share one scale: the best eligible mix (.45 W + .15 access) / .6
    mix_a, mix_b = (0.45 * 3 + 0.15 * 1.0) / 0.6, (0.45 * 4 + 0.15 * 800 / 450) / 0.6
    top = max(mix_a, mix_b)
    score_a = (0.45 * 3 / top + 0.15 * 1.0 / top) / 0.9
    score_b = (0.45 * 4 / top + 0.15 * (800 / 450) / top + 0.15 * 1 + 0.15 * (1 - 1.25 / cutoff_min)) / 0.9
    assert t.loc["A", "score"] == pytest.approx(score_a, abs=1e-9)
    assert t.loc["B", "score"] == pytest.approx(score_b, abs=1e-9)
    assert t.loc["B", "rank"] == 1 and t.loc["A", "rank"] == 2
    parts = [c for c in t.columns if c.startswith("part_")]
    np.testing.assert_allclose(t[parts].sum(axis=1), t["score"], atol=1e-12)
    # one rule: the candidates' id column comes out as `candidate_id`, not repeated under its name
    assert list(plan.candidates["candidate_id"]) == ["A", "B"] and "site" not in plan.candidates.columns


def test_exclusion_and_extra_layer(street, tmp_path) -> None:  # type: ignore[no-untyped-def]
    net, cands, demand, services = street
    school = write_points(tmp_path / "school.geojson", [(0, 50)], crs="EPSG:4326", name=["School"])
    pharm = write_points(tmp_path / "pharm.csv", [(100, 0), (900, 0)], crs="EPSG:4326")
    from siting.scenario import Exclusion

    sc = Scenario(
        network=net,
        demand=LayerSpec(demand, role="demand"),
        candidates=LayerSpec(cands, role="candidates", id_column="site"),
        layers=[LayerSpec(pharm, role="avoid", name="bars", weight=0.5)],
        exclusions=[Exclusion(path=school, buffer_m=200.0, label="200 m from schools")],
        cutoff_m=450.0,
        speed_m_per_min=80.0,
    )
    t = score_plan(prepare(sc)).candidates.set_index("candidate_id")
    assert bool(t.loc["A", "excluded"]) and t.loc["A", "excluded_reason"] == "200 m from schools"
    assert np.isnan(t.loc["A", "rank"]) and t.loc["B", "rank"] == 1
    # A reaches the bar at 100 m; B reaches both, 400 m each way
    assert t.loc["A", "layer_bars"] == 1
    assert t.loc["B", "layer_bars"] == 2
    assert t.loc["B", "part_layer_bars"] < 0  # an "avoid" layer lowers the score


def test_score_candidates_direct_and_weights() -> None:
    d = sparse.csr_matrix(([0.0, 800.0], ([0, 1], [0, 1])), shape=(2, 2))
    t = score_candidates(
        ["x", "y"], demand_metres=d, demand_weight=np.array([1.0, 1.0]), cutoff_m=800, speed_m_per_min=80
    )
    # a distance of 0 is real coverage, not "absent"
    assert t["covered_incidents"].tolist() == [1, 1]
    assert t["mean_walk_min"].tolist() == [0.0, 10.0]
    assert t["access_demand_weight"].tolist() == [1.0, 0.0]  # at the cutoff a walk counts 0
    assert t["rank"].tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match="unknown score weight"):
        score_candidates(
            ["x", "y"],
            demand_metres=d,
            demand_weight=np.ones(2),
            cutoff_m=800,
            speed_m_per_min=80,
            weights={"bogus": 1},
        )


def test_ties_keep_input_order() -> None:
    d = sparse.csr_matrix((2, 1))
    t = score_candidates(
        ["b", "a"], demand_metres=d, demand_weight=np.ones(1), cutoff_m=800, speed_m_per_min=80
    )
    assert t["rank"].tolist() == [1.0, 2.0]


def test_hotspot_component_by_hand() -> None:
    # candidate x covers points 0 and 1 (point 1 in a hotspot); y covers 1 and 2 (both in hotspots)
    d = sparse.csr_matrix(([80.0, 80.0, 160.0, 160.0], ([0, 0, 1, 1], [0, 1, 1, 2])), shape=(2, 3))
    t = score_candidates(
        ["x", "y"], demand_metres=d, demand_weight=np.array([1.0, 2.0, 1.0]), cutoff_m=800,
        speed_m_per_min=80, demand_in_hotspot=np.array([False, True, True]),
        weights={"services": 0, "service_access": 0},
    )
    assert t["hotspot_demand_weight"].tolist() == [2.0, 3.0]
    assert t["hotspot_share"].tolist() == [2 / 3, 1.0]
    # access x: 3 * (1 - 80/800) = 2.7; y: 3 * (1 - 160/800) = 2.4
    assert t["access_demand_weight"].tolist() == pytest.approx([2.7, 2.4])
    # one scale for demand, walk and hotspot: mix = (.45 W + .15 access + .10 hot) / .7
    mix = [(0.45 * 3 + 0.15 * 2.7 + 0.10 * 2) / 0.7, (0.45 * 3 + 0.15 * 2.4 + 0.10 * 3) / 0.7]
    top = max(mix)
    assert t["score"].tolist() == pytest.approx([m / top for m in mix])
