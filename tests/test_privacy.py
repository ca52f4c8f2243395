"""Small-count suppression, and proof that no incident location leaks into public outputs."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from test_maps import CRS, X0, Y0, make_plan

from siting import maps, privacy
from siting._errors import InputError

#: Two numbers written as a position: "a,b" (GeoJSON, JS arrays, text) or adjacent table cells.
PAIR = re.compile(r"(?=(-?\d+(?:\.\d+)?)(?:\s*,\s*|</td>\s*<td[^>]*>)(-?\d+(?:\.\d+)?))")


def _pairs(text: str, decimals: int) -> set[tuple[float, float]]:
    """Every position written in the text, rounded to ``decimals``."""
    return {(round(float(a), decimals), round(float(b), decimals)) for a, b in PAIR.findall(text)}


def leaked_coordinates(text: str, demand: gpd.GeoDataFrame) -> list[str]:
    """Incident coordinates found in ``text``, in WGS84 and projected.

    Outputs write WGS84 at 6 decimals (about 0.1 m), so positions are compared at 6 and 7
    decimals (lon/lat in either order); projected positions at 1 to 3 decimals; and every
    coordinate's full-precision value on its own (when it has 8 decimals or more; shorter
    values recur by chance). Street-network vertices are public: an
    incident recorded exactly on one (within 0.1 m) would match by nature, not by a leak;
    the data here has none.
    """
    found = []
    ll = shapely.get_coordinates(demand.to_crs(4326).geometry.values)
    xy = shapely.get_coordinates(demand.geometry.values)
    for dec in (6, 7):
        pairs = _pairs(text, dec)
        for lon, lat in ll:
            a, b = round(lon, dec), round(lat, dec)
            if (a, b) in pairs or (b, a) in pairs:
                found.append(f"wgs84 {lon:.{dec}f},{lat:.{dec}f}")
    for dec in (1, 2, 3):
        pairs = _pairs(text, dec)
        for x, y in xy:
            if (round(x, dec), round(y, dec)) in pairs:
                found.append(f"projected {x:.{dec}f},{y:.{dec}f}")
    numbers = set(re.findall(r"-?\d+\.\d{8,}", text))
    for v in np.concatenate([ll.ravel(), xy.ravel()]):
        r = repr(float(v))
        if len(r.split(".")[-1]) >= 8 and r in numbers:
            found.append(f"value {r}")
    return found


@pytest.fixture(scope="module")
def plan():  # type: ignore[no-untyped-def]
    return make_plan()


def test_default_map_holds_no_incident_coordinate(plan) -> None:  # type: ignore[no-untyped-def]
    text = maps.readable_text(maps.plan_map(plan))
    assert leaked_coordinates(text, plan.demand) == []


def test_the_leak_check_catches_points_when_opted_in(plan) -> None:  # type: ignore[no-untyped-def]
    text = maps.readable_text(maps.plan_map(plan, include_incident_points=True))
    assert len(leaked_coordinates(text, plan.demand)) >= len(plan.demand)


def test_public_geojson_holds_no_incident_coordinate(plan) -> None:  # type: ignore[no-untyped-def]
    hexes = privacy.hex_counts(plan.demand, weight="weight")
    for crs in (4326, plan.demand.crs):
        text = hexes.to_crs(crs).to_json()
        assert leaked_coordinates(text, plan.demand) == []


def test_report_holds_no_incident_coordinate(plan) -> None:  # type: ignore[no-untyped-def]
    report = pytest.importorskip("siting.report")
    text = report.report_html(plan)
    assert leaked_coordinates(text, plan.demand) == []


def test_incident_on_a_hexagon_corner_shifts_the_grid() -> None:
    size = 250.0
    # a point exactly on the (0, 0)-anchored grid's centre and one on a corner
    pts = gpd.GeoDataFrame(geometry=shapely.points([[0.0, 0.0], [size, 0.0]] * 6), crs=CRS)
    hexes = privacy.hex_counts(pts, size_m=size)
    assert hexes.attrs["hex_origin"] != (0.0, 0.0)
    verts = shapely.get_coordinates(hexes.geometry.values)
    centres = shapely.get_coordinates(shapely.centroid(hexes.geometry.values))
    for v in np.vstack([verts, centres]):
        assert min(np.hypot(v[0] - 0.0, v[1]), np.hypot(v[0] - size, v[1])) >= 0.5
    # deterministic
    again = privacy.hex_counts(pts, size_m=size)
    assert again.attrs["hex_origin"] == hexes.attrs["hex_origin"]


def test_counts_and_labels_against_brute_force(plan) -> None:  # type: ignore[no-untyped-def]
    hexes = privacy.hex_counts(plan.demand, size_m=150, weight="weight")
    pts = plan.demand.geometry.values
    exact = np.array([int(shapely.contains(h, pts).sum()) for h in hexes.geometry.values])
    # every point falls in exactly one cell (cells tile the plane), so totals agree
    assert exact.sum() == len(plan.demand)
    assert (exact > 0).all()
    sup = hexes["suppressed"].to_numpy()
    np.testing.assert_array_equal(sup, exact <= 10)
    np.testing.assert_array_equal(hexes.loc[~sup, "count"].to_numpy(dtype=int), exact[~sup])
    assert hexes.loc[sup, "count"].isna().all() and hexes.loc[sup, "weight"].isna().all()
    assert (hexes.loc[sup, "label"] == "fewer than 11").all()
    assert (hexes.loc[~sup, "label"] == [str(v) for v in exact[~sup]]).all()
    assert (hexes.loc[sup, "heat"] == 5.5).all()
    w = np.array([plan.demand.loc[shapely.contains(h, pts), "weight"].sum() for h in hexes.geometry.values])
    np.testing.assert_allclose(hexes.loc[~sup, "weight"].to_numpy(dtype=float), w[~sup])


def test_no_public_column_holds_a_small_count(plan) -> None:  # type: ignore[no-untyped-def]
    hexes = privacy.hex_counts(plan.demand, size_m=100)
    sup = hexes[hexes["suppressed"]]
    assert len(sup) > 0
    for col in hexes.columns.drop(["geometry", "q", "r", "suppressed"]):
        vals = pd.Series(sup[col]).dropna()
        if col == "heat":
            assert set(vals) == {5.5}
        elif col == "label":
            assert set(vals) == {"fewer than 11"}
        else:
            assert vals.empty, col


@pytest.mark.parametrize("threshold", [0, 4, 20])
def test_threshold_is_settable(plan, threshold: int) -> None:  # type: ignore[no-untyped-def]
    hexes = privacy.hex_counts(plan.demand, threshold=threshold)
    n = hexes["count"]
    assert (hexes["suppressed"] == hexes["count"].isna()).all()
    assert (n.dropna() > threshold).all()
    if threshold:
        assert (hexes.loc[hexes["suppressed"], "label"] == f"fewer than {threshold + 1}").all()


def test_hexagons_tile_and_have_the_stated_size() -> None:
    rng = np.random.default_rng(1)
    xy = rng.uniform([X0, Y0], [X0 + 2000, Y0 + 2000], size=(3000, 2))
    pts = gpd.GeoDataFrame(geometry=shapely.points(xy), crs=CRS)
    hexes = privacy.hex_counts(pts, size_m=100, threshold=0)
    area = 3 * np.sqrt(3) / 2 * 100**2
    np.testing.assert_allclose(hexes.area, area)
    assert hexes["count"].sum() == 3000
    # no overlaps: union area equals the sum
    assert abs(shapely.union_all(hexes.geometry.values).area - area * len(hexes)) < 1e-3 * area
    # each point lies in (or on the edge of) its own cell
    q, r = privacy.hex_axial(xy[:, 0], xy[:, 1], size_m=100, origin=hexes.attrs["hex_origin"])
    cx, cy = privacy.hex_centres(q, r, size_m=100, origin=hexes.attrs["hex_origin"])
    assert (np.hypot(xy[:, 0] - cx, xy[:, 1] - cy) <= 100 + 1e-9).all()
    # and no other centre is closer
    from scipy.spatial import cKDTree

    cents = shapely.get_coordinates(shapely.centroid(hexes.geometry.values))
    d, _ = cKDTree(cents).query(xy)
    np.testing.assert_allclose(np.hypot(xy[:, 0] - cx, xy[:, 1] - cy), d, atol=1e-6)


def test_bad_inputs() -> None:
    pts = gpd.GeoDataFrame(geometry=shapely.points([[24.9, 60.1]]), crs=4326)
    with pytest.raises(InputError, match="projected CRS"):
        privacy.hex_counts(pts)
    proj = pts.to_crs(CRS)
    with pytest.raises(InputError, match="size_m"):
        privacy.hex_counts(proj, size_m=0)
    with pytest.raises(InputError, match="weight column `w`"):
        privacy.hex_counts(proj, weight="w")
    assert len(privacy.hex_counts(proj.iloc[:0])) == 0


def test_demo_outputs_hold_no_incident_coordinate() -> None:
    """The real demo (1,800 synthetic incidents on central Helsinki): map, report, hexagons."""
    from siting import report
    from siting.cli.demo import demo_data_folder
    from siting.cli.run import read_scenario_file
    from siting.pipeline import prepare, score_plan

    scenario, _ = read_scenario_file(demo_data_folder() / "scenario.toml")
    demo = score_plan(prepare(scenario))
    for text in (
        maps.readable_text(maps.plan_map(demo)),
        report.report_html(demo),
        privacy.hex_counts(demo.demand).to_crs(4326).to_json(),
    ):
        assert leaked_coordinates(text, demo.demand) == []


def test_hex_grid_placed_for_dense_county_scale_incidents() -> None:
    """200,000 incidents packed in 2 km x 2 km: no shift clears 0.5 m, the best one is used."""
    from scipy.spatial import cKDTree

    from siting import privacy

    rng = np.random.default_rng(1)
    x, y = rng.uniform(0, 2000, 200_000), rng.uniform(0, 2000, 200_000)
    origin = privacy.hex_grid_origin(x, y, size_m=250.0)
    q, r = privacy.hex_axial(x, y, size_m=250.0, origin=origin)
    cells = np.unique(np.column_stack([q, r]), axis=0)
    cx, cy = privacy.hex_centres(cells[:, 0], cells[:, 1], size_m=250.0, origin=origin)
    ring = shapely.get_coordinates(privacy.hex_polygons(cx, cy, size_m=250.0))
    d, _ = cKDTree(np.column_stack([x, y])).query(np.vstack([np.column_stack([cx, cy]), ring]))
    assert d.min() >= privacy._MIN_CLEARANCE_M
