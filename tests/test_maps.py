"""The planner's map: layers, popups, escaping, caps, offline assets.

``make_plan`` builds a small Plan by hand (a street grid in UTM 35N, a few candidates
with score columns, seeded incidents); test_privacy, test_report and test_browser use it.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from siting import maps, privacy
from siting._errors import MissingDependencyError
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


def _popups(m: object, layer: str) -> dict[str, str]:
    return {f["id"]: f["popup"] for f in maps.map_content(m)[layer]}


def test_every_layer_is_a_feature_group_in_the_layer_control(plan: Plan) -> None:
    m = maps.plan_map(plan)
    expected = [
        "Chosen sites",
        "Walking areas of the chosen sites",
        "Candidates (colour = rank)",
        "Homeless services",
        "pharmacies",
        "Incidents per 250 m hexagon",
        "Heat surface (from the hexagon counts, 250 m kernel)",
        "Exclusion zones",
        "Regions",
        "Basemap: streets",
    ]
    hot = [n for n in m.siting_layers if n.startswith("Hotspots")]
    assert hot, m.siting_layers
    assert [n for n in m.siting_layers if not n.startswith("Hotspots")] == expected  # recommendation first
    text = maps.render_html(m)
    assert "L.control.layers" in text and "Siting.init(" in text
    for name in expected:
        assert html.escape(name) in text


def test_offline_map_is_self_contained(html_text: str) -> None:
    assert not re.search(r"<script[^>]+src=", html_text)
    assert not re.search(r"<link[^>]+href=[\"']?https?:", html_text)
    assert "L.Control.FullScreen" in html_text and "L.Control.MiniMap" in html_text
    assert "L.tileLayer(" not in html_text
    assert 'content="public"' in html_text
    assert "L.control.scale" in html_text


def test_page_has_a_language_and_allows_zooming(html_text: str) -> None:
    assert re.search(r'<html lang="en">', html_text)
    viewports = re.findall(r'<meta name="viewport"[^>]*>', html_text)
    assert viewports == ['<meta name="viewport" content="width=device-width, initial-scale=1"/>']
    assert "user-scalable=no" not in html_text and "maximum-scale=1" not in html_text


def test_cdn_variant_links_assets_and_is_small(plan: Plan, html_text: str) -> None:
    text = maps.render_html(maps.plan_map(plan, cdn=True))
    assert re.search(r"<script src=\"https://[^\"]+/leaflet@1\.9\.4/dist/leaflet\.js\"", text)
    assert len(text) < len(html_text) - 150_000
    assert "Siting.init(" in text  # our own runtime is always inlined


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


def test_template_syntax_in_user_data_is_never_evaluated() -> None:
    """Pages pass through Jinja (branca): a name like '{{ 7*7 }}' must stay text, not run."""
    plan = make_plan(name="Plan {{ 7*7 }} {% if 1 %}x{% endif %}")
    plan.candidates.loc[0, "candidate_id"] = "{{ 6*7 }}"
    plan.sites.loc[plan.sites.index[0], "candidate_id"] = "{{ 6*7 }}"
    plan.services.loc[0, "name"] = "{# comment #}"
    text = maps.render_html(maps.plan_map(plan))
    assert "49" not in re.findall(r"Plan (\S+)", text)
    assert "&#123;&#123; 7*7 }}" in text  # in the <title>, HTML-escaped
    content = maps.map_content(maps.plan_map(plan))
    ids = {f["id"] for f in content["Candidates (colour = rank)"]}
    assert "{{ 6*7 }}" in ids and "42" not in ids


def test_candidate_popup_is_human(plan: Plan) -> None:
    m = maps.plan_map(plan)
    pops = _popups(m, "Candidates (colour = rank)")
    p = pops["A-1"]
    for label in (
        "Status",
        "Rank",
        "Score",
        "Within a 10-minute walk",
        "Incidents",
        "Demand weight",
        "Average walk to it",
        "Homeless services",
        "Nearest service",
        "pharmacies",
        "Score = weighted sum of parts (points)",
        "Region",
    ):
        assert f">{label}<" in p, (label, p)
    assert "Chosen site 1" in p
    assert "1 of 5" in p  # rank among the ranked candidates
    assert "ranks candidates within this run only" in p
    # no internal fields and no bare fractions
    for bad in ("site_id", "covered_demand_weight", "part_", "layer_", "source", "0.912"):
        assert bad not in p, bad
    assert not re.search(r">0\.\d{3,}<", p), p
    ex = pops["E-5"]
    assert "Excluded" in ex and "within 200 m of a school &lt;script&gt;" in ex
    styles = {f["id"]: f["style"] for f in maps.map_content(m)["Candidates (colour = rank)"]}
    assert styles["E-5"]["fillColor"] == "#9e9e9e"
    # colour by rank (the exact order): rank 1 at the top of the ramp, rank 4 of 5 near the bottom
    assert styles["A-1"]["fillColor"] == "#fde725"
    assert styles[XSS]["fillColor"] == maps.ramp(0.25)


def test_every_incident_number_on_the_map_comes_from_the_release(plan: Plan) -> None:
    """Popups show the released labels (rounded to 10, never below 20), not exact counts."""
    rel = privacy.release_plan(plan)
    m = maps.plan_map(plan, released=rel)
    pops = _popups(m, "Candidates (colour = rank)")
    r = rel.candidates.set_index("candidate_id")
    for cid, p in pops.items():
        assert f">{r.loc[cid, 'covered_incidents_label']}<" in p
        assert str(plan.candidates.set_index("candidate_id").loc[cid, "covered_incidents"]) not in re.findall(
            r"<th>Incidents</th><td>([^<]*)<", p
        )
    cells = maps.map_content(m)["Incidents per 250 m hexagon"]
    labels = {re.sub(r"<[^>]+>", "", f["tooltip"]).removeprefix("Incidents: ") for f in cells}
    assert labels <= set(rel.cells["count_label"])
    for lab in labels:
        assert lab == "fewer than 11" or int(lab.replace(",", "")) % 10 == 0


def test_sites_popup_defines_reaches_alone_and_nearest(plan: Plan) -> None:
    pops = _popups(maps.plan_map(plan), "Chosen sites")
    p = pops["A-1"]
    assert "Chosen site 1" in p
    for label in ("Reaches", "Reaches alone", "Nearest site for"):
        assert f">{label}<" in p
    assert "no other chosen site" in p and "add up across the chosen sites" in p


def test_exclusion_margin_is_in_the_popup() -> None:
    """'204 m from Ressun lukio; rule 200 m', from the candidates' margin columns."""
    plan = make_plan()
    plan.candidates["nearest_exclusion"] = ["Ressun lukio", None, None, None, "School <b>"]
    plan.candidates["nearest_exclusion_m"] = [204.0, np.nan, np.nan, np.nan, 40.0]
    plan.candidates["exclusion_rule_m"] = [200.0, np.nan, np.nan, np.nan, 200.0]
    pops = _popups(maps.plan_map(plan), "Candidates (colour = rank)")
    assert "204 m from Ressun lukio; rule 200 m (only 4 m to spare)" in pops["A-1"]
    assert "40 m from School &lt;b&gt;; rule 200 m (inside the zone)" in pops["E-5"]


def test_summary_panel_leads_with_the_recommendation(html_text: str) -> None:
    assert "Recommended: A-1 and B-2" in html_text
    assert "Together they reach" in html_text
    assert "Test plan" in html_text and "2026-11-23" in html_text
    assert "fewer than 11" in html_text  # the privacy statement


def test_legend_covers_every_layer(plan: Plan) -> None:
    text = maps.render_html(maps.plan_map(plan))
    for entry in (
        "Candidates",
        "Recommendation",
        "Walking time from the chosen sites",
        "Incidents per hexagon",
        "Heat surface",
        "Hotspots",
        "Exclusion zones",
        "Regions",
        "Homeless services",
        "pharmacies",
        "Basemap",
        "Demand weight",  # terms defined
    ):
        assert entry in text, entry


def test_marker_outlines_contrast_with_every_fill() -> None:
    """WCAG non-text contrast: every marker's outline is at least 3:1 against every fill."""
    from siting.maps import styles

    fills = styles.area_fills()
    for marker, outline in styles.marker_outlines().items():
        for fill_name, fill in fills.items():
            assert styles.contrast(outline, fill) >= 3.0, (marker, fill_name)
    # services and candidates differ in shape: services are square HTML markers, candidates dots
    assert styles.SERVICE["className"] == "siting-svc"
    # hotspots are never the hexagons' orange
    assert styles.HOTSPOT["color"] not in [c for _, c in styles.HEX_CLASSES]


def test_caps_apply_with_a_message(plan: Plan, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(maps.MAX_FEATURES, "candidates", 2)
    m = maps.plan_map(plan)
    assert {f["id"] for f in maps.map_content(m)["Candidates (colour = rank)"]} == {"A-1", "B-2"}
    assert any("showing 2 of 5" in n for n in m.siting_notes)
    assert "showing 2 of 5" in maps.render_html(m)


def test_internal_map_is_marked(plan: Plan) -> None:
    m = maps.plan_map(plan, include_incident_points=True)
    text = maps.render_html(m)
    assert 'content="internal"' in text
    assert "INTERNAL" in text and "Incident points (INTERNAL)" in m.siting_layers


def test_save_map_is_atomic_and_deterministic_in_content(plan: Plan, tmp_path: Path) -> None:
    rel = privacy.release_plan(plan)
    out = maps.save_map(maps.plan_map(plan, released=rel), tmp_path / "sub" / "m.html")
    assert out.exists() and out.stat().st_size < maps.MAX_HTML_BYTES
    assert [p.name for p in out.parent.iterdir()] == ["m.html"]
    # branca ids are random; everything else is the same
    strip = lambda s: re.sub(r"_[0-9a-f]{32}", "_ID", s)  # noqa: E731
    assert strip(out.read_text(encoding="utf-8")) == strip(
        maps.render_html(maps.plan_map(plan, released=rel))
    )


def test_map_without_optional_layers(plan: Plan) -> None:
    bare = Plan(
        name="bare", network=plan.network, candidates=plan.candidates.iloc[:0], demand=plan.demand.iloc[:0]
    )
    m = maps.plan_map(bare)
    assert "Basemap: streets" in m.siting_layers
    assert not {"Chosen sites", "Candidates (colour = rank)", "Homeless services"} & set(m.siting_layers)


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
    assert "walking cutoff 10 min" in text and "walking cutoff 15 min" in text
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
    cols = ["candidate_id", "rank", "score", "region", "reason", "covers_demand_weight"]
    assert list(t.columns[:6]) == cols
    assert t["rank"].tolist() == [1, 2] and t["score"].round(3).tolist() == [0.912, 0.673]


def test_basemap_streets_are_encoded_compactly(plan: Plan) -> None:
    from siting.maps.basemap import basemap_payload
    from siting.maps.encode import decode_all

    payload = basemap_payload(None, plan.network)
    assert payload is not None and payload["source"] == "network" and payload["credit"] == ""
    streets = [layer for layer in payload["layers"] if layer.get("cls")]
    coords = [pt for layer in streets for line in decode_all(layer["g"]) for pt in line]
    lat = [c[0] for c in coords]
    assert 60.1 < min(lat) < max(lat) < 60.3  # the grid near Helsinki, in lat/lon
    # a few bytes a vertex (GeoJSON text took about 20)
    n_vertices = len(coords)
    assert sum(len(s) for layer in streets for s in layer["g"]) < 6 * n_vertices


def test_popup_texts_shared_by_many_features_are_stored_once(plan: Plan) -> None:
    """A county's 20,000 hexagons share one privacy note: the page holds it once, and every
    popup still reads in full (the page's script and layer_content rebuild the same HTML)."""
    import json

    from siting.maps.layers import Popups, popup_html

    m = maps.plan_map(plan)
    hexes = m.siting_specs["Incidents per 250 m hexagon"][0]
    statement = m.siting_figures.rule.statement()
    assert json.dumps(hexes).count(json.dumps(statement)[1:-1]) == 1
    popups = [popup_html(hexes["pop"], i) for i in range(len(hexes["pop"]["d"]))]
    assert len(popups) > 5 and all(statement in p for p in popups)
    pops = Popups()
    pops.add(("Same title", [("Count", "12"), ("Note alone",)], "a shared note"))
    pops.add(("Same title", [("Count", "7"), ("Note alone",)], "a shared note"))
    pops.add(("Other", [("Count", 5)], None))
    spec = pops.spec()
    assert spec["S"] == ["Same title", "Note alone", "a shared note"]
    assert spec["d"][0] == [0, [[0, "12"], [1]], 2] and spec["d"][2] == ["Other", [[0, "5"]]]
    assert popup_html(spec, 1) == (
        '<div class="siting-popup"><div class="siting-popup-title">Same title</div><table>'
        '<tr><th>Count</th><td>7</td></tr><tr><td colspan="2" class="siting-sub">Note alone</td></tr></table>'
        '<div class="siting-popup-note">a shared note</div></div>'
    )
