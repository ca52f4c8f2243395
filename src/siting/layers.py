"""Read and validate point layers: incidents, services, candidates and any extra layer.

Every layer comes out in one shape: a GeoDataFrame of points with a text ``id``, a float
``weight`` (1 where the file has none), optional ``date``, ``fatal`` and ``name`` columns,
the file's other columns kept as they are, and the file's CRS. Problems are collected and
reported in one message that names the file, the rows or columns, and the fix.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from ._errors import (
    CrsMismatchError,
    InputError,
    InputFileNotFoundError,
    NoCrsError,
    UnknownFormatError,
)

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

#: Roles a layer can play. ``attract``/``avoid`` are extra layers that raise or lower a score.
ROLES = ("demand", "services", "candidates", "attract", "avoid")
READ_FORMATS = {
    ".csv": "CSV",
    ".txt": "CSV",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "zipped Shapefile",
    ".parquet": "GeoParquet",
    ".geoparquet": "GeoParquet",
}
#: Conventional column names, matched case-insensitively, first match wins.
CONVENTIONS: dict[str, tuple[str, ...]] = {
    "id": ("id", "site_id", "candidate_id", "fid", "objectid", "gid", "uid", "code"),
    "weight": ("weight", "w", "count", "n", "incidents"),
    "lat": ("lat", "latitude", "y_lat", "lat_dd", "ycoord_wgs84"),
    "lon": ("lon", "lng", "long", "longitude", "x_lon", "lon_dd", "xcoord_wgs84"),
    "date": ("date", "datetime", "timestamp", "time", "incident_date", "occurred", "occurred_at"),
    "fatal": ("fatal", "is_fatal", "death", "died", "deceased", "outcome_fatal"),
    "name": ("name", "site_name", "title", "label"),
}
_MAX_LISTED = 5


@dataclass
class LayerSpec:
    """Where a layer is and how to read it.

    Column options left ``None`` are found by :data:`CONVENTIONS`; a named column that
    does not exist is an error.
    """

    path: str | os.PathLike[str]
    role: str = "demand"
    name: str | None = None
    weight: float = 1.0
    id_column: str | None = None
    weight_column: str | None = None
    lat_column: str | None = None
    lon_column: str | None = None
    date_column: str | None = None
    fatal_column: str | None = None
    name_column: str | None = None
    layer: str | None = None
    crs: str | None = None
    polygons: str = "representative"
    options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            msg = f"{self.path}: unknown layer role {self.role!r}; use one of {', '.join(ROLES)}"
            raise InputError(msg)
        if self.polygons not in ("representative", "centroid"):
            msg = f"{self.path}: `polygons` must be 'representative' or 'centroid', not {self.polygons!r}"
            raise InputError(msg)
        if self.name is None:
            self.name = self.role if self.role in ("demand", "services", "candidates") else _stem(self.path)


def _stem(path: str | os.PathLike[str]) -> str:
    name = Path(path).name
    for suffix in sorted(READ_FORMATS, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return Path(path).stem


def _rows(positions: Any) -> str:
    """'rows 2, 5, 9 and 3 more' from 0-based positions (reported as file rows, header = row 1)."""
    pos = [int(p) for p in positions]
    shown = ", ".join(str(p + 2) for p in pos[:_MAX_LISTED])
    more = f" and {len(pos) - _MAX_LISTED} more" if len(pos) > _MAX_LISTED else ""
    word = "row" if len(pos) == 1 else "rows"
    return f"{word} {shown}{more}"


def _features(positions: Any) -> str:
    pos = [int(p) for p in positions]
    shown = ", ".join(str(p + 1) for p in pos[:_MAX_LISTED])
    more = f" and {len(pos) - _MAX_LISTED} more" if len(pos) > _MAX_LISTED else ""
    word = "feature" if len(pos) == 1 else "features"
    return f"{word} {shown}{more}"


def _find_column(columns: Any, key: str, given: str | None, path: Path) -> str | None:
    cols = [str(c) for c in columns]
    soft = given is not None and given.startswith("?")
    if soft:  # a CLI-wide hint: use it where the file has it, else the conventions
        hint = given[1:]  # type: ignore[index]
        lower_cols = {c.lower(): c for c in cols}
        if hint in cols or hint.lower() in lower_cols:
            given = hint
        else:
            given = None
    if given is not None:
        if given in cols:
            return given
        lower = {c.lower(): c for c in cols}
        if given.lower() in lower:
            return lower[given.lower()]
        msg = f"{path}: column {given!r} (given for `{key}`) not found; columns are {', '.join(cols[:20])}"
        raise InputError(msg)
    lower = {c.lower(): c for c in cols}
    for cand in CONVENTIONS[key]:
        if cand in lower:
            return lower[cand]
    return None


def detect_format(path: str | os.PathLike[str]) -> str:
    """The reader for a path by its extension, or a clear error."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in READ_FORMATS:
        msg = (
            f"{p}: unknown layer format {suffix or '(no extension)'!r}; use .csv (lat/lon columns), "
            ".geojson, .gpkg, .shp or .parquet"
        )
        raise UnknownFormatError(msg)
    return READ_FORMATS[suffix]


def read_layer(spec: LayerSpec) -> gpd.GeoDataFrame:
    """Read one layer into the common shape (see module docstring).

    Raises
    ------
    InputFileNotFoundError, UnknownFormatError, NoCrsError, InputError
        With the file, rows or columns and what to do, every problem at once.
    """
    import geopandas as gpd

    path = Path(spec.path)
    fmt = detect_format(path)
    if not path.exists():
        msg = f"{path}: file not found (the {spec.role} layer); check the path"
        raise InputFileNotFoundError(msg)
    if fmt == "CSV":
        gdf = _read_csv(path, spec)
        row_word = _rows
    else:
        gdf = _read_vector(path, spec)
        row_word = _features
    if len(gdf) == 0:
        msg = f"{path}: the {spec.role} layer is empty; it needs at least one feature"
        raise InputError(msg)

    problems: list[str] = []
    cols = list(gdf.columns.drop("geometry"))
    out = gpd.GeoDataFrame(index=pd.RangeIndex(len(gdf)), geometry=gdf.geometry.values, crs=gdf.crs)

    id_col = _find_column(cols, "id", spec.id_column, path)
    if id_col is not None:
        ids = gdf[id_col]
        missing = ids.isna().to_numpy()
        if missing.any():
            problems.append(
                f"column {id_col!r} is empty in {row_word(np.flatnonzero(missing))}: give every feature an id"
            )
        out["id"] = ids.astype("string").fillna("").str.strip().to_numpy(dtype=object)
    else:
        out["id"] = [str(i + 1) for i in range(len(gdf))]
    if spec.role == "candidates":
        dup = pd.Series(out["id"]).duplicated(keep=False).to_numpy()
        if dup.any():
            values = sorted(set(out["id"][dup]))[:_MAX_LISTED]
            problems.append(
                f"duplicate candidate ids {', '.join(map(repr, values))} in {row_word(np.flatnonzero(dup))} "
                f"of column {id_col or '(row number)'!r}: candidate ids must be unique"
            )

    w_col = _find_column(cols, "weight", spec.weight_column, path)
    if w_col is not None:
        w = pd.to_numeric(gdf[w_col], errors="coerce")
        bad = (w.isna() | ~np.isfinite(w.fillna(0)) | (w < 0)).to_numpy()
        if bad.any():
            problems.append(f"column {w_col!r} must be a number >= 0; not in {row_word(np.flatnonzero(bad))}")
        out["weight"] = w.fillna(0).astype("float64").to_numpy()
    else:
        out["weight"] = 1.0

    d_col = _find_column(cols, "date", spec.date_column, path)
    if d_col is not None:
        raw = gdf[d_col]
        dates = (
            pd.to_datetime(raw, errors="coerce", utc=False, format="mixed")
            if raw.dtype == object or str(raw.dtype).startswith("str")
            else pd.to_datetime(raw, errors="coerce")
        )
        bad = (dates.isna() & raw.notna()).to_numpy()
        if bad.any():
            problems.append(
                f"column {d_col!r} has values that are not dates in {row_word(np.flatnonzero(bad))}; "
                "use ISO dates like 2025-03-31 or 2025-03-31T22:15"
            )
        out["date"] = dates.to_numpy()

    f_col = _find_column(cols, "fatal", spec.fatal_column, path)
    if f_col is not None:
        fatal, bad = _parse_bool(gdf[f_col])
        if bad.any():
            problems.append(
                f"column {f_col!r} must be true/false, yes/no or 1/0; not in {row_word(np.flatnonzero(bad))}"
            )
        out["fatal"] = fatal

    n_col = _find_column(cols, "name", spec.name_column, path)
    if n_col is not None:
        out["name"] = gdf[n_col].astype("string").fillna("").to_numpy(dtype=object)

    used = {c for c in (w_col, d_col, f_col, n_col) if c}  # the id column is kept as the user named it
    used |= set(gdf.attrs.get("coordinate_columns", ()))
    for c in cols:
        if c not in used and c not in out.columns:
            out[c] = gdf[c].to_numpy()

    geom_problems = _check_geometry(out, row_word, spec)
    problems.extend(geom_problems)
    if problems:
        msg = f"{path}: " + "; ".join(problems)
        raise InputError(msg)
    out = out.set_geometry(_as_points(out.geometry, spec.polygons))
    out.attrs["source"] = str(path)
    out.attrs["role"] = spec.role
    out.attrs["layer_name"] = spec.name
    return out


def _parse_bool(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    truthy = {"1", "true", "t", "yes", "y", "fatal", "death", "died"}
    falsy = {"0", "false", "f", "no", "n", "non-fatal", "nonfatal", "", "nan", "none", "<na>"}
    text = series.astype("string").fillna("").str.strip().str.lower()
    text = text.str.replace(r"\.0$", "", regex=True)
    is_true = text.isin(truthy).to_numpy()
    is_false = text.isin(falsy).to_numpy()
    return is_true, ~(is_true | is_false)


def _check_geometry(gdf: gpd.GeoDataFrame, row_word: Any, spec: LayerSpec) -> list[str]:
    problems: list[str] = []
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.all():
        return ["no feature has a geometry; give point geometries or lat/lon columns"]
    if missing.any():
        problems.append(f"{row_word(np.flatnonzero(missing))} have no geometry; remove or fix them")
    invalid = ~missing & ~shapely.is_valid(geoms)
    if invalid.any():
        problems.append(
            f"{row_word(np.flatnonzero(invalid))} have invalid geometry "
            "(e.g. self-intersecting polygons); repair them (QGIS: Fix geometries)"
        )
    kinds = shapely.get_type_id(geoms[~missing])
    lines = np.isin(kinds, (1, 2, 5))
    if lines.any():
        problems.append(
            f"{row_word(np.flatnonzero(~missing)[lines])} are lines; a {spec.role} layer needs points or polygons"
        )
    if gdf.crs is None:
        return problems
    if gdf.crs.is_geographic:
        xy = shapely.get_coordinates(geoms[~missing & ~invalid])
        if xy.size:
            bad_lat = np.abs(xy[:, 1]) > 90
            bad_lon = np.abs(xy[:, 0]) > 180
            if bad_lat.any() or bad_lon.any():
                hint = (
                    "latitude and longitude look swapped"
                    if bad_lat.any() and not (np.abs(xy[:, 1]) > 180).any() and (np.abs(xy[:, 0]) <= 90).all()
                    else "coordinates are outside -90..90 latitude / -180..180 longitude"
                )
                problems.append(f"{hint}; check the columns or the layer's CRS")
    return problems


def _as_points(geoms: gpd.GeoSeries, how: str) -> gpd.GeoSeries:
    arr = np.asarray(geoms.values, dtype=object)
    kinds = shapely.get_type_id(arr)
    poly = np.isin(kinds, (3, 6, 7))
    if poly.any():
        if how == "centroid":
            arr[poly] = shapely.centroid(arr[poly])
        else:
            arr[poly] = shapely.point_on_surface(arr[poly])
    multi = kinds == 4
    if multi.any():
        arr[multi] = shapely.centroid(arr[multi])
    return geoms.__class__(arr, crs=geoms.crs, index=geoms.index)


def _read_csv(path: Path, spec: LayerSpec) -> gpd.GeoDataFrame:
    import geopandas as gpd

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding_errors="replace")
    except pd.errors.EmptyDataError:
        msg = f"{path}: the {spec.role} layer is empty; it needs a header row and at least one row"
        raise InputError(msg) from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        msg = (
            f"{path}: not a readable CSV file ({str(exc).splitlines()[0]}); save it as comma-separated UTF-8"
        )
        raise InputError(msg) from None
    lat_col = _find_column(df.columns, "lat", spec.lat_column, path)
    lon_col = _find_column(df.columns, "lon", spec.lon_column, path)
    wkt_col = next((c for c in df.columns if c.lower() in ("geometry", "wkt", "geom")), None)
    if (lat_col is None or lon_col is None) and spec.lat_column is None and spec.lon_column is None:
        lower = {c.lower(): c for c in df.columns}
        x_col = next((lower[c] for c in _X_NAMES if c in lower), None)
        y_col = next((lower[c] for c in _Y_NAMES if c in lower), None)
        if x_col is not None and y_col is not None:
            return _read_csv_xy(path, df, x_col, y_col, spec)
    if lat_col is None or lon_col is None:
        if wkt_col is not None and spec.crs is not None:
            geoms = shapely.from_wkt(df[wkt_col].fillna("").to_numpy(), on_invalid="ignore")
            gdf = gpd.GeoDataFrame(df.drop(columns=[wkt_col]), geometry=geoms, crs=spec.crs)
            gdf.attrs["coordinate_columns"] = (wkt_col,)
            return gdf
        msg = (
            f"{path}: no latitude/longitude columns found (columns are {', '.join(df.columns[:12])}); "
            "name them lat and lon or pass --lat-column/--lon-column"
        )
        raise InputError(msg)
    if len(df) == 0:
        return gpd.GeoDataFrame(df, geometry=[], crs=4326)
    lat = pd.to_numeric(df[lat_col].str.strip().str.replace(",", ".", regex=False), errors="coerce")
    lon = pd.to_numeric(df[lon_col].str.strip().str.replace(",", ".", regex=False), errors="coerce")
    problems = []
    for col, vals in ((lat_col, lat), (lon_col, lon)):
        bad = (vals.isna() | ~np.isfinite(vals.fillna(0))).to_numpy()
        if bad.any():
            problems.append(f"column {col!r} is not a number in {_rows(np.flatnonzero(bad))}")
    if not problems:
        lat_out = (lat.abs() > 90).to_numpy()
        lon_out = (lon.abs() > 180).to_numpy()
        if lat_out.any() and not (lat.abs() > 180).any() and (lon.abs() <= 90).all():
            problems.append(
                f"column {lat_col!r} has values beyond ±90 in {_rows(np.flatnonzero(lat_out))} while "
                f"{lon_col!r} fits latitude: latitude and longitude look swapped; swap the column names "
                "or pass --lat-column/--lon-column"
            )
        else:
            if lat_out.any():
                problems.append(
                    f"latitude in column {lat_col!r} is outside -90..90 in {_rows(np.flatnonzero(lat_out))}"
                )
            if lon_out.any():
                problems.append(
                    f"longitude in column {lon_col!r} is outside -180..180 in {_rows(np.flatnonzero(lon_out))}"
                )
    if problems:
        msg = f"{path}: " + "; ".join(problems)
        raise InputError(msg)
    crs = "EPSG:4326"  # latitude/longitude are WGS84 degrees; `crs` is for x/y columns
    gdf = gpd.GeoDataFrame(df, geometry=shapely.points(lon.to_numpy(), lat.to_numpy()), crs=crs)
    gdf.attrs["coordinate_columns"] = (lat_col, lon_col)
    return gdf


_X_NAMES = ("x", "point_x", "x_coord", "xcoord", "easting", "east", "x_utm")
_Y_NAMES = ("y", "point_y", "y_coord", "ycoord", "northing", "north", "y_utm")


def _read_csv_xy(path: Path, df: pd.DataFrame, x_col: str, y_col: str, spec: LayerSpec) -> gpd.GeoDataFrame:
    """A CSV with x/y columns: projected coordinates need the layer's CRS (``--csv-crs``)."""
    import geopandas as gpd

    x = pd.to_numeric(df[x_col].str.strip(), errors="coerce")
    y = pd.to_numeric(df[y_col].str.strip(), errors="coerce")
    problems = [
        f"column {col!r} is not a number in {_rows(np.flatnonzero(v.isna().to_numpy()))}"
        for col, v in ((x_col, x), (y_col, y))
        if v.isna().any()
    ]
    if problems:
        msg = f"{path}: " + "; ".join(problems)
        raise InputError(msg)
    crs = spec.crs
    if crs is None:
        if (x.abs() <= 180).all() and (y.abs() <= 90).all():
            crs = "EPSG:4326"
        else:
            msg = (
                f"{path}: columns {x_col!r}/{y_col!r} hold projected coordinates but the CSV has no CRS; "
                "give it with --csv-crs (e.g. EPSG:2926) or `crs` in the scenario file"
            )
            raise NoCrsError(msg)
    gdf = gpd.GeoDataFrame(df, geometry=shapely.points(x.to_numpy(), y.to_numpy()), crs=crs)
    gdf.attrs["coordinate_columns"] = (y_col, x_col)
    return gdf


def _read_vector(path: Path, spec: LayerSpec) -> gpd.GeoDataFrame:
    import geopandas as gpd
    import pyogrio

    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".geoparquet"):
            try:
                gdf = gpd.read_parquet(path)
            except ValueError as exc:
                msg = f"{path}: not a GeoParquet file with a geometry column ({exc}); write it with GeoPandas' to_parquet"
                raise InputError(msg) from None
        else:
            kwargs: dict[str, Any] = {}
            if spec.layer is not None:
                kwargs["layer"] = spec.layer
            elif suffix == ".gpkg":
                layers = pyogrio.list_layers(path)
                if len(layers) > 1:
                    names = ", ".join(str(n) for n in layers[:, 0])
                    msg = f"{path}: the GeoPackage has several layers ({names}); name one with `layer`"
                    raise InputError(msg)
            gdf = gpd.read_file(path, engine="pyogrio", **kwargs)
    except InputError:
        raise
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        msg = f"{path}: cannot read this {READ_FORMATS[suffix]} file ({str(exc).splitlines()[0]}); check the file"
        raise InputError(msg) from None
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        msg = f"{path}: the file has no geometry column; give point geometries or use a CSV with lat/lon columns"
        raise InputError(msg)
    if spec.crs is not None and gdf.crs is None:
        gdf = gdf.set_crs(spec.crs)
    if gdf.crs is None and len(gdf):
        msg = (
            f"{path}: the layer has no coordinate reference system (a Shapefile without .prj?); "
            "add one in QGIS or give `crs` (e.g. EPSG:4326)"
        )
        raise NoCrsError(msg)
    return gdf


def to_network_crs(gdf: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """Reproject a layer to the network's CRS (raise if the layer has none)."""
    if gdf.crs is None:
        msg = f"{gdf.attrs.get('source', 'layer')}: no CRS; set one before combining with the network"
        raise NoCrsError(msg)
    out = gdf.to_crs(crs)
    out.attrs = dict(gdf.attrs)
    return out


def check_same_crs(a: gpd.GeoDataFrame, b: gpd.GeoDataFrame) -> None:
    """Raise when two layers that must share a CRS do not (for projected user inputs)."""
    if a.crs is not None and b.crs is not None and not a.crs.equals(b.crs):
        msg = (
            f"{a.attrs.get('source', 'layer')} is in {a.crs.name} but {b.attrs.get('source', 'layer')} "
            f"is in {b.crs.name}; reproject one of them"
        )
        raise CrsMismatchError(msg)


def read_polygons(
    path: str | os.PathLike[str], *, name_column: str | None = None, layer: str | None = None
) -> gpd.GeoDataFrame:
    """Read a polygon layer (regions, exclusion zones) with a text ``name`` column."""
    spec = LayerSpec(path=path, role="candidates", name="polygons", layer=layer)
    p = Path(path)
    fmt = detect_format(p)
    if not p.exists():
        msg = f"{p}: file not found; check the path"
        raise InputFileNotFoundError(msg)
    if fmt == "CSV":
        msg = f"{p}: a polygon layer must be GeoJSON, GeoPackage, Shapefile or GeoParquet, not CSV"
        raise UnknownFormatError(msg)
    gdf = _read_vector(p, spec)
    if len(gdf) == 0:
        msg = f"{p}: the polygon layer is empty"
        raise InputError(msg)
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    kinds = shapely.get_type_id(geoms)
    bad = ~np.isin(kinds, (0, 3, 6))
    if bad.any():
        msg = (
            f"{p}: {_features(np.flatnonzero(bad))} are not polygons (points allowed only as buffer origins)"
        )
        raise InputError(msg)
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        gdf = gdf.copy()
        gdf.loc[invalid, gdf.geometry.name] = shapely.make_valid(geoms[invalid])
        log.warning("%s: repaired invalid polygons in %s", p, _features(np.flatnonzero(invalid)))
    col = _find_column(gdf.columns.drop(gdf.geometry.name), "name", name_column, p)
    if col is None:
        col = _find_column(gdf.columns.drop(gdf.geometry.name), "id", None, p)
    out = gdf.copy()
    out["name"] = (
        out[col].astype("string").fillna("").to_numpy(dtype=object)
        if col
        else [f"{_stem(p)} {i + 1}" for i in range(len(out))]
    )
    out.attrs["source"] = str(p)
    return out
