"""Write result tables as GeoPackage, GeoParquet, GeoJSON or CSV, never half-written.

Every writer writes to a temporary name in the target folder and renames it into place,
so a failed run leaves no partial file; an existing file is replaced only with
``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._errors import FileOverwriteError, UnknownFormatError

if TYPE_CHECKING:
    import geopandas as gpd

WRITE_FORMATS = {
    ".gpkg": "GPKG",
    ".parquet": "Parquet",
    ".geoparquet": "Parquet",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".csv": "CSV",
}


def output_format(path: str | os.PathLike[str]) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in WRITE_FORMATS:
        msg = f"{path}: cannot write {suffix or 'a file without extension'!r}; use .gpkg, .parquet, .geojson or .csv"
        raise UnknownFormatError(msg)
    return WRITE_FORMATS[suffix]


def check_writable(path: str | os.PathLike[str], *, overwrite: bool) -> Path:
    """Raise before any work if ``path`` exists and may not be replaced, or its folder is missing."""
    p = Path(path)
    if p.exists() and not overwrite:
        msg = f"{p}: already exists; pass --overwrite to replace it"
        raise FileOverwriteError(msg)
    if not p.parent.exists():
        msg = f"{p}: folder {p.parent} does not exist; create it first"
        raise FileNotFoundError(msg)
    return p


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], *, overwrite: bool) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it into place on success."""
    final = check_writable(path, overwrite=overwrite)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp" + final.suffix)
    os.close(fd)
    os.unlink(tmp)  # GDAL drivers want to create the file themselves
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, final)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _plain(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns every format can hold: text ids, no Python objects, datetimes as ISO text."""
    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            continue
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = s.dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object)
        elif s.dtype == object or pd.api.types.is_string_dtype(s):
            out[col] = s.map(
                lambda v: (
                    ""
                    if v is None or (isinstance(v, float) and np.isnan(v))
                    else (json.dumps(v, sort_keys=True) if isinstance(v, list | dict | tuple) else str(v))
                )
            ).astype(object)
    return out


def write_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
) -> Path:
    """Write one or more layers. GeoPackage holds them all; other formats take the first.

    Geometry is written in WGS84 (EPSG:4326) so any GIS or web tool opens it; CSV gets
    ``lat``/``lon`` columns instead of geometry.
    """
    fmt = output_format(path)
    items = [(name, g) for name, g in layers.items() if g is not None]
    if not items:
        msg = "nothing to write"
        raise ValueError(msg)
    with atomic_path(path, overwrite=overwrite) as tmp:
        if fmt == "GPKG":
            for name, gdf in items:
                _plain(gdf.to_crs(4326)).to_file(tmp, layer=name, driver="GPKG", engine="pyogrio")
        else:
            name, gdf = items[0]
            g = _plain(gdf.to_crs(4326))
            if fmt == "Parquet":
                g.to_parquet(tmp, index=False)
            elif fmt == "GeoJSON":
                g.to_file(tmp, driver="GeoJSON", engine="pyogrio", WRITE_BBOX="NO", COORDINATE_PRECISION=7)
            else:
                pts = g.geometry.representative_point()
                df = pd.DataFrame(g.drop(columns=g.geometry.name))
                df["lat"] = np.round(pts.y.to_numpy(), 7)
                df["lon"] = np.round(pts.x.to_numpy(), 7)
                df.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
    return Path(path)


def write_json(data: Any, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
    """Write JSON atomically (sorted keys, so identical data gives identical bytes)."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8")
    return Path(path)


def write_text(text: str, path: str | os.PathLike[str], *, overwrite: bool = True) -> Path:
    """Write text atomically."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
