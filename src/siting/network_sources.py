"""What a street network source is, checked before anything is built; line-layer summaries.

:func:`check_network_source` is the cheap check a run makes before reading its layers (the
file exists, its format is known, a ``--network-where`` filter is valid);
:func:`is_line_layer` and :func:`line_layer_summary` serve ``siting inspect`` on a
centreline layer.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import InputError, InputFileNotFoundError, UnknownFormatError

if TYPE_CHECKING:
    import os


def check_network_source(
    source: str | os.PathLike[str], *, layer: str | None = None, where: str | None = None
) -> None:
    """Cheap checks of a network source before any layer work: it exists, its format is
    known, and a ``where`` filter is valid (on line layers only). Raises what
    :func:`load_network` would."""
    from .network_load import LINE_SUFFIXES, is_osm_file

    src = str(source)
    if where and (src.startswith("place:") or is_osm_file(src) or src.lower().endswith(".npz")):
        msg = (
            f"{src}: `--network-where` filters street line layers (GeoPackage, Shapefile, GeoJSON, "
            "GeoParquet), not OpenStreetMap files, places or cached networks; convert the OSM data to a "
            "line layer first (e.g. ogr2ogr streets.gpkg extract.osm.pbf lines)"
        )
        raise InputError(msg)
    if src.startswith("place:"):
        return
    path = Path(src)
    if not path.exists():
        msg = (
            f"{path}: street network file not found; give an .osm.pbf/.osm file, a line layer, or place:NAME"
        )
        raise InputFileNotFoundError(msg)
    if path.suffix.lower() == ".npz" or is_osm_file(path):
        return
    if path.suffix.lower() in LINE_SUFFIXES or path.is_dir():
        from ._line_layer import check_line_layer

        check_line_layer(path, layer, where=where)
        return
    msg = (
        f"{path}: unknown street network format {path.suffix!r}; use .osm.pbf, .osm, "
        ".gpkg, .shp, .geojson or .parquet"
    )
    raise UnknownFormatError(msg)


def is_line_layer(path: str | os.PathLike[str], *, layer: str | None = None) -> bool:
    """Whether a file is a layer of lines (street centrelines) rather than points or areas."""
    p = Path(path)
    if not p.exists() or (
        p.suffix.lower() not in (".gpkg", ".shp", ".geojson", ".json", ".zip") and not p.is_dir()
    ):
        return False
    import pyogrio

    try:
        layers = pyogrio.list_layers(p)
    except Exception:  # not readable: the point reader gives the message
        return False
    kinds = {str(n): str(t or "").upper() for n, t in layers}
    chosen = [layer] if layer is not None else list(kinds)
    return bool(chosen) and all("LINE" in kinds.get(n, "") for n in chosen)


def line_layer_summary(
    path: str | os.PathLike[str],
    *,
    layer: str | None = None,
    where: str | None = None,
    all_road_classes: bool = False,
) -> dict[str, Any]:
    """What a street line layer holds and what a network built from it would use.

    Lines read, left out by ``where`` and by road class, used (and their length), and
    the values of its class columns (``MTFCC``, ``highway``, ``fclass``).
    """
    import numpy as np
    import pandas as pd

    from ._line_layer import read_line_layer
    from .network_load import project_to_utm

    everything = read_line_layer(path, layer=layer)
    lines = read_line_layer(path, layer=layer, where=where, walkable_only=not all_road_classes)
    report = dict(lines.attrs.get("read_report", {}))
    classes: dict[str, dict[str, int]] = {}
    for col in everything.columns:
        if str(col).lower() in ("mtfcc", "highway", "fclass"):
            counts = everything.drop_duplicates("source_row")[col].astype("string").fillna("(blank)")
            classes[str(col)] = {str(k): int(v) for k, v in pd.Series(counts).value_counts().items()}
    utm = project_to_utm(lines)
    import shapely

    parts = everything.geometry.to_numpy()  # one row per line part, ``source_row`` its feature
    part_of = everything["source_row"].to_numpy()
    open_part = ~(shapely.is_closed(parts) & (shapely.get_num_coordinates(parts) >= 4))
    rings = int(np.unique(part_of).size - np.unique(part_of[open_part]).size)  # every part closed
    return {
        "closed_rings": rings,
        "path": str(path),
        **report,
        "lines_used": int(lines["source_row"].nunique()),
        "length_km": round(float(utm.geometry.length.sum()) / 1000.0, 3),
        "classes": classes,
    }
