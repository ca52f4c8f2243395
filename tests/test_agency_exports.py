"""Agency data as it arrives: R-style EMS exports, WKT/GeoJSON columns, US timestamps,
filters on every layer, duplicate calls and failed geocodes, each counted and named."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from agency_data import CANCELLED, write_r_export
from helpers import run_cli

from siting._errors import InputError, NoCrsError, SitingError
from siting.layers import LayerSpec, read_layer
from siting.layers._dates import parse_dates

if TYPE_CHECKING:
    from pathlib import Path


def _intake(gdf: gpd.GeoDataFrame) -> dict:  # type: ignore[type-arg]
    return gdf.attrs["intake"].to_dict()


def _step(intake: dict, reason: str) -> dict:  # type: ignore[type-arg]
    return next((s for s in intake["steps"] if s["reason"] == reason), {"removed": 0, "who": []})


# ------------------------------------------------------------------ R exports
def test_r_export_is_read_without_shifting_a_column(tmp_path: Path) -> None:
    ex = write_r_export(tmp_path / "ems.csv")
    # what pandas alone makes of it: columns shifted (the bug this guards against)
    naive = pd.read_csv(ex.path)
    assert not naive["INCIDENT_NO"].astype(str).str.startswith("E21-").any()

    gdf = read_layer(LayerSpec(ex.path, role="demand"))
    intake = _intake(gdf)
    assert intake["rows_read"] == ex.rows
    assert intake["id_column"] == "INCIDENT_NO" and intake["date_column"] == "CALL_DATETIME"
    assert intake["date_format"] == "%m/%d/%Y %I:%M:%S %p"
    assert any("R's unquoted c(x, y)" in n for n in intake["notes"])
    by_id = gdf.set_index("id")
    for inc in by_id.index:  # every value where it belongs
        assert by_id.loc[inc, "DISPOSITION_TEXT"] == ex.disposition[inc]
        assert pd.Timestamp(by_id.loc[inc, "date"]) == ex.times[inc]  # 05:42:49 PM is 17:42:49
        lon, lat = ex.lonlat[inc]
        assert by_id.loc[inc, "geometry"].x == pytest.approx(lon) and by_id.loc[
            inc, "geometry"
        ].y == pytest.approx(lat)
    assert "geometry" not in gdf.columns.drop("geometry")  # the point column is not also kept as text
    # failed geocodes are left out and named, never hidden
    assert _step(intake, "no_coordinates")["who"] == ex.failed
    repeats = sorted(ex.duplicates + [c for c in ex.cancelled if c.endswith("-R")])
    assert sorted(_step(intake, "duplicate")["who"]) == repeats


def test_r_export_filters_duplicates_and_accounting(tmp_path: Path) -> None:
    ex = write_r_export(tmp_path / "ems.csv")
    spec = LayerSpec(ex.path, role="demand", where=f"DISPOSITION_TEXT <> '{CANCELLED}'")
    gdf = read_layer(spec)
    intake = _intake(gdf)
    where = _step(intake, "where")
    assert where["removed"] == len(ex.cancelled) and sorted(where["who"]) == sorted(ex.cancelled)
    assert (gdf["DISPOSITION_TEXT"] != CANCELLED).all()
    failed_kept = [f for f in ex.failed if f not in ex.cancelled]
    assert _step(intake, "no_coordinates")["removed"] == len(failed_kept)
    dups = [d for d in ex.duplicates if d not in ex.cancelled]
    assert sorted(_step(intake, "duplicate")["who"]) == sorted(dups)
    # every row read is used or left out by exactly one step
    removed = sum(s["removed"] for s in intake["steps"])
    assert intake["rows_used"] == len(gdf) == ex.rows - removed
    assert set(gdf["id"]).isdisjoint(set(ex.cancelled) | set(ex.failed) | set(dups))
    # status values among rows read and rows used
    assert intake["status_column"] == "DISPOSITION_TEXT"
    assert intake["status_read"][CANCELLED] == len(ex.cancelled) and intake["status_used"][CANCELLED] == 0
    # duplicate calls can be kept
    kept = read_layer(LayerSpec(ex.path, role="demand", duplicate_minutes=0))
    assert _step(_intake(kept), "duplicate")["removed"] == 0
    assert len(kept) == ex.rows - len(ex.failed)


def test_r_export_read_row_by_row_gives_the_same_layer(tmp_path: Path) -> None:
    """A blank line and a quoted line break send the file down the row-by-row reader."""
    ex = write_r_export(tmp_path / "ems.csv", n=60)
    fast = read_layer(LayerSpec(ex.path))
    lines = ex.path.read_text().splitlines()
    lines.insert(10, "")
    k = next(i for i in range(11, len(lines)) if '"TRANSPORTED"' in lines[i])
    lines[k] = lines[k].replace('"TRANSPORTED"', '"TRANSPORTED\n(by BLS)"')
    slow_path = tmp_path / "ems_odd.csv"
    slow_path.write_text("\n".join(lines) + "\n")
    slow = read_layer(LayerSpec(slow_path))
    assert list(slow["id"]) == list(fast["id"])
    assert slow.geometry.equals(fast.geometry) and (slow["date"] == fast["date"]).all()
    changed = slow["DISPOSITION_TEXT"] != fast["DISPOSITION_TEXT"]
    assert changed.sum() == 1 and slow["DISPOSITION_TEXT"][changed].str.contains("\n").all()
    # rows keep the line they start on: after the blank line and the line break, one more each
    assert fast.attrs["intake"].to_dict()["rows_read"] == slow.attrs["intake"].to_dict()["rows_read"]
    assert slow.attrs["row_names"].labels()[-1] == f"row {int(fast.attrs['row_names'].numbers[-1]) + 2}"


def test_duplicate_keeps_a_fatal_outcome_from_the_repeat_call(tmp_path: Path) -> None:
    p = tmp_path / "calls.csv"
    p.write_text(
        "call_no,lat,lon,call_datetime,outcome_fatal,weight\n"
        "A,60.17,24.94,11/15/2021 05:42:49 PM,no,1\n"
        "B,60.17,24.94,11/15/2021 05:58:00 PM,yes,3\n"  # same place, 15 min later: the same event
        "C,60.17,24.94,11/15/2021 06:30:00 PM,no,1\n"  # 47 min after A: a new event
        "D,60.18,24.95,11/15/2021 05:43:00 PM,no,1\n"
    )
    gdf = read_layer(LayerSpec(p, role="demand"))
    assert list(gdf["id"]) == ["A", "C", "D"]
    assert list(gdf["fatal"]) == [True, False, False] and list(gdf["weight"]) == [3.0, 1.0, 1.0]
    assert _step(_intake(gdf), "duplicate")["who"] == ["B"]


def test_overlong_row_that_is_not_r_names_its_lines(tmp_path: Path) -> None:
    ex = write_r_export(tmp_path / "ems.csv", n=20)
    text = ex.path.read_text().splitlines()
    text.insert(5, '"99","X1",c(24.94, 60.17),"11/15/2021 05:42:49 PM",TREATED, NOT TRANSPORTED,2')
    ex.path.write_text("\n".join(text) + "\n")
    with pytest.raises(InputError, match=r"ems\.csv: line 6 has more fields than the 6 of the header") as err:
        read_layer(LayerSpec(ex.path))
    assert "\n" not in str(err.value)
    # a plain CSV whose rows are all one field too long is not silently shifted either
    p = tmp_path / "shifted.csv"
    p.write_text("id,lat,lon\n1,60.17,24.94,x\n2,60.17,24.94,y\n")
    with pytest.raises(InputError, match=r"lines 2, 3 have more fields"):
        read_layer(LayerSpec(p))


# ------------------------------------------------------------- dates and since/until
def test_us_timestamps_one_format_per_column() -> None:
    d = parse_dates(pd.Series(["11/15/2021 05:42:49 PM", "03/04/2021 12:00:00 AM", "", "NA"]))
    assert d.format == "%m/%d/%Y %I:%M:%S %p"
    assert list(d.values[:2]) == [pd.Timestamp("2021-11-15 17:42:49"), pd.Timestamp("2021-03-04 00:00:00")]
    assert d.values[2:].isna().all() and not d.bad.any()
    # day.month.year is read as such, the whole column the same way
    d = parse_dates(pd.Series(["03.04.2021 10:00", "13.04.2021 11:00"]))
    assert list(d.values) == [pd.Timestamp("2021-04-03 10:00"), pd.Timestamp("2021-04-13 11:00")]
    # an explicit format wins; a value it cannot read is flagged, not guessed
    d = parse_dates(pd.Series(["03/04/2021", "13/04/2021"]), "%d/%m/%Y")
    assert list(d.values) == [pd.Timestamp("2021-04-03"), pd.Timestamp("2021-04-13")]
    d = parse_dates(pd.Series(["2021-01-02", "yesterday"]))
    assert d.bad.tolist() == [False, True]
    # the column decides which number is the month: a first number above 12 makes it day/month
    d = parse_dates(pd.Series(["13/04/2021 17:05", "03/04/2021 09:00"]))
    assert d.format == "%d/%m/%Y %H:%M" and list(d.values) == [
        pd.Timestamp("2021-04-13 17:05"),
        pd.Timestamp("2021-04-03 09:00"),
    ]
    d = parse_dates(pd.Series(["11/15/21 5:42 PM", "1/2/21 12:05 AM", "1/2/21 12:05 PM"]))
    assert d.format == "%m/%d/%y %I:%M %p"
    assert list(d.values) == [
        pd.Timestamp("2021-11-15 17:42"),
        pd.Timestamp("2021-01-02 00:05"),
        pd.Timestamp("2021-01-02 12:05"),
    ]
    # a column that needs both orders is not one format: the rows no reading fits are flagged
    d = parse_dates(pd.Series(["13/04/2021", "04/13/2021", "04/12/2021"]))
    assert d.bad.tolist() == [True, False, False] and d.format == "%m/%d/%Y"


def test_ambiguous_us_dates_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="siting"):
        d = parse_dates(pd.Series(["03/04/2021", "05/06/2021"]))
    assert list(d.values) == [pd.Timestamp("2021-03-04"), pd.Timestamp("2021-05-06")]
    assert "read as month/day/year" in caplog.text and "%d/%m/%Y" in caplog.text


def test_since_until_are_inclusive_days(tmp_path: Path) -> None:
    p = tmp_path / "d.csv"
    p.write_text(
        "id,lat,lon,date\n1,60.17,24.94,2021-01-31T23:59\n2,60.17,24.941,2021-02-01T00:00\n"
        "3,60.17,24.942,2021-02-28T23:00\n4,60.17,24.943,2021-03-01T00:00\n5,60.17,24.944,\n"
    )
    gdf = read_layer(LayerSpec(p, since="2021-02-01", until="2021-02-28"))
    assert list(gdf["id"]) == ["2", "3"]
    intake = _intake(gdf)
    assert (
        _step(intake, "since")["who"] == ["1", "5"]
        and "1 of them undated" in _step(intake, "since")["detail"]
    )
    assert _step(intake, "until")["who"] == ["4"]
    assert intake["date_first"] == "2021-02-01 00:00" and intake["date_last"] == "2021-02-28 23:00"
    with pytest.raises(InputError, match="`since` 'last week' is not a date"):
        read_layer(LayerSpec(p, since="last week"))
    nodate = tmp_path / "n.csv"
    nodate.write_text("id,lat,lon\n1,60.17,24.94\n")
    with pytest.raises(InputError, match=r"need a date column.*--date-column"):
        read_layer(LayerSpec(nodate, since="2021-01-01"))


# ---------------------------------------------------------------------- filters
def test_where_is_ogr_sql_on_csv_and_vector_files(tmp_path: Path) -> None:
    p = tmp_path / "calls.csv"
    p.write_text(
        'code,lat,lon,PRIORITY,DISP,"CALL TYPE"\n'
        "007,60.17,24.94,2,CAN: CANCELLED,OD\n"
        "010,60.171,24.941,10,TRANSPORTED,OD\n"
        "011,60.172,24.942,3,,FALL\n"
    )

    def ids(where: str, path: Path = p) -> list[str]:
        return list(read_layer(LayerSpec(path, id_column="code", where=where))["id"])

    assert ids("PRIORITY > 2") == ["010", "011"]  # numbers compare as numbers (10 > 2)
    assert ids("code = '007'") == ["007"]  # text with leading zeros stays text
    assert ids("DISP <> 'CAN: CANCELLED'") == ["010", "011"]  # an empty cell is '' (as ogr2ogr on a CSV)
    assert ids("\"CALL TYPE\" = 'OD' AND DISP LIKE 'TRANS%'") == ["010"]
    assert ids("DISP ILIKE 'trans%'") == ["010"]
    assert ids("DISP IN ('TRANSPORTED', 'CAN: CANCELLED')") == ["007", "010"]
    gpkg = tmp_path / "calls.gpkg"
    gdf = read_layer(LayerSpec(p, id_column="code"))
    gdf = gdf.drop(columns=["id", "weight"]).astype({"PRIORITY": "int64"})
    gdf.to_file(gpkg, engine="pyogrio")
    assert ids("PRIORITY > 2", gpkg) == ["010", "011"]  # the GeoPackage driver's own filter
    with pytest.raises(InputError) as err:
        ids("DISPOSITION = 'x'")
    msg = str(err.value)
    assert (
        "no column named 'DISPOSITION'" in msg
        and "columns are code, lat, lon, PRIORITY, DISP, 'CALL TYPE'" in msg
    )
    with pytest.raises(InputError, match="leaves none of the 3 rows"):
        ids("PRIORITY > 100")


def test_error_messages_list_every_column(tmp_path: Path) -> None:
    cols = [f"FIELD_{i:02d}" for i in range(14)] + ["geometry_text"]
    p = tmp_path / "wide.csv"
    p.write_text(",".join(cols) + "\n" + ",".join("x" for _ in cols) + "\n")
    with pytest.raises(InputError) as err:
        read_layer(LayerSpec(p))
    msg = str(err.value)
    assert all(c in msg for c in cols) and "geometry_text" in msg
    with pytest.raises(InputError, match="geometry_text"):
        read_layer(LayerSpec(p, date_column="nope"))


# ------------------------------------------------------------------ WKT / GeoJSON
def test_csv_with_a_wkt_geometry_column(tmp_path: Path) -> None:
    p = tmp_path / "wkt.csv"
    p.write_text(
        "incident_id,when,note,geometry\n"
        'A,2021-01-01T10:00,"first, with a comma",POINT (24.941 60.1699)\n'
        'B,2021-01-02T10:00,second,"POINT(24.942 60.17)"\n'
        "C,2021-01-03T10:00,no geocode,POINT EMPTY\n"
        "D,2021-01-04T10:00,blank,\n"
    )
    gdf = read_layer(LayerSpec(p))
    assert list(gdf["id"]) == ["A", "B"] and gdf.crs.to_epsg() == 4326
    assert gdf.geometry.iloc[0].equals(shapely.Point(24.941, 60.1699))
    assert list(gdf["note"]) == ["first, with a comma", "second"]
    intake = _intake(gdf)
    assert intake["geometry"].startswith("WKT column 'geometry'")
    assert _step(intake, "no_coordinates")["who"] == ["C", "D"]
    # projected WKT with its SRID (EWKT), and one that cannot be read
    q = tmp_path / "ewkt.csv"
    q.write_text("id,wkt\n1,SRID=3067;POINT (385000 6671000)\n2,SRID=3067;POINT (385100 6671000)\n")
    assert read_layer(LayerSpec(q)).crs.to_epsg() == 3067
    r = tmp_path / "projected.csv"
    r.write_text("id,wkt\n1,POINT (385000 6671000)\n")
    with pytest.raises(NoCrsError, match="--csv-crs"):
        read_layer(LayerSpec(r))
    assert read_layer(LayerSpec(r, crs="EPSG:3067")).crs.to_epsg() == 3067
    bad = tmp_path / "bad.csv"
    bad.write_text("id,geometry\n1,POINT (24.94 60.17)\n2,POINT (24.94\n")
    with pytest.raises(InputError, match="column 'geometry' holds WKT that cannot be read in row 3"):
        read_layer(LayerSpec(bad))


def test_csv_with_a_geojson_geometry_column(tmp_path: Path) -> None:
    p = tmp_path / "gj.csv"
    p.write_text('id,location\n1,"{""type"": ""Point"", ""coordinates"": [24.94, 60.17]}"\n')
    gdf = read_layer(LayerSpec(p))
    assert gdf.geometry.iloc[0].equals(shapely.Point(24.94, 60.17)) and gdf.crs.to_epsg() == 4326


def test_failed_geocodes_are_errors_only_for_candidates(tmp_path: Path) -> None:
    p = tmp_path / "c.csv"
    p.write_text("site_id,lat,lon,address\nS1,60.17,24.94,Main 1\nS2,,,Main 2\nS3,0,0,Main 3\n")
    with pytest.raises(InputError, match="ids S2, S3 have no coordinates; geocode those candidates"):
        read_layer(LayerSpec(p, role="candidates"))
    gdf = read_layer(LayerSpec(p, role="services"))
    assert list(gdf["id"]) == ["S1"] and _step(_intake(gdf), "no_coordinates")["who"] == ["S2", "S3"]


def test_rows_without_an_id_column_are_named_by_file_line(tmp_path: Path) -> None:
    p = tmp_path / "n.csv"
    p.write_text("lat,lon\n60.17,24.94\n,\n60.18,24.95\n")
    gdf = read_layer(LayerSpec(p))
    assert list(gdf["id"]) == ["2", "4"]  # the line a spreadsheet shows for each row
    assert _step(_intake(gdf), "no_coordinates")["who"] == ["row 3"]


# ------------------------------------------------------------------------- CLI
def test_inspect_prints_the_summary_on_stdout(tmp_path: Path) -> None:
    """Through a subprocess: the summary is the only thing on stdout."""
    ex = write_r_export(tmp_path / "ems.csv")
    r = run_cli(
        "inspect", str(ex.path), "--where", f"DISPOSITION_TEXT <> '{CANCELLED}'", "--since", "2021-11-01"
    )
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert f"{ex.rows:,} rows read" in out and "by the filter DISPOSITION_TEXT <> 'CAN: CANCELLED'" in out
    assert "no coordinates (failed geocodes)" in out and ex.failed[1] in out
    assert "duplicate calls: same place (within 1 m) within 30 minutes" in out
    assert "read as %m/%d/%Y %I:%M:%S %p" in out and "values of 'DISPOSITION_TEXT'" in out
    # stderr: only the warning about failed geocodes, no progress, no GDAL noise
    assert all(ln.startswith("warning: ") for ln in r.stderr.splitlines()), r.stderr
    j = run_cli("-q", "inspect", str(ex.path), "--json")
    data = json.loads(j.stdout)
    assert data["rows_read"] == ex.rows and data["rows_used"] == len(read_layer(LayerSpec(ex.path)))
    bad = run_cli("inspect", str(ex.path), "--where", "DISP = 'x'")
    assert bad.returncode == 2 and bad.stdout == ""
    assert (
        bad.stderr.count("\n") == 1
        and bad.stderr.startswith("Error: ")
        and "no column named 'DISP'" in bad.stderr
    )
    assert "--where" in bad.stderr and "--demand-where" not in bad.stderr  # the flag this command has
    assert "Traceback" not in bad.stderr


def test_messages_are_one_line_with_every_problem(tmp_path: Path) -> None:
    p = tmp_path / "x.csv"
    p.write_text("id,lat,lon,date,fatal\n1,60.17,24.94,2021-01-01,maybe\n2,sixty,24.9,soon,no\n")
    with pytest.raises(InputError) as err:
        read_layer(LayerSpec(p))
    msg = str(err.value)
    assert isinstance(err.value, SitingError) and "\n" not in msg
    for part in (
        "'date' has values that are not dates in row 3",
        "'lat' is not a number in row 3",
        "'fatal' must be",
    ):
        assert part in msg, msg


def test_polygon_layer_of_closed_lines_is_polygonised(tmp_path: Path) -> None:
    from siting.layers import read_polygons

    ring = shapely.LineString([(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)])
    halves = [
        shapely.LineString([(200, 0), (300, 0), (300, 100)]),
        shapely.LineString([(300, 100), (200, 100), (200, 0)]),
    ]
    open_line = shapely.LineString([(400, 0), (500, 50)])
    gdf = gpd.GeoDataFrame(
        {"name": ["school A", "school B1", "school B2"]}, geometry=[ring, *halves], crs=32635
    )
    gdf.to_file(tmp_path / "schools.geojson")
    polys = read_polygons(tmp_path / "schools.geojson", buffer_m=0.0, purpose="exclusion")
    assert list(polys.geom_type) == ["Polygon"] * 3
    assert polys.geometry.iloc[0].area == pytest.approx(100 * 100) and polys.geometry.iloc[
        1
    ].area == pytest.approx(100 * 100)
    with_open = pd.concat([gdf, gpd.GeoDataFrame({"name": ["fence"]}, geometry=[open_line], crs=32635)])
    with_open.to_file(tmp_path / "mixed.geojson")
    with pytest.raises(InputError) as err:
        read_polygons(tmp_path / "mixed.geojson", buffer_m=0.0, purpose="exclusion")
    assert "feature 4 is a line that does not close around an area" in str(err.value)
    assert "Lines to Polygons" in str(err.value) and ":buffer=200m" in str(err.value)
    kept = read_polygons(tmp_path / "mixed.geojson", buffer_m=50.0, purpose="exclusion")
    assert list(kept.geom_type) == ["Polygon", "Polygon", "Polygon", "LineString"]
    assert np.isclose(kept.geometry.iloc[3].length, open_line.length)
