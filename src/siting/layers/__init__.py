"""Read and validate point layers: incidents, services, candidates and any extra layer.

Every layer comes out in one shape: a GeoDataFrame of points with a text ``id``, a float
``weight`` (1 where the file has none), optional ``date``, ``fatal`` and ``name`` columns,
the file's other columns kept as they are, and the file's CRS. Problems are collected and
reported in one message that names the file, the rows or columns, and the fix. What was
read, filtered and left out, and why, is kept as an :class:`Intake` in ``gdf.attrs``.

Modules: ``_spec`` (LayerSpec, column names, how rows are named), ``_csv`` (CSV files as
exported, R's unquoted ``c(x, y)``), ``_coords`` (lat/lon, WKT, GeoJSON, R and x/y
columns), ``_dates``, ``_table`` (plain tables, flags such as fatal, which region a point is in: one
way for every reader), ``_where`` (OGR SQL filters), ``_intake`` (the accounting,
duplicate calls), ``_read`` (:func:`read_layer`), ``_polygons`` (:func:`read_polygons`).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from .._errors import CrsMismatchError, NoCrsError
from .._lazy import lazy_attributes
from ._spec import CONVENTIONS, READ_FORMATS, ROLES, LayerSpec, column_list

if TYPE_CHECKING:
    import geopandas as gpd

    from ._flags import flag_problem, flag_rule, read_flags
    from ._intake import REASONS, Intake, Step
    from ._polygons import read_polygons
    from ._read import describe_rows, detect_format, read_layer, where_flag, who_of
    from ._table import parse_flags, pick_column, read_ids, read_table, regions_of

#: The readers, imported when first used (they load pandas): a command parses its options
#: and shows its first progress line before that.
_LAZY = {
    "flag_problem": "_flags", "flag_rule": "_flags", "read_flags": "_flags",
    "REASONS": "_intake", "Intake": "_intake", "Step": "_intake",
    "read_polygons": "_polygons",
    "describe_rows": "_read", "detect_format": "_read", "read_layer": "_read", "where_flag": "_read",
    "who_of": "_read",
    "parse_flags": "_table", "pick_column": "_table", "read_ids": "_table", "read_table": "_table",
    "regions_of": "_table",
}


__getattr__ = lazy_attributes(__name__, _LAZY)

__all__ = [
    "CONVENTIONS",
    "READ_FORMATS",
    "REASONS",
    "ROLES",
    "Intake",
    "LayerSpec",
    "Step",
    "check_same_crs",
    "column_list",
    "describe_rows",
    "detect_format",
    "flag_problem",
    "flag_rule",
    "parse_flags",
    "pick_column",
    "read_flags",
    "read_ids",
    "read_layer",
    "read_polygons",
    "read_table",
    "regions_of",
    "to_network_crs",
    "where_flag",
    "who_of",
]


def to_network_crs(gdf: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """Reproject a layer to the network's CRS (raise if the layer has none)."""
    if gdf.crs is None:
        msg = f"{gdf.attrs.get('source', 'layer')}: no CRS; set one before combining with the network"
        raise NoCrsError(msg)
    out = _points_to_crs(gdf, crs)
    if out is None:
        out = gdf.to_crs(crs)
    out.attrs = dict(gdf.attrs)
    return out


def _points_to_crs(gdf: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame | None:
    """A layer of plain 2-D points in ``crs``: the same coordinates as geopandas' ``to_crs``
    (the same pyproj transformation), without its copy of every geometry before
    overwriting its coordinates; ``None`` for anything else (geopandas does it)."""
    import geopandas as gpd
    import numpy as np
    import shapely
    from pyproj import CRS

    from ._coords import points_of

    target = CRS.from_user_input(crs)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    if (
        not geoms.size
        or gdf.crs.is_exact_same(target)
        or not (shapely.get_type_id(geoms) == 0).all()
        or shapely.has_z(geoms).any()
    ):
        return None
    xy = shapely.get_coordinates(geoms)
    if len(xy) != geoms.size:  # empty points
        return None
    x, y = _transformer(gdf.crs, target).transform(xy[:, 0], xy[:, 1])
    name = gdf.geometry.name
    return gdf.set_geometry(gpd.GeoSeries(points_of(x, y), index=gdf.index, crs=target, name=name))


@functools.lru_cache(maxsize=16)
def _transformer(source: Any, target: Any) -> Any:
    from pyproj import Transformer

    return Transformer.from_crs(source, target, always_xy=True)


def check_same_crs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    """Raise when two layers that must share a CRS do not (for projected user inputs)."""
    if a.crs is not None and b.crs is not None and not a.crs.equals(b.crs):
        msg = (
            f"{a.attrs.get('source', 'layer')} is in {a.crs.name} but {b.attrs.get('source', 'layer')} "
            f"is in {b.crs.name}; reproject one of them"
        )
        raise CrsMismatchError(msg)
