"""Loading a street network: from an OSM file, a place name (OSMnx) or a county's line layer.

:func:`load_network` reads the source, builds a :class:`~siting.network.StreetNetwork`
and caches it by the source's content (SHA-256) and the build options, so a second run
on the same file loads arrays instead of rebuilding.
"""

from __future__ import annotations

import glob
import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from . import _file_digests, settings
from ._errors import InputError, NetworkError, NoCrsError
from ._network_file import _CACHE_VERSION, is_stale
from .network import StreetNetwork

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger("siting.network")

#: Suffixes read as street-centreline layers (anything else is OSM, a place or a cache).
LINE_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".parquet", ".geoparquet", ".zip")

__all__ = ["LINE_SUFFIXES", "file_sha256", "is_osm_file", "load_network", "prefetch_network", "project_to_utm"]


def _file_digest(path: Path, memo_folder: Path | None = None) -> str:
    """The cache key's digest of a source: of a file; of a Shapefile with its sidecar files;
    of every file in a folder. Made of each file's name and own SHA-256, which is
    remembered in ``memo_folder`` (see :mod:`siting._file_digests`) and found again by
    :func:`file_sha256` for the run's manifest."""
    if path.is_dir():
        base, files = path, sorted(p for p in path.rglob("*") if p.is_file())
    elif path.suffix.lower() == ".shp":
        base = path.parent
        files = sorted(p for p in base.glob(f"{glob.escape(path.stem)}.*") if p.is_file())
    else:
        base, files = path.parent, [path]
    h = hashlib.sha256()
    for file in files:
        name = file.relative_to(base).as_posix()
        h.update(f"{name}\0{_file_digests.file_sha256(file, memo_folder)}\n".encode())
    return h.hexdigest()


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of a file's bytes: the one found while the network source was hashed
    for its cache key (often in a thread, see :func:`prefetch_network`) if the file has
    not changed since, else read now."""
    return _file_digests.file_sha256(path)


def _cache_key(kind: str, ident: str, options: dict[str, Any]) -> str:
    blob = json.dumps({"kind": kind, "id": ident, "opts": options, "v": _CACHE_VERSION}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def is_osm_file(path: str | os.PathLike[str]) -> bool:
    name = str(path).lower()
    return name.endswith((".osm.pbf", ".pbf", ".osm", ".osm.xml", ".osm.bz2", ".osm.gz"))


def load_network(
    source: str | os.PathLike[str],
    *,
    largest_component: bool = True,
    split_crossings: bool = True,
    snap_tolerance_m: float | None = None,
    layer: str | None = None,
    where: str | None = None,
    all_road_classes: bool = False,
    use_cache: bool | None = None,
    cache_folder: str | os.PathLike[str] | None = None,
) -> StreetNetwork:
    """Build (or load from cache) a walking network.

    Parameters
    ----------
    source
        An OpenStreetMap file (``.osm.pbf``, ``.osm``), a street-centreline line layer
        (GeoPackage, Shapefile, GeoJSON, GeoParquet), a cached network (``.npz``), or
        ``place:NAME`` for an OSMnx download (needs internet).
    largest_component
        Keep only the largest connected component (dropped nodes are logged).
    split_crossings
        For line layers: split lines where they cross (``False`` keeps crossings such as
        bridges unconnected; lines are still joined where one ends on another or where
        they share a vertex).
    snap_tolerance_m
        For line layers: join line ends closer than this (default ``settings.snap_ends_tolerance_m``).
    where
        For line layers: keep only the lines this OGR SQL filter selects.
    all_road_classes
        Keep road classes nobody walks on (TIGER S1100/S1630, OSM motorway and trunk
        roads), which are left out by default (:mod:`siting._walkable`).
    """
    options = {
        "largest_component": largest_component, "split_crossings": split_crossings,
        "snap_tolerance_m": snap_tolerance_m, "layer": layer, "where": where,
        "all_road_classes": all_road_classes, "use_cache": use_cache, "cache_folder": cache_folder,
    }
    prefetched = _take_prefetched(source, options)
    if prefetched is not None:
        net, cache_file = prefetched
        log.info("loaded cached network %s", cache_file)
        return _refreshed(net, cache_file)
    cache, cache_file, loader = _plan(source, **options)
    if cache_file is None:  # a saved network given as the source
        return loader()
    if cache and cache_file.exists():
        try:
            net = StreetNetwork.load(cache_file)
            log.info("loaded cached network %s", cache_file)
            return _refreshed(net, cache_file)
        except Exception as exc:  # a corrupt cache is rebuilt, not fatal
            log.warning("ignoring unreadable network cache %s (%s)", cache_file, exc)
    net = loader()
    if net.n_edges == 0:
        msg = f"{source}: no walkable street lines found"
        raise NetworkError(msg)
    if largest_component:
        net = net.largest_component()
    if cache:
        try:
            net.save(cache_file)
        except OSError as exc:
            log.warning("could not write network cache %s (%s)", cache_file, exc)
    return net


def _refreshed(net: StreetNetwork, cache_file: Path) -> StreetNetwork:
    """``net``, its cache file written again if parts of it were saved by other code (they
    were derived again while reading it: see :func:`siting._network_file.derivation_code`)."""
    if is_stale(net):
        try:
            net.save(cache_file)
            log.info("refreshed the network cache %s (saved by another version of siting)", cache_file)
        except OSError as exc:
            log.warning("could not write network cache %s (%s)", cache_file, exc)
    return net


def _plan(
    source: str | os.PathLike[str], *, largest_component: bool, split_crossings: bool,
    snap_tolerance_m: float | None, layer: str | None, where: str | None, all_road_classes: bool,
    use_cache: bool | None, cache_folder: str | os.PathLike[str] | None,
) -> tuple[bool, Path | None, Callable[[], StreetNetwork]]:
    """Whether to cache, the cache file (``None`` for a saved ``.npz`` source) and the builder."""
    cache = settings.use_cache if use_cache is None else use_cache
    folder = Path(cache_folder) if cache_folder is not None else settings.cache_folder
    tol = settings.snap_ends_tolerance_m if snap_tolerance_m is None else float(snap_tolerance_m)
    src = str(source)
    from .network_sources import check_network_source

    check_network_source(src, layer=layer, where=where)
    opts = {
        "lcc": largest_component, "split": split_crossings, "tol": tol, "layer": layer,
        "where": where, "all_classes": all_road_classes, "walk_rules": 2,
    }
    loader: Callable[[], StreetNetwork]
    if src.startswith("place:"):
        place = src[len("place:"):].strip()
        key = _cache_key("place", place, opts)
        loader = lambda: _from_place(place, all_road_classes=all_road_classes)  # noqa: E731
    else:
        path = Path(src)
        if path.suffix.lower() == ".npz":
            return cache, None, lambda: StreetNetwork.load(path)
        key = _cache_key("file", _file_digest(path, folder if cache else None), opts | {"name": path.name})
        if is_osm_file(path):
            loader = lambda: _from_osm_file(path, all_road_classes=all_road_classes)  # noqa: E731
        else:
            loader = lambda: _from_line_layer(  # noqa: E731
                path, layer=layer, split_crossings=split_crossings, tol=tol, where=where,
                all_road_classes=all_road_classes,
            )
    return cache, folder / f"network-{key}.npz", loader


#: Cached networks being read in a thread (:func:`prefetch_network`), by the call that will take them.
_PREFETCHED: dict[str, tuple[threading.Thread, list[tuple[StreetNetwork, Path]]]] = {}


def prefetch_network(source: str | os.PathLike[str], **options: Any) -> None:
    """Start reading the network ``load_network(source, **options)`` would load from its cache.

    A thread hashes the source and reads the cached arrays (work that lets other threads
    run: started while the layers are read, it is done when they are). The next
    :func:`load_network` with the same arguments takes that network, waiting for it if
    needed. Anything else (no cache yet, a bad source, an unreadable cache) is left to
    that call, which reports it as it always has; the thread itself logs nothing.
    """
    options = {**_DEFAULTS, **options}
    found: list[tuple[StreetNetwork, Path]] = []

    def run() -> None:
        try:
            cache, cache_file, _ = _plan(source, **options)
            if cache and cache_file is not None and cache_file.exists():
                found.append((StreetNetwork.load(cache_file), cache_file))
        except Exception:  # noqa: S110 - load_network meets the same problem and reports it
            pass

    thread = threading.Thread(target=run, name="siting-network-prefetch", daemon=True)
    _PREFETCHED.clear()  # one at a time: a network nobody took is not kept
    _PREFETCHED[_call_id(source, options)] = (thread, found)
    thread.start()


_DEFAULTS: dict[str, Any] = {
    "largest_component": True, "split_crossings": True, "snap_tolerance_m": None, "layer": None,
    "where": None, "all_road_classes": False, "use_cache": None, "cache_folder": None,
}


def _call_id(source: str | os.PathLike[str], options: dict[str, Any]) -> str:
    resolved = {
        **{k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in options.items()},
        "use_cache": settings.use_cache if options["use_cache"] is None else options["use_cache"],
        "cache_folder": str(settings.cache_folder if options["cache_folder"] is None else options["cache_folder"]),
    }
    return json.dumps([str(source), resolved], sort_keys=True, default=str)


def _take_prefetched(source: str | os.PathLike[str], options: dict[str, Any]) -> tuple[StreetNetwork, Path] | None:
    pending = _PREFETCHED.pop(_call_id(source, options), None)
    if pending is None:
        return None
    thread, found = pending
    thread.join()
    return found[0] if found else None


def project_to_utm(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Project a layer to the UTM zone of its own data (computed, never hard-coded)."""
    if gdf.crs is None:
        msg = "layer has no CRS; set one (e.g. EPSG:4326) before projecting"
        raise NoCrsError(msg)
    if gdf.crs.is_projected and gdf.crs.to_epsg() and 32601 <= gdf.crs.to_epsg() <= 32760:
        return gdf
    utm = gdf.to_crs(4326).estimate_utm_crs() if len(gdf) else None
    if utm is None:
        msg = "cannot choose a UTM zone for an empty layer"
        raise InputError(msg)
    return gdf.to_crs(utm)


def _from_osm_file(path: Path, *, all_road_classes: bool = False) -> StreetNetwork:
    from ._osm import read_osm_lines

    lines, osm_ids = read_osm_lines(path, all_road_classes=all_road_classes)
    proj = project_to_utm(lines)
    ids = None
    if osm_ids is not None:
        pts = shapely.points(osm_ids[["lon", "lat"]].to_numpy())
        import geopandas as gpd

        p = gpd.GeoSeries(pts, crs=4326).to_crs(proj.crs)
        xy = np.round(shapely.get_coordinates(p.values), 3)
        ids = {(float(a), float(b)): int(i) for (a, b), i in zip(xy, osm_ids["id"], strict=True)}
    return StreetNetwork.from_lines(
        proj, source=f"osm:{path.name}", osm_ids=ids, build_report=dict(lines.attrs.get("read_report", {}))
    )


def _from_place(place: str, *, all_road_classes: bool = False) -> StreetNetwork:
    from ._osm import read_place_lines

    lines = read_place_lines(place, all_road_classes=all_road_classes)
    return StreetNetwork.from_lines(
        project_to_utm(lines), source=f"place:{place}", build_report=dict(lines.attrs.get("read_report", {}))
    )


def _from_line_layer(
    path: Path, *, layer: str | None, split_crossings: bool, tol: float, where: str | None = None,
    all_road_classes: bool = False,
) -> StreetNetwork:
    from ._line_layer import read_line_layer
    from ._lines import repair_lines

    lines = read_line_layer(path, layer=layer, where=where, walkable_only=not all_road_classes)
    proj = project_to_utm(lines)
    repaired, report = repair_lines(proj, tolerance_m=tol, split_crossings=split_crossings)
    log.info("street lines repaired: %s", ", ".join(f"{k}={v}" for k, v in report.items()))
    build = dict(lines.attrs.get("read_report", {}))
    build["repair"] = report
    return StreetNetwork.from_lines(repaired, source=f"lines:{path.name}", build_report=build)
