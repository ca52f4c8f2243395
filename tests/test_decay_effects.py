"""Attendance curves and deaths-averted bands: hand-checked values, calibration, validation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siting import decay, effects
from siting._errors import InputError
from siting.decay import DecayCurve
from siting.effects import DEFAULT_BANDS, EffectBand, band_effect, bands_from_config, deaths_averted_table


# ----------------------------------------------------------------------------- curves
def test_curves_by_hand() -> None:
    t = [0.0, 2.5, 5.0, 10.0, 10.5, 15.0, 15.5, np.inf, np.nan]
    step = DecayCurve.default("step")(t)
    assert step.tolist() == [1, 1, 1, 1, 0, 0, 0, 0, 0]
    lin = DecayCurve.default("linear")(t)
    assert lin.tolist() == [1, 0.75, 0.5, 0, 0, 0, 0, 0, 0]
    ex = DecayCurve.parse("exponential:half=5")(t)
    assert ex[:6] == pytest.approx([1, 2**-0.5, 0.5, 0.25, 2**-2.1, 2**-3])
    assert ex[6:].tolist() == [0, 0, 0]  # cut at the 15-minute limit
    lo = DecayCurve.parse("logistic:mid=5:scale=1")
    door = 1 + math.exp(-5)
    assert lo([0, 5, 10]) == pytest.approx([1.0, door / 2, door / (1 + math.exp(5))])


def test_defaults_are_the_documented_calibration() -> None:
    """70% of attendance within four blocks (5 min) for the exponential and logistic."""
    assert decay.FOUR_BLOCKS_MIN == 5.0 and decay.SHARE_WITHIN_FOUR_BLOCKS == 0.70
    ex = DecayCurve.default("exponential")
    assert ex.half == pytest.approx(2.8786, abs=1e-4)
    assert ex(5.0)[()] == pytest.approx(0.3)  # 2^(-5/h) = 1 - 0.7
    for kind in ("exponential", "logistic"):
        assert DecayCurve.default(kind).share_within(5.0) == pytest.approx(0.70, abs=1e-3)
    assert DecayCurve.default("linear").share_within(5.0) == pytest.approx(0.75, abs=1e-3)
    assert DecayCurve.default("logistic").scale == pytest.approx(2.2665, abs=1e-4)
    for kind in decay.KINDS:
        c = DecayCurve.default(kind)
        assert c.is_default() and c.source() and kind in c.describe()
    assert not DecayCurve.parse("linear:cutoff=12").is_default()


@settings(deadline=None)
@given(
    kind=st.sampled_from(decay.KINDS),
    a=st.floats(0, 30, allow_nan=False),
    b=st.floats(0, 30, allow_nan=False),
)
def test_curves_fall_with_time_and_stay_in_0_1(kind: str, a: float, b: float) -> None:
    c = DecayCurve.default(kind)
    lo, hi = sorted((a, b))
    va, vb = c([lo, hi])
    assert 0 <= vb <= va <= 1
    assert c([0.0])[0] == 1.0


@pytest.mark.parametrize(
    "text",
    [
        "",
        "gravity",
        "linear:half=3",
        "exponential:half",
        "exponential:half=abc",
        "exponential:half=-2",
        "logistic:scale=0",
        "step:cutoff=inf",
    ],
)
def test_bad_curves_say_what_to_do(text: str) -> None:
    with pytest.raises(InputError):
        DecayCurve.parse(text)


def test_curve_parse_units_and_negative_times() -> None:
    assert DecayCurve.parse("Linear:cutoff=12min").cutoff == 12
    with pytest.raises(InputError, match=">= 0"):
        DecayCurve.default("linear")([-1.0])


# ----------------------------------------------------------------------------- bands
def test_default_bands_and_sources() -> None:
    near, far = DEFAULT_BANDS
    assert (near.start_m, near.end_m, near.low, near.central, near.high) == (0, 500, 0.35, 0.51, 0.67)
    assert (far.start_m, far.end_m, far.low, far.high) == (500, 5000, 0.0, 0.60)
    assert "Marshall" in near.source and "Rammohan" in near.source
    assert "Rammohan" in far.source and "5 km" in far.source
    assert "midpoint" in near.source and "midpoint" in far.source
    assert [b.label for b in DEFAULT_BANDS] == ["0-500 m", "500 m-5 km"]


def test_deaths_averted_by_hand() -> None:
    """Three fatal incidents within 500 m, two between 500 m and 5 km, one beyond; one non-fatal."""
    d = [0, 120, 500, 501, 4999, 5001, 10]
    fatal = [1, 1, 1, 1, 1, 1, 0]
    t = deaths_averted_table(d, fatal, years=2).set_index("band")
    assert t.loc["0-500 m", "fatal_incidents"] == 3
    assert t.loc["0-500 m", ["low", "central", "high"]].tolist() == pytest.approx([1.05, 1.53, 2.01])
    assert t.loc["500 m-5 km", "fatal_incidents"] == 2
    assert t.loc["500 m-5 km", ["low", "central", "high"]].tolist() == pytest.approx([0, 0.6, 1.2])
    assert t.loc["total", ["low", "central", "high"]].tolist() == pytest.approx([1.05, 2.13, 3.21])
    assert t.loc["total", "per_year_central"] == pytest.approx(2.13 / 2)


def test_issue9_hand_case_in_the_first_band() -> None:
    """Three incidents at one address, one fatal (whatever its weight): 0.35-0.67 averted."""
    t = deaths_averted_table([40, 40, 40], [0, 1, 0]).set_index("band")
    assert t.loc["total", ["low", "high"]].tolist() == pytest.approx([0.35, 0.67])


def test_band_effect_edges() -> None:
    assert band_effect([500.0, 500.0001], estimate="low").tolist() == [0.35, 0.0]
    assert band_effect([np.inf, np.nan], estimate="high").tolist() == [0.0, 0.0]
    with pytest.raises(InputError, match="estimate"):
        band_effect([1.0], estimate="best")  # type: ignore[arg-type]


def test_bands_from_config() -> None:
    assert bands_from_config(None) == DEFAULT_BANDS
    b = bands_from_config(["500:35%:51%:67%", "2000:0:0.1:0.2"])
    assert [x.label for x in b] == ["0-500 m", "500 m-2 km"] and b[1].central == 0.1
    m = bands_from_config([{"end_m": 400, "low": 0.3, "central": 0.4, "high": 0.5, "source": "local study"}])
    assert m[0].source == "local study"
    for bad in (
        ["500:0.5:0.4:0.6"],
        ["500:0.35:0.51"],
        ["500:0.1:0.2:0.3", "800:0.1:0.3:0.3"],
        [{"end_m": 500, "low": 0.1}],
        ["x:1:1:1"],
        ["500:0.1:0.2:1.5"],
    ):
        with pytest.raises(InputError):
            bands_from_config(bad)
    with pytest.raises(InputError, match="gap"):
        effects.validate_bands([EffectBand(0, 500, 0, 0, 0, ""), EffectBand(600, 900, 0, 0, 0, "")])


@settings(deadline=None)
@given(st.lists(st.tuples(st.floats(0, 8000), st.booleans()), min_size=1, max_size=40))
def test_table_matches_a_direct_sum(rows: list[tuple[float, bool]]) -> None:
    d = np.array([r[0] for r in rows])
    f = np.array([r[1] for r in rows])
    t = deaths_averted_table(d, f).set_index("band")
    for e in ("low", "central", "high"):
        direct = float((band_effect(d, estimate=e) * f).sum())
        assert t.loc["total", e] == pytest.approx(direct, abs=1e-9)
    assert t.loc["total", "fatal_incidents"] == float((f & (d <= 5000)).sum())


def test_table_takes_counts_and_masses() -> None:
    t = deaths_averted_table([100, 900], [2, 0.5]).set_index("band")
    assert t.loc["total", ["low", "central", "high"]].tolist() == pytest.approx([0.7, 1.17, 1.64])
    with pytest.raises(InputError, match="counts"):
        deaths_averted_table([100], [-1])
