"""The attack suite: our shareable outputs attacked as a reader with the street network would.

Three runs of the whole pipeline: the demo (1,800 synthetic incidents), a sparse version
of it (150 of them, drawn with a seed, where most hexagons hold 0 to 10), and the sparse
version with one more incident in an empty area (next month's map). Each attack must
recover no count of 1..10 and locate no incident more finely than a published hexagon
holding 11 or more. The integer programmes are HiGHS (through scipy.optimize.milp).

The attacker reads only published labels ("fewer than 11", "1,230", "not shown") and
knows the rule (it is printed on every output), the street network, the candidates and
the hexagon grid (both public). Where an attack needs the truth to judge success, the
test reads it from the plan, never the attacker.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import shapely
from attack import (
    Audit,
    add_choice,
    base_table,
    build_atoms,
    located,
    parse_label,
    pinned,
    read_release,
    street_points,
)

from siting.privacy import ReleasedPlan, display, release_plan

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
T = 10
SPARSE_N = 150
SPARSE_SEED = 0  # any seed works; this one leaves two lone catchments (the case the issue reported)


@dataclass
class Run:
    plan: Any
    rel: ReleasedPlan
    folder: Path


def _run(folder: Path) -> Run:
    from siting.cli.run import read_scenario_file
    from siting.cli.score import build_plan

    scenario, _ = read_scenario_file(folder / "scenario.toml")
    plan = build_plan(scenario)
    return Run(plan, release_plan(plan), folder)


def _sparse(folder: Path) -> Path:
    shutil.copytree(DEMO, folder)
    inc = pd.read_csv(DEMO / "incidents.csv")
    keep = np.sort(np.random.default_rng(SPARSE_SEED).choice(len(inc), SPARSE_N, replace=False))
    inc.iloc[keep].to_csv(folder / "incidents.csv", index=False)
    return folder


def _plus_one(sparse: Run, folder: Path) -> tuple[Path, int]:
    """The sparse data and one incident in the emptiest area: an empty hexagon (streets in it
    preferred) with the fewest incidents around it, on its street or, without one, at its
    centre (within the snapping limit of a street)."""
    import geopandas as gpd
    from scipy.spatial import cKDTree

    shutil.copytree(sparse.folder, folder)
    a = sparse.rel.area
    truth = _cell_truth(sparse)
    cx, cy = a.centres()
    _, sxy, _ = street_points(sparse.plan.network, spacing_m=10.0)
    to_street, _ = cKDTree(sxy).query(np.column_stack([cx, cy]))
    options = []
    for j in np.flatnonzero(truth == 0):
        near = np.hypot(cx - cx[j], cy - cy[j]) < 1.9 * a.size_m
        if a.cell_street_m[j] > 0 or to_street[j] < 200:
            options.append((a.cell_street_m[j] == 0, int(truth[near].sum()), int(j)))
    assert options, "the sparse data has no empty hexagon"
    _, _, best = min(options)
    units = np.flatnonzero((a.unit_cell == best) & (a.unit_street_m > 0))
    x, y = (a.unit_x[units[0]], a.unit_y[units[0]]) if units.size else (cx[best], cy[best])
    ll = gpd.GeoSeries(shapely.points([x], [y]), crs=a.crs).to_crs(4326).iloc[0]
    inc = pd.read_csv(folder / "incidents.csv")
    row = inc.iloc[[0]].copy()
    row["incident_id"] = "NEW0001"
    row["date"] = "2025-12-31T03:10"
    row["lat"], row["lon"] = round(ll.y, 6), round(ll.x, 6)
    row["fatal"], row["weight"] = 0, 1
    pd.concat([inc, row], ignore_index=True).to_csv(folder / "incidents.csv", index=False)
    return folder, best


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("attacks")
    demo = _run(DEMO)
    sparse = _run(_sparse(root / "sparse"))
    folder, cell = _plus_one(sparse, root / "plus")
    return {"demo": demo, "sparse": sparse, "plus": _run(folder), "plus_cell": cell}


def _cell_truth(run: Run, fatal: bool = False) -> np.ndarray:
    d = run.plan.demand
    if fatal:
        d = d[d["fatal"].astype(bool)]
    xy = shapely.get_coordinates(d.geometry.values)
    idx = run.rel.area.cell_index(xy[:, 0], xy[:, 1])
    return np.bincount(idx, minlength=run.rel.area.n_cells)


# ------------------------------------------------------------------ 1. subtraction
def _protected(bt, rel, run: Run) -> list[tuple[str, np.ndarray, int]]:  # type: ignore[no-untyped-def]
    """Every base-table value whose true count is 1..T, with its unknowns and true value."""
    out = []
    n = _cell_truth(run)
    f = _cell_truth(run, fatal=True)
    for j in range(len(n)):
        cell = [bt.blocks["x"][j], *([bt.blocks["y"][j]] if "y" in bt.blocks else [])]
        out.append((f"cell {j}", np.array(cell), int(n[j])))
        if "y" in bt.blocks:
            out.append((f"fatal cell {j}", np.array([bt.blocks["y"][j]]), int(f[j])))
    hidden = [j for j in range(len(n)) if rel.cells["status"].iloc[j] != "shown"]
    hid = np.concatenate([bt.blocks["x"][hidden], *([bt.blocks["y"][hidden]] if "y" in bt.blocks else [])])
    out.append(("all hidden cells together", hid, int(n[hidden].sum())))
    from siting.hotspots import time_profile

    prof = time_profile(run.plan.demand)
    for k in ("hour", "weekday"):
        if k in bt.blocks:
            for i, v in enumerate(prof[k].to_numpy()):
                out.append((f"{k} bar {i}", np.array([bt.blocks[k][i]]), int(v)))
    return [p for p in out if 1 <= p[2] <= T]


@pytest.mark.parametrize("name", ["demo", "sparse"])
def test_subtraction_of_totals_recovers_no_small_count(runs: dict[str, Any], name: str) -> None:
    run = runs[name]
    bt = base_table(run.rel)
    assert bt.audit.feasible()
    targets = _protected(bt, run.rel, run)
    assert targets or name == "demo"
    leaks = [(what, true, bt.audit.range(idx)) for what, idx, true in targets]
    assert [x for x in leaks if pinned(*x[2], T)] == []


def test_the_audit_sees_subtraction_when_figures_are_exact(runs: dict[str, Any]) -> None:
    """The audit has teeth: with yesterday's outputs (small cells hidden, the total and the
    other cells exact) it recovers the hidden cells' total to the incident; from the release
    it cannot, and each hidden cell stays anywhere in 0..10."""
    for name in ("demo", "sparse"):
        run = runs[name]
        n = _cell_truth(run)
        hidden = np.flatnonzero(n <= T)
        old = Audit(len(n))
        for j, v in enumerate(n):
            old.add([j], *((0.0, 10.0) if v <= T else (float(v), float(v))))
        old.add(np.arange(len(n)), float(n.sum()), float(n.sum()))
        assert old.range(hidden) == (float(n[hidden].sum()), float(n[hidden].sum()))
        bt = base_table(run.rel)
        hid = [j for j in range(len(n)) if run.rel.cells["status"].iloc[j] != "shown"]
        lo, hi = bt.audit.range(np.concatenate([bt.blocks["x"][hid], bt.blocks["y"][hid]]))
        assert hi - lo >= T
        for j in hid:
            assert bt.audit.least(np.array([bt.blocks["x"][j], bt.blocks["y"][j]])) == 0


# ------------------------------------------------------ 2. the choice of sites
@pytest.mark.parametrize("name", ["demo", "sparse"])
def test_the_choice_of_sites_locates_no_incident_finer_than_a_cell(runs: dict[str, Any], name: str) -> None:
    """Optimality of the chosen sites (no single swap covers more) with every published table."""
    run = runs[name]
    plan, rel = run.plan, run.rel
    atoms = build_atoms(plan.network, rel.area, plan.candidates, plan.demand, [plan.parameters["cutoff_m"]])
    pub = read_release(rel, atoms)
    ids = [str(c) for c in plan.candidates["candidate_id"]]
    pos = {c: i for i, c in enumerate(ids)}
    excluded = plan.candidates["excluded"].to_numpy(dtype=bool)
    region = plan.candidates["region"].to_numpy() if "region" in plan.candidates else None

    def swappable(s: int, c: int) -> bool:
        return not excluded[c] and (region is None or region[s] == region[c])

    chosen = [pos[c] for c in plan.sites["candidate_id"]]
    assert plan.parameters["selection"]["status"] == "optimal"
    regions = add_choice(
        pub, chosen, candidates=len(ids), cutoff_index=0, swappable=swappable, weights=(1.0, 5.0)
    )
    assert regions and pub.audit.feasible()
    shown = [j for j in range(len(rel.cells)) if rel.cells["status"].iloc[j] == "shown"]
    finest = min(atoms.street_m[atoms.cell == j].sum() for j in shown) if shown else np.inf
    problems = []
    pieces: set[tuple[int, ...]] = set()
    for lost in {tuple(r[0]) for r in regions}:
        region_atoms = np.array(lost)
        if not located(pub.audit.least(pub.count(region_atoms))):
            continue
        if atoms.street_m[region_atoms].sum() < finest:
            problems.append(
                f"{region_atoms.size} atoms, {atoms.street_m[region_atoms].sum():.0f} m of street"
            )
        for j in np.unique(atoms.cell[region_atoms]):
            piece = region_atoms[atoms.cell[region_atoms] == j]
            if piece.size < int((atoms.cell == j).sum()):
                pieces.add(tuple(piece.tolist()))
    for piece in pieces:  # a located part of one hexagon would be finer than any published cell
        if located(pub.audit.least(pub.count(np.array(piece)))):
            problems.append(f"{len(piece)} atoms of cell {atoms.cell[piece[0]]} hold an incident")
    assert problems == []
    # and no hidden cell's count is pinned once the choice is known
    truth = _cell_truth(run)
    for j in range(len(rel.cells)):
        if 1 <= truth[j] <= T:
            assert not pinned(*pub.audit.range(pub.count(np.flatnonzero(atoms.cell == j))), T)


# -------------------------------------------------- 3. lone-catchment triangulation
def _lone_catchments(plan, table: pd.DataFrame, *, leg_m: float = 30.0):  # type: ignore[no-untyped-def]
    """The issue's attack: a candidate whose published count is exactly 1 and whose mean
    walk is published puts that incident on the streets at that walk from it; two such
    candidates sharing it cut the streets down to a few metres.

    Returns the street points consistent with each group of lone catchments (x, y arrays).
    """
    speed = plan.parameters["walking_speed_m_per_min"]
    rule_t = plan.parameters.get("suppression_threshold", T)
    lone = []
    for i, row in table.reset_index(drop=True).iterrows():
        v = row["covered_incidents"]  # a published label, or an exact number in an internal table
        lo, hi = parse_label(v, rule_t, 10) if isinstance(v, str) else (float(v), float(v))
        walk = row.get("mean_walk_min")
        if lo == hi == 1 and pd.notna(walk) and str(walk) not in ("", "not shown"):
            lone.append((i, float(str(walk).removesuffix(" min")) * speed))
    if not lone:
        return []
    pts, xy, _ = street_points(plan.network, spacing_m=2.0)
    cand = plan.candidates.iloc[[i for i, _ in lone]]
    from siting.reach import walking_reach

    src = plan.network.snap(cand.geometry.values, max_snap_m=250.0)
    r = walking_reach(plan.network, src, pts, cutoff_m=max(d for _, d in lone) + 1.0)
    ok = np.ones(len(pts), dtype=bool)
    for k, (_, d) in enumerate(lone):
        tgt, metres = r.row(k)
        near = np.zeros(len(pts), dtype=bool)
        near[tgt[(metres <= d + 0.5) & (metres >= d - leg_m)]] = True
        ok &= near
    return [xy[ok]] if ok.any() else []


def test_lone_catchment_triangulation(runs: dict[str, Any]) -> None:
    run = runs["sparse"]
    plan, rel = run.plan, run.rel
    # the attack works: on the exact (internal) table it finds the lone incident within metres
    found = _lone_catchments(plan, pd.DataFrame(plan.candidates))
    assert found, "the sparse data should have lone catchments for this attack to show its teeth"
    truth = shapely.get_coordinates(plan.demand.geometry.values)
    spot = found[0]
    # finer than a hexagon (the attacker allows the incident up to 30 m off the street)
    assert max(np.ptp(spot[:, 0]), np.ptp(spot[:, 1])) < rel.area.size_m
    assert np.hypot(truth[:, 0, None] - spot[:, 0], truth[:, 1, None] - spot[:, 1]).min() < 30
    # ... and finds nothing in what is shared
    assert _lone_catchments(plan, display(rel.candidates)) == []


# ------------------------------------------------------- 4. differencing releases
def _frames(rel: ReleasedPlan) -> dict[str, pd.DataFrame]:
    out = {
        "cells": rel.cells,
        "totals": rel.totals,
        "candidates": rel.candidates,
        "sites": rel.sites,
        "curve": rel.coverage_curve,
        "sensitivity": rel.sensitivity,
        "impact": rel.impact,
        "hotspots": rel.hotspots,
        "regions": rel.regions,
        **rel.time_profile,
    }
    return {k: pd.DataFrame(v) for k, v in out.items() if v is not None}


def test_the_same_data_twice_gives_the_same_release(runs: dict[str, Any]) -> None:
    run = runs["sparse"]
    again = release_plan(run.plan)
    a, b = _frames(run.rel), _frames(again)
    assert a.keys() == b.keys()
    for k in a:
        pd.testing.assert_frame_equal(a[k], b[k], check_exact=True)


def test_next_months_map_does_not_give_away_the_new_incident(runs: dict[str, Any]) -> None:
    """Differencing this month's release and next month's (one incident added in an empty area)."""
    old, new, cell = runs["sparse"], runs["plus"], runs["plus_cell"]
    assert len(new.plan.demand) == len(old.plan.demand) + 1
    bt = base_table(old.rel)
    sizes = {k: len(v) for k, v in bt.blocks.items() if k in ("x", "y", "hour", "weekday")}
    add = {k: bt.add_block(f"d_{k}", n) for k, n in sizes.items()}
    base_table(new.rel, into=bt, add=add, prefix="new_")
    assert bt.audit.feasible()
    d_all = np.concatenate([add["x"], add["y"]]) if "y" in add else add["x"]
    # 1. how many incidents were added is not pinned to 1..10
    assert not pinned(*bt.audit.range(d_all), T)
    # 2. even told that exactly one was added, the reader cannot say in which hexagon
    bt.audit.add(d_all, 1.0, 1.0)
    places = []
    for j in range(len(old.rel.cells)):
        if bt.audit.most(np.concatenate([[add["x"][j]], [add["y"][j]] if "y" in add else []])) >= 1:
            places.append(j)
    assert cell in places and len(places) >= 2
    # 3. the new incident's own hexagon stays "fewer than 11", like its empty neighbours
    assert new.rel.cells["status"].iloc[cell] != "shown"


# ------------------------------------------------------------ 5. nothing beyond cells
def test_derived_figures_say_nothing_beyond_the_published_cells(runs: dict[str, Any]) -> None:
    """Move every incident to another street point of its own hexagon: the base table stays
    the same, so every shareable figure must stay the same (the choice of sites is kept)."""
    run = runs["sparse"]
    plan, rel = run.plan, run.rel
    a = rel.area
    d = plan.demand.copy()
    xy = shapely.get_coordinates(d.geometry.values)
    cell = a.cell_index(xy[:, 0], xy[:, 1])
    moved = []
    for k, j in enumerate(cell):
        units = np.flatnonzero(a.unit_cell == j)
        u = units[(k * 7) % units.size]
        moved.append(
            (a.unit_x[u], a.unit_y[u])
            if a.cell_index(np.array([a.unit_x[u]]), np.array([a.unit_y[u]]))[0] == j
            else tuple(xy[k])
        )
    d = d.set_geometry(shapely.points(np.array(moved)), crs=d.crs)
    twin = type(plan)(**{**plan.__dict__, "demand": d})
    again = release_plan(twin)
    a_f, b_f = _frames(rel), _frames(again)
    for k in a_f:
        pd.testing.assert_frame_equal(a_f[k], b_f[k], check_exact=False, rtol=1e-9)


# ------------------------------------------------ 6. the pages show only the release
#: Columns of the exact run that are decisions or inputs, not figures about incidents.
DECISIONS = {
    "candidate_id", "name", "rank", "score", "excluded", "excluded_reason", "region", "why", "rule",
    "overlap_with", "chosen", "best", "dropped", "site", "site_rank", "finding", "flagged", "n_sites",
    "minutes", "cutoff_min", "sites", "status", "reason", "fixed", "band", "start_m", "end_m", "source",
    "measure", "unit", "services_within", "nearest_service_min", "nearest_exclusion", "nearest_exclusion_m",
    "exclusion_rule_m", "hour", "hours_window", "peak_hour", "label",
}  # fmt: skip


def _scramble(df: Any, salt: float) -> Any:
    """The same table with every number that is not a decision or an input changed."""
    if df is None:
        return None
    out = df.copy()
    for col in out.columns:
        if col in DECISIONS or col == getattr(out, "_geometry_column_name", None):
            continue
        if pd.api.types.is_numeric_dtype(out[col]) and not pd.api.types.is_bool_dtype(out[col]):
            out[col] = pd.to_numeric(out[col]) * 1.37 + salt
    return out


def _scrambled_run(plan: Any) -> Any:
    """The run with every exact figure about incidents changed and its decisions (ranks,
    chosen sites, reasons) kept: incidents moved 40 m and 2 hours, their file's hash, row
    counts and day-precise dates changed, every exact count, weight, share and walk in its
    tables and its selection record changed."""
    import copy
    import dataclasses

    d = plan.demand.copy()
    d = d.set_geometry(d.geometry.translate(40.0, -40.0))
    if "date" in d.columns:
        d["date"] = pd.to_datetime(d["date"]) + pd.Timedelta(hours=2)
    params = copy.deepcopy(plan.parameters)
    sel = params.get("selection") or {}
    for k, v in list(sel.items()):
        if isinstance(v, int | float) and not isinstance(v, bool) and k not in ("p",):
            sel[k] = v * 1.37 + 3
    for k in ("incidents_from", "incidents_to"):
        if params.get(k):
            params[k] = str(pd.Timestamp(params[k]).replace(day=15).date())
    if params.get("sensitivity"):
        params["sensitivity"] = _scramble(pd.DataFrame(params["sensitivity"]), 0.01).to_dict("records")
    man = copy.deepcopy(plan.manifest)
    dem = (man.get("inputs") or {}).get("demand") or {}
    dem["sha256"] = "0" * 64
    for k, v in list(dem.items()):
        if isinstance(v, int) and not isinstance(v, bool):
            dem[k] = v + 7
    intake = dem.get("intake") or {}
    for k, v in list(intake.items()):
        if isinstance(v, int) and not isinstance(v, bool):
            intake[k] = v + 7
        if k in ("date_first", "date_last") and v:
            intake[k] = str(pd.Timestamp(str(v)).replace(day=15))
    for step in intake.get("steps") or []:
        step["removed"] = int(step.get("removed", 0)) + 7
    return dataclasses.replace(
        plan,
        demand=d,
        candidates=_scramble(plan.candidates, 0.3),
        sites=_scramble(plan.sites, 0.3),
        regions=_scramble(plan.regions, 2.0),
        coverage_curve=_scramble(plan.coverage_curve, 0.01),
        impact=_scramble(plan.impact, 0.7),
        site_impact=_scramble(plan.site_impact, 0.7),
        site_hours=_scramble(plan.site_hours, 1.0),
        deaths_bands=_scramble(plan.deaths_bands, 0.7),
        not_chosen=_scramble(plan.not_chosen, -0.21),
        findings=_scramble(plan.findings, -0.013),
        parameters=params,
        manifest=man,
    )


def _pages(plan: Any, rel: ReleasedPlan, folder: Path) -> tuple[str, str]:
    from siting.maps import plan_map, save_map
    from siting.report import save_report

    folder.mkdir(parents=True, exist_ok=True)
    m, r = folder / "map.html", folder / "report.html"
    save_map(plan_map(plan, released=rel), m)
    save_report(plan, r, released=rel)
    return m.read_text(encoding="utf-8"), r.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["demo", "sparse"])
def test_shareable_pages_show_the_release_and_nothing_of_the_exact_run(
    runs: dict[str, Any], name: str, tmp_path: Path
) -> None:
    """The map and the report are drawn from the release alone (with the ranks and the
    choice, which the other attacks take into account): changing every exact figure of the
    run -- incident positions and times, the incident file's hash, row counts and dates, every
    exact count, weight, share and walk in its tables, the selection's objective -- leaves
    both pages byte for byte the same. So every attack on the release is an attack on them."""
    run = runs[name]
    m0, r0 = _pages(run.plan, run.rel, tmp_path / "as-run")
    m1, r1 = _pages(_scrambled_run(run.plan), run.rel, tmp_path / "scrambled")
    assert r0 == r1, _first_difference(r0, r1)
    m0, m1 = _same_ids(m0), _same_ids(m1)
    assert m0 == m1, _first_difference(m0, m1)


def _same_ids(html: str) -> str:
    """Folium's element names (random hex) numbered in order of appearance."""
    import re

    seen: dict[str, str] = {}
    return re.sub(r"[0-9a-f]{32}", lambda mt: seen.setdefault(mt.group(0), f"id{len(seen)}"), html)


def _first_difference(a: str, b: str) -> str:
    k = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    return f"first difference at {k}:\n  {a[max(0, k - 300) : k + 200]!r}\n  {b[max(0, k - 300) : k + 200]!r}"


# ----------------------------------------------- 7. shares against released totals
def _share_window(text: str) -> tuple[float, float]:
    """The shares (0..1) a published share label stands for."""
    s = text.strip()
    if s.startswith("under "):
        return 0.0, float(s.removeprefix("under ").removesuffix("%")) / 100
    if s.startswith("over "):
        return float(s.removeprefix("over ").removesuffix("%")) / 100, 1.0
    p = float(s.removesuffix("%"))
    return max(0.0, (p - 0.5) / 100), min(1.0, (p + 0.5) / 100)


def _share_attack(share: str, whole: tuple[float, float]) -> list[tuple[float, float]]:
    """What a share of a published whole says about the part and the rest (least, most).

    The whole is an estimate (released units), so a label's window is read as real numbers:
    "20" is anything from 11 up to (not including) 25."""
    lo, hi = _share_window(share)
    w_lo, w_hi = whole[0], whole[1] + 1 - 1e-9
    return [(lo * w_lo, hi * w_hi), ((1 - hi) * w_lo, (1 - lo) * w_hi)]


def test_shares_of_released_totals_give_back_no_small_count() -> None:
    """Every part and whole up to 400 (and between): the share as shown, with the whole as
    shown, never confines the part or the rest to 1..10; a plain whole percent does (a
    reader of "99% of 150" knows the rest is 1 or 2 incidents, "95% of 150" 6 to 9)."""
    from siting.privacy import Rule, percent_label

    rule = Rule()
    plain = []
    for whole in np.arange(11, 400.5, 0.5):
        w = parse_label(rule.label(whole), T, 10)
        for part in np.arange(0, whole + 0.25, 0.25):
            label = rule.share(part, whole)[1]
            for lo, hi in _share_attack(label, w):
                assert not pinned(lo, hi, T), (part, whole, label, rule.label(whole))
            if whole == int(whole) and part == int(part):
                plain += [pinned(lo, hi, T) for lo, hi in _share_attack(percent_label(part / whole), w)]
    assert any(plain)


_PCT = r"((?:under |over )?\d+%)"


def _report_shares(html: str) -> list[tuple[str, str, str]]:
    """(what, share, the label of its whole) for every share of incidents on page 1 and in
    the why-not table of a shareable report, as a reader finds them in the text."""
    import html as html_lib
    import re

    def text(fragment: str) -> str:
        return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())

    first = html.split('<section class="first">', 1)[1].split("</section>", 1)[0]
    page1 = text(first)
    found = []
    reach = re.search(rf"reach {_PCT} of incidents \((\S+) of (\S+)\)", page1)
    assert reach, page1[:500]
    total = reach.group(3)
    found.append(("reach", reach.group(1), total))
    for mt in re.finditer(rf"{_PCT} of incidents", page1):
        found.append(("finding", mt.group(1), total))
    rows = {}  # candidate -> its published incidents within the walk (ranked table)
    ranked = html.split("<h2>Ranked candidates", 1)[1].split("</table>", 1)[0]
    for tr in re.findall(r"<tr[^>]*>(.*?)</tr>", ranked, flags=re.S)[1:]:
        cells = [text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)]
        rows[cells[1].split(" ")[0]] = cells[3]
    for mt in re.finditer(rf"(C\d+) \S+ [^.]*? chosen for what it adds: {_PCT}", page1):
        found.append((f"adds {mt.group(1)}", mt.group(2), rows[mt.group(1)]))
    why = html.split("<h2>Why not the higher-ranked candidates", 1)[1].split("</table>", 1)[0]
    for tr in re.findall(r"<tr>(.*?)</tr>", why, flags=re.S)[1:]:
        cells = [text(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", tr, flags=re.S)]
        mt = re.match(rf"Overlap: {_PCT} of the incidents", cells[2])
        if mt:
            cid = cells[1].split(" ")[0]
            found.append((f"overlap {cid}", mt.group(1), rows[cid]))
    return found


@pytest.mark.parametrize("name", ["demo", "sparse"])
def test_shares_on_the_first_page_and_why_not_give_back_no_small_count(
    runs: dict[str, Any], name: str, tmp_path: Path
) -> None:
    """The report's own sentences attacked: "together they reach 80% of incidents (120 of
    150)", "at 5 minutes the chosen sites reach 40% against 47%", "chosen for what it adds:
    92% of the incidents it reaches", "Overlap: 84% of the incidents it reaches": each share
    with the published whole it is a share of (the total, or the candidate's incidents in
    the ranked table) must confine neither the part nor the rest to 1..10."""
    run = runs[name]
    _, report = _pages(run.plan, run.rel, tmp_path)
    shares = _report_shares(report)
    assert len(shares) >= 5 and any(w.startswith("overlap") for w, _, _ in shares)
    leaks = []
    for what, share, whole in shares:
        for lo, hi in _share_attack(share, parse_label(whole, T, 10)):
            if pinned(lo, hi, T):
                leaks.append(f"{what}: {share} of {whole} -> {lo:.1f}..{hi:.1f}")
    assert leaks == []


def test_map_and_report_state_the_rule_threshold_and_base(runs: dict[str, Any], tmp_path: Path) -> None:
    """The privacy statement (rule, threshold, rounding base) is on both pages, for the
    run's own rule: a stricter one is stated as it is."""
    import html as html_lib

    from siting.privacy import Rule

    run = runs["sparse"]
    cases = [
        (None, ("0 to 10", "fewer than 11", "nearest 10")),
        (Rule(15, 20), ("0 to 15", "fewer than 16", "nearest 20")),
    ]
    for rule, words in cases:
        rel = run.rel if rule is None else release_plan(run.plan, rule)
        pages = _pages(run.plan, rel, tmp_path / str(rule))
        for page in pages:
            text = html_lib.unescape(page)
            assert rel.statement in text
            assert all(w in rel.statement for w in words), rel.statement
