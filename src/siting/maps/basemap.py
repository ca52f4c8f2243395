"""The offline basemap: streets with their names, water, parks and landmark buildings.

Drawn from :mod:`siting.basemap` (the network's own OSM extract or centreline layer) on a
canvas under every data layer; when the source has no such features (a cached network,
an online download) the network's own edges are drawn instead, unnamed. Streets come in
three classes shown from different zooms (main always, local streets from zoom 13, paths
from zoom 15); names are placed by the page's script, main streets first, never two over
each other. Geometry is written as encoded polylines.

County size: a county's every street, path and park at full detail is a map of tens of
megabytes. By default (``detail="focus"``) full detail (simplified to a metre) is kept only
in the *focus*: within :data:`FOCUS_M` of a candidate and inside the chosen sites' walking
areas, where a planner zooms in. Elsewhere streets are generalised for the zooms they
are seen at from afar (:data:`FAR_SIMPLIFY_M`), footways and paths are left out, small
areas dropped and path names not written. ``detail="full"`` draws everything everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
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
    from ..plan import Plan

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
#: Full basemap detail within this distance (m) of a candidate (and inside walking areas).
FOCUS_M = 200.0
#: Simplification (m) away from the focus, by kind: about a pixel at the zoom each is seen
#: from (main streets from afar, local streets from zoom 13, areas and landmarks).
FAR_SIMPLIFY_M = {"main": 6.0, "local": 4.0, "area": 8.0, "building": 2.0}
#: Parks and water smaller than this (m2) are left out away from the focus.
FAR_MIN_AREA_M2 = 5_000.0
#: Street classes drawn away from the focus.
FAR_CLASSES = ("main", "local")
OSM_CREDIT = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
PRECISION = 5


#: Lines are merged in square cells of this size (m) when there are many (merging is faster
#: in pieces; a line crossing a cell's edge stays two lines).
MERGE_CELL_M = 1000.0


def _merged(geoms: np.ndarray) -> np.ndarray:
    """Lines joined end to end where they meet (fewer, longer lines: fewer bytes, better labels)."""
    if geoms.size == 0:
        return geoms
    if geoms.size > 5000:
        b = shapely.bounds(geoms)
        cx = np.floor((b[:, 0] + b[:, 2]) / 2 / MERGE_CELL_M).astype(np.int64)
        cy = np.floor((b[:, 1] + b[:, 3]) / 2 / MERGE_CELL_M).astype(np.int64)
        _, cell = np.unique(np.column_stack([cx, cy]), axis=0, return_inverse=True)
        order = np.argsort(cell.ravel(), kind="stable")
        cuts = np.flatnonzero(np.diff(cell.ravel()[order])) + 1
        return np.concatenate([_merge(part) for part in np.split(geoms[order], cuts)])
    return _merge(geoms)


def _merge(geoms: np.ndarray) -> np.ndarray:
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


def focus_area(plan: Plan, crs: Any, *, radius_m: float = FOCUS_M) -> Focus:
    """Where the basemap keeps full detail: within ``radius_m`` of every candidate and
    inside the chosen sites' walking areas (their bounding boxes: cheap and generous)."""
    pts = np.zeros(0, dtype=object)
    if plan.candidates is not None and len(plan.candidates):
        pts = np.asarray(plan.candidates.to_crs(crs).geometry.values, dtype=object)
        pts = pts[~(shapely.is_missing(pts) | shapely.is_empty(pts))]
    boxes = np.zeros(0, dtype=object)
    if plan.isochrones is not None and len(plan.isochrones):
        iso = np.asarray(plan.isochrones.to_crs(crs).geometry.values, dtype=object)
        iso = iso[~(shapely.is_missing(iso) | shapely.is_empty(iso))]
        boxes = shapely.envelope(iso)
    return Focus(points=pts, radius_m=radius_m, boxes=boxes)


@dataclass(frozen=True)
class Focus:
    """Candidates (points) with the radius of full detail around them, and boxes drawn in full."""

    points: np.ndarray
    radius_m: float
    boxes: np.ndarray

    def near(self, geoms: np.ndarray) -> np.ndarray:
        """Which of ``geoms`` have their middle (of the bounding box) within about ``radius_m``
        of a point (on a grid: at least the radius, at most one and a half) or in a box."""
        out = np.zeros(len(geoms), dtype=bool)
        if not len(geoms):
            return out
        b = shapely.bounds(geoms)
        mx, my = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        if len(self.points):
            c = float(self.radius_m) / 2  # cells of half the radius, two cells around each point
            cells = np.unique(np.floor(shapely.get_coordinates(self.points) / c).astype(np.int64), axis=0)
            steps = range(-2, 3)
            marked = {(int(x) + dx, int(y) + dy) for x, y in cells for dx in steps for dy in steps}
            gx, gy = np.floor(mx / c).astype(np.int64), np.floor(my / c).astype(np.int64)
            out |= np.fromiter(
                ((x, y) in marked for x, y in zip(gx.tolist(), gy.tolist(), strict=True)), bool, len(geoms)
            )
        for x0, y0, x1, y1 in shapely.bounds(self.boxes) if len(self.boxes) else []:
            out |= (mx >= x0) & (mx <= x1) & (my >= y0) & (my <= y1)
        return out


def _near(geoms: np.ndarray, focus: Focus | None) -> np.ndarray:
    """Which of ``geoms`` keep full detail (all of them when there is no focus)."""
    return np.ones(len(geoms), dtype=bool) if focus is None else focus.near(geoms)


def basemap_payload(
    base: gpd.GeoDataFrame | None,
    net: StreetNetwork | None,
    *,
    focus: Focus | None = None,
) -> dict[str, Any] | None:
    """What ``Siting.basemap`` draws: encoded layers, labels, credit and what was left out.

    ``focus`` (in the basemap's CRS, see :func:`focus_area`) says where full detail is
    kept; ``None`` draws every feature at full detail.
    """
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
    geoms_all = np.asarray(base.geometry.values, dtype=object)
    near_all = _near(geoms_all, focus)
    layer_col = base["layer"].to_numpy()
    kind_col = base["kind"].to_numpy()
    name_col = base["name"].fillna("").astype(str).to_numpy()

    def wgs(parts: list[tuple[np.ndarray, float]]) -> np.ndarray:
        g = np.concatenate(
            [shapely.simplify(a, tol, preserve_topology=False) for a, tol in parts if len(a)]
            or [np.zeros(0, object)]
        )
        return np.asarray(gpd.GeoSeries(g, crs=crs).to_crs(4326).values, dtype=object)

    layers: list[dict[str, Any]] = []
    labels: list[list[Any]] = []
    names: list[str] = []
    name_index: dict[str, int] = {}
    left_out = {"features": 0}

    def name_id(text: str) -> int:
        k = name_index.get(text)
        if k is None:
            k = name_index[text] = len(names)
            names.append(text)
        return k

    def area(layer: str, style_key: str, min_zoom: int = 0) -> None:
        sel = layer_col == layer
        t = shapely.get_type_id(geoms_all)
        sel &= (t == 3) | (t == 6)
        if not sel.any():
            return
        near, far = geoms_all[sel & near_all], geoms_all[sel & ~near_all]
        if layer != "building":
            small = shapely.area(far) < FAR_MIN_AREA_M2
            left_out["features"] += int(small.sum())
            far = far[~small]
        tol = FAR_SIMPLIFY_M["building" if layer == "building" else "area"]
        g, r = encode_polygons(wgs([(near, SIMPLIFY_M), (far, tol)]), precision=PRECISION)
        layers.append(
            {"k": "pg", "g": g, "r": r, "style": BASEMAP[style_key], "minZoom": min_zoom, "name": layer}
        )

    area("park", "park")
    area("water", "water")
    sel = (layer_col == "water") & (kind_col == "line")
    if sel.any():
        near = _merged(geoms_all[sel & near_all])
        far = _merged(geoms_all[sel & ~near_all])
        g, _ = encode_lines(wgs([(near, SIMPLIFY_M), (far, FAR_SIMPLIFY_M["area"])]), precision=PRECISION)
        layers.append({"k": "ln", "g": g, "style": BASEMAP["water_line"], "minZoom": 0, "name": "water"})
    area("building", "building", 14)

    is_street = layer_col == "street"
    for cls in ("path", "local", "main"):
        sel = is_street & (kind_col == cls)
        if not sel.any():
            continue
        opts = STREET_CLASSES[cls]
        if cls not in FAR_CLASSES:
            left_out["features"] += int((sel & ~near_all).sum())
        parts: list[tuple[np.ndarray, float]] = []
        for far, tol in ((False, SIMPLIFY_M), (True, FAR_SIMPLIFY_M.get(cls, SIMPLIFY_M))):
            sub = sel & (~near_all if far else near_all)
            if not sub.any() or (far and cls not in FAR_CLASSES):
                continue
            geoms, sub_names = geoms_all[sub], name_col[sub]
            order = np.argsort(sub_names, kind="stable")
            geoms, sub_names = geoms[order], sub_names[order]
            cuts = np.flatnonzero(sub_names[1:] != sub_names[:-1]) + 1
            for grp, name in zip(np.split(geoms, cuts), sub_names[np.r_[0, cuts]], strict=True):
                lines = _merged(grp)
                parts.append((lines, tol))
                if name:
                    ll, ang, _ = _label_points(lines, opts["spacing_m"], to_ll)
                    k = name_id(str(name))
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
        if not parts:
            continue
        g, _ = encode_lines(wgs(parts), precision=PRECISION)
        style = dict(BASEMAP[cls])
        casing = style.pop("casing", None)
        spec = {"k": "ln", "g": g, "style": style, "minZoom": opts["minZoom"], "cls": cls, "name": cls}
        if casing:
            spec["casing"] = casing
        layers.append(spec)

    # landmark and park names: at their representative point, from close zooms
    for layer, zoom, prio in (("building", 16, 3), ("park", 15, 4), ("water", 14, 4)):
        sel = (layer_col == layer) & (name_col != "")
        if focus is not None and layer != "water":
            sel &= near_all
        if not sel.any():
            continue
        pts = shapely.get_coordinates(shapely.point_on_surface(geoms_all[sel]))
        lon, lat = to_ll(pts[:, 0], pts[:, 1])
        for a, b, n in zip(lat, lon, name_col[sel], strict=True):
            labels.append([round(float(a), 5), round(float(b), 5), 0, name_id(str(n)), zoom, prio])

    notes = []
    if len(labels) > MAX_LABELS:
        labels.sort(key=lambda x: x[5])
        notes.append(f"Street names: the {MAX_LABELS:,} most important of {len(labels):,} labels are kept")
        labels = labels[:MAX_LABELS]
    if focus is not None and left_out["features"]:
        notes.append(
            f"Basemap: full detail within {focus.radius_m:,.0f} m of the candidates and in the walking "
            "areas; elsewhere streets are simplified and footways, paths and small parks left out"
        )
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
        "note": "; ".join(notes),
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
