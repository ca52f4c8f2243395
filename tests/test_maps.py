"""The planner's map: layers, popups, escaping, caps, offline assets.

``make_plan`` builds a small Plan by hand (a street grid in UTM 35N, a few candidates
with score columns, seeded incidents); test_privacy, test_report and test_browser use it.
"""

from __future__ import annotations

import html
import json
import re
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from siting import maps, privacy
from siting._errors import MissingDependencyError
from siting.maps.basemap import network_geojson
from siting.network import StreetNetwork
from siting.plan import Plan

if TYPE_CHECKING:
    from pathlib import Path

XSS = "<img src=x onerror=alert(1)>"
CRS = "EPSG:32635"  # UTM 35N (Helsinki)
X0, Y0 = 385_000.0, 6_672_000.0


def make_network(n: int = 6, spacing: float = 200.0) -> StreetNetwork:
    lines = []
    for i in range(n):
        for j in range(n - 1):
            lines.append(
                shapely.LineString(
                    [(X0 + i * spacing, Y0 + j * spacing), (X0 + i * spacing, Y0 + (j + 1) * spacing)]
                )
            )
            lines.append(
                shapely.LineString(
                    [(X0 + j * spacing, Y0 + i * spacing), (X0 + (j + 1) * spacing, Y0 + i * spacing)]
                )
            )
    return StreetNetwork.from_lines(gpd.GeoDataFrame(geometry=lines, crs=CRS), source="test-grid")


def make_demand(n: int = 400, seed: int = 0) -> gpd.GeoDataFrame:
    """Incidents with full-precision coordinates: two clusters plus background noise."""
    rng = np.random.default_rng(seed)
    k1, k2 = int(n * 0.45), int(n * 0.3)
    k3 = n - k1 - k2
    xy = np.vstack(
        [
            rng.normal([X0 + 300, Y0 + 300], 40, size=(k1, 2)),
            rng.normal([X0 + 750, Y0 + 650], 60, size=(k2, 2)),
            rng.uniform([X0, Y0], [X0 + 1000, Y0 + 1000], size=(k3, 2)),
        ]
    )
    dates = pd.Timestamp("2025-01-06") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, n), unit="min")
    return gpd.GeoDataFrame(
        {"weight": np.where(rng.random(n) < 0.1, 3.0, 1.0), "fatal": rng.random(n) < 0.1, "date": dates},
        geometry=shapely.points(xy),
        crs=CRS,
    )


def make_plan(*, name: str = "Test plan", with_sites: bool = True, seed: int = 0) -> Plan:
    from siting import hotspots

    net = make_network()
    ids = ["A-1", "B-2", XSS, "D&4", "E-5"]
    xy = [
        (X0 + 310, Y0 + 290),
        (X0 + 760, Y0 + 640),
        (X0 + 100, Y0 + 900),
        (X0 + 500, Y0 + 500),
        (X0 + 950, Y0 + 120),
    ]
    cands = gpd.GeoDataFrame(
        {
            "candidate_id": ids,
            "covered_demand_weight": [190.0, 130.0, 20.0, 60.0, 10.0],
            "covered_incidents": [180, 120, 20, 55, 10],
            "mean_walk_min": [3.2, 4.1, 6.5, 7.0, 8.25],
            "services_within": [1, 0, 0, 2, 0],
            "nearest_service_min": [4.0, 11.5, 13.0, 2.5, np.nan],
            "layer_pharmacies": [0.5, 0.2, 0.0, 1.0, 0.0],
            "score": [0.9124, 0.6731, 0.1, 0.55, 0.05],
            "rank": [1, 2, 4, 3, 5],
            "excluded": [False, False, False, False, True],
            "excluded_reason": ["", "", "", "", "within 200 m of a school <script>"],
            "region": ["North", "South", XSS, "North", "South"],
        },
        geometry=shapely.points(xy),
        crs=CRS,
    )
    services = gpd.GeoDataFrame(
        {"name": ["Shelter One", XSS]},
        geometry=shapely.points([(X0 + 420, Y0 + 380), (X0 + 560, Y0 + 610)]),
        crs=CRS,
    )
    pharm = gpd.GeoDataFrame({"name": ["Pharmacy"]}, geometry=shapely.points([(X0 + 200, Y0 + 700)]), crs=CRS)
    demand = make_demand(seed=seed)
    sites = iso = None
    if with_sites:
        sites = cands.iloc[[0, 1]].copy()
        sites["reason"] = ["covers the most demand", "adds the most uncovered demand " + XSS]
        rows = []
        for cid, p in zip(sites["candidate_id"], sites.geometry, strict=True):
            for mnt in (5, 10, 15):
                rows.append({"candidate_id": cid, "minutes": mnt, "geometry": p.buffer(mnt * 40.0)})
        iso = gpd.GeoDataFrame(rows, crs=CRS)
    regions = gpd.GeoDataFrame(
        {"name": ["North", XSS]},
        geometry=[shapely.box(X0, Y0 + 500, X0 + 1000, Y0 + 1000), shapely.box(X0, Y0, X0 + 1000, Y0 + 500)],
        crs=CRS,
    )
    excl = gpd.GeoDataFrame(
        {"rule": ["school 200 m"]}, geometry=[shapely.Point(X0 + 950, Y0 + 80).buffer(200)], crs=CRS
    )
    hs = hotspots.cluster_hotspots(demand, eps_m=60, min_samples=10)
    curve = pd.DataFrame(
        {"n_sites": [1, 2, 3, 4, 5], "covered_demand_weight": [190.0, 300.0, 340.0, 355.0, 360.0]}
    )
    curve["covered_demand_share"] = curve["covered_demand_weight"] / 440.0
    impact = pd.DataFrame(
        {
            "measure": ["overdoses within 500 m", "deaths averted per year"],
            "value": [210.0, np.nan],
            "low": [np.nan, 1.2],
            "high": [np.nan, 4.5],
            "source": ["this run", "Marshall et al. 2011 (35%); Rammohan et al. 2024 (67%)"],
        }
    )
    return Plan(
        name=name,
        network=net,
        candidates=cands,
        demand=demand,
        services=services,
        extra_layers={"pharmacies": pharm},
        sites=sites,
        isochrones=iso,
        hotspots=hs,
        regions=regions,
        exclusions=excl,
        coverage_curve=curve,
        impact=impact,
        parameters={
            "cutoff_min": 10.0,
            "walking_speed_m_per_min": 80.0,
            "seed": 0,
            "n_sites": 2,
            "layers": {"pharmacies": {"role": "amenity", "weight": 0.5}},
        },
        manifest={
            "created": "2026-11-23",
            "inputs": [{"path": "incidents.csv", "sha256": "ab" * 32}],
            "versions": {"siting": "0.1.0"},
            "seed": 0,
        },
    )


@pytest.fixture(scope="module")
def plan() -> Plan:
    return make_plan()


@pytest.fixture(scope="module")
def html_text(plan: Plan) -> str:
    return maps.render_html(maps.plan_map(plan))


def test_every_layer_is_a_feature_group_in_the_layer_control(plan: Plan) -> None:
    m = maps.plan_map(plan)
    expected = {
        "Street network",
        "Regions",
        "Exclusion zones",
        "Incidents (count per 250 m hexagon)",
        "Heat surface (kernel 250 m, from hexagon counts)",
        "Hotspots (DBSCAN eps=60 m, min_samples=10)",
        "Walking isochrones",
        "Homeless services",
        "pharmacies",
        "Candidates (colour = score)",
        "Chosen sites",
    }
    assert set(m.siting_layers) == expected
    text = maps.render_html(m)
    assert "L.control.layers" in text
    for name in expected:
        assert json.dumps(name) in text


def test_offline_map_is_self_contained(html_text: str) -> None:
    assert not re.search(r"<script[^>]+src=", html_text)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", html_text)
    assert "L.Control.FullScreen" in html_text and "L.Control.MiniMap" in html_text
    assert "L.tileLayer(" not in html_text
    assert 'content="public"' in html_text
    assert "L.control.scale" in html_text


def test_cdn_variant_links_assets_and_is_small(plan: Plan, html_text: str) -> None:
    text = maps.render_html(maps.plan_map(plan, cdn=True))
    assert re.search(r"<script src=\"https://[^\"]+/leaflet@1\.9\.4/dist/leaflet\.js\"", text)
    assert len(text) < len(html_text) - 150_000


def test_missing_assets_say_what_to_do(plan: Plan, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SITING_ASSETS", str(tmp_path))
    with pytest.raises(MissingDependencyError, match="npm ci --prefix src/siting/static"):
        maps.plan_map(plan)
    assert maps.plan_map(plan, cdn=True) is not None


def test_user_strings_are_escaped(html_text: str) -> None:
    assert XSS not in html_text
    assert '<script>"' not in html_text
    # the probe shows up as text (escaped once, then JSON-escaped inside the script)
    escaped = html.escape(XSS).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    assert escaped in html_text


def test_candidate_popup_has_breakdown(plan: Plan) -> None:
    m = maps.plan_map(plan)
    feats = {f["properties"]["candidate_id"]: f["properties"] for f in m.siting_candidates["features"]}
    p = feats["A-1"]["_p"]
    for label in (
        "Rank",
        "Score",
        "Incidents covered",
        "Demand weight covered",
        "Mean walk of covered incidents (min)",
        "Services within cutoff",
        "Nearest service (min)",
        "pharmacies (layer)",
        "Region",
    ):
        assert f">{label}<" in p, label
    assert 'class="siting-score">0.912<' in p
    assert 'class="siting-rank">1<' in p
    ex = feats["E-5"]["_p"]
    assert "Excluded" in ex and "within 200 m of a school &lt;script&gt;" in ex
    assert feats["E-5"]["_s"]["fillColor"] == "#9e9e9e"
    # best score gets the top of the ramp, the worst non-excluded the bottom
    assert feats["A-1"]["_s"]["fillColor"] == "#fde725"
    assert feats[XSS]["_s"]["fillColor"] == "#440154"


def test_title_panel_states_scenario_cutoff_and_rule(html_text: str) -> None:
    assert "Test plan" in html_text
    assert "2026-11-23" in html_text
    assert "Walking cutoff: 10 min" in html_text
    assert "fewer than 11" in html_text


def test_caps_apply_with_a_message(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(maps.MAX_FEATURES, "candidates", 2)
    m = maps.plan_map(plan)
    assert len(m.siting_candidates["features"]) == 2
    assert {f["properties"]["candidate_id"] for f in m.siting_candidates["features"]} == {"A-1", "B-2"}
    assert any("showing 2 of 5" in n for n in m.siting_notes)
    assert "showing 2 of 5" in maps.render_html(m)


def test_network_is_simplified_under_a_vertex_cap(plan: Plan) -> None:
    text, _ = network_geojson(plan.network, max_vertices=30, decimals=5)
    coords = json.loads(text)["coordinates"]
    assert sum(len(c) for c in coords) <= 30
    assert all(len(c) >= 2 for c in coords)


def test_internal_map_is_marked(plan: Plan) -> None:
    m = maps.plan_map(plan, include_incident_points=True)
    text = maps.render_html(m)
    assert 'content="internal"' in text
    assert "INTERNAL" in text and "Incident points (INTERNAL)" in m.siting_layers


def test_save_map_is_atomic_and_deterministic_in_content(plan: Plan, tmp_path: Path) -> None:
    out = maps.save_map(maps.plan_map(plan), tmp_path / "sub" / "m.html")
    assert out.exists() and out.stat().st_size < maps.MAX_HTML_BYTES
    assert [p.name for p in out.parent.iterdir()] == ["m.html"]
    # branca ids are random; everything else is the same
    strip = lambda s: re.sub(r"_[0-9a-f]{32}", "_ID", s)  # noqa: E731
    assert strip(out.read_text(encoding="utf-8")) == strip(maps.render_html(maps.plan_map(plan)))


def test_map_without_optional_layers(plan: Plan) -> None:
    bare = Plan(
        name="bare", network=plan.network, candidates=plan.candidates.iloc[:0], demand=plan.demand.iloc[:0]
    )
    m = maps.plan_map(bare)
    assert m.siting_layers == ["Street network"]


def test_heat_overlay_is_a_png_over_the_counts(plan: Plan) -> None:
    hexes = privacy.hex_counts(plan.demand)
    url, bounds, params = maps.heat_overlay(hexes)
    assert url.startswith("data:image/png;base64,")
    import base64
    import zlib

    png = base64.b64decode(url.split(",", 1)[1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    n_idat = int.from_bytes(png[33:37], "big")  # one IDAT chunk right after IHDR
    assert png[37:41] == b"IDAT"
    raw = zlib.decompress(png[41 : 41 + n_idat])
    px = np.frombuffer(raw, np.uint8).reshape(h, 4 * w + 1)[:, 1:].reshape(h, w, 4)
    assert px[..., 3].max() > 100 and px[..., 3].min() == 0
    (s, w_), (n, e) = bounds
    assert s < n and w_ < e
    assert params["from"] == "suppressed hexagon counts"


def test_compare_map_has_two_linked_maps(plan: Plan) -> None:
    other = make_plan(name="15-minute cutoff")
    other.parameters = {**other.parameters, "cutoff_min": 15.0}
    fig = maps.compare_map(plan, other)
    text = maps.render_html(fig)
    assert len(fig.siting_maps) == 2
    assert "Walking cutoff: 10 min" in text and "Walking cutoff: 15 min" in text
    assert text.count("/* leaflet 1.9.4 */") == 2  # css + js, once per page
    assert "setView(src.getCenter()" in text


def test_sites_table_joins_rank_and_score_from_candidates(plan: Plan) -> None:
    lean = plan.sites[["candidate_id", "geometry"]].copy()
    lean["reason"] = ["covers 150 demand weight no other chosen site covers", "fixed open"]
    lean["covers_demand_weight"] = [190.0, 130.0]
    other = Plan(
        name="lean", network=plan.network, candidates=plan.candidates, demand=plan.demand, sites=lean
    )
    t = maps.sites_table(other)
    assert list(t.columns[:6]) == ["candidate_id", "rank", "score", "region", "reason", "covers_demand_weight"]
    assert t["rank"].tolist() == [1, 2] and t["score"].round(3).tolist() == [0.912, 0.673]
    m = maps.plan_map(other)
    text = maps.render_html(m)
    assert "covers 150 demand weight no other chosen site covers" in text


@pytest.mark.slow
def test_county_sized_plan_stays_under_the_size_limit(tmp_path: Path) -> None:
    """179,400 street segments, 100,000 incidents, 6,000 candidates: caps apply, file fits."""
    n, sp = 300, 60.0
    i, j = np.meshgrid(np.arange(n), np.arange(n - 1), indexing="ij")
    i, j = i.ravel(), j.ravel()
    a = np.stack([X0 + i * sp, Y0 + j * sp], axis=1)
    b = np.stack([X0 + i * sp, Y0 + (j + 1) * sp], axis=1)
    c = np.stack([X0 + j * sp, Y0 + i * sp], axis=1)
    d = np.stack([X0 + (j + 1) * sp, Y0 + i * sp], axis=1)
    lines = shapely.linestrings(np.concatenate([np.stack([a, b], 1), np.stack([c, d], 1)]))
    net = StreetNetwork.from_lines(gpd.GeoDataFrame(geometry=lines, crs=CRS))
    rng = np.random.default_rng(0)
    side = n * sp
    demand = gpd.GeoDataFrame(
        {"weight": np.ones(100_000)},
        geometry=shapely.points(rng.uniform([X0, Y0], [X0 + side, Y0 + side], (100_000, 2))),
        crs=CRS,
    )
    k = 6000
    score = rng.random(k)
    cands = gpd.GeoDataFrame(
        {
            "candidate_id": [f"C{v}" for v in range(k)],
            "covered_demand_weight": score * 100,
            "score": score,
            "rank": pd.Series(score).rank(ascending=False, method="first").astype(int),
            "excluded": False,
            "excluded_reason": "",
        },
        geometry=shapely.points(rng.uniform([X0, Y0], [X0 + side, Y0 + side], (k, 2))),
        crs=CRS,
    )
    plan = Plan(name="county", network=net, candidates=cands, demand=demand)
    m = maps.plan_map(plan)
    out = maps.save_map(m, tmp_path / "county.html")
    assert out.stat().st_size < maps.MAX_HTML_BYTES
    assert any("Street network: showing the 125,000 longest of 179,400" in v for v in m.siting_notes)
    assert any("Candidates: showing 5,000 of 6,000" in v for v in m.siting_notes)
    assert len(m.siting_candidates["features"]) == maps.MAX_FEATURES["candidates"]
