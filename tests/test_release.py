"""The disclosure rule, secondary suppression and the release of a plan.

The audits here solve integer programmes (HiGHS) over what a reader of a table knows; the
attack suite (test_attacks.py) runs them against whole shareable outputs.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from attack import Audit, pinned
from hypothesis import given, settings
from hypothesis import strategies as st

from siting._errors import InputError
from siting.privacy import Rule, display, release_counts, release_partition, release_plan, study_area
from siting.privacy.partition import release_with_total

RULE = Rule()


# ------------------------------------------------------------------------- the rule
def test_labels_and_windows() -> None:
    assert [RULE.label(v) for v in (0, 1, 10, 10.4, 11, 14, 15, 24, 25, 34, 35, 999, 1004, 1005)] == [
        "fewer than 11",
        "fewer than 11",
        "fewer than 11",
        "fewer than 11",
        "20",
        "20",
        "20",
        "20",
        "30",
        "30",
        "40",
        "1,000",
        "1,000",
        "1,010",
    ]
    # every whole count falls in exactly the window of the value it is shown as
    for v in range(11, 400):
        lo, hi = RULE.window(RULE.released([v])[0])
        assert lo <= v <= hi
    assert RULE.first_shown == 20 and RULE.min_base == 6


@pytest.mark.parametrize(
    "kw", [{"threshold": 9}, {"threshold": 0}, {"base": 5}, {"threshold": 20, "base": 10}]
)
def test_weaker_rules_need_the_explicit_flag(kw: dict[str, int]) -> None:
    with pytest.raises(InputError, match="allow-weaker-privacy"):
        Rule(**kw)
    assert Rule(**kw, allow_weaker=True).threshold == kw.get("threshold", 10)


def test_stricter_rules_are_accepted() -> None:
    r = Rule(threshold=20, base=20)
    assert r.label(20) == "fewer than 21" and r.label(21) == "40" and r.window(40) == (21, 49)


@pytest.mark.parametrize("bad", [-1, 1.5, "10", True])
def test_bad_thresholds(bad: object) -> None:
    with pytest.raises(InputError, match="threshold"):
        Rule(threshold=bad)  # type: ignore[arg-type]


def test_base_protects_two_releases_of_nested_counts() -> None:
    """Any a <= b with b - a in 1..10: the shown values never pin b - a inside 1..10 (base 10).

    With base 5 they can (150 -> 155 says "1 to 9 more"), which is why 5 needs the flag.
    """
    for rule, safe in ((RULE, True), (Rule(base=5, allow_weaker=True), False)):
        found = False
        for a in range(0, 300):
            for d in range(1, 11):
                ra, rb = release_counts([a, a + d], rule).low, release_counts([a, a + d], rule).high
                lo = max(0.0, ra[1] - rb[0])
                hi = rb[1] - ra[0]
                found |= pinned(lo, hi, rule.threshold)
        assert found is not safe


# ------------------------------------------------------------ secondary suppression
def _partition_audit(values: list[int], rule: Rule) -> list[str]:
    """Every way a reader of the released parts and total pins a hidden count (empty: safe)."""
    tot, parts = release_with_total(sum(values), {"parts": values}, rule)
    rel = parts["parts"]
    total = (tot.low[0], tot.high[0])
    audit = Audit(len(values))
    for j in range(len(values)):
        audit.add([j], rel.low[j], rel.high[j])
    audit.add(list(range(len(values))), *total)
    hidden = [j for j in range(len(values)) if rel.status[j] == "suppressed"]
    problems = []
    for k in range(1, len(hidden) + 1):
        for group in itertools.combinations(hidden, k):
            true = sum(values[j] for j in group)
            if 1 <= true <= rule.threshold and pinned(*audit.range(list(group)), rule.threshold):
                problems.append(f"{group} = {true} pinned")
    return problems


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 10), st.integers(11, 80), st.just(0)), min_size=1, max_size=7))
def test_secondary_suppression_leaves_nothing_to_subtract(values: list[int]) -> None:
    assert _partition_audit(values, RULE) == []


def test_without_secondary_suppression_the_audit_pins_the_hidden_bar() -> None:
    """The audit can fail: the rule alone lets 24 hour bars and their total give away a 3."""
    bars = [3] + [44] * 23
    total = RULE.window(RULE.released([sum(bars)])[0])
    plain = release_counts(bars, RULE)
    audit = Audit(24)
    for j in range(24):
        audit.add([j], plain.low[j], plain.high[j])
    audit.add(list(range(24)), *total)
    assert pinned(*audit.range([0]), 10)
    rel = release_partition(bars, RULE, total=total)
    assert (rel.status == "withheld").sum() == 1
    assert _partition_audit(bars, RULE) == []


def test_a_single_hidden_cell_next_to_an_exact_total_is_protected() -> None:
    """The issue's case: 43 incidents, a cell of 40 and one of 3."""
    total = RULE.window(RULE.released([43])[0])
    rel = release_partition([40, 3], RULE, total=total)
    assert rel.label.tolist() == ["40", "fewer than 11"]
    assert _partition_audit([40, 3], RULE) == []


def test_a_total_that_would_pin_hidden_cells_is_shown_as_a_bound() -> None:
    """Two cells of 1 and 10: a total "20" (11..24) proves both hold an incident."""
    tot, _ = release_with_total(11, {"cells": [1, 10]}, RULE)
    assert tot.label[0] == "fewer than 21"
    assert _partition_audit([1, 10], RULE) == []


# ------------------------------------------------------------------- study area
def test_study_area_depends_on_the_streets_only(demo_network) -> None:  # type: ignore[no-untyped-def]
    a = study_area(demo_network)
    b = study_area(demo_network)
    np.testing.assert_array_equal(a.q, b.q)
    np.testing.assert_array_equal(a.unit_x, b.unit_x)
    assert a.cell_street_m.sum() == pytest.approx(demo_network.edge_length_m.sum())
    # a unit with streets lies in its own cell; a cell without streets has one unit, on the
    # street nearest it
    idx = a.cell_index(a.unit_x, a.unit_y)
    streets = a.unit_street_m > 0
    np.testing.assert_array_equal(idx[streets], a.unit_cell[streets])
    empty = np.flatnonzero(a.cell_street_m == 0)
    assert empty.size and np.array_equal(np.sort(a.unit_cell[~streets]), empty)


# ----------------------------------------------------------------- a released plan
@pytest.fixture(scope="module")
def small_release():  # type: ignore[no-untyped-def]
    from test_maps import make_plan

    plan = make_plan()
    return plan, release_plan(plan)


def test_every_released_label_follows_the_rule(small_release) -> None:  # type: ignore[no-untyped-def]
    _, rel = small_release
    frames = [rel.cells, rel.candidates, rel.sites, rel.totals, rel.hotspots, rel.regions]
    frames += list(rel.time_profile.values())
    for df in frames:
        if df is None:
            continue
        for col in [c for c in df.columns if str(c).endswith("_label") or c == "label"]:
            for text in df[col].astype(str):
                if text in ("", "not shown") or text.startswith("fewer than"):
                    continue
                if text.endswith(("min", "%")):
                    continue
                assert int(text.replace(",", "")) >= 20, (col, text)


def test_masses_add_up_to_the_released_total(small_release) -> None:  # type: ignore[no-untyped-def]
    _, rel = small_release
    shown, _ = rel.total("incidents")
    assert rel.demand.unit_count.sum() == pytest.approx(shown)
    assert rel.cells["heat"].sum() == pytest.approx(shown, abs=0.1)
    # shown cells stand for their shown value, scaled only when they add up to more than the
    # shown total (rounding), and hidden cells share what is left
    shown_cells = rel.cells["status"] == "shown"
    heat, count = rel.cells.loc[shown_cells, "heat"], rel.cells.loc[shown_cells, "count"]
    scale = min(1.0, shown / count.sum())
    np.testing.assert_allclose(heat, count * scale, atol=1e-3)


def test_display_gives_text_for_every_released_value(small_release) -> None:  # type: ignore[no-untyped-def]
    _, rel = small_release
    d = display(rel.candidates)
    assert not [c for c in d.columns if str(c).endswith("_label")]
    assert d["covered_incidents"].map(type).eq(str).all()


def test_recombined_score_matches_the_scoring_module() -> None:
    """The release recomputes score parts with the formula of score.py: same inputs, same score."""
    from scipy import sparse

    from siting.privacy.candidates import recombine
    from siting.score import score_candidates

    rng = np.random.default_rng(3)
    d = sparse.random(12, 40, density=0.3, random_state=4, format="csr") * 800
    s = sparse.random(12, 6, density=0.3, random_state=5, format="csr") * 800
    w = rng.integers(1, 6, 40).astype(float)
    hot = rng.random(40) < 0.3
    t = score_candidates(
        [str(i) for i in range(12)],
        demand_metres=d,
        demand_weight=w,
        cutoff_m=800,
        speed_m_per_min=80,
        service_metres=s,
        demand_in_hotspot=hot,
    )
    parts = recombine(
        {c: t[c].to_numpy() for c in ("part_services", "part_service_access")},
        {
            "demand": t["covered_demand_weight"].to_numpy(),
            "walk": t["access_demand_weight"].to_numpy(),
            "hotspot": t["hotspot_demand_weight"].to_numpy(),
        },
        t.attrs["weights"],
        cutoff_min=10.0,
        avoid=set(),
    )
    np.testing.assert_allclose(parts["score"], t["score"].to_numpy(), atol=1e-12)


def test_release_is_a_function_of_released_values_only(small_release) -> None:  # type: ignore[no-untyped-def]
    """Moving incidents without changing any released cell changes no shareable figure."""
    plan, rel = small_release
    from siting.privacy import release_plan as rp

    cells = rel.cells
    a = rel.area
    idx = a.cell_index(*np.asarray(plan.demand.geometry.apply(lambda p: (p.x, p.y)).tolist()).T)
    # swap two incidents between two shown cells' ... keep counts: move one incident to a
    # position in the same cell (different street), and reverse the order of rows
    moved = plan.demand.iloc[::-1].copy()
    moved_plan = type(plan)(**{**plan.__dict__, "demand": moved.reset_index(drop=True)})
    rel2 = rp(moved_plan)
    pd.testing.assert_frame_equal(
        display(rel.candidates).drop(columns="geometry"), display(rel2.candidates).drop(columns="geometry")
    )
    assert len(cells) == len(rel2.cells) and (idx >= 0).all()
