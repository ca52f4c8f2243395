"""Shareable per-site figures: every label follows the rule, every number comes from released units."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from siting.effects import band_effect
from siting.hours import recommend_hours

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo" / "scenario.toml"


@pytest.fixture(scope="module")
def deaths_release():  # type: ignore[no-untyped-def]
    from siting.cli.run import read_scenario_file
    from siting.pipeline import prepare, score_plan
    from siting.privacy import release_plan
    from siting.selection import SelectionSpec, choose_sites

    sc, _ = read_scenario_file(DEMO)
    prep = prepare(sc, wide=True)
    plan = score_plan(prep)
    spec = SelectionSpec.from_mapping(
        {"model": "deaths", "p": 2, "demand_per_day": 300, "curve_max": 2, "sensitivity": False}
    )
    choose_sites(prep, plan, spec)
    return plan, release_plan(plan)


def _is_allowed(text: str) -> bool:
    return text in ("", "not shown", "not estimated") or text.startswith(("fewer than", "not shown ("))


def test_every_site_label_follows_the_rule(deaths_release) -> None:  # type: ignore[no-untyped-def]
    _, rel = deaths_release
    t = rel.rule.threshold
    for df in (rel.site_impact, rel.site_hours, rel.deaths_bands):
        assert df is not None and len(df)
        for col in [c for c in df.columns if str(c).endswith("_label")]:
            for text in df[col].astype(str):
                if _is_allowed(text) or text.endswith(("min", "%")):
                    continue
                if col.startswith(("deaths_", "low", "central", "high")):
                    assert re.fullmatch(r"\d+\.\d", text), (col, text)  # deaths: one decimal
                else:
                    assert int(text.replace(",", "")) >= rel.rule.first_shown, (col, text)
    # deaths are shown only where the released fatal count behind them is above the threshold
    si = rel.site_impact
    shown = si["deaths_low_label"].str.fullmatch(r"\d+\.\d")
    assert (si.loc[shown, "fatal_near"] >= t + 1).all()
    assert (si.loc[~shown, "fatal_near"].isna() | (si.loc[~shown, "fatal_near"] < t + 1)).all()


def test_site_figures_come_from_released_units(deaths_release) -> None:  # type: ignore[no-untyped-def]
    """An independent recomputation from the released masses gives the same numbers."""
    plan, rel = deaths_release
    chosen = list(rel.site_impact["candidate_id"])
    m = rel.reach_from(chosen, 5000.0).tocoo()
    dense = np.full((len(chosen), m.shape[1]), np.inf)
    dense[m.row, m.col] = m.data
    nearest = dense.min(axis=0)
    who = np.where(np.isfinite(nearest), dense.argmin(axis=0), -1)
    fatal = rel.demand.unit_fatal
    for k, sid in enumerate(chosen):
        mine = who == k
        low = float((band_effect(nearest[mine], estimate="low") * fatal[mine]).sum())
        row = rel.site_impact.set_index("candidate_id").loc[sid]
        if np.isfinite(row["deaths_low"]):
            assert row["deaths_low"] == pytest.approx(round(low, 1), abs=0.051)
    bands = rel.deaths_bands.set_index("band")
    total_low = float((band_effect(nearest, estimate="low") * fatal).sum())
    assert bands.loc["total", "low"] == pytest.approx(round(total_low, 1), abs=0.051)
    # and they differ from the exact ones (they are estimates from released cells)
    exact = plan.deaths_bands.set_index("band")
    assert bands.loc["total", "low"] != pytest.approx(exact.loc["total", "low"], abs=1e-9)


def test_hours_come_from_the_released_bars(deaths_release) -> None:  # type: ignore[no-untyped-def]
    _, rel = deaths_release
    for sid, g in rel.site_hours.groupby("candidate_id"):
        bars = np.nan_to_num(g.sort_values("hour")["incidents"].to_numpy(dtype=float), nan=0.0)
        row = rel.site_impact.set_index("candidate_id").loc[sid]
        assert row["hours_window"] == recommend_hours(bars).window
        assert set(g["status"]) <= {"shown", "suppressed", "withheld"}
        assert (g.loc[g["status"] != "shown", "incidents"].isna()).all()
        assert "reaches" in row["hours_text"]


def test_value_curve_is_released(deaths_release) -> None:  # type: ignore[no-untyped-def]
    plan, rel = deaths_release
    assert plan.coverage_curve is not None and rel.coverage_curve is not None
    assert rel.coverage_curve.attrs["value_name"] == "expected deaths averted"
    assert list(rel.coverage_curve["n_sites"]) == list(plan.coverage_curve["n_sites"])
    assert rel.coverage_curve["covered_demand_weight_label"].str.fullmatch(r"\d+\.\d|not shown \(.*\)").all()


def test_released_reasons_speak_the_models_terms(deaths_release) -> None:  # type: ignore[no-untyped-def]
    plan, rel = deaths_release
    si = rel.site_impact.set_index("candidate_id")
    for row in rel.sites.to_dict("records"):
        assert (
            f"averts {si.loc[row['candidate_id'], 'deaths_low_label']} deaths (low estimate)" in row["reason"]
        )
    assert "deaths_averted" in plan.sites.columns  # exact per-site value: internal only
    assert "deaths_averted" not in rel.sites.columns
