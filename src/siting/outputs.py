"""Write result tables as GeoPackage, GeoParquet, GeoJSON or CSV, never half-written.

Every writer writes to a temporary name in the target folder and renames it into place,
so a failed run leaves no partial file; an existing file is replaced only with
``overwrite=True``.

Every table says what it is in its own metadata (``metadata=``): whether it is an
*internal* working file (exact figures from health records) or *shareable* (released
values, see :mod:`siting.privacy`). GeoPackage: dataset and layer metadata items
``siting_classification`` and ``siting_metadata`` (JSON); GeoParquet: the schema metadata
key ``siting``; GeoJSON: the top-level ``description``; CSV: a sidecar
``<name>.csv-metadata.json`` (the CSV on the Web convention).
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

from ._errors import FileOverwriteError, UnknownFormatError

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

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


#: Whole-number columns that may hold blanks (a rank is blank for an excluded candidate).
_WHOLE_NUMBERS = ("rank", "cluster", "n_incidents", "n_cells")


def _ranks_or_counts(name: str, s: pd.Series) -> bool:
    """A float column of ranks or counts whose values are all whole numbers (or blank)."""
    import pandas as pd

    if not (name in _WHOLE_NUMBERS or name.endswith("_rank")) or not pd.api.types.is_float_dtype(s):
        return False
    v = s.to_numpy(dtype=np.float64, na_value=np.nan)
    v = v[~np.isnan(v)]
    return bool(np.all(v == np.round(v)) and np.all(np.abs(v) < 2**53))


def _plain(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Columns every format can hold: text ids, no Python objects, datetimes as ISO text."""
    import pandas as pd

    out = gdf.copy()
    for col in out.columns:
        if col == out.geometry.name:
            continue
        s = out[col]
        if pd.api.types.is_bool_dtype(s):
            continue
        if _ranks_or_counts(str(col), s):
            out[col] = s.astype("Int64")  # a GIS reads 1, not 1.0 (blank where there is none)
        elif pd.api.types.is_datetime64_any_dtype(s):
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


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """Where a CSV's metadata goes: ``<name>.csv-metadata.json`` next to it."""
    p = Path(path)
    return p.with_name(p.name + "-metadata.json")


def describe(metadata: Mapping[str, Any]) -> str:
    """One line for a file's description: its classification first."""
    cls = str(metadata.get("classification", "")).upper()
    note = str(metadata.get("note", ""))
    return f"{cls}: {note}" if note else cls


def write_layers(
    layers: Mapping[str, gpd.GeoDataFrame],
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write one or more layers. GeoPackage holds them all; other formats take the first.

    Geometry is written in WGS84 (EPSG:4326) so any GIS or web tool opens it; CSV gets
    ``lat``/``lon`` columns instead of geometry. ``metadata`` (JSON-able, with a
    ``classification``) is written into the file as the module docstring says.
    """
    fmt = output_format(path)
    items = [(name, g) for name, g in layers.items() if g is not None]
    if not items:
        msg = "nothing to write"
        raise ValueError(msg)
    meta_json = json.dumps(dict(metadata), sort_keys=True, default=str) if metadata else None
    tags = (
        {"siting_classification": str(metadata.get("classification", "")), "siting_metadata": meta_json}
        if metadata
        else None
    )
    if fmt == "CSV" and meta_json is not None:
        check_writable(sidecar_path(path), overwrite=overwrite)
    with atomic_path(path, overwrite=overwrite) as tmp, contextlib.ExitStack() as stack:
        if fmt == "GPKG":
            stack.enter_context(_sqlite_without_fsync())
            for i, (name, gdf) in enumerate(items):
                extra: dict[str, Any] = {}
                if tags:
                    extra["layer_metadata"] = {**tags, "DESCRIPTION": describe(metadata or {})}
                    if i == 0:
                        extra["dataset_metadata"] = tags
                _plain(gdf.to_crs(4326)).to_file(tmp, layer=name, driver="GPKG", engine="pyogrio", **extra)
        else:
            name, gdf = items[0]
            g = _plain(gdf.to_crs(4326))
            if fmt == "Parquet":
                g.to_parquet(tmp, index=False)
                if meta_json is not None:
                    _parquet_metadata(tmp, meta_json)
            elif fmt == "GeoJSON":
                opts: dict[str, Any] = {"WRITE_BBOX": "NO", "COORDINATE_PRECISION": 7}
                if metadata:
                    opts["DESCRIPTION"] = describe(metadata)
                g.to_file(tmp, driver="GeoJSON", engine="pyogrio", layer=name, **opts)
            else:
                import pandas as pd

                pts = g.geometry.representative_point()
                df = pd.DataFrame(g.drop(columns=g.geometry.name))
                df["lat"] = np.round(pts.y.to_numpy(), 7)
                df["lon"] = np.round(pts.x.to_numpy(), 7)
                df.to_csv(tmp, index=False, float_format="%.10g", lineterminator="\n")
    if fmt == "CSV" and metadata:
        write_json({"url": Path(path).name, **dict(metadata)}, sidecar_path(path), overwrite=True)
    return Path(path)


@contextlib.contextmanager
def _sqlite_without_fsync() -> Iterator[None]:
    """GeoPackage (SQLite) writes without an fsync after every step, like every other output.

    SQLite syncs its journal and the file several times per layer; that was most of the
    time of writing a county's scores (about 0.15 s of waiting). The file is complete
    when written either way: only a crash of the whole machine could lose what the
    operating system had not yet put on disk, as for any file written without ``fsync``.
    """
    import pyogrio

    old = pyogrio.get_gdal_config_option("OGR_SQLITE_SYNCHRONOUS")
    pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": "OFF"})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_SQLITE_SYNCHRONOUS": old})


def write_csv(
    table: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    metadata: Mapping[str, Any] | None = None,
) -> Path:
    """Write a plain table as CSV (atomically), with its metadata sidecar."""
    if metadata:
        check_writable(sidecar_path(path), overwrite=overwrite)
    with atomic_path(path, overwrite=overwrite) as tmp:
        table.to_csv(tmp, index=False, lineterminator="\n")
    if metadata:
        write_json({"url": Path(path).name, **dict(metadata)}, sidecar_path(path), overwrite=True)
    return Path(path)


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata :func:`write_layers` wrote into (or next to) a file; ``{}`` if none."""
    p = Path(path)
    fmt = output_format(p)
    if fmt == "CSV":
        side = sidecar_path(p)
        return json.loads(side.read_text(encoding="utf-8")) if side.exists() else {}
    if fmt == "GeoJSON":
        desc = json.loads(p.read_text(encoding="utf-8")).get("description", "")
        return {"description": desc} if desc else {}
    if fmt == "Parquet":
        import pyarrow.parquet as pq

        meta = pq.read_schema(p).metadata or {}
        return json.loads(meta[b"siting"]) if b"siting" in meta else {}
    import pyogrio

    items = pyogrio.read_info(p, layer=0).get("dataset_metadata") or {}
    return json.loads(items["siting_metadata"]) if "siting_metadata" in items else {}


def _parquet_metadata(path: Path, meta_json: str) -> None:
    """Add the ``siting`` key to a Parquet file's schema metadata (rewrites the file)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    meta = dict(table.schema.metadata or {})
    meta[b"siting"] = meta_json.encode("utf-8")
    pq.write_table(table.replace_schema_metadata(meta), path)


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
