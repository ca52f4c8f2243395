"""Polygon layers (regions, exclusion zones), including outlines drawn as lines.

OpenStreetMap exports often draw a school grounds' outline as a closed line, or as
several lines that together close around it. Closed rings become polygons; lines that
close an area only together are polygonised together. Lines that enclose nothing are
an error for regions and for exclusions without a buffer (a zero-width zone excludes
nothing), and are kept as lines for an exclusion with a buffer (the zone around them).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import shapely

from .._errors import InputError, InputFileNotFoundError, UnknownFormatError
from ._read import _read_vector, detect_format
from ._spec import LayerSpec, RowNames, find_column, stem

if TYPE_CHECKING:
    import os

    import geopandas as gpd

log = logging.getLogger(__name__)


def _polygonise(
    geoms: npt.NDArray[np.object_], lines: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
    """Line features as polygons: closed rings each, open lines together; which enclose nothing.

    Returns the new geometry of every feature (unchanged where it is not a line or
    encloses nothing) and a mask of the line features that enclose no area at all.
    """
    out = geoms.copy()
    idx = np.flatnonzero(lines)
    parts, part_of = shapely.get_parts(geoms[idx], return_index=True)
    feature = idx[part_of]
    closed = shapely.is_closed(parts) & (shapely.get_num_coordinates(parts) >= 4)
    polys: dict[int, list[object]] = {}
    for f, part in zip(feature[closed].tolist(), parts[closed], strict=True):
        polys.setdefault(f, []).append(shapely.Polygon(shapely.get_coordinates(part)))
    open_parts, open_feature = parts[~closed], feature[~closed]
    if open_parts.size:
        # lines that close an area only together (an outline drawn in pieces)
        noded = shapely.get_parts(shapely.node(shapely.union_all(open_parts)))
        found = shapely.get_parts(shapely.polygonize(noded))
        if found.size:
            rings = shapely.boundary(found)
            for part, f in zip(open_parts, open_feature.tolist(), strict=True):
                on = shapely.length(shapely.intersection(rings, part)) > 1e-9
                polys.setdefault(f, []).extend(found[on])
    encloses = np.zeros(geoms.size, dtype=bool)
    for f, shapes in polys.items():
        if shapes:
            out[f] = shapely.union_all(shapes)
            encloses[f] = True
    return out, lines & ~encloses


def _have(mask: npt.NDArray[np.bool_]) -> str:
    return "has" if int(mask.sum()) == 1 else "have"


def read_polygons(
    path: str | os.PathLike[str],
    *,
    name_column: str | None = None,
    layer: str | None = None,
    buffer_m: float = 0.0,
    purpose: str = "region",
) -> gpd.GeoDataFrame:
    """Read a polygon layer (regions, exclusion zones) with a text ``name`` column.

    Lines are turned into polygons where they close around an area (see the module
    docstring). Points are allowed only where ``buffer_m > 0`` makes an area of them.
    """
    spec = LayerSpec(path=path, role="candidates", name="polygons", layer=layer)
    p = Path(path)
    fmt = detect_format(p)
    if not p.exists():
        msg = f"{p}: file not found; check the path"
        raise InputFileNotFoundError(msg)
    if fmt == "CSV":
        msg = f"{p}: a polygon layer must be GeoJSON, GeoPackage, Shapefile or GeoParquet, not CSV"
        raise UnknownFormatError(msg)
    gdf, _ = _read_vector(p, spec)
    if len(gdf) == 0:
        msg = f"{p}: the polygon layer is empty"
        raise InputError(msg)
    rows = RowNames("feature", np.arange(1, len(gdf) + 1, dtype=np.int64))
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    kinds = shapely.get_type_id(geoms)
    lines = np.isin(kinds, (1, 2, 5))
    summary = {
        "path": str(p),
        "purpose": purpose,
        "features_read": len(gdf),
        "polygons": int(np.isin(kinds, (3, 6)).sum()),
        "points": int(np.isin(kinds, (0, 4)).sum()),
        "lines_closed_into_polygons": 0,
        "lines_kept_as_lines": 0,
        "buffer_m": float(buffer_m),
    }
    if lines.any():
        geoms, open_left = _polygonise(geoms, lines)
        made = int((lines & ~open_left).sum())
        summary["lines_closed_into_polygons"] = made
        summary["lines_kept_as_lines"] = int(open_left.sum())
        if made:
            log.info("%s: %d line features closed around areas and were read as polygons", p, made)
        if open_left.any() and buffer_m <= 0:
            fix = (
                "or give a buffer (e.g. :buffer=200m) to exclude candidates near the lines themselves"
                if purpose == "exclusion"
                else "or use a polygon layer"
            )
            what = (
                "is a line that does not close around an area, so it cannot be used as a"
                if open_left.sum() == 1
                else "are lines that do not close around an area, so they cannot be used as"
            )
            msg = (
                f"{p}: {rows.describe(np.flatnonzero(open_left))} {what} {purpose} polygon; "
                "close them into polygons (QGIS: "
                f"Vector > Geometry Tools > Lines to Polygons) {fix}"
            )
            raise InputError(msg)
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = geoms
        kinds = shapely.get_type_id(geoms)
    points = np.isin(kinds, (0, 4))
    if points.any() and buffer_m <= 0:
        fix = (
            "give a buffer (e.g. :buffer=200m) for the zone around each point"
            if purpose == "exclusion"
            else "use a polygon layer"
        )
        what = "is a point, which encloses" if points.sum() == 1 else "are points, which enclose"
        msg = f"{p}: {rows.describe(np.flatnonzero(points))} {what} no area; {fix}"
        raise InputError(msg)
    bad = ~np.isin(kinds, (0, 1, 2, 3, 4, 5, 6) if buffer_m > 0 else (3, 6))
    if bad.any():
        names = {-1: "no geometry", 7: "a geometry collection"}
        kind = " or ".join(sorted({names.get(t, str(t)) for t in shapely.get_type_id(geoms[bad]).tolist()}))
        msg = f"{p}: {rows.describe(np.flatnonzero(bad))} {_have(bad)} {kind}; give each feature a polygon"
        raise InputError(msg)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(geoms[invalid])
        log.warning("%s: repaired invalid polygons in %s", p, rows.describe(np.flatnonzero(invalid)))
    cols = gdf.columns.drop(gdf.geometry.name)
    col = find_column(cols, "name", name_column, p)
    if col is None:
        col = find_column(cols, "id", None, p)
    out = gdf.copy()
    out["name"] = (
        out[col].astype("string").fillna("").to_numpy(dtype=object)
        if col
        else [f"{stem(p)} {i + 1}" for i in range(len(out))]
    )
    out.attrs["source"] = str(p)
    summary["name_column"] = col
    summary["repaired"] = int(invalid.sum())
    out.attrs["polygons"] = summary
    return out
