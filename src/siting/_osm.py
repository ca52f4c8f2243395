"""Read walkable street lines from OpenStreetMap: .osm.pbf (pyrosm), .osm XML and place names (OSMnx)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from ._errors import InputError, NetworkError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

log = logging.getLogger(__name__)


def read_osm_lines(path: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
    """Walkable ways of an OSM file as node-to-node LineStrings in EPSG:4326.

    Returns the lines and a frame of OSM node ``id``, ``lon``, ``lat`` (or ``None``).
    """
    name = path.name.lower()
    if name.endswith(".pbf"):
        return _read_pbf(path)
    msg = f"{path}: reading {path.suffix} OSM files is not supported yet; convert it to .osm.pbf"
    raise InputError(msg)


def _read_pbf(path: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
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
        msg = f"{path}: the OSM file holds no walkable streets"
        raise NetworkError(msg)
    lines = edges[["geometry"]].set_crs(4326, allow_override=True)
    ids = nodes[["id", "lon", "lat"]] if nodes is not None else None
    return lines, ids


def read_place_lines(place: str) -> gpd.GeoDataFrame:
    """Download the walking network of a place with OSMnx (needs internet)."""
    msg = f"place:{place}: downloading by place name is not supported yet"
    raise NetworkError(msg)
