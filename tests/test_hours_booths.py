"""Opening hours (shortest circular window) and booths (Erlang C): hand checks, a published
table, and independent implementations."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siting import booths
from siting._errors import InputError
from siting.hours import hourly_counts, local_hours, recommend_hours, shortest_window


# ----------------------------------------------------------------------------- hours
def test_the_issues_example_by_hand() -> None:
    """81 of 100 incidents fall 08:00-22:00; a window of 13 hours reaches at most 78."""
    profile = [2] * 8 + [6] * 13 + [3] + [2, 1]
    assert sum(profile) == 100 and sum(profile[8:22]) == 81
    rec = recommend_hours(profile)
    assert (rec.start, rec.hours, rec.window) == (8, 14, "08:00-22:00")
    assert rec.share == pytest.approx(0.81)
    # 95% leaves out at most 5 incidents: the longest run of hours holding <= 5 is 3 hours
    assert rec.also_hours == 21
    assert rec.describe() == "08:00-22:00 reaches 81%; 95% needs 21 hours"
    assert rec.open_mask().sum() == 14 and rec.open_mask()[8] and not rec.open_mask()[22]


def test_overnight_window_and_round_the_clock() -> None:
    night = [10] * 6 + [0] * 16 + [10, 10]  # 22:00-06:00
    rec = recommend_hours(night, target=1.0, also=None)
    assert rec.window == "22:00-06:00" and rec.hours == 8
    flat = recommend_hours([3] * 24, target=0.95)
    assert flat.hours == 23 and "needs" not in flat.describe()  # also <= target is dropped
    assert recommend_hours([1] * 24, target=1.0).describe().startswith("open 24 hours")
    assert recommend_hours([0] * 24).describe().startswith("no incidents with a time of day")


def _brute_force(counts: list[int], share: float) -> tuple[int, int]:
    total = sum(counts)
    for length in range(1, 25):
        best = max(sum(counts[(s + k) % 24] for k in range(length)) for s in range(24))
        if best >= share * total - 1e-9 * total:
            return length, best
    raise AssertionError


@settings(deadline=None)
@given(st.lists(st.integers(0, 30), min_size=24, max_size=24), st.floats(0.05, 1.0))
def test_window_matches_brute_force(counts: list[int], share: float) -> None:
    start, length, reached = shortest_window(counts, share)
    if sum(counts) == 0:
        assert (start, length, reached) == (0, 0, 0.0)
        return
    bl, best = _brute_force(counts, share)
    assert length == bl
    held = sum(counts[(start + k) % 24] for k in range(length))
    assert held == best and reached == pytest.approx(best / sum(counts))


def test_bad_profiles() -> None:
    for bad in ([1] * 23, [1] * 23 + [-1], [1] * 23 + [np.nan]):
        with pytest.raises(InputError):
            recommend_hours(bad)
    with pytest.raises(InputError, match="share"):
        recommend_hours([1] * 24, target=0)


def test_local_hours_in_the_datas_timezone() -> None:
    """A Friday-night incident in Toronto stored in UTC counts at 23:00 local, across DST."""
    s = pd.Series(
        [
            "2024-01-06T04:30:00Z",  # winter: 23:30 EST on Friday
            "2024-07-06T03:30:00+00:00",  # summer: 23:30 EDT
            "2024-03-10T06:59:00Z",  # 01:59 EST, the night clocks go forward
            "2024-03-10",  # no time of day: unknown hour
            "not a date",
        ]
    )
    assert local_hours(s, "America/Toronto").tolist() == [23, 23, 1, -1, -1]
    counts = hourly_counts(local_hours(s, "America/Toronto"))
    assert counts[23] == 2 and counts[1] == 1 and counts.sum() == 3
    with pytest.raises(InputError, match="timezone"):
        local_hours(s, "Mars/Olympus")
    # two offsets and no timezone: an error that asks for one; a single offset keeps its clock
    with pytest.raises(InputError, match="2 UTC offsets"):
        local_hours(pd.Series(["2024-01-06T23:30:00-05:00", "2024-07-06T23:30:00-04:00"]))
    assert local_hours(pd.Series(["2024-01-06T23:30:00-05:00", "2024-01-07T01:00-05:00"])).tolist() == [23, 1]
    stamps = pd.Series(pd.to_datetime(["2024-01-06T04:30:00Z", None], utc=True))
    assert local_hours(stamps, "America/Toronto").tolist() == [23, -1]


# ----------------------------------------------------------------------------- Erlang C
def test_erlang_c_matches_the_published_table() -> None:
    """Dunlop, Girma & Irvine, Digital Mobile Communications and the TETRA System (Wiley 1999),
    Appendix A.4, Erlang C table: 8 channels at 5% queueing carry 3.87 E; 10 channels at 1%
    carry 4.08 E; a queued call waits past one mean holding time with probability 0.016
    (8 channels) and 0.0022 (10 channels) at 3.87 E."""
    assert round(booths.traffic_for(8, 0.05), 2) == 3.87
    assert round(booths.traffic_for(10, 0.01), 2) == 4.08
    assert booths.erlang_c(8, 3.87) == pytest.approx(0.05, abs=5e-4)
    assert booths.erlang_c(10, 4.08) == pytest.approx(0.01, abs=5e-4)
    for n, pw in ((8, 0.016), (10, 0.0022)):
        queued_past_t = booths.wait_longer_than(n, 3.87, 1.0, 1.0) / booths.erlang_c(n, 3.87)
        assert queued_past_t == pytest.approx(pw, rel=0.02)


def test_erlang_b_classic_table() -> None:
    """The Erlang B table every traffic text prints: 10 lines at 1% blocking carry 4.46 E."""
    assert booths.erlang_b(10, 4.46) == pytest.approx(0.01, abs=5e-4)


def _erlang_c_direct(n: int, a: float) -> float:
    """An independent route: the M/M/c stationary distribution, summed explicitly."""
    terms = [a**k / math.factorial(k) for k in range(n)]
    tail = a**n / math.factorial(n) * n / (n - a)
    return tail / (sum(terms) + tail)


@settings(deadline=None)
@given(st.integers(1, 60), st.floats(0.001, 0.999))
def test_erlang_c_matches_the_direct_sum(n: int, rho: float) -> None:
    a = rho * n
    assert booths.erlang_c(n, a) == pytest.approx(_erlang_c_direct(n, a), rel=1e-9, abs=1e-12)


def test_erlang_c_against_a_simulated_queue() -> None:
    """A seeded M/M/3 simulation at 2 erlangs waits about (4/9) x 30 / 1 = 13.3 minutes."""
    rng = np.random.default_rng(0)
    n_arr, lam, service = 200_000, 4.0 / 60.0, 30.0
    arrive = np.cumsum(rng.exponential(1 / lam, n_arr))
    serve = rng.exponential(service, n_arr)
    free = np.zeros(3)
    waits = np.empty(n_arr)
    for i in range(n_arr):
        j = int(np.argmin(free))
        start = max(arrive[i], free[j])
        waits[i] = start - arrive[i]
        free[j] = start + serve[i]
    assert waits.mean() == pytest.approx(booths.mean_wait_min(3, 4.0, 30.0), rel=0.05)
    assert (waits > 0).mean() == pytest.approx(booths.erlang_c(3, 2.0), rel=0.03)


@settings(deadline=None)
@given(st.floats(0.1, 200), st.floats(5, 60), st.floats(0.5, 30))
def test_booths_for_wait_is_the_fewest(lam: float, service: float, target: float) -> None:
    n = booths.booths_for_wait(lam, service_min=service, target_wait_min=target)
    assert booths.mean_wait_min(n, lam, service) <= target + 1e-9
    assert n == 1 or booths.mean_wait_min(n - 1, lam, service) > target


def test_booth_plan_and_the_rule_of_thumb() -> None:
    """500 visits a day at Insite's hours: the rule says 13 booths; the queue needs more."""
    open_ = np.zeros(24, bool)
    open_[np.r_[9:24, 0:3]] = True  # 09:00-03:00, 18 hours
    visits = np.where(open_, 500 / 18, 0.0)
    plan = booths.booth_plan(visits, open_hours=open_)
    assert booths.booths_by_rule(500) == 13
    assert booths.DEFAULT_SERVICE_MIN == 27.0
    need = int(plan["booths"].max())
    # offered load 500/18 x 27/60 = 12.5 erlangs: more than 12.5 booths, and a 5-minute target adds a few
    assert need > 12.5 and plan.loc[9, "erlangs"] == pytest.approx(12.5)
    assert plan.loc[9, "mean_wait_min"] <= booths.DEFAULT_TARGET_WAIT_MIN
    assert plan.loc[5, "visits"] == 0 and plan.loc[5, "booths"] == 0
    with pytest.raises(InputError):
        booths.booth_plan([1.0] * 23)
    with pytest.raises(InputError):
        booths.booths_for_wait(float("nan"))


# ----------------------------------------------------------------------------- capacity by the queue
def test_queue_capacity_by_hand() -> None:
    """One booth is M/M/1: mean wait rho x s / (1 - rho) = 5 min at s = 27 needs rho = 5/32, so
    0.347 visits an hour; flat over 18 open hours that is 6.25 visits a day, where the rule
    says 40. Twelve booths flat over 18 hours come close to the rule (they pool the waits)."""
    assert booths.arrivals_within_wait(1) == pytest.approx(5 / 32 * 60 / 27, abs=1e-7)
    flat = [1.0] * 18 + [0.0] * 6
    assert booths.visits_within_wait(1, flat) == pytest.approx(6.25, abs=1e-6)
    twelve = booths.visits_within_wait(12, flat)
    assert 0.8 * 12 * 40 < twelve < 12 * 40
    # a profile with a busy hour: the busiest open hour decides; closing it raises capacity
    peaky = [1.0] * 24
    peaky[22] = 4.0
    shut = np.ones(24, bool)
    shut[22] = False
    assert booths.visits_within_wait(3, peaky) == pytest.approx(booths.arrivals_within_wait(3) / (4 / 27))
    assert booths.visits_within_wait(3, peaky, open_hours=shut) == pytest.approx(
        booths.arrivals_within_wait(3) / (1 / 27)
    )
    assert booths.visits_within_wait(0, flat) == 0.0


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 30),
    st.lists(st.integers(0, 20), min_size=24, max_size=24).filter(lambda c: sum(c) > 0),
    st.floats(5, 60),
    st.floats(0.5, 15),
)
def test_queue_capacity_agrees_with_the_booth_plan(
    n: int, counts: list[int], service: float, target: float
) -> None:
    """The capacity of n booths is where the booth plan switches from at most n to more than n."""
    cap = booths.visits_within_wait(n, counts, service_min=service, target_wait_min=target)
    prof = np.asarray(counts, float) / sum(counts)
    below = booths.booth_plan(cap * 0.999 * prof, service_min=service, target_wait_min=target)
    above = booths.booth_plan(cap * 1.001 * prof, service_min=service, target_wait_min=target)
    assert int(below["booths"].max()) <= n < int(above["booths"].max())
