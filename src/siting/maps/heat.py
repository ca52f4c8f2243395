"""The heat surface: a kernel density of released hexagon counts, as an inline PNG."""

from __future__ import annotations

import base64
import struct
import zlib
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import shapely

from .styles import HEAT_STOPS, hex_to_rgb

if TYPE_CHECKING:
    import geopandas as gpd


# ---------------------------------------------------------------- heat (PNG)
def png_rgba(rgba: npt.NDArray[np.uint8]) -> bytes:
    """Encode an ``(h, w, 4)`` uint8 array as PNG (no dependency beyond zlib)."""
    h, w, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[i].tobytes() for i in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def heat_overlay(
    hexes: gpd.GeoDataFrame, *, bandwidth_m: float = 250.0, max_pixels: int = 512
) -> tuple[str, list[list[float]], dict[str, Any]] | None:
    """A heat surface from suppressed hexagon counts, as a PNG data URL and its bounds.

    The kernel density of hexagon centres weighted by their public value (``heat``:
    suppressed cells at the midpoint, see :func:`siting.privacy.public_value`), computed in
    the projected CRS and resampled to Web Mercator pixels so it lies right on the map.
    """
    from pyproj import Transformer
    from scipy import ndimage

    from ..hotspots import kde_grid

    if hexes is None or len(hexes) == 0:
        return None
    c = shapely.get_coordinates(shapely.centroid(hexes.geometry.values))
    cell = max(bandwidth_m / 5.0, 10.0)
    grid, (minx, miny, maxx, maxy) = kde_grid(
        c[:, 0], c[:, 1], weights=hexes["heat"].to_numpy(np.float64), bandwidth_m=bandwidth_m, cell_m=cell
    )
    if grid.size == 0 or grid.max() <= 0:
        return None
    to_m = Transformer.from_crs(hexes.crs, 3857, always_xy=True)
    from_m = Transformer.from_crs(3857, hexes.crs, always_xy=True)
    ex, ey = to_m.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
    mx0, mx1, my0, my1 = min(ex), max(ex), min(ey), max(ey)
    aspect = (my1 - my0) / max(mx1 - mx0, 1e-9)
    w = max_pixels if aspect <= 1 else max(8, int(max_pixels / aspect))
    h = max(8, int(w * aspect)) if aspect <= 1 else max_pixels
    px = mx0 + (np.arange(w) + 0.5) * (mx1 - mx0) / w
    py = my1 - (np.arange(h) + 0.5) * (my1 - my0) / h  # row 0 at the north
    gx, gy = np.meshgrid(px, py)
    ux, uy = from_m.transform(gx.ravel(), gy.ravel())
    col = (np.asarray(ux) - minx) / cell - 0.5
    row = (np.asarray(uy) - miny) / cell - 0.5
    vals = ndimage.map_coordinates(grid, [row, col], order=1, mode="constant", cval=0.0).reshape(h, w)
    t = np.clip(vals / grid.max(), 0.0, 1.0)
    stops = np.array([hex_to_rgb(s) for s in HEAT_STOPS], float)
    pos = t * (len(stops) - 1)
    i = np.minimum(pos.astype(int), len(stops) - 2)
    f = (pos - i)[..., None]
    rgb = stops[i] * (1 - f) + stops[i + 1] * f
    alpha = np.where(t < 0.03, 0.0, 40 + 170 * np.sqrt(t))
    rgba = np.dstack([rgb, alpha]).round().astype(np.uint8)
    url = "data:image/png;base64," + base64.b64encode(png_rgba(rgba)).decode("ascii")
    to_ll = Transformer.from_crs(3857, 4326, always_xy=True)
    lon0, lat0 = to_ll.transform(mx0, my0)
    lon1, lat1 = to_ll.transform(mx1, my1)
    params = {"kernel": "gaussian", "bandwidth_m": bandwidth_m, "from": "suppressed hexagon counts"}
    return url, [[lat0, lon0], [lat1, lon1]], params
