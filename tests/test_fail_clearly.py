"""Runs that used to misbehave fail clearly, before any work, or now succeed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from helpers import UTM, X0, Y0, write_points

from siting.cli import cli
from siting.layers import LayerSpec, parse_flags, read_layer
from siting.locate import Capacity, FewestSites

RUN = [sys.executable, "-c", "from siting.cli import main; raise SystemExit(main())"]
FLAGS = ["1.0", "death", "Died", "YES", "true", "0", "no", "", "non-fatal", "0.0"]
FATAL = [True, True, True, True, True, False, False, False, False, False]


def _od(tmp_path: Path, fatal: list[str] = FLAGS) -> tuple[Path, Path, Path]:
    n = len(fatal)
    od = tmp_path / "od.csv"
    od.write_text("candidate_id,demand_id,minutes\n" + "".join(f"A,i{i},2\nB,i{i},3\n" for i in range(n)))
    dem = tmp_path / "demand.csv"
    pd.DataFrame({"demand_id": [f"i{i}" for i in range(n)], "fatal": fatal}).to_csv(dem, index=False)
    cands = write_points(tmp_path / "cands.csv", [(0, 0), (2000, 0)], crs="EPSG:4326", id=["A", "B"])
    return od, dem, Path(cands)


def test_fatal_flags_read_one_way_in_layers_and_the_matrix_path(tmp_path: Path) -> None:
    assert parse_flags(pd.Series(FLAGS))[0].tolist() == FATAL
    layer = write_points(tmp_path / "inc.csv", [(10.0 * i, 0) for i in range(len(FLAGS))], crs="EPSG:4326",
                         fatal=FLAGS)  # fmt: skip
    assert read_layer(LayerSpec(layer))["fatal"].tolist() == FATAL
    od, dem, _ = _od(tmp_path)
    r = subprocess.run([*RUN, "select", "--matrix", str(od), "-d", str(dem), "-p", "1", "--summary-json", "-"],
                       capture_output=True, text=True, check=False)  # fmt: skip
    assert r.returncode == 0, r.stderr
    impact = {row["measure"]: row for row in json.loads(r.stdout)["impact"]}
    assert impact["fatal_incidents"]["value"] == sum(FATAL)  # 1.0, death and died are fatal here too


def test_unreadable_fatal_flag_names_file_column_and_row(tmp_path: Path) -> None:
    od, dem, _ = _od(tmp_path, fatal=["1", "maybe", "0"])
    r = CliRunner().invoke(cli, ["select", "--matrix", str(od), "-d", str(dem), "-p", "1"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "demand.csv" in r.output and "column 'fatal'" in r.output and "rows 3" in r.output


def test_quota_on_a_region_that_does_not_exist_names_the_regions(tmp_path: Path) -> None:
    od, dem, cands = _od(tmp_path)
    regions = tmp_path / "regions.geojson"
    gpd.GeoDataFrame(
        {"name": ["West", "East"]},
        geometry=[shapely.box(X0 - 100, Y0 - 100, X0 + 1000, Y0 + 100),
                  shapely.box(X0 + 1000, Y0 - 100, X0 + 2100, Y0 + 100)],
        crs=UTM,
    ).to_file(regions)  # fmt: skip
    base = ["select", "--matrix", str(od), "-d", str(dem), "-c", str(cands), "--regions", str(regions)]
    r = CliRunner().invoke(cli, [*base, "-p", "1", "--quota", "Wset>=1"])
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert "'Wset'" in r.output and "'East', 'West'" in r.output
    ok = CliRunner().invoke(cli, [*base, "-p", "1", "--quota", "East>=1", "--summary-json", "-"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["chosen"] == ["B"]


@pytest.mark.parametrize("existing", ["out_impact.csv", "out_coverage_curve.csv", "out_impact.csv-metadata.json",
                                      "summary.json"])  # fmt: skip
def test_every_output_path_is_checked_before_any_work(tmp_path: Path, existing: str) -> None:
    od, dem, _ = _od(tmp_path)
    (tmp_path / existing).write_text("keep me")
    r = CliRunner().invoke(cli, ["select", "--matrix", str(od), "-d", str(dem), "-p", "1",
                                 "-o", str(tmp_path / "out.csv"), "--summary-json", str(tmp_path / "summary.json")])  # fmt: skip
    assert r.exit_code == 2 and existing in r.output and "--overwrite" in r.output
    assert not (tmp_path / "out.csv").exists()  # nothing half-written
    assert (tmp_path / existing).read_text() == "keep me"


def test_greedy_with_capacity_reaches_a_reachable_target() -> None:
    """The proportional split served 1.5 of 2 with both sites open; the max flow serves 2."""
    d = np.array([[1.0, 1.0], [1.0, np.inf]])  # B covers both demand points, A only the first
    cap = Capacity(booths={"B": 1, "A": 1}, demand_per_day=2.0, uses_per_booth_per_day=1.0)
    m = FewestSites(d, weights=[1, 1], candidate_ids=["B", "A"], target=1.0, cutoff=10, capacity=cap)
    g = m.solve(method="greedy")
    assert sorted(g.chosen) == ["A", "B"] and g.served_weight == pytest.approx(2.0)
    assert m.solve().objective == 2


def test_greedy_with_capacity_says_why_a_target_is_out_of_reach() -> None:
    from siting._errors import InfeasibleError

    # demand 1 at the first point (A and B reach it), 2 at the second (only B); capacity 1.5 at A,
    # 1 at B: 2.5 in all, yet at most 1 + 1 = 2 can be served, short of the 2.4 asked for
    d = np.array([[1.0, 1.0], [1.0, np.inf]])
    cap = Capacity(booths={"B": 1, "A": 1.5}, demand_per_day=3.0, uses_per_booth_per_day=1.0)
    m = FewestSites(d, weights=[1, 2], candidate_ids=["B", "A"], target=0.8, cutoff=10, capacity=cap)
    with pytest.raises(InfeasibleError, match="cannot be reached.*every candidate open, 2 is covered within capacity"):
        m.solve(method="greedy")


def test_greedy_stalled_by_an_upper_quota_repairs_its_picks_and_matches_the_milp() -> None:
    # d1 (weight 3) is reached by A and C, d2 (weight 2) by B alone; A and B share a region capped
    # at one site. The greedy opens A (the larger gain) and can no longer reach d2: it used to stop
    # there ("ran out of candidates"); swapping A for B within the quota and adding C reaches both.
    d = np.array([[1.0, np.inf], [np.inf, 1.0], [1.0, np.inf]])
    kw = {"weights": [3, 2], "candidate_ids": ["A", "B", "C"], "target": 1.0, "cutoff": 10,
          "regions": ["X", "X", "Y"], "quotas": {"X": ("<=", 1)}}  # fmt: skip
    m = FewestSites(d, **kw)
    g = m.solve(method="greedy")
    assert sorted(g.chosen) == ["B", "C"] and g.objective == 2
    assert sorted(m.solve().chosen) == ["B", "C"]


def test_greedy_that_cannot_repair_its_picks_says_why_and_points_to_the_milp(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from siting._errors import SolverError
    from siting.locate import _greedy

    monkeypatch.setattr(_greedy, "repair_to_target", lambda *a, **k: None)  # swaps that get stuck
    d = np.array([[1.0, np.inf], [np.inf, 1.0], [1.0, np.inf]])
    m = FewestSites(d, weights=[3, 2], candidate_ids=["A", "B", "C"], target=1.0, cutoff=10,
                    regions=["X", "X", "Y"], quotas={"X": ("<=", 1)})  # fmt: skip
    with pytest.raises(SolverError, match=r"greedy could not reach the target .*quota 'X<=1'.*--method milp"):
        m.solve(method="greedy")
