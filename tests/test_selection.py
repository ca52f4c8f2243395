"""Choosing sites on a hand-built street: answers worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely
from helpers import UTM, X0, Y0, write_lines, write_points

from siting._errors import InfeasibleError, InputError
from siting.layers import LayerSpec
from siting.pipeline import prepare, score_plan
from siting.scenario import Scenario
from siting.selection import SelectionSpec, choose_sites


@pytest.fixture
def street(tmp_path):  # type: ignore[no-untyped-def]
    """A straight 2 km street. Candidates A 0 m, B 500 m, C 1500 m, D 2000 m.

    Incidents at 100 (w1), 400 (w2), 900 (w1), 980 (w1, fatal), 1600 (w3), 1900 (w1).
    Regions: West is x < 1000, East the rest.
    """
    net = write_lines(tmp_path / "street.geojson", [[(0, 0), (2000, 0)]])
    cands = write_points(tmp_path / "c.geojson", [(0, 0), (500, 0), (1500, 0), (2000, 0)], id=list("ABCD"))
    demand = write_points(
        tmp_path / "d.geojson",
        [(100, 0), (400, 0), (900, 0), (980, 0), (1600, 0), (1900, 0)],
        weight=[1, 2, 1, 1, 3, 1],
        fatal=[0, 0, 0, 1, 0, 0],
    )
    regions = tmp_path / "regions.geojson"
    gpd.GeoDataFrame(
        {"name": ["West", "East"]},
        geometry=[
            shapely.box(X0 - 100, Y0 - 100, X0 + 1000, Y0 + 100),
            shapely.box(X0 + 1000, Y0 - 100, X0 + 2100, Y0 + 100),
        ],
        crs=UTM,
    ).to_file(regions)
    return Scenario(
        network=net,
        demand=LayerSpec(demand),
        candidates=LayerSpec(cands, role="candidates"),
        regions=str(regions),
        cutoff_m=450.0,
        speed_m_per_min=80.0,
    )


def _choose(sc: Scenario, spec: SelectionSpec):  # type: ignore[no-untyped-def]
    prep = prepare(sc, wide=True)
    plan = score_plan(prep)
    return choose_sites(prep, plan, spec), plan


def test_coverage_two_sites_by_hand(street) -> None:  # type: ignore[no-untyped-def]
    result, plan = _choose(street, SelectionSpec(model="coverage", p=2))
    # within 450 m: B covers 100, 400, 900 (w 4); C covers 1600, 1900 (w 4); D the same as C;
    # 980 is 480 m from B and 520 m from C: nobody covers it. Best pair covers 8 of 9.
    assert result.status == "optimal"
    assert result.covered_weight == pytest.approx(8.0)
    assert result.total_weight == pytest.approx(9.0)
    assert "B" in result.chosen and len(result.chosen) == 2
    assert list(plan.sites["candidate_id"]) == result.chosen
    assert set(plan.sites["region"]) == {"West", "East"}
    imp = plan.impact.set_index("measure")
    # the effect zone (500 m) is measured on the network beyond the 450 m cutoff: the fatal
    # incident at 980 m is 480 m from B
    assert imp.loc["fatal_within_effect_zone", "value"] == 1
    assert imp.loc["deaths_averted", "low"] == pytest.approx(0.35)
    assert imp.loc["deaths_averted", "high"] == pytest.approx(0.67)
    iso = plan.isochrones
    assert sorted(iso["minutes"].unique()) == [5.0, 10.0, 15.0]
    assert len(iso) == 6 and set(iso["candidate_id"]) == set(result.chosen)
    # a 5-minute (400 m) isochrone of B spans about 100..900 m along the street
    b5 = iso[(iso["candidate_id"] == "B") & (iso["minutes"] == 5.0)].geometry.iloc[0]
    assert b5.contains(shapely.Point(X0 + 120, Y0)) and not b5.contains(shapely.Point(X0 + 1000, Y0))
    curve = plan.coverage_curve
    assert curve["covered_demand_weight"].tolist()[:3] == pytest.approx([4.0, 8.0, 8.0])
    sens = {r["cutoff_min"]: r for r in plan.parameters["sensitivity"]}
    assert set(sens) == {5.0, 10.0, 15.0}
    # at 15 min (1,200 m) two sites reach everything
    assert sens[15.0]["covered_demand_share"] == pytest.approx(1.0)


def test_quota_exactly_two_in_the_west(street) -> None:  # type: ignore[no-untyped-def]
    result, _ = _choose(street, SelectionSpec(model="coverage", p=2, quotas={"West": ("==", 2)}))
    assert sorted(result.chosen) == ["A", "B"]
    assert result.covered_weight == pytest.approx(4.0)


def test_fixed_site_and_median(street) -> None:  # type: ignore[no-untyped-def]
    result, _ = _choose(street, SelectionSpec(model="median", p=2, fixed=["A"]))
    assert "A" in result.chosen
    result2, _ = _choose(street, SelectionSpec(model="median", p=2))
    assert result2.objective <= result.objective + 1e-9  # fixing a site can only cost


def test_infeasible_quota_is_named(street) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InfeasibleError, match="West"):
        _choose(street, SelectionSpec(model="coverage", p=2, quotas={"West": (">=", 3)}))


def test_select_table_problems_reported_together() -> None:
    with pytest.raises(InputError) as info:
        SelectionSpec.from_mapping({"model": "best", "p": 0, "colour": 1, "quotas": ["Seattle>>1"]})
    msg = str(info.value)
    for part in ("model", "`p`", "unknown key 'colour'", "Seattle>>1"):
        assert part in msg


def test_hand_check_three_incidents_at_one_address(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Three incidents at one address, one fatal and weighted 5: 0.35-0.67 deaths averted."""
    net = write_lines(tmp_path / "street.geojson", [[(0, 0), (1000, 0)]])
    cands = write_points(tmp_path / "c.geojson", [(0, 0), (900, 0)], id=["near", "far"])
    demand = write_points(
        tmp_path / "d.geojson", [(120, 0)] * 3, id=["i1", "i2", "i3"], weight=[5, 1, 1], fatal=[1, 0, 0]
    )
    sc = Scenario(
        network=net,
        demand=LayerSpec(demand),
        candidates=LayerSpec(cands, role="candidates"),
        cutoff_m=800.0,
        speed_m_per_min=80.0,
    )
    result, plan = _choose(sc, SelectionSpec(model="coverage", p=1, sensitivity_min=()))
    assert result.chosen == ["near"]
    assert result.covered_incidents == 3 and result.covered_weight == pytest.approx(7.0)
    imp = plan.impact.set_index("measure")
    assert imp.loc["incidents", "value"] == 3 and imp.loc["fatal_incidents", "value"] == 1
    assert imp.loc["fatal_within_effect_zone", "value"] == 1
    assert imp.loc["deaths_averted", "low"] == pytest.approx(0.35)
    assert imp.loc["deaths_averted", "high"] == pytest.approx(0.67)
    assert imp.loc["deaths_averted", "text"] == "0.35–0.67"
    assert imp.loc["demand_weight", "value"] == pytest.approx(7.0)
    site = plan.sites.set_index("candidate_id").loc["near"]
    assert site["covers_incidents"] == 3 and site["covers_demand_weight"] == pytest.approx(7.0)
    cand = plan.candidates.set_index("candidate_id")
    assert cand.loc["near", "covered_incidents"] == 3
    assert cand.loc["near", "covered_demand_weight"] == pytest.approx(7.0)
