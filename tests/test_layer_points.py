"""Points of a lat/lon layer checked once, made from one array; text columns kept as pandas'
``str`` arrays: the same layer as before, made with less work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from siting.layers import LayerSpec, read_layer, to_network_crs
from siting.layers._coords import points_of


def test_points_of_makes_the_points() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-180, 180, 1000), rng.uniform(-90, 90, 1000)
    got = points_of(x, y)
    assert got.dtype == object and got.shape == (1000,)
    assert shapely.to_wkb(got).tolist() == shapely.to_wkb(shapely.points(x, y)).tolist()


def _csv(tmp_path: Path) -> Path:
    rng = np.random.default_rng(4)
    n = 500
    lat = np.round(rng.uniform(47.0, 47.2, n), 7)
    lon = np.round(rng.uniform(-123.0, -122.8, n), 7)
    note = np.where(rng.random(n) < 0.3, "", "kept as text")
    code = rng.integers(0, 50, n).astype(str)
    lines = ["call_id,lat,lon,note,code,blank"]
    for i in range(n):
        call = f" C{i} " if i % 7 else f"C{i}"
        la, lo = ("", "") if i % 61 == 3 else (repr(float(lat[i])), repr(float(lon[i])))
        lines.append(f"{call},{la},{lo},{note[i]},{code[i]},")
    p = tmp_path / "calls.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


def test_a_lat_lon_layer_is_the_file_s_points_and_text(tmp_path: Path) -> None:
    """Points at exactly the file's lat/lon, projected as pyproj projects them; ids and
    text columns as pandas infers them from the file's strings (missing cells as NaN)."""
    from pyproj import Transformer

    path = _csv(tmp_path)
    gdf = read_layer(LayerSpec(path=str(path), role="demand", id_column="call_id"))
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    kept = raw[raw["lat"] != ""].reset_index(drop=True)
    assert len(gdf) == len(kept)
    lat, lon = kept["lat"].astype(float).to_numpy(), kept["lon"].astype(float).to_numpy()
    assert shapely.to_wkb(gdf.geometry.values).tolist() == shapely.to_wkb(shapely.points(lon, lat)).tolist()
    ex, ey = Transformer.from_crs(4326, 32610, always_xy=True).transform(lon, lat)
    xy = shapely.get_coordinates(to_network_crs(gdf, "EPSG:32610").geometry.values)
    np.testing.assert_array_equal(xy[:, 0], ex)
    np.testing.assert_array_equal(xy[:, 1], ey)
    pd.testing.assert_series_equal(
        gdf["id"], pd.Series(kept["call_id"].str.strip().to_numpy(dtype=object), name="id"), check_exact=True
    )
    for col in ("call_id", "note", "code", "blank"):
        # what the DataFrame made of the Python strings before: the same dtype and values
        was = pd.DataFrame({col: read_layer_text(path, col, kept.index.size)})[col]
        pd.testing.assert_series_equal(gdf[col], was, check_exact=True)


def read_layer_text(path: Path, col: str, n: int) -> np.ndarray:
    """A text column as read_layer passed it to the GeoDataFrame before: Python objects."""
    from siting.layers._csv import read_csv_table

    frame = read_csv_table(path, "demand").frame
    frame = frame[frame["lat"].fillna("") != ""].reset_index(drop=True)
    assert len(frame) == n
    return frame[col].to_numpy()


@pytest.mark.parametrize("end", ["\r", "\r\n", "\n"])
def test_line_ends_of_any_system_read_the_same(tmp_path: Path, end: str) -> None:
    """Lone carriage returns (old Mac files) are found without copying the file and sent to
    the row-by-row reader; Windows and Unix line ends take the fast one: the same layer."""
    rows = ["id,lat,lon,note", "a,47.1,-122.9,x", "b,47.2,-122.8,", "c,47.3,-122.7,y z"]
    p = tmp_path / "calls.csv"
    p.write_bytes((end.join(rows) + end).encode())
    gdf = read_layer(LayerSpec(path=str(p), role="demand", id_column="id"))
    assert gdf["id"].tolist() == ["a", "b", "c"]
    assert shapely.get_coordinates(gdf.geometry.values).tolist() == [[-122.9, 47.1], [-122.8, 47.2], [-122.7, 47.3]]
    assert gdf["note"].fillna("").tolist() == ["x", "", "y z"]
