"""Output classes on the command line: internal tables, shareable tables, weak rules refused.

Tables (-o) are the analyst's internal working files and say so in their own metadata;
``--shareable`` writes the released values instead; map and report are written with the
permissions the umask gives, like the tables.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from test_cli import DEMO, demo_args

from siting.cli import cli
from siting.outputs import read_metadata, sidecar_path

SMALL = re.compile(r"^(?:[1-9]|10)$")


def test_tables_are_internal_and_everything_gets_the_umask_permissions(tmp_path: Path) -> None:
    """A real process with umask 027: map, report and table all come out 0640."""
    out, m, rep = tmp_path / "t.gpkg", tmp_path / "m.html", tmp_path / "r.html"
    args = demo_args("-o", str(out), "--map", str(m), "--report", str(rep), "-q")
    code = "import os, sys; os.umask(0o027); from siting.cli import main; main(sys.argv[1:])"
    r = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    for p in (out, m, rep):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o640, p
    meta = read_metadata(out)
    assert meta["classification"] == "internal" and "Do not share" in meta["note"]
    assert not list(tmp_path.glob(".*tmp*"))


def test_shareable_csv_follows_the_rule(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    r = CliRunner().invoke(cli, demo_args("-o", str(out), "--shareable", "-q"), catch_exceptions=False)
    assert r.exit_code == 0, r.output
    meta = json.loads(sidecar_path(out).read_text())
    assert meta["classification"] == "shareable" and meta["rule"]["threshold"] == 10
    t = pd.read_csv(out, dtype=str, keep_default_na=False)
    for col in [c for c in t.columns if c.endswith("_label")]:
        assert not any(SMALL.match(v.replace(",", "")) for v in t[col]), col
    counts = pd.to_numeric(t["covered_incidents"], errors="coerce").dropna().to_numpy()
    assert (counts >= 20).all() and (counts % 10 == 0).all()
    walks = pd.to_numeric(t["mean_walk_min"], errors="coerce").dropna().to_numpy()
    np.testing.assert_array_equal(walks, np.round(walks))


def test_geojson_on_stdout_says_what_it_is() -> None:
    r = CliRunner().invoke(cli, demo_args("-o", "-", "-q"), catch_exceptions=False)
    assert r.exit_code == 0
    data = json.loads(r.stdout.strip().splitlines()[0])
    assert data["siting"]["classification"] == "internal"


@pytest.mark.parametrize(
    ("flags", "needle"),
    [
        (["--suppression-threshold", "5"], "below 10"),
        (["--rounding-base", "5"], "rounding base 5 is too small"),
    ],
)
def test_weaker_rules_are_refused_before_any_work(tmp_path: Path, flags: list[str], needle: str) -> None:
    out = tmp_path / "x.gpkg"
    r = CliRunner().invoke(cli, demo_args("-o", str(out), *flags))
    assert r.exit_code == 2
    err = r.stderr.strip()
    assert len(err.splitlines()) == 1 and needle in err and "--allow-weaker-privacy" in err
    assert "Traceback" not in r.output and not out.exists()


def test_scenario_with_a_weak_threshold_is_refused(tmp_path: Path) -> None:
    text = (DEMO / "scenario.toml").read_text(encoding="utf-8")
    sc = tmp_path / "weak.toml"
    sc.write_text(
        "suppression_threshold = 4\n" + text.replace('path = "', f'path = "{DEMO.as_posix()}/'),
        encoding="utf-8",
    )
    r = CliRunner().invoke(cli, ["run", str(sc), "-o", str(tmp_path / "x.gpkg")])
    assert r.exit_code == 2
    assert "allow_weaker_privacy = true" in r.stderr


def test_matrix_tables_cannot_be_shareable(tmp_path: Path) -> None:
    od = tmp_path / "od.csv"
    od.write_text("candidate_id,demand_id,minutes\na,1,3\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["select", "--matrix", str(od), "-o", str(tmp_path / "s.csv"), "--shareable"])
    assert r.exit_code == 2 and "internal only" in r.stderr
