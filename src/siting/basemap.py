"""Basemap features for maps and report figures: named streets, water, parks, landmarks.

Maps carry no tile server, so the background is drawn from the same data the run used:
the OpenStreetMap extract (``.osm.pbf`` through pyrosm, ``.osm`` through OSMnx) or the
street-centreline layer the network was built from. :func:`read_basemap` returns one
GeoDataFrame in the network's CRS:

* ``layer = "street"`` with ``kind`` ``main`` (motorway to secondary), ``local``
  (tertiary, residential, pedestrian streets, ...) or ``path`` (footways, steps, cycleways,
  service ways), and the street's ``name`` where the source has one;
* ``layer = "water"`` (``kind`` ``area`` or ``line``), ``layer = "park"`` and
  ``layer = "building"`` (named buildings only: the landmarks a planner finds their way by).

A centreline layer gives streets only; their names come from a name column (``name``,
``street``, ``st_name``, ``full_name``, ...; :data:`NAME_COLUMNS`) and their class from a
road-class column when one is found (:data:`CLASS_COLUMNS`), else every street is
``local``. Read once per source file and cached next to the network cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from . import settings

if TYPE_CHECKING:
    import geopandas as gpd

    from .network import StreetNetwork
    from .plan import Plan

log = logging.getLogger(__name__)

#: Bump when the cached basemap changes meaning.
_CACHE_VERSION = 1

#: OSM ``highway`` values by basemap class.
STREET_CLASSES: dict[str, tuple[str, ...]] = {
    "main": (
        "motorway",
        "motorway_link",
        "trunk",
        "trunk_link",
        "primary",
        "primary_link",
        "secondary",
        "secondary_link",
    ),
    "local": (
        "tertiary",
        "tertiary_link",
        "residential",
        "unclassified",
        "living_street",
        "pedestrian",
        "road",
    ),
    "path": (
        "service",
        "footway",
        "path",
        "steps",
        "cycleway",
        "track",
        "corridor",
        "bridleway",
        "trail",
        "elevator",
    ),
}
_CLASS_OF = {v: k for k, vals in STREET_CLASSES.items() for v in vals}

#: Column names that hold a street's name in a centreline layer (case-insensitive, in order).
NAME_COLUMNS = (
    "name",
    "street",
    "street_name",
    "streetname",
    "st_name",
    "stname",
    "full_name",
    "fullname",
    "full_street_name",
    "road_name",
    "rd_name",
    "strname",
    "label",
    "nimi",
)
#: Column names that hold a road class in a centreline layer (values mapped by :func:`street_class`).
CLASS_COLUMNS = ("highway", "fclass", "class", "road_class", "roadclass", "functional_class", "func_class")

_WATER = {
    "natural": ["water", "coastline", "bay", "strait", "wetland"],
    "waterway": ["riverbank", "river", "canal", "stream", "dock"],
    "landuse": ["reservoir", "basin"],
}
_PARKS = {
    "leisure": ["park", "garden", "playground", "nature_reserve", "common", "pitch"],
    "landuse": ["grass", "recreation_ground", "cemetery", "forest", "meadow", "village_green"],
    "natural": ["wood", "scrub", "grassland"],
}
_COLUMNS = ["layer", "kind", "name"]


def street_class(value: Any) -> str:
    """``main``, ``local`` or ``path`` for an OSM ``highway`` value or a road-class text.

    >>> street_class("primary"), street_class("footway"), street_class("Arterial"), street_class(None)
    ('main', 'path', 'main', 'local')
    """
    if not isinstance(value, str) or not value:
        return "local"
    v = value.strip().lower()
    if v in _CLASS_OF:
        return _CLASS_OF[v]
    if any(w in v for w in ("arterial", "highway", "freeway", "expressway", "major", "collector", "primary")):
        return "main"
    if any(w in v for w in ("trail", "path", "foot", "walk", "alley", "service", "private")):
        return "path"
    return "local"


def _empty(crs: Any) -> gpd.GeoDataFrame:
    import geopandas as gpd

    return gpd.GeoDataFrame({c: pd.Series(dtype=str) for c in _COLUMNS}, geometry=[], crs=crs)


def _frame(layer: str, kind: Any, name: Any, geoms: Any, crs: Any) -> gpd.GeoDataFrame:
    import geopandas as gpd

    n = len(geoms)
    names = pd.Series(name if name is not None else [""] * n).fillna("").astype(str).to_numpy()
    kinds = np.asarray([kind] * n if isinstance(kind, str) else list(kind), dtype=object)
    return gpd.GeoDataFrame(
        {"layer": [layer] * n, "kind": kinds, "name": names},
        geometry=np.asarray(geoms, dtype=object),
        crs=crs,
    )


def _polys_or_lines(gdf: gpd.GeoDataFrame) -> tuple[Any, Any]:
    g = np.asarray(gdf.geometry.values, dtype=object)
    t = shapely.get_type_id(g)
    return gdf[(t == 3) | (t == 6)], gdf[(t == 1) | (t == 5)]


def _read_pbf(path: Path) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(path))
        streets = osm.get_network(network_type="all")
        water = osm.get_data_by_custom_criteria(custom_filter=_WATER, keep_nodes=False)
        parks = osm.get_data_by_custom_criteria(custom_filter=_PARKS, keep_nodes=False)
        buildings = osm.get_buildings()
    parts = []
    if streets is not None and len(streets):
        cls = streets["highway"].map(street_class) if "highway" in streets.columns else "local"
        keep = streets["highway"].isin(_CLASS_OF) if "highway" in streets.columns else slice(None)
        s = streets[keep]
        parts.append(
            _frame("street", np.asarray(cls)[np.asarray(keep)], s.get("name"), s.geometry.values, 4326)
        )
    if water is not None and len(water):
        areas, lines = _polys_or_lines(water)
        parts.append(_frame("water", "area", areas.get("name"), areas.geometry.values, 4326))
        parts.append(_frame("water", "line", lines.get("name"), lines.geometry.values, 4326))
    if parks is not None and len(parks):
        areas, _ = _polys_or_lines(parks)
        parts.append(_frame("park", "area", areas.get("name"), areas.geometry.values, 4326))
    if buildings is not None and len(buildings) and "name" in buildings.columns:
        named = buildings[buildings["name"].notna() & (buildings["name"].astype(str) != "")]
        named, _ = _polys_or_lines(named)
        parts.append(_frame("building", "landmark", named["name"], named.geometry.values, 4326))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty(4326)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)


def _read_xml(path: Path) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import osmnx as ox

    tags: dict[str, Any] = {"highway": True, "building": True, **_WATER}
    for k, v in _PARKS.items():
        tags[k] = sorted({*tags.get(k, []), *v}) if isinstance(tags.get(k), list) else v
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = ox.features_from_xml(str(path), tags=tags)
    f = f.reset_index(drop=True)

    def col(name: str) -> pd.Series:
        return f[name] if name in f.columns else pd.Series([None] * len(f), index=f.index)

    name = col("name")
    parts = []
    hw = col("highway")
    is_street = hw.isin(_CLASS_OF)
    s = f[is_street]
    parts.append(_frame("street", hw[is_street].map(street_class), name[is_street], s.geometry.values, 4326))
    is_water = np.zeros(len(f), dtype=bool)
    for k, vals in _WATER.items():
        is_water |= col(k).isin(vals).to_numpy()
    areas, lines = _polys_or_lines(f[is_water])
    parts.append(_frame("water", "area", name[areas.index], areas.geometry.values, 4326))
    parts.append(_frame("water", "line", name[lines.index], lines.geometry.values, 4326))
    is_park = np.zeros(len(f), dtype=bool)
    for k, vals in _PARKS.items():
        is_park |= col(k).isin(vals).to_numpy()
    areas, _ = _polys_or_lines(f[is_park & ~is_water])
    parts.append(_frame("park", "area", name[areas.index], areas.geometry.values, 4326))
    is_bld = col("building").notna().to_numpy() & name.notna().to_numpy()
    areas, _ = _polys_or_lines(f[is_bld])
    parts.append(_frame("building", "landmark", name[areas.index], areas.geometry.values, 4326))
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty(4326)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=4326)


def find_column(columns: Any, wanted: tuple[str, ...]) -> str | None:
    """The first of ``wanted`` among ``columns`` (case-insensitive), or None.

    >>> find_column(["OBJECTID", "ST_NAME", "geometry"], NAME_COLUMNS)
    'ST_NAME'
    """
    lower = {str(c).lower(): c for c in columns}
    return next((lower[w] for w in wanted if w in lower), None)


def _read_lines(path: Path, layer: str | None, name_column: str | None) -> gpd.GeoDataFrame:
    from ._line_layer import read_line_layer

    lines = read_line_layer(path, layer=layer)
    name_col = name_column or find_column(lines.columns, NAME_COLUMNS)
    class_col = find_column(lines.columns, CLASS_COLUMNS)
    kinds = lines[class_col].map(street_class) if class_col else "local"
    names = lines[name_col] if name_col and name_col in lines.columns else None
    if name_col is None:
        log.info(
            "%s: no street-name column found (tried %s); streets are drawn unnamed", path.name, NAME_COLUMNS
        )
    return _frame("street", kinds, names, lines.geometry.values, lines.crs)


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        h.update(file.name.encode() + b"\0")
        with file.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def read_basemap(
    source: str | Path,
    *,
    crs: Any,
    layer: str | None = None,
    name_column: str | None = None,
    use_cache: bool | None = None,
) -> gpd.GeoDataFrame | None:
    """Streets (with names and classes), water, parks and landmarks of a network's source.

    Parameters
    ----------
    source
        The file the network was built from: an OSM extract (``.osm.pbf``, ``.osm``) or a
        street-centreline layer. A cached network (``.npz``), a ``place:`` download or a
        missing file gives ``None`` (the map then draws the network itself).
    crs
        The network's CRS; the features are returned in it.
    layer, name_column
        For centreline layers: the layer in a multi-layer file and the column holding the
        street names (found by its usual names when not given).

    Returns
    -------
    GeoDataFrame or None
        Columns ``layer``, ``kind``, ``name`` and geometry, in ``crs``.
    """
    from .network_load import LINE_SUFFIXES, is_osm_file

    src = str(source)
    path = Path(src)
    if src.startswith("place:") or not path.exists() or path.suffix.lower() == ".npz":
        return None
    cache = settings.use_cache if use_cache is None else use_cache
    opts = {"layer": layer, "name_column": name_column, "v": _CACHE_VERSION, "crs": str(crs)}
    key = hashlib.sha256((json.dumps(opts, sort_keys=True) + _digest(path)).encode()).hexdigest()[:24]
    cache_file = settings.cache_folder / f"basemap-{key}.parquet"
    attrs = {"source": "osm" if is_osm_file(path) else "lines", "source_name": path.name}
    if cache and cache_file.exists():
        import geopandas as gpd

        try:
            gdf = gpd.read_parquet(cache_file)
            gdf.attrs.update(attrs)
            return gdf
        except Exception as exc:  # a corrupt cache is rebuilt, not fatal
            log.warning("ignoring unreadable basemap cache %s (%s)", cache_file, exc)
    if is_osm_file(path):
        gdf = _read_pbf(path) if path.name.lower().endswith(".pbf") else _read_xml(path)
    elif path.suffix.lower() in LINE_SUFFIXES or path.is_dir():
        gdf = _read_lines(path, layer, name_column)
    else:
        return None
    gdf = gdf.to_crs(crs)
    gdf = gdf[~(shapely.is_empty(gdf.geometry.values) | gdf.geometry.isna().to_numpy())].reset_index(
        drop=True
    )
    gdf.attrs["source"] = "osm" if is_osm_file(path) else "lines"
    gdf.attrs["source_name"] = path.name
    if cache:
        try:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache_file.with_suffix(".tmp")
            gdf.to_parquet(tmp)
            tmp.replace(cache_file)
        except OSError as exc:
            log.warning("could not write basemap cache %s (%s)", cache_file, exc)
    gdf.attrs.update(attrs)
    return gdf


def basemap_for(plan: Plan) -> gpd.GeoDataFrame | None:
    """The basemap of a plan's network source (``plan.manifest['network']``), or None."""
    net_info = (plan.manifest or {}).get("network") or {}
    source = net_info.get("source") if isinstance(net_info, dict) else None
    if not source or plan.network is None:
        return None
    try:
        return read_basemap(source, crs=plan.network.crs, layer=net_info.get("layer"))
    except Exception as exc:  # the basemap is decoration: a map without it beats no map
        log.warning("basemap: could not read %s (%s); drawing the network instead", source, exc)
        return None


def network_streets(net: StreetNetwork) -> gpd.GeoDataFrame:
    """The network's own edges as unnamed ``local`` streets (when the source has no names)."""
    g = net.edge_geometries()
    out = _frame("street", "local", None, g, net.crs)
    out.attrs["source"] = "network"
    return out
