"""Why these sites: the reasons and findings of :mod:`siting.choice`, on hand-made cases."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy import sparse

from siting._errors import InfeasibleError
from siting.choice import explain_choice
from siting.locate import MaximalCovering
from siting.plan import Plan
from siting.selection import SelectionSpec

# five candidates, ten incidents (weight 1 each); columns are incidents
#   A reaches 0-5, B reaches 0-4 (inside A's), C reaches 6-7, D reaches 7-9, E excluded reaches 0-9
REACH = {"A": range(0, 6), "B": range(0, 5), "C": range(6, 8), "D": range(7, 10), "E": range(0, 10)}
IDS = list(REACH)


def _within() -> sparse.csr_matrix:
    rows, cols = [], []
    for r, c in enumerate(IDS):
        rows += [r] * len(REACH[c])
        cols += list(REACH[c])
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(IDS), 10))


def _plan(rank: list[float], score: list[float], region: list[str]) -> Plan:
    cands = gpd.GeoDataFrame(
        {
            "candidate_id": IDS,
            "rank": rank,
            "score": score,
            "excluded": [False, False, False, False, True],
            "excluded_reason": ["", "", "", "", "within 200 m of a school"],
            "region": region,
        },
        geometry=shapely.points(np.arange(5), np.zeros(5)),
        crs=32635,
    )
    return Plan(name="t", network=None, candidates=cands, demand=None)  # type: ignore[arg-type]


def _run(spec: SelectionSpec, plan: Plan) -> Plan:
    within = _within()
    regions = list(plan.candidates["region"])

    def resolve(s: SelectionSpec) -> object:
        return MaximalCovering(
            within, p=s.p, weights=np.ones(10), candidate_ids=IDS, cutoff=10.0, regions=regions,
            excluded=["E"], quotas=s.quotas,
        ).solve()  # fmt: skip

    result = resolve(spec)
    curve = []
    for k in (1, 2, 3):
        try:
            r = resolve(dataclasses.replace(spec, p=k))
        except InfeasibleError:
            continue
        curve.append({"n_sites": k, "chosen": ";".join(r.chosen)})
    plan.coverage_curve = pd.DataFrame(curve)
    explain_choice(
        plan, result, spec, candidate_ids=IDS, within=within, weights=np.ones(10), regions=regions,
        resolve=resolve,
    )  # fmt: skip
    return plan


def test_overlap_and_exclusion_explain_higher_ranked_candidates() -> None:
    # B ranks first (say, many services) but sits inside A's catchment; E is excluded
    plan = _run(SelectionSpec(p=2), _plan([2, 1, 3, 4, np.nan], [0.8, 0.9, 0.5, 0.4, 0.95], ["N"] * 5))
    assert plan.findings is not None
    nc = plan.not_chosen.set_index("candidate_id")
    assert set(nc.index) == {"B", "C", "E"}  # A and D chosen; D ranks 4th
    assert nc.loc["B", "why"] == "overlap" and nc.loc["B", "overlap_with"] == "A"
    assert nc.loc["C", "why"] == "overlap" and nc.loc["C", "overlap_share"] == 0.5  # incident 7
    assert nc.loc["B", "overlap_share"] == 1.0  # every incident B reaches, A reaches
    assert nc.loc["E", "why"] == "exclusion" and "school" in nc.loc["E", "excluded_reason"]


def test_quota_finding_names_the_rule_and_the_site_it_made() -> None:
    # regions: A, B north; C, D south; "South >= 2" makes C and D chosen (4 incidents); the best
    # pair without it is A and D (9)
    spec = SelectionSpec(p=2, quotas={"South": (">=", 2)})
    plan = _run(
        spec, _plan([1, 2, 3, 4, np.nan], [0.9, 0.8, 0.5, 0.4, 0.95], ["N", "N", "South", "South", "N"])
    )
    f = plan.findings.set_index("finding")
    rule = plan.findings[plan.findings["finding"] == "rule"]
    assert list(rule["site"]) == ["C"] and list(rule["rule"]) == ["South >= 2"]
    assert rule["best"].iat[0] == "A;D" and rule["best_share"].iat[0] == 0.9
    # D ranks 4th but is in the best pair on its own merit: 2 of the 3 incidents it reaches, C does not
    assert f.loc["low_rank", "site"] == "D"
    assert np.isclose(f.loc["low_rank", "chosen_incident_share"], 2 / 3)
    nc = plan.not_chosen.set_index("candidate_id")
    assert nc.loc["A", "why"] == "quota"
    assert nc.loc["B", "why"] == "quota"  # no swap for B keeps two sites in the south


def test_next_site_flags_a_best_larger_set_that_drops_a_chosen_site() -> None:
    plan = _plan([1, 2, 3, 4, np.nan], [0.9, 0.8, 0.5, 0.4, 0.95], ["N"] * 5)
    plan = _run(SelectionSpec(p=1), plan)
    nxt = plan.findings[plan.findings["finding"] == "next_site"].iloc[0]
    assert nxt["chosen"] == "A" and "A" in nxt["best"].split(";")
    assert not nxt["flagged"] and nxt["dropped"] == ""
    assert nxt["chosen_share"] == 0.6 and nxt["best_share"] == 0.9


def test_overlap_matches_sets_on_random_reach() -> None:
    """overlap_with / overlap_share against Python sets: the chosen site sharing most of a
    candidate's incidents (ties: the earlier row), stored zeros and repeated entries in a row
    counting each incident once, rows reaching nothing."""
    from types import SimpleNamespace
    from typing import Any

    rng = np.random.default_rng(7)
    n_c, n_d = 40, 60
    for trial in range(5):
        rows = [np.sort(rng.choice(n_d, size=rng.integers(0, 12), replace=True)) for _ in range(n_c)]
        indptr = np.concatenate([[0], np.cumsum([len(r) for r in rows])])
        data = rng.choice([0.0, 1.0, 2.5], size=int(indptr[-1]))  # explicit zeros count
        within = sparse.csr_matrix((data, np.concatenate(rows).astype(np.int32), indptr), shape=(n_c, n_d))
        ids = [f"c{i}" for i in range(n_c)]
        chosen = [ids[i] for i in rng.choice(n_c, size=1 + trial, replace=False)]
        cands = gpd.GeoDataFrame(
            {"candidate_id": ids, "rank": np.arange(n_c, dtype=float), "score": np.zeros(n_c)},
            geometry=shapely.points(np.arange(n_c), np.zeros(n_c)),
            crs=32635,
        )
        cands.loc[cands["candidate_id"].isin(chosen), "rank"] = n_c  # every other one ranks above
        plan = Plan(name="t", network=None, candidates=cands, demand=None)  # type: ignore[arg-type]
        result: Any = SimpleNamespace(chosen=chosen)
        resolve: Any = None  # not called without quotas
        explain_choice(
            plan, result, SelectionSpec(p=len(chosen)), candidate_ids=ids, within=within,
            weights=np.ones(n_d), regions=None, resolve=resolve,
        )  # fmt: skip
        nc = plan.not_chosen.set_index("candidate_id")
        assert set(nc.index) == set(ids) - set(chosen)
        sets = [set(r.tolist()) for r in rows]
        crow = [ids.index(c) for c in chosen]
        for i, cid in enumerate(ids):
            if cid in chosen:
                continue
            if not sets[i]:
                assert nc.loc[cid, "overlap_with"] == "" and np.isnan(nc.loc[cid, "overlap_share"])
                continue
            best = max(crow, key=lambda r: (len(sets[i] & sets[r]), -r))
            assert nc.loc[cid, "overlap_with"] == ids[best]
            assert nc.loc[cid, "overlap_share"] == len(sets[i] & sets[best]) / len(sets[i])
