"""Impact table: counts by zone, deaths averted as a sourced range, visits and booths."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from siting import impact
from siting._errors import InputError
from siting.impact import impact_table, nearest_chosen_distance


def _t(*args, **kw):
    return impact_table(*args, **kw).set_index("measure")


def test_hand_computed() -> None:
    d = [0, 200, 499, 500, 501, 790, 800, 801, np.inf, np.nan]
    w = [1, 2, 1, 1, 1, 1, 1, 1, 5, 1]
    fatal = [1, 0, 1, 1, 1, 0, 1, 1, 1, 0]
    t = _t(d, cutoff_m=800, weights=w, fatal=fatal, demand_per_day=150, n_sites=2)
    assert list(impact_table(d, cutoff_m=800).columns) == ["measure", "value", "low", "high",
                                                           "unit", "text", "source"]
    # counts are rows; the weights only appear as demand weight
    assert t.loc["incidents", "value"] == 10
    assert t.loc["fatal_incidents", "value"] == 7
    assert t.loc["incidents_within_cutoff", "value"] == 7
    assert t.loc["incident_share_within_cutoff", "value"] == pytest.approx(70.0)
    assert t.loc["incident_share_within_cutoff", "text"] == "70.0%"
    assert t.loc["fatal_within_cutoff", "value"] == 5
    assert t.loc["incidents_within_effect_zone", "value"] == 4
    assert t.loc["fatal_within_effect_zone", "value"] == 3
    assert t.loc["demand_weight", "value"] == 15
    assert t.loc["demand_weight_within_cutoff", "value"] == 1 + 2 + 1 + 1 + 1 + 1 + 1
    da = t.loc["deaths_averted"]
    assert math.isnan(da["value"])
    assert da["low"] == pytest.approx(0.35 * 3) and da["high"] == pytest.approx(0.67 * 3)
    assert da["text"] == "1.05–2.01"
    assert "Marshall" in da["source"] and "Rammohan" in da["source"]
    assert "estimate" in da["unit"]
    assert t.loc["visits_per_day", "value"] == pytest.approx(150 * 7 / 10)
    assert t.loc["booths_needed", "value"] == math.ceil(105 / 40)
    assert t.loc["booths_per_site", "value"] == 2
    for m in ("incidents", "fatal_incidents", "incidents_within_cutoff"):
        assert "incidents" in t.loc[m, "unit"] and "weight" not in t.loc[m, "unit"]
    assert "demand weight" in t.loc["demand_weight", "unit"]


def test_three_incidents_at_one_address_one_fatal_weighted_5() -> None:
    """The issue's hand check: 0.35-0.67 deaths averted, not five times that."""
    t = _t([120.0, 120.0, 120.0], cutoff_m=800, weights=[5, 1, 1], fatal=[True, False, False])
    assert t.loc["fatal_incidents", "value"] == 1
    assert t.loc["fatal_within_effect_zone", "value"] == 1
    assert t.loc["deaths_averted", "low"] == pytest.approx(0.35)
    assert t.loc["deaths_averted", "high"] == pytest.approx(0.67)
    assert t.loc["deaths_averted", "text"] == "0.35–0.67"
    assert t.loc["incidents", "value"] == 3 and t.loc["demand_weight", "value"] == 7


def test_no_fatal_column_is_not_estimated() -> None:
    t = _t([10.0, 20.0], cutoff_m=800)
    for m in ("fatal_incidents", "fatal_within_cutoff", "fatal_within_effect_zone", "deaths_averted"):
        assert math.isnan(t.loc[m, "value"]) and "not estimated" in t.loc[m, "text"]
    assert math.isnan(t.loc["deaths_averted", "low"]) and math.isnan(t.loc["deaths_averted", "high"])
    # a fatal column with no fatal incident is a real zero
    t0 = _t([10.0, 20.0], cutoff_m=800, fatal=[0, 0])
    assert t0.loc["fatal_incidents", "value"] == 0 and t0.loc["deaths_averted", "text"] == "0.00–0.00"


@pytest.mark.parametrize(
    ("n_in", "n", "text"), [(852, 1000, "85.2%"), (1, 8, "12.5%"), (17, 40, "42.5%"), (1, 3, "33.3%"),
                            (2, 3, "66.7%"), (0, 5, "0.0%"), (5, 5, "100.0%")]
)
def test_shares_are_percent_rounded_half_up(n_in: int, n: int, text: str) -> None:
    d = [0.0] * n_in + [np.inf] * (n - n_in)
    row = _t(d, cutoff_m=800).loc["incident_share_within_cutoff"]
    assert row["text"] == text and row["unit"] == "% of incidents"
    assert row["value"] == pytest.approx(100 * n_in / n)


def test_without_demand_scaling_no_visits() -> None:
    t = _t([10.0], cutoff_m=800, fatal=[0])
    assert "visits_per_day" not in t.index and "booths_needed" not in t.index
    assert t.loc["fatal_incidents", "value"] == 0


def test_custom_zone_and_capacity() -> None:
    t = _t([300, 900], cutoff_m=1000, fatal=[1, 1], effect_zone_m=1000, demand_per_day=100,
           uses_per_booth_per_day=30)
    assert t.loc["fatal_within_effect_zone", "value"] == 2
    assert t.loc["booths_needed", "value"] == 4  # 100 visits / 30 per booth


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 2000), st.floats(0, 5), st.booleans()), min_size=1,
                max_size=30))
def test_invariants(rows: list[tuple[float, float, bool]]) -> None:
    d, w, f = (np.array(x) for x in zip(*rows, strict=True))
    t = _t(d, cutoff_m=800, weights=w, fatal=f)
    v = t["value"]
    assert v["fatal_within_effect_zone"] <= v["fatal_within_cutoff"] + 1e-9
    assert v["incidents_within_effect_zone"] <= v["incidents_within_cutoff"] + 1e-9
    assert v["fatal_within_cutoff"] <= v["incidents_within_cutoff"] + 1e-9
    assert v["fatal_incidents"] == f.sum() and v["incidents"] == len(d)  # weights never count
    lo, hi = t.loc["deaths_averted", "low"], t.loc["deaths_averted", "high"]
    assert 0 <= lo <= hi <= v["fatal_within_effect_zone"] + 1e-9


def test_nearest_chosen_distance_sparse_keeps_zeros() -> None:
    m = sparse.csr_matrix((np.array([0.0, 300.0, 100.0]), (np.array([0, 1, 1]),
                                                           np.array([0, 0, 1]))), shape=(2, 3))
    out = nearest_chosen_distance(m, ["a", "b"], ["a", "b"])
    assert out.tolist() == [0.0, 100.0, math.inf]
    assert nearest_chosen_distance(m, ["a", "b"], []).tolist() == [math.inf] * 3
    with pytest.raises(InputError, match="not candidate ids"):
        nearest_chosen_distance(m, ["a", "b"], ["x"])


def test_errors() -> None:
    with pytest.raises(InputError, match="one value per incident"):
        impact_table([1, 2], cutoff_m=800, weights=[1])
    with pytest.raises(InputError, match="negative"):
        impact_table([-1], cutoff_m=800)
    with pytest.raises(InputError, match="demand_per_day"):
        impact_table([1], cutoff_m=800, demand_per_day=0)


def test_doctests() -> None:
    res = doctest.testmod(impact, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.failed == 0 and res.attempted > 0


def test_rows_standing_for_several_incidents_pass_counts_not_weights() -> None:
    # two aggregated rows: 2.5 incidents (1 fatal) near a site, 4 far away
    t = _t([100.0, 5000.0, 100.0, 5000.0], cutoff_m=800, counts=[1.5, 4.0, 1.0, 0.0],
           fatal=[0, 0, 1, 1], weights=[9, 9, 9, 9])
    assert t.loc["incidents", "value"] == pytest.approx(6.5)
    assert t.loc["incidents_within_cutoff", "value"] == pytest.approx(2.5)
    assert t.loc["incident_share_within_cutoff", "value"] == pytest.approx(100 * 2.5 / 6.5)
    assert t.loc["fatal_within_effect_zone", "value"] == 1
    assert t.loc["deaths_averted", "text"] == "0.35\u20130.67"
    assert t.loc["demand_weight", "value"] == 36
    with pytest.raises(InputError, match="counts"):
        impact_table([1.0], cutoff_m=800, counts=[-1])
