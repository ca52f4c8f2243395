"""Reading point layers in every format, and every kind of bad input with its message."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import UTM, write_points

from siting._errors import InputError, InputFileNotFoundError, NoCrsError, SitingError, UnknownFormatError
from siting.layers import LayerSpec, read_layer, read_polygons

FORMATS = [".csv", ".geojson", ".gpkg", ".shp", ".parquet"]


@pytest.mark.parametrize("ext", FORMATS)
def test_read_every_format(tmp_path, ext) -> None:  # type: ignore[no-untyped-def]
    crs = "EPSG:4326" if ext == ".csv" else UTM
    path = write_points(
        tmp_path / f"pts{ext}",
        [(0, 0), (10, 5), (20, 0)],
        crs=crs,
        code=["a", "b", "c"],
        severity=[1.0, 2.5, 0.0],
        when=["2025-01-02", "2025-03-04T10:00", "2025-05-06"],
        died=["yes", "no", "1"],
    )
    gdf = read_layer(
        LayerSpec(
            path,
            role="demand",
            id_column="code",
            weight_column="severity",
            date_column="when",
            fatal_column="died",
        )
    )
    assert list(gdf["id"]) == ["a", "b", "c"]
    assert list(gdf["weight"]) == [1.0, 2.5, 0.0]
    assert list(gdf["fatal"]) == [True, False, True]
    assert pd.Timestamp(gdf["date"].iloc[1]) == pd.Timestamp("2025-03-04T10:00")
    assert gdf.crs is not None
    back = gdf.to_crs(UTM)
    np.testing.assert_allclose(back.geometry.x - back.geometry.x.iloc[0], [0, 10, 20], atol=1e-3)


def test_conventional_names_and_ids_as_text(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "s.csv"
    p.write_text("Site_ID,Latitude,Longitude,Weight\n060750479.01,60.17,24.94,2\n00012,60.171,24.941,1\n")
    gdf = read_layer(LayerSpec(p, role="candidates"))
    assert list(gdf["id"]) == ["060750479.01", "00012"]  # leading zeros kept
    assert list(gdf["weight"]) == [2.0, 1.0]
    assert "Site_ID" in gdf.columns  # the user's own id column is kept by its name


def test_polygons_become_inner_points(tmp_path) -> None:  # type: ignore[no-untyped-def]
    poly = shapely.Polygon([(0, 0), (100, 0), (100, 10), (10, 10), (10, 100), (0, 100)])  # an L
    gpd.GeoDataFrame({"id": ["L"]}, geometry=[poly], crs=UTM).to_file(tmp_path / "p.gpkg")
    rep = read_layer(LayerSpec(tmp_path / "p.gpkg", role="candidates"))
    cen = read_layer(LayerSpec(tmp_path / "p.gpkg", role="candidates", polygons="centroid"))
    assert rep.geometry.iloc[0].within(poly)  # a representative point is always inside
    assert not cen.geometry.iloc[0].within(poly)  # the centroid of an L is not


# ------------------------------------------------------------------ bad input
def _raises(exc_type: type[Exception], spec: LayerSpec, *parts: str) -> str:
    with pytest.raises(exc_type) as info:
        read_layer(spec)
    msg = str(info.value)
    assert isinstance(info.value, SitingError)
    assert "\n" not in msg, "messages are one line"
    assert str(spec.path) in msg or str(spec.path).split("/")[-1] in msg
    for part in parts:
        assert part in msg, f"{part!r} not in {msg!r}"
    return msg


def test_missing_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _raises(InputFileNotFoundError, LayerSpec(tmp_path / "nope.csv"), "not found")


def test_unknown_format(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.xlsx"
    p.write_text("x")
    _raises(UnknownFormatError, LayerSpec(p), "unknown layer format", ".csv")


def test_no_coordinates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.csv"
    p.write_text("id,address\n1,Main St 1\n")
    _raises(InputError, LayerSpec(p), "no latitude/longitude columns", "--lat-column")


def test_non_numeric_coordinates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.csv"
    p.write_text("id,lat,lon\n1,60.1,24.9\n2,sixty,24.9\n3,60.2,\n4,60.2,east\n")
    msg = _raises(InputError, LayerSpec(p), "'lat' is not a number in row 3", "'lon' is not a number in row 5")
    assert "row 4" not in msg  # an empty coordinate is a failed geocode: left out and reported, not an error


def test_out_of_range(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.csv"
    p.write_text("id,lat,lon\n1,60.1,24.9\n2,95.0,190.0\n")
    _raises(InputError, LayerSpec(p), "outside -90..90", "row 3", "outside -180..180")


def test_swapped_columns_detected_from_range(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.csv"
    p.write_text("id,lat,lon\n1,-122.33,47.61\n2,-122.30,47.60\n")  # Seattle with lat/lon swapped
    _raises(InputError, LayerSpec(p), "look swapped")


def test_missing_crs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = write_points(tmp_path / "x.shp", [(0, 0)])
    (tmp_path / "x.prj").unlink()
    _raises(NoCrsError, LayerSpec(path), "no coordinate reference system", "EPSG:4326")


@pytest.mark.parametrize("ext", [".csv", ".geojson"])
def test_empty_layer(tmp_path, ext) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / f"x{ext}"
    if ext == ".csv":
        p.write_text("id,lat,lon\n")
    else:
        p.write_text('{"type": "FeatureCollection", "features": []}')
    _raises(InputError, LayerSpec(p), "empty")


def test_completely_empty_csv(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.csv"
    p.write_text("")
    _raises(InputError, LayerSpec(p), "empty")


def test_duplicate_candidate_ids(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "c.csv"
    p.write_text("site,lat,lon\nA,60.1,24.9\nB,60.1,24.91\nA,60.1,24.92\n")
    _raises(
        InputError,
        LayerSpec(p, role="candidates", id_column="site"),
        "duplicate candidate ids 'A'",
        "rows 2, 4",
    )


def test_unknown_column_given(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "c.csv"
    p.write_text("site,lat,lon\nA,60.1,24.9\n")
    _raises(
        InputError, LayerSpec(p, role="candidates", id_column="code"), "column 'code'", "not found", "site"
    )


def test_invalid_geometry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bowtie = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    ok = shapely.Polygon([(20, 0), (30, 0), (30, 10)])
    gpd.GeoDataFrame({"id": ["ok", "bow"]}, geometry=[ok, bowtie], crs=UTM).to_file(tmp_path / "g.gpkg")
    _raises(InputError, LayerSpec(tmp_path / "g.gpkg", role="candidates"), "feature 2", "invalid geometry")


def test_lines_are_not_points(tmp_path) -> None:  # type: ignore[no-untyped-def]
    gpd.GeoDataFrame({"id": [1]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=UTM).to_file(
        tmp_path / "l.geojson"
    )
    _raises(InputError, LayerSpec(tmp_path / "l.geojson"), "is a line", "needs points or polygons")


def test_bad_weight_and_fatal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.csv"
    p.write_text("id,lat,lon,weight,fatal\n1,60.1,24.9,-1,maybe\n2,60.1,24.9,2,0\n")
    msg = _raises(InputError, LayerSpec(p), "'weight' must be a number >= 0", "'fatal' must be true/false")
    assert "row 2" in msg


def test_bad_dates(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "x.csv"
    p.write_text("id,lat,lon,date\n1,60.1,24.9,2025-01-01\n2,60.1,24.9,yesterday\n")
    _raises(InputError, LayerSpec(p), "'date' has values that are not dates in row 3")


def test_every_problem_in_one_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "c.csv"
    p.write_text("id,lat,lon,weight\nA,60.1,24.9,x\nA,60.1,24.9,1\n")
    msg = _raises(InputError, LayerSpec(p, role="candidates"), "duplicate", "weight")
    assert msg.count(";") >= 1


def test_unknown_role() -> None:
    with pytest.raises(InputError, match="unknown layer role"):
        LayerSpec("x.csv", role="hospital")


def test_read_polygons_names(tmp_path) -> None:  # type: ignore[no-untyped-def]
    gpd.GeoDataFrame(
        {"NAME": ["Seattle", "Rest"]}, geometry=[shapely.box(0, 0, 1, 1), shapely.box(1, 0, 2, 1)], crs=UTM
    ).to_file(tmp_path / "r.geojson")
    r = read_polygons(tmp_path / "r.geojson")
    assert list(r["name"]) == ["Seattle", "Rest"]
    with pytest.raises(InputError, match="does not close around an area.*Lines to Polygons"):
        write_points(tmp_path / "pts.geojson", [(0, 0)])
        gpd.GeoDataFrame({"NAME": ["x"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=UTM).to_file(
            tmp_path / "l.geojson"
        )
        read_polygons(tmp_path / "l.geojson")


def test_csv_with_projected_xy_needs_a_crs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "xy.csv"
    p.write_text("id,X,Y\n1,385000.5,6671000.25\n2,385100,6671000\n")
    _raises(NoCrsError, LayerSpec(p), "'X'/'Y'", "--csv-crs")
    gdf = read_layer(LayerSpec(p, crs=UTM))
    assert gdf.geometry.x.tolist() == [385000.5, 385100.0]
    d = tmp_path / "deg.csv"
    d.write_text("id,x,y\n1,24.94,60.17\n")
    assert read_layer(LayerSpec(d)).crs.to_epsg() == 4326


def test_row_names_are_shared_not_copied_by_every_column_access(tmp_path):
    # pandas deep-copies attrs on each column access and derived frame; the row names of a
    # 200,000-row layer were a list of strings, copied dozens of times in one score run.
    path = write_points(tmp_path / "pts.csv", [(i, 0) for i in range(50)], crs="EPSG:4326", site=list(range(50)))
    gdf = read_layer(LayerSpec(path))
    names = gdf.attrs["row_names"]
    assert gdf[["id"]].attrs["row_names"] is names and gdf.geometry.to_frame().attrs["row_names"] is names
    assert names.labels([0, 49]) == ["row 2", "row 51"]
