"""The offline basemap: streets with their names, water, parks and landmark buildings.

Drawn from :mod:`siting.basemap` (the network's own OSM extract or centreline layer) on a
canvas under every data layer; when the source has no such features (a cached network,
an online download) the network's own edges are drawn instead, unnamed. Streets come in
three classes shown from different zooms (main always, local streets from zoom 13, paths
from zoom 15); names are placed by the page's script, main streets first, never two over
each other. Geometry is simplified to a metre and written as encoded polylines.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from .encode import encode_lines, encode_polygons
from .styles import BASEMAP
from .text import esc

if TYPE_CHECKING:
    import geopandas as gpd

    from ..network import StreetNetwork

#: Street classes: the zoom they appear from, their label zoom, spacing of labels (m) and priority.
STREET_CLASSES = {
    "main": {"minZoom": 0, "labelZoom": 13, "spacing_m": 450.0, "prio": 0},
    "local": {"minZoom": 13, "labelZoom": 15, "spacing_m": 350.0, "prio": 1},
    "path": {"minZoom": 15, "labelZoom": 17, "spacing_m": 300.0, "prio": 2},
}
#: Most street and landmark labels written into a page (main streets first).
MAX_LABELS = 30_000
#: Simplification of basemap geometry (metres, in the network's CRS).
SIMPLIFY_M = 1.0
OSM_CREDIT = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
PRECISION = 5


def _merged(geoms: np.ndarray) -> np.ndarray:
    """Lines joined end to end where they meet (fewer, longer lines: fewer bytes, better labels)."""
    if geoms.size == 0:
        return geoms
    merged = shapely.line_merge(shapely.multilinestrings(shapely.get_parts(geoms)))
    return np.asarray(shapely.get_parts(merged), dtype=object)


def _angle(p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    """Screen angle (degrees, clockwise, within -90..90) of the segment p0 -> p1 in lon/lat."""
    lat = np.deg2rad((p0[:, 1] + p1[:, 1]) / 2)
    dx = (p1[:, 0] - p0[:, 0]) * np.cos(lat)
    dy = p1[:, 1] - p0[:, 1]
    a = -np.degrees(np.arctan2(dy, dx))
    a = np.where(a > 90, a - 180, a)
    return np.where(a <= -90, a + 180, a)


def _label_points(
    lines: np.ndarray, spacing_m: float, to_ll: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Label anchors along projected lines: one at the middle of short lines, then every
    ``spacing_m``. Returns lon/lat anchors, angles and the line each belongs to."""
    length = shapely.length(lines)
    keep = length >= 40.0
    pos_l, idx_l = [], []
    for i in np.flatnonzero(keep):
        n = max(1, int(length[i] // spacing_m))
        step = length[i] / n
        pos_l.append((np.arange(n) + 0.5) * step)
        idx_l.append(np.full(n, i))
    if not pos_l:
        empty = np.zeros((0, 2))
        return empty, np.zeros(0), np.zeros(0, dtype=int)
    pos = np.concatenate(pos_l)
    idx = np.concatenate(idx_l)
    g = lines[idx]
    at = shapely.get_coordinates(shapely.line_interpolate_point(g, pos))
    a0 = shapely.get_coordinates(shapely.line_interpolate_point(g, np.maximum(pos - 8, 0)))
    a1 = shapely.get_coordinates(shapely.line_interpolate_point(g, np.minimum(pos + 8, length[idx])))
    ll = np.column_stack(to_ll(at[:, 0], at[:, 1]))
    l0 = np.column_stack(to_ll(a0[:, 0], a0[:, 1]))
    l1 = np.column_stack(to_ll(a1[:, 0], a1[:, 1]))
    return ll, _angle(l0, l1), idx


def basemap_payload(base: gpd.GeoDataFrame | None, net: StreetNetwork | None) -> dict[str, Any] | None:
    """What ``Siting.basemap`` draws: encoded layers, labels, credit and what was left out."""
    import geopandas as gpd
    from pyproj import Transformer

    from ..basemap import network_streets

    if base is None or not (base["layer"] == "street").any():
        if net is None or not net.n_edges:
            return None
        extra = base[base["layer"] != "street"] if base is not None else None
        base = network_streets(net)
        if extra is not None and len(extra):
            base = gpd.GeoDataFrame(pd.concat([extra, base], ignore_index=True), crs=base.crs)
        kind_note = "network"
    else:
        kind_note = str(base.attrs.get("source", "osm"))
    crs = base.crs
    to_ll = Transformer.from_crs(crs, 4326, always_xy=True).transform

    def wgs(geoms: np.ndarray) -> np.ndarray:
        g = shapely.simplify(geoms, SIMPLIFY_M)
        return np.asarray(gpd.GeoSeries(g, crs=crs).to_crs(4326).values, dtype=object)

    layers: list[dict[str, Any]] = []
    labels: list[list[Any]] = []
    names: list[str] = []
    name_index: dict[str, int] = {}

    def name_id(text: str) -> int:
        k = name_index.get(text)
        if k is None:
            k = name_index[text] = len(names)
            names.append(text)
        return k

    def area(layer: str, style_key: str, min_zoom: int = 0) -> None:
        sub = base[base["layer"] == layer]
        t = shapely.get_type_id(np.asarray(sub.geometry.values, dtype=object))
        sub = sub[(t == 3) | (t == 6)]
        if not len(sub):
            return
        g, r = encode_polygons(wgs(np.asarray(sub.geometry.values, dtype=object)), precision=PRECISION)
        layers.append(
            {"k": "pg", "g": g, "r": r, "style": BASEMAP[style_key], "minZoom": min_zoom, "name": layer}
        )

    area("park", "park")
    area("water", "water")
    water_lines = base[(base["layer"] == "water") & (base["kind"] == "line")]
    if len(water_lines):
        g, _ = encode_lines(
            wgs(_merged(np.asarray(water_lines.geometry.values, dtype=object))), precision=PRECISION
        )
        layers.append({"k": "ln", "g": g, "style": BASEMAP["water_line"], "minZoom": 0, "name": "water"})
    area("building", "building", 14)

    streets = base[base["layer"] == "street"]
    for cls in ("path", "local", "main"):
        sub = streets[streets["kind"] == cls]
        if not len(sub):
            continue
        opts = STREET_CLASSES[cls]
        merged_all = []
        for name, grp in sub.groupby(sub["name"].fillna("").astype(str), sort=True):
            lines = _merged(np.asarray(grp.geometry.values, dtype=object))
            merged_all.append(lines)
            if name:
                ll, ang, _ = _label_points(lines, opts["spacing_m"], to_ll)
                k = name_id(name)
                labels.extend(
                    [
                        round(float(a), 5),
                        round(float(b), 5),
                        round(float(c)),
                        k,
                        opts["labelZoom"],
                        opts["prio"],
                    ]
                    for (b, a), c in zip(ll, ang, strict=True)
                )
        g, _ = encode_lines(wgs(np.concatenate(merged_all)), precision=PRECISION)
        style = dict(BASEMAP[cls])
        casing = style.pop("casing", None)
        spec = {"k": "ln", "g": g, "style": style, "minZoom": opts["minZoom"], "cls": cls, "name": cls}
        if casing:
            spec["casing"] = casing
        layers.append(spec)

    # landmark and park names: at their representative point, from close zooms
    for layer, zoom, prio in (("building", 16, 3), ("park", 15, 4), ("water", 14, 4)):
        sub = base[(base["layer"] == layer) & (base["name"].fillna("").astype(str) != "")]
        if not len(sub):
            continue
        pts = shapely.get_coordinates(shapely.point_on_surface(np.asarray(sub.geometry.values, dtype=object)))
        lon, lat = to_ll(pts[:, 0], pts[:, 1])
        for a, b, n in zip(lat, lon, sub["name"].astype(str), strict=True):
            labels.append([round(float(a), 5), round(float(b), 5), 0, name_id(n), zoom, prio])

    note = ""
    if len(labels) > MAX_LABELS:
        labels.sort(key=lambda x: x[5])
        note = f"Street names: the {MAX_LABELS:,} most important of {len(labels):,} labels are kept"
        labels = labels[:MAX_LABELS]
    credit = ""
    if kind_note == "osm":
        credit = OSM_CREDIT
    elif kind_note == "lines":
        credit = "Streets: " + esc(base.attrs.get("source_name", "centreline layer"))
    return {
        "f": PRECISION,
        "layers": layers,
        "labels": labels,
        "names": names,
        "credit": credit,
        "note": note,
        "source": kind_note,
        "named": int(sum(1 for n in names if n)),
    }


def network_bounds(net: StreetNetwork) -> list[list[float]]:
    """The network's extent in lat/lon (``[[south, west], [north, east]]``)."""
    from pyproj import Transformer

    minx, miny, maxx, maxy = net.bounds()
    tr = Transformer.from_crs(net.crs, 4326, always_xy=True)
    lon, lat = tr.transform(np.array([minx, maxx, minx, maxx]), np.array([miny, miny, maxy, maxy]))
    return [[float(np.min(lat)), float(np.min(lon))], [float(np.max(lat)), float(np.max(lon))]]


def is_finite_bounds(b: Any) -> bool:
    return b is not None and all(math.isfinite(v) for pair in b for v in pair)
