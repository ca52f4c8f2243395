"""Walkable street lines from OpenStreetMap.

Three sources, one result (node-to-node LineStrings in EPSG:4326):

* ``.osm.pbf`` extracts, read offline with pyrosm (its ``walking`` network);
* ``.osm`` / ``.osm.xml`` (optionally ``.bz2``/``.gz``) files, read offline with OSMnx
  ``graph_from_xml`` and then filtered to the ways OSMnx's ``walk`` network type keeps;
* place names, downloaded with OSMnx ``graph_from_place(..., network_type="walk")``.

OSMnx's global settings are configured in :func:`_osmnx_settings` only: HTTP caches and
logs go under :data:`siting.settings.cache_folder`, never into the working directory.
"""

from __future__ import annotations

import logging
import re
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import settings
from ._errors import InputError, NetworkError

if TYPE_CHECKING:
    from collections.abc import Iterator

    import geopandas as gpd
    import networkx as nx
    import pandas as pd

log = logging.getLogger(__name__)

#: The rules of OSMnx's ``walk`` network type (osmnx 2.x ``_overpass._get_network_filter``),
#: restated for ways already parsed from a file. Each rule is ``(tag, pattern)``: a way is
#: dropped when the tag is present and the pattern is found in its value (Overpass ``!~``
#: semantics: an unanchored, case-sensitive regular expression). ``highway`` must exist.
_WALK_EXCLUDE: tuple[tuple[str, str], ...] = (
    ("area", "yes"),
    ("access", "private"),
    (
        "highway",
        "abandoned|bus_guideway|construction|cycleway|motor|no|planned|platform|proposed|"
        "raceway|razed|rest_area|services",
    ),
    ("foot", "no"),
    ("service", "private"),
    ("sidewalk", "separate"),
    ("sidewalk:both", "separate"),
    ("sidewalk:left", "separate"),
    ("sidewalk:right", "separate"),
)
_WALK_RULES = tuple((tag, re.compile(pattern)) for tag, pattern in _WALK_EXCLUDE)
_WALK_TAGS = tuple(tag for tag, _ in _WALK_EXCLUDE)


# ------------------------------------------------------------------ osmnx settings
@contextmanager
def _osmnx_settings() -> Iterator[Any]:
    """Import OSMnx with siting's settings applied; restore the caller's settings after.

    The one place siting touches ``osmnx.settings``: HTTP cache, logs and any files OSMnx
    writes go under ``settings.cache_folder / "osmnx"``; OSMnx logs neither to the console
    nor to files; way tags needed by the ``walk`` filter are kept on the edges.
    """
    import osmnx as ox

    folder = Path(settings.cache_folder) / "osmnx"
    wanted: dict[str, Any] = {
        "cache_folder": folder / "http",
        "data_folder": folder / "data",
        "logs_folder": folder / "logs",
        "imgs_folder": folder / "images",
        "use_cache": True,
        "log_console": False,
        "log_file": False,
        "useful_tags_way": sorted({*ox.settings.useful_tags_way, *_WALK_TAGS}),
        "bidirectional_network_types": sorted({*ox.settings.bidirectional_network_types, "walk"}),
    }
    saved = {name: getattr(ox.settings, name) for name in wanted}
    try:
        for name, value in wanted.items():
            setattr(ox.settings, name, value)
        yield ox
    finally:
        for name, value in saved.items():
            setattr(ox.settings, name, value)


def _is_walkable(tags: dict[str, Any], *, all_road_classes: bool = True) -> bool:
    """Whether a way's tags pass OSMnx's ``walk`` filter (and, unless ``all_road_classes``,
    siting's road-class rule: no trunk roads without a sidewalk or foot access)."""
    if tags.get("highway") is None:
        return False
    if not all_road_classes and not _class_ok(tags):
        return False
    for tag, rule in _WALK_RULES:
        value = tags.get(tag)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if any(rule.search(str(v)) for v in values):
            return False
    return True


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _class_ok(tags: dict[str, Any]) -> bool:
    """The road-class rule of :mod:`siting._walkable` for one way's tags."""
    from ._walkable import osm_walkable

    values = tags.get("highway")
    highways = values if isinstance(values, list) else [values]
    foot, side = _first(tags.get("foot")), _first(tags.get("sidewalk"))
    return bool(osm_walkable(highways, [foot] * len(highways), [side] * len(highways)).all())


def _class_report(highway: Any, keep: Any) -> dict[str, int]:
    import pandas as pd

    hw = pd.Series(highway).astype("string").fillna("")
    dropped = hw[~pd.Series(keep, index=hw.index).astype(bool)]
    return {f"highway {k}": int(v) for k, v in sorted(dropped.value_counts().items())}


# ------------------------------------------------------------------------ public
def read_osm_lines(path: Path, *, all_road_classes: bool = False) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
    """Walkable ways of an OSM file as node-to-node LineStrings in EPSG:4326.

    Parameters
    ----------
    path
        An ``.osm.pbf`` extract, or an ``.osm`` / ``.osm.xml`` file (``.bz2``/``.gz``
        compressed XML works too).

    Returns
    -------
    lines, nodes
        The lines (one per street segment between graph nodes) and a frame of the OSM node
        ``id``, ``lon``, ``lat`` of their ends (``None`` if the reader gives no ids).
    """
    path = Path(path)
    name = path.name.lower()
    if name.endswith(".pbf"):
        return _read_pbf(path, all_road_classes=all_road_classes)
    if name.endswith((".osm", ".osm.xml", ".xml", ".osm.bz2", ".osm.gz", ".xml.bz2", ".xml.gz")):
        return _read_xml(path, all_road_classes=all_road_classes)
    msg = f"{path}: not an OpenStreetMap file; give an .osm.pbf, .osm or .osm.xml file"
    raise InputError(msg)


def read_place_lines(place: str, *, all_road_classes: bool = False) -> gpd.GeoDataFrame:
    """Download the walking network of a place with OSMnx (needs internet).

    The place must be geocodable by Nominatim with a polygon boundary (for example
    ``"Kallio, Helsinki, Finland"``). Responses are cached under ``settings.cache_folder``.
    """
    with _osmnx_settings() as ox:
        try:
            graph = ox.graph_from_place(place, network_type="walk", simplify=True, retain_all=True)
        except (ValueError, TypeError) as exc:  # osmnx raises ValueError subclasses
            msg = (
                f"place:{place}: OSMnx could not get a walking network for this place ({exc}); "
                "check the name (try 'District, City, Country') or use an .osm.pbf file"
            )
            raise NetworkError(msg) from exc
        except OSError as exc:  # requests' ConnectionError is an OSError
            msg = (
                f"place:{place}: downloading from OpenStreetMap failed ({type(exc).__name__}); "
                "this needs internet access, or use an .osm.pbf file offline"
            )
            raise NetworkError(msg) from exc
        n_read = graph.number_of_edges()
        drop = (
            []
            if all_road_classes
            else [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if not _class_ok(d)]
        )
        report = {"lines_read": n_read, "not_walkable": _class_report(
            [_first(graph.edges[e].get("highway")) for e in drop], [False] * len(drop))}
        graph.remove_edges_from(drop)
        lines, _ = _graph_lines(ox, graph, f"place:{place}")
    lines.attrs["read_report"] = report
    return lines


# ----------------------------------------------------------------------- readers
def _read_pbf(path: Path, *, all_road_classes: bool = False) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
    import warnings

    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            osm = pyrosm.OSM(str(path))
            nodes, edges = osm.get_network(network_type="walking", nodes=True)
        except Exception as exc:
            msg = f"{path}: cannot read this OSM PBF file ({exc}); check it is a valid .osm.pbf extract"
            raise InputError(msg) from exc
    if edges is None or len(edges) == 0:
        msg = f"{path}: the OSM file holds no walkable streets; check the extract covers a built-up area"
        raise NetworkError(msg)
    report: dict[str, Any] = {"lines_read": len(edges)}
    if not all_road_classes and "highway" in edges.columns:
        from ._walkable import osm_walkable

        keep = osm_walkable(
            edges["highway"].to_numpy(),
            edges["foot"].to_numpy() if "foot" in edges.columns else None,
            edges["sidewalk"].to_numpy() if "sidewalk" in edges.columns else None,
        )
        report["not_walkable"] = _class_report(edges["highway"].to_numpy(), keep)
        edges = edges[keep]
    lines = edges[["geometry"]].set_crs(4326, allow_override=True)
    lines.attrs["read_report"] = report
    ids = nodes[["id", "lon", "lat"]] if nodes is not None else None
    return lines, ids


def _read_xml(path: Path, *, all_road_classes: bool = False) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
    import warnings
    from xml.etree.ElementTree import ParseError
    from xml.sax import SAXException

    with _osmnx_settings() as ox:
        try:
            with warnings.catch_warnings():
                # osmnx warns about XML files it wrote itself; those still parse fine
                warnings.simplefilter("ignore", UserWarning)
                graph = ox.graph_from_xml(path, bidirectional=True, simplify=False, retain_all=True)
        except (ParseError, SAXException, UnicodeDecodeError, EOFError, OSError) as exc:
            msg = (
                f"{path}: not a readable OSM XML file ({type(exc).__name__}: {exc}); "
                "export it again as .osm XML or use an .osm.pbf extract"
            )
            raise InputError(msg) from exc
        except (KeyError, ValueError) as exc:  # missing lat/lon/ref attributes, no elements
            msg = (
                f"{path}: the OSM XML holds no usable nodes and ways ({type(exc).__name__}: {exc}); "
                "check it is an OpenStreetMap export"
            )
            raise InputError(msg) from exc
        n_read = graph.number_of_edges()
        drop = [(u, v, k) for u, v, k, d in graph.edges(keys=True, data=True) if not _is_walkable(d)]
        by_class = (
            []
            if all_road_classes
            else [
                (u, v, k) for u, v, k, d in graph.edges(keys=True, data=True)
                if _is_walkable(d) and not _class_ok(d)
            ]
        )
        report = {"lines_read": n_read, "not_walkable": _class_report(
            [_first(graph.edges[e].get("highway")) for e in by_class], [False] * len(by_class))}
        graph.remove_edges_from(drop + by_class)
        graph.remove_nodes_from([n for n, deg in dict(graph.degree()).items() if deg == 0])
        log.info("%s: kept %d walkable OSM segments, dropped %d others", path.name,
                 graph.number_of_edges(), len(drop))
        if graph.number_of_edges() == 0:
            msg = (
                f"{path}: the OSM file holds no walkable streets (no way passes OSMnx's 'walk' "
                "filter); check the export includes highway=* ways"
            )
            raise NetworkError(msg)
        graph = ox.simplify_graph(graph)
        lines, ids = _graph_lines(ox, graph, str(path))
        lines.attrs["read_report"] = report
        return lines, ids


def _graph_lines(ox: Any, graph: nx.MultiDiGraph, what: str) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """An OSMnx graph as undirected node-to-node lines plus its node ids."""
    if graph.number_of_edges() == 0:
        msg = f"{what}: no walkable streets found"
        raise NetworkError(msg)
    undirected = ox.convert.to_undirected(graph)
    nodes, edges = ox.graph_to_gdfs(undirected, nodes=True, edges=True, fill_edge_geometry=True)
    lines = edges[["geometry"]].reset_index(drop=True).set_crs(4326, allow_override=True)
    ids = nodes.reset_index()[["osmid", "x", "y"]].rename(
        columns={"osmid": "id", "x": "lon", "y": "lat"}
    )
    return lines, ids
