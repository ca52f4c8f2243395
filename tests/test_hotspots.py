"""Hotspots: Gi* against a hand computation and esda, BH against scipy, KDE, clusters, time profile."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats
from test_maps import CRS, X0, Y0, make_demand

from siting import hotspots
from siting._errors import InputError


def test_gi_star_by_hand_on_a_path() -> None:
    # cells 0-1-2-3 in a path, x = [4, 0, 0, 0]: xbar = 1, S = sqrt(16/4 - 1) = sqrt(3)
    # cell 0: W = 2, lag = 4 -> (4 - 2) / (sqrt(3) * sqrt((4*2 - 4)/3)) = 2 / 2 = 1
    # cell 1: W = 3, lag = 4 -> (4 - 3) / (sqrt(3) * sqrt((12 - 9)/3)) = 1 / sqrt(3)
    # cell 2: W = 3, lag = 0 -> -3 / sqrt(3); cell 3: W = 2, lag = 0 -> -2 / 2
    nb = [np.array([1]), np.array([0, 2]), np.array([1, 3]), np.array([2])]
    z = hotspots.gi_star_statistic(np.array([4.0, 0, 0, 0]), nb)
    np.testing.assert_allclose(z, [1.0, 1 / np.sqrt(3), -np.sqrt(3), -1.0])


def test_gi_star_matches_esda_on_a_hexagon_grid() -> None:
    esda = pytest.importorskip("esda")
    libpysal = pytest.importorskip("libpysal")
    demand = make_demand(n=300, seed=3)
    cells = hotspots.gi_star(demand, size_m=150)
    nbs = hotspots._grid_neighbours(cells["q"].to_numpy(), cells["r"].to_numpy())
    w = libpysal.weights.W({i: nb.tolist() for i, nb in enumerate(nbs)}, silence_warnings=True)
    g = esda.G_Local(cells["value"].to_numpy(), w, transform="B", star=True, permutations=0)
    np.testing.assert_allclose(cells["gi_z"].to_numpy(), g.Zs, rtol=1e-9, atol=1e-9)


def test_benjamini_hochberg_matches_scipy() -> None:
    rng = np.random.default_rng(0)
    p = np.concatenate([rng.uniform(size=200), rng.uniform(0, 0.001, size=20)])
    np.testing.assert_allclose(hotspots.benjamini_hochberg(p), stats.false_discovery_control(p), rtol=1e-12)


def test_gi_star_finds_the_planted_cluster_and_controls_fdr() -> None:
    demand = make_demand(n=400, seed=0)  # a tight cluster at (X0+300, Y0+300)
    cells = hotspots.gi_star(demand, size_m=100)
    hot = cells[cells["class"] == "hot"]
    assert len(hot) >= 1
    centre = shapely.Point(X0 + 300, Y0 + 300)
    assert hot.geometry.distance(centre).min() == 0
    assert (hot["q_value"] < 0.05).all() and (hot["q_value"] >= hot["p_value"]).all()
    assert cells.attrs["parameters"]["fdr"] == "Benjamini-Hochberg"
    # uniform noise: nothing survives the FDR correction
    rng = np.random.default_rng(5)
    noise = gpd.GeoDataFrame(
        geometry=shapely.points(rng.uniform([X0, Y0], [X0 + 3000, Y0 + 3000], (400, 2))), crs=CRS
    )
    assert (hotspots.gi_star(noise, size_m=250)["class"] == "").all()


def test_gi_star_hotspots_are_dissolved_and_carry_no_cell_statistics() -> None:
    demand = make_demand(n=400, seed=0)
    hs = hotspots.gi_star_hotspots(demand, size_m=100)
    assert len(hs) >= 1
    assert set(hs.columns) == {"method", "class", "n_cells", "params", "geometry"}
    assert hs["n_cells"].sum() == (hotspots.gi_star(demand, size_m=100)["class"] == "hot").sum()


def test_kde_matches_direct_gaussian_sum() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(0, 300, 50), rng.normal(0, 300, 50)
    grid, (minx, miny, _, _) = hotspots.kde_grid(x, y, bandwidth_m=200, cell_m=10)
    h = 200.0
    for row, col in [(int(grid.shape[0] / 2), int(grid.shape[1] / 2)), (40, 90), (150, 60)]:
        cx, cy = minx + (col + 0.5) * 10, miny + (row + 0.5) * 10
        direct = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * h * h)).sum() / (2 * np.pi * h * h) * 1e6
        # binning moves a point by at most half a cell; the kernel is cut at 4 bandwidths
        assert grid[row, col] == pytest.approx(direct, rel=0.02, abs=2e-3 * grid.max())
    assert grid.sum() * 100 / 1e6 == pytest.approx(50, rel=1e-3)


def test_kde_surface_states_its_parameters() -> None:
    grid, _, params = hotspots.kde_surface(make_demand(n=50), weight="weight", bandwidth_m=150)
    assert params["bandwidth_m"] == 150 and params["kernel"] == "gaussian" and params["weight"] == "weight"
    assert grid.max() > 0
    with pytest.raises(InputError, match="bandwidth_m"):
        hotspots.kde_grid(np.zeros(1), np.zeros(1), bandwidth_m=0)


@pytest.mark.parametrize("method", ["dbscan", "hdbscan"])
def test_clusters_are_hexagon_unions_around_the_planted_clusters(method: str) -> None:
    demand = make_demand(n=400, seed=0)
    hs = hotspots.cluster_hotspots(demand, method=method, eps_m=60, min_samples=10, min_cluster_size=40)
    assert len(hs) >= 2
    centres = [shapely.Point(X0 + 300, Y0 + 300), shapely.Point(X0 + 750, Y0 + 650)]
    for c in centres:
        assert hs.geometry.contains(c).any()
    assert (hs["method"] == method).all() and hs["params"].str.contains(method.upper()).all()
    # no polygon corner sits on an incident
    verts = shapely.get_coordinates(hs.geometry.values)
    pts = shapely.get_coordinates(demand.geometry.values)
    from scipy.spatial import cKDTree

    assert cKDTree(pts).query(verts)[0].min() >= 0.5
    assert hs["n_incidents"].astype(int).min() > 10


def test_clusters_bad_method_and_empty() -> None:
    demand = make_demand(n=20)
    with pytest.raises(InputError, match="method"):
        hotspots.cluster_hotspots(demand, method="kmeans")
    assert len(hotspots.cluster_hotspots(demand.iloc[:0])) == 0


def test_time_profile_by_hand() -> None:
    df = pd.DataFrame(
        {
            "date": [
                "2025-01-06 00:30",
                "2025-01-06 23:10",
                "2025-01-07 23:59",
                "2025-01-12 05:00",
                None,
                "not a date",
            ]
        }
    )
    prof = hotspots.time_profile(df)
    hour, wd = prof["hour"], prof["weekday"]
    assert len(hour) == 24 and hour.sum() == 4
    assert hour[0] == 1 and hour[23] == 2 and hour[5] == 1
    assert wd.to_dict() == {"Mon": 2, "Tue": 1, "Wed": 0, "Thu": 0, "Fri": 0, "Sat": 0, "Sun": 1}
    assert bool(prof["has_time"].iloc[0])
    assert not bool(hotspots.time_profile(pd.DataFrame({"date": ["2025-01-06"]}))["has_time"].iloc[0])
    with pytest.raises(InputError, match="date"):
        hotspots.time_profile(pd.DataFrame({"x": [1]}))


def test_find_hotspots_combines_methods() -> None:
    demand = make_demand(n=400, seed=0)
    hs = hotspots.find_hotspots(demand, eps_m=60, min_samples=10, gi_size_m=100)
    assert set(hs["method"]) == {"dbscan", "gi_star"}
    assert hs["params"].notna().all()
    with pytest.raises(InputError, match="hotspot method"):
        hotspots.find_hotspots(demand, methods=("kde",))
    assert len(hotspots.find_hotspots(demand.iloc[:3], methods=("dbscan",))) == 0


def test_grid_clearance_is_a_nearest_neighbour_search_to_the_bit() -> None:
    """The hexagon grid's clearance (privacy.grid._closest, from each point's own cell and
    the neighbours sharing its corners) equals a k-d tree search over every cell's centre
    and corners, also for points on corners, edges and centres."""
    from scipy.spatial import cKDTree

    from siting.privacy import grid

    def kd(x, y, size, origin):  # type: ignore[no-untyped-def]
        q, r = grid.hex_axial(x, y, size_m=size, origin=origin)
        cells = grid.unique_cells(q, r)
        cx, cy = grid.hex_centres(cells[:, 0], cells[:, 1], size_m=size, origin=origin)
        ang = np.deg2rad(np.arange(6) * 60.0)
        vx = np.concatenate([cx, (cx[:, None] + size * np.cos(ang)).ravel()])
        vy = np.concatenate([cy, (cy[:, None] + size * np.sin(ang)).ravel()])
        d, _ = cKDTree(np.column_stack([vx, vy])).query(np.column_stack([x, y]), k=1)
        return float(d.min())

    rng = np.random.default_rng(1)
    for trial in range(120):
        n = int(rng.integers(1, 2000))
        size = float(rng.choice([250.0, 100.0, 37.3]))
        k = int(rng.integers(0, 16))
        origin = (size * ((k * 0.6180339887) % 1.0), size * ((k * 0.4142135624) % 1.0))
        x, y = rng.normal(385000, 3000, n), rng.normal(6672000, 3000, n)
        if trial % 2:  # on and next to centres, corners and edges
            q, r = grid.hex_axial(x, y, size_m=size, origin=origin)
            cx, cy = grid.hex_centres(q, r, size_m=size, origin=origin)
            a = np.deg2rad(rng.integers(0, 6, n) * 60.0 + rng.choice([0.0, 30.0], n))
            t = rng.choice([0.0, 0.5, 0.8660254037844386, 1.0, 0.999999, 1.0000001], n)
            x = cx + size * t * np.cos(a) + rng.choice([0.0, 1e-9, -1e-7, 0.3], n)
            y = cy + size * t * np.sin(a)
        q, r = grid.hex_axial(x, y, size_m=size, origin=origin)
        assert grid._closest(x, y, q, r, size, origin) == kd(x, y, size, origin), trial
    assert grid._closest(np.zeros(0), np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int64), 1.0, (0, 0)) == np.inf


@pytest.mark.parametrize("far", [False, True])
def test_gi_star_cells_and_values_by_a_dictionary(far: bool) -> None:
    """Gi*'s grid (occupied cells and their neighbours, sorted) and its values equal a plain
    dictionary count, on a compact area (cells in a table over their bounding box) and on
    two areas 2,000 km apart (sorted keys); z-scores equal gi_star_statistic's."""
    from siting.privacy import grid

    rng = np.random.default_rng(5)
    x, y = rng.normal(385000, 900, 3000), rng.normal(6672000, 900, 3000)
    if far:
        x[::2] += 2.0e6
        y[::3] -= 1.0e6
    w = rng.integers(0, 4, x.size).astype(float)
    demand = gpd.GeoDataFrame({"w": w}, geometry=gpd.points_from_xy(x, y), crs=CRS)
    cells = hotspots.gi_star(demand, size_m=100, weight="w")
    origin = grid.hex_grid_origin(x, y, size_m=100)
    q, r = grid.hex_axial(x, y, size_m=100, origin=origin)
    sums: dict[tuple[int, int], float] = {}
    for a, b, v in zip(q.tolist(), r.tolist(), w.tolist(), strict=True):
        sums[(a, b)] = sums.get((a, b), 0.0) + v
    want = sorted({(a + dq, b + dr) for a, b in sums for dq, dr in [(0, 0), *hotspots._HEX_NEIGHBOURS]})
    assert list(zip(cells["q"].tolist(), cells["r"].tolist(), strict=True)) == want
    np.testing.assert_array_equal(cells["value"].to_numpy(), [sums.get(c, 0.0) for c in want])
    nbs = hotspots._grid_neighbours(cells["q"].to_numpy(), cells["r"].to_numpy())
    np.testing.assert_allclose(
        cells["gi_z"].to_numpy(), hotspots.gi_star_statistic(cells["value"].to_numpy(), nbs), rtol=1e-12, atol=1e-12
    )
