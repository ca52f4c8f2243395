"""A county's data as a new analyst receives it, through the CLI in a fresh process.

One hand-over (tests/agency_data.py::write_messy_set): a TIGER-like centreline GeoPackage
with 3D multi-lines and an interstate, an R export saved on Windows (byte-order mark, CRLF,
``c(lon, lat)``, US timestamps in ``Call Received``, an ``OUTCOME`` text column), candidate
parcels with spaces in their column names and one failed geocode, and school outlines
drawn as lines. Each step is what the analyst would type; each error says what to type next.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from agency_data import CANCELLED, write_messy_set
from helpers import run_cli

from siting._errors import InputError
from siting.layers import LayerSpec, pick_column, read_layer, read_polygons

if TYPE_CHECKING:
    from pathlib import Path

WHERE = f"DISPOSITION_TEXT <> '{CANCELLED}'"


def _one_error_line(r) -> str:  # type: ignore[no-untyped-def]
    assert r.returncode == 2 and r.stdout == "" and "Traceback" not in r.stderr, r.stderr
    errors = [ln for ln in r.stderr.splitlines() if not ln.startswith("warning: ")]
    assert len(errors) == 1 and errors[0].startswith("Error: "), r.stderr
    return errors[0]


def test_a_messy_hand_over_end_to_end(tmp_path: Path) -> None:
    ms = write_messy_set(tmp_path / "from the county")
    cache = tmp_path / "cache"
    common = ["-n", str(ms.streets), "-d", str(ms.calls), "-c", str(ms.parcels), "--id-column", "Parcel ID"]

    # 1. the outcome column is text: the error names the values it cannot read and the fix
    err = _one_error_line(run_cli("score", *common, "--fatal-column", "OUTCOME", cache=cache))
    assert "column 'OUTCOME'" in err and "'Unknown' (" in err
    assert "--fatal-column 'OUTCOME=VALUE,VALUE'" in err
    # 2. the parcel that failed to geocode: the error names it and the filter that leaves it out
    err = _one_error_line(run_cli("score", *common, "--fatal-column", "OUTCOME=Deceased", cache=cache))
    assert "id P-08 has no coordinates" in err and """--candidates-where '"Latitude" IS NOT NULL'""" in err
    # 3. the run, as the analyst finally types it
    out = tmp_path / "scores.gpkg"
    report = tmp_path / "report.html"
    r = run_cli(
        "score",
        *common,
        "--fatal-column",
        "OUTCOME=Deceased",
        "--demand-where",
        WHERE,
        "--candidates-where",
        '"Latitude" IS NOT NULL',
        "--exclude",
        str(ms.schools),
        "-o",
        str(out),
        "--report",
        str(report),
        cache=cache,
    )
    assert r.returncode == 0, r.stderr
    # stderr: only the failed geocodes, as a warning naming the calls
    assert r.stderr.splitlines() == [ln for ln in r.stderr.splitlines() if ln.startswith("warning: ")]
    assert f"{len(ms.failed)} of" in r.stderr and ms.failed[0] in r.stderr
    assert "candidate_id" in r.stdout and "P-01" in r.stdout

    cands = gpd.read_file(out, layer="candidates").set_index("candidate_id")
    parcels = pd.read_csv(ms.parcels).set_index("Parcel ID")
    assert set(cands.index) == set(parcels.index[:-1])  # the filter left the ungeocoded one out
    assert (cands["Address"] == parcels.loc[cands.index, "Address"]).all()
    assert (cands["name"] == parcels.loc[cands.index, "Site Name"]).all()  # "Site Name" found by name
    # the schools drawn as lines excluded the parcels inside them
    assert sorted(cands.index[cands["excluded"].astype(bool)]) == ms.in_school
    info = pyogrio.read_info(out, layer="candidates")
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    assert types["rank"].startswith("OFTInteger") and types["covered_incidents"].startswith("OFTInteger")
    ranked = cands["rank"].dropna()
    assert sorted(ranked.astype(int)) == list(range(1, len(ranked) + 1))

    # every call accounted for: read, filtered, ungeocoded, duplicate, used (the dates and
    # the fatal calls come from "Call Received" and OUTCOME=Deceased)
    j = run_cli(
        "-q", "inspect", str(ms.calls), "--where", WHERE, "--fatal-column", "OUTCOME=Deceased", "--json"
    )
    data = json.loads(j.stdout)
    steps = {s["reason"]: s for s in data["steps"]}
    assert data["rows_read"] == ms.rows and data["date_column"] == "Call Received"
    assert steps["where"]["who"] == ms.cancelled  # cancelled calls, by their ids
    assert steps["no_coordinates"]["who"] == ms.failed and steps["duplicate"]["who"] == ms.duplicates
    used = read_layer(LayerSpec(ms.calls, where=WHERE, fatal_column="OUTCOME=Deceased"))
    assert data["rows_used"] == len(used) == ms.rows - len(ms.cancelled) - len(ms.failed) - len(ms.duplicates)
    assert sorted(used.loc[used["fatal"], "id"]) == sorted(ms.fatal)

    # the shareable report: each filter with the rows it removed, no exact count in a note
    html = report.read_text()
    section = html[html.index("<h2>What was read") : html.index("<h2>Assumptions")]
    assert "by the filter DISPOSITION_TEXT &lt;&gt; &#x27;CAN: CANCELLED&#x27;" in section
    assert "by the filter &quot;Latitude&quot; IS NOT NULL" in section and "P-08" in section
    text = re.sub(r"<[^>]+>", " ", section)
    assert str(ms.rows) not in text.split()  # rows read: left out of a shareable report
    assert "more fields than the header" not in section
    assert section.count("farther than") <= 1  # one row for the points far from the streets


def test_inspect_an_exclusion_layer_of_outlines(tmp_path: Path) -> None:
    ms = write_messy_set(tmp_path)
    r = run_cli("inspect", str(ms.schools), "--role", "exclusion")
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert "exclusion layer, 3 features read" in r.stdout
    assert re.search(r"lines closed into polygons\s+3", r.stdout) and "names from column: 'name'" in r.stdout
    # the same file without --role looks like streets: the summary says what else it may be
    r = run_cli("inspect", str(ms.schools))
    assert r.returncode == 0 and "street line layer" in r.stdout
    assert "1 of these lines are closed rings" in r.stdout and "--role exclusion" in r.stdout


def test_point_exclusions_need_a_buffer(tmp_path: Path) -> None:
    p = tmp_path / "clinics.geojson"
    pts = gpd.points_from_xy([24.9, 24.95], [60.17, 60.18])
    gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=pts, crs=4326).to_file(p)
    with pytest.raises(InputError, match=r"features 1, 2 are points, which enclose no area; give a buffer"):
        read_polygons(p, purpose="exclusion")
    with pytest.raises(InputError, match="use a polygon layer"):
        read_polygons(p)  # regions
    zones = read_polygons(p, buffer_m=100.0, purpose="exclusion")
    assert zones.attrs["polygons"]["points"] == 2 and list(zones["name"]) == ["a", "b"]


def test_column_names_with_spaces_follow_the_conventions(tmp_path: Path) -> None:
    p = tmp_path / "calls.csv"
    p.write_text(
        "Incident Number,Call Date/Time,Final Disposition,Latitude,Longitude\n"
        "A-1,2022-01-01 10:00,Transported,60.17,24.94\n"
        "A-2,2022-01-02 11:00,Refused,60.18,24.95\n"
    )
    gdf = read_layer(LayerSpec(p))
    intake = gdf.attrs["intake"]
    assert list(gdf["id"]) == ["A-1", "A-2"] and intake.id_column == "Incident Number"
    assert intake.date_column == "Call Date/Time" and intake.status_column == "Final Disposition"
    assert str(gdf["date"].iloc[1]) == "2022-01-02 11:00:00"
    # a parcel layer's own id beats the GIS's row counter
    q = tmp_path / "parcels.csv"
    q.write_text("OBJECTID,Parcel ID,Latitude,Longitude\n1,P-7,60.17,24.94\n2,P-9,60.18,24.95\n")
    assert list(read_layer(LayerSpec(q, role="candidates"))["id"]) == ["P-7", "P-9"]


def test_fatal_values_named_in_the_column_option(tmp_path: Path) -> None:
    p = tmp_path / "calls.csv"
    p.write_text(
        "id,lat,lon,OUTCOME\n1,60.17,24.94,Deceased\n2,60.17,24.95,alive\n"
        "3,60.18,24.94,Unknown\n4,60.18,24.95,DOA\n"
    )
    with pytest.raises(InputError) as err:
        read_layer(LayerSpec(p, fatal_column="OUTCOME"))
    msg = str(err.value)
    assert "'Unknown' (1 row), in row 4" in msg and "--fatal-column 'OUTCOME=VALUE,VALUE'" in msg
    gdf = read_layer(LayerSpec(p, fatal_column="outcome=deceased, DOA"))
    assert gdf["fatal"].tolist() == [True, False, False, True]
    intake = gdf.attrs["intake"]
    assert (intake.fatal_column, intake.fatal_values) == ("OUTCOME", ["deceased", "doa"])
    assert intake.fatal_used == 2
    r = run_cli("-q", "inspect", str(p), "--fatal-column", "OUTCOME=Deceased,DOA")
    assert "fatal: 2 of the rows used (column 'OUTCOME' is 'deceased' or 'doa')" in r.stdout, r.stderr


def test_a_missing_column_lists_every_column(tmp_path: Path) -> None:
    cols = [f"FIELD_{i:02d}" for i in range(14)] + ["geometry"]
    table = pd.DataFrame([np.arange(len(cols))], columns=cols)
    with pytest.raises(InputError) as err:
        pick_column(table, "nope", (), path=tmp_path / "t.csv", flag="--id-column")
    assert all(c in str(err.value) for c in cols)


def test_ranks_are_whole_numbers_in_every_table_format(tmp_path: Path) -> None:
    from siting.outputs import write_layers

    gdf = gpd.GeoDataFrame(
        {"candidate_id": ["a", "b", "c"], "rank": [1.0, np.nan, 2.0], "score": [0.5, 0.25, 0.125]},
        geometry=gpd.points_from_xy([24.9, 24.91, 24.92], [60.1, 60.1, 60.1]),
        crs=4326,
    )
    for ext in ("gpkg", "geojson"):
        write_layers({"candidates": gdf}, tmp_path / f"c.{ext}")
        info = pyogrio.read_info(tmp_path / f"c.{ext}")
        types = dict(zip(info["fields"], info["ogr_types"], strict=True))
        assert types["rank"].startswith("OFTInteger") and types["score"] == "OFTReal", types
    write_layers({"candidates": gdf}, tmp_path / "c.csv")
    text = pd.read_csv(tmp_path / "c.csv", dtype=str, keep_default_na=False)
    assert text["rank"].tolist() == ["1", "", "2"]


def test_released_intake_counts_far_points_once() -> None:
    from siting.privacy import Rule
    from siting.privacy.metadata import release_intake

    intake = {
        "role": "demand",
        "rows_read": 120,
        "steps": [
            {"reason": "where", "text": "by the filter X", "removed": 30, "who": ["a"]},
            {"reason": "far_from_streets", "text": "farther than 250 m from any street", "removed": 3},
        ],
        "notes": ["120 rows had more fields than the header"],
    }
    out = release_intake(intake, used_label="90", left_out=3, rule=Rule())
    assert [s["text"] for s in out["steps"]] == ["by the filter X", "farther than 250 m from any street"]
    assert [s["removed"] for s in out["steps"]] == ["30", "fewer than 11"]
    assert "rows_read" not in out and "notes" not in out and all(s["who"] == [] for s in out["steps"])


def test_since_and_until_are_year_month_day(tmp_path: Path) -> None:
    p = tmp_path / "calls.csv"
    p.write_text("id,lat,lon,date\n1,60.17,24.94,2022-03-04\n2,60.17,24.95,2022-04-03\n")
    with pytest.raises(InputError, match="`since` '04/03/2022' is not a date written year-month-day"):
        read_layer(LayerSpec(p, since="04/03/2022"))
    assert list(read_layer(LayerSpec(p, since="2022-04-03"))["id"]) == ["2"]
    assert list(read_layer(LayerSpec(p, until="2022-03-04 12:00"))["id"]) == ["1"]


def test_a_misspelt_filter_column_gets_the_near_name(tmp_path: Path) -> None:
    p = tmp_path / "calls.csv"
    p.write_text('id,lat,lon,DISPOSITION_TEXT,"Call Received"\n1,60.17,24.94,X,2022-01-01\n')
    with pytest.raises(InputError, match="did you mean 'DISPOSITION_TEXT'"):
        read_layer(LayerSpec(p, where="DISPOSITON_TEXT <> 'x'"))


def test_location_columns_of_coordinate_pairs(tmp_path: Path) -> None:
    """Socrata/ArcGIS "(lat, lon)"; JSON-style "[lon, lat]"; ranges decide where they can."""
    p = tmp_path / "socrata.csv"
    p.write_text('id,Location 1\n1,"(60.17, 24.94)"\n2,"(60.18, 24.95)"\n3,\n4,"(NA, NA)"\n5,"(0, 0)"\n')
    gdf = read_layer(LayerSpec(p))
    assert list(gdf["id"]) == ["1", "2"] and gdf.geometry.iloc[0].equals(shapely.Point(24.94, 60.17))
    intake = gdf.attrs["intake"].to_dict()
    assert intake["geometry"].startswith("(lat, lon) pairs in column 'Location 1'")
    assert next(s for s in intake["steps"] if s["reason"] == "no_coordinates")["who"] == ["3", "4", "5"]
    q = tmp_path / "arrays.csv"
    q.write_text('id,geo_point\n1,"[24.94, 60.17]"\n')
    assert read_layer(LayerSpec(q)).geometry.iloc[0].equals(shapely.Point(24.94, 60.17))
    r = tmp_path / "seattle.csv"  # parentheses but longitude first: |-122.3| > 90 says so
    r.write_text('id,location\n1,"(-122.33, 47.61)"\n')
    assert read_layer(LayerSpec(r)).geometry.iloc[0].equals(shapely.Point(-122.33, 47.61))
    bad = tmp_path / "bad.csv"
    bad.write_text('id,location\n1,"(47.61, -122.33)"\n2,"(north, west)"\n')
    with pytest.raises(InputError, match="column 'location' holds pairs that are not numbers in row 3"):
        read_layer(LayerSpec(bad))
    plain = tmp_path / "plain.csv"  # a column of "1,5"-like text that is not named as a location
    plain.write_text('id,score\n1,"(1, 5)"\n')
    with pytest.raises(InputError, match="no coordinates found"):
        read_layer(LayerSpec(plain))


def test_date_and_time_of_day_in_two_columns(tmp_path: Path) -> None:
    """CAD exports often split the call's date and time: joined, duplicates and hours work."""
    p = tmp_path / "cad.csv"
    p.write_text(
        "INCIDENT_NO,Incident Date,Incident Time,lat,lon\n"
        "A1,03/13/2022,1742,60.17,24.94\n"  # military time
        "A2,03/13/2022,5:50 PM,60.17,24.94\n"  # 8 minutes later, same place: a repeat call
        "A3,03/14/2022,09:05,60.18,24.95\n"
    )
    gdf = read_layer(LayerSpec(p))
    assert list(gdf["id"]) == ["A1", "A3"]
    assert [str(t) for t in gdf["date"]] == ["2022-03-13 17:42:00", "2022-03-14 09:05:00"]
    intake = gdf.attrs["intake"]
    assert intake.date_format == "%m/%d/%Y, times of day from 'Incident Time'"
    assert next(s for s in intake.steps if s.reason == "duplicate").who == ["A2"]
    assert list(read_layer(LayerSpec(p, since="2022-03-13T17:45"))["id"]) == ["A2", "A3"]
    # a time missing in one row: the times are not used, and the summary says why
    q = tmp_path / "gaps.csv"
    q.write_text(
        "id,Incident Date,Incident Time,lat,lon\n"
        "A1,2022-03-13,17:42,60.17,24.94\nA2,2022-03-13,,60.17,24.95\n"
    )
    intake = read_layer(LayerSpec(q)).attrs["intake"]
    assert "times of day in 'Incident Time' not used: id A2 has none" in intake.notes
