"""Where a table's points are: lat/lon columns, a WKT, GeoJSON or R ``c(x, y)`` column, or x/y.

Used for CSV files (every value is text). A row whose coordinates are missing (empty,
``NA``, ``POINT EMPTY``, ``c(NA, NA)``, or lat/lon both exactly 0, the usual code of a
failed geocode) has no coordinates: it is counted and reported, not an error. A value
that is there but is not a coordinate (``north``, ``POINT (1``) is an error naming the rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from .._errors import InputError, NoCrsError
from ._spec import MISSING_TOKENS, LayerSpec, RowNames, column_list, find_column
from ._text import extract

if TYPE_CHECKING:
    from pathlib import Path

Geoms = npt.NDArray[np.object_]

_X_NAMES = ("x", "point_x", "x_coord", "xcoord", "easting", "east", "x_utm")
_Y_NAMES = ("y", "point_y", "y_coord", "ycoord", "northing", "north", "y_utm")
#: Column names that suggest a geometry column (checked first; any column is checked by content).
_GEOM_NAMES = ("geometry", "geom", "wkt", "the_geom", "shape", "geojson", "location", "point", "coordinates")
_WKT = re.compile(
    r"^\s*(SRID=\d+\s*;\s*)?(POINT|MULTIPOINT|LINESTRING|MULTILINESTRING|POLYGON|MULTIPOLYGON|"
    r"GEOMETRYCOLLECTION)\s*(Z|M|ZM)?\s*(\(|EMPTY)",
    re.IGNORECASE,
)
_GEOJSON = re.compile(r'^\s*\{.*"type"\s*:', re.DOTALL)
_RVEC = re.compile(r"^\s*c\(\s*([^,()]*)\s*,\s*([^,()]*)\s*(,[^()]*)?\)\s*$")
_RVEC_NAMED = r"^\s*c\(\s*(?P<x>[^,()]*)\s*,\s*(?P<y>[^,()]*)\s*(?:,[^()]*)?\)\s*$"
_SRID = re.compile(r"^\s*SRID=(\d+)\s*;\s*", re.IGNORECASE)
#: A "(lat, lon)" pair, as Socrata and ArcGIS exports write a location column.
_PAIR = re.compile(r"^\s*[(\[]\s*([^,()\[\]]*?)\s*,\s*([^,()\[\]]*?)\s*[)\]]\s*$")
_PAIR_NAMED = r"^\s*[(\[]\s*(?P<a>[^,()\[\]]*?)\s*,\s*(?P<b>[^,()\[\]]*?)\s*[)\]]\s*$"
#: Words in a column name that make a "(lat, lon)" pair column plausible.
_PAIR_NAMES = ("location", "latlon", "lat_lon", "lat/lon", "latlng", "coord", "point", "geo")


@dataclass
class Coordinates:
    """Points of a table (``None`` where a row has no coordinates) and how they were found."""

    geoms: Geoms
    crs: Any
    source: str  # in words, for the summary: "columns 'lat'/'lon'", "WKT column 'geometry'"
    columns: tuple[str, ...]  # the columns that held the coordinates (not kept as attributes)
    missing: npt.NDArray[np.bool_]
    problems: list[str] = field(default_factory=list)
    #: Every geometry is a 2-D point made here from numbers already checked to be finite
    #: latitudes and longitudes: without ``problems``, :func:`geometry_problems` has nothing to find.
    checked_points: bool = False


def points_of(x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> Geoms:
    """2-D points from coordinate arrays, given to shapely as one ``(n, 2)`` array (it reads
    that faster than two)."""
    return np.asarray(shapely.points(np.column_stack([x, y])), dtype=object)


def _is_missing(values: pd.Series) -> npt.NDArray[np.bool_]:
    text = values.fillna("").astype(str).str.strip().str.lower()
    return np.array(text.isin(MISSING_TOKENS), dtype=bool)


def _kind(values: pd.Series) -> str | None:
    """'wkt', 'geojson' or 'r' when every sampled non-missing value is of that form."""
    sample = values[~_is_missing(values)].head(50).astype(str)
    if sample.empty:
        return None
    for kind, pattern in (("wkt", _WKT), ("geojson", _GEOJSON), ("r", _RVEC)):
        if sample.map(lambda v, p=pattern: bool(p.match(v))).all():
            return kind
    return None


def geometry_column(frame: pd.DataFrame) -> tuple[str, str] | None:
    """The first column holding WKT, GeoJSON or R ``c(x, y)`` points (likely names first),
    else a location column of ``(lat, lon)`` pairs (by its name and content)."""
    cols = [str(c) for c in frame.columns]
    named = [c for c in cols if c.lower() in _GEOM_NAMES]
    for col in named + [c for c in cols if c not in named]:
        kind = _kind(frame[col])
        if kind is not None:
            return col, kind
    for col in cols:
        if any(w in col.lower().replace(" ", "") for w in _PAIR_NAMES):
            sample = frame[col][~_is_missing(frame[col])].head(50).astype(str)
            if not sample.empty and sample.map(lambda v: bool(_PAIR.match(v))).all():
                return col, "pair"
    return None


def _from_pair(frame: pd.DataFrame, col: str, rows: RowNames) -> Coordinates:
    """A column of ``(lat, lon)`` pairs (Socrata, ArcGIS) or ``[lon, lat]`` arrays."""
    parts = extract(frame[col].fillna("").astype(str), _PAIR_NAMED)
    a, a_missing, a_bad = _numbers(parts["a"].astype("string").fillna("").astype(object))
    b, b_missing, b_bad = _numbers(parts["b"].astype("string").fillna("").astype(object))
    first = a.to_numpy(dtype=np.float64, na_value=np.nan)
    second = b.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = _is_missing(frame[col]) | a_missing | b_missing | ((first == 0) & (second == 0))
    bad = ~missing & (a_bad | b_bad | parts["a"].isna().to_numpy())
    ok = ~missing & ~bad
    # Socrata and ArcGIS write "(lat, lon)"; a JSON-style "[x, y]" array is longitude first.
    # The ranges decide where they can (a value beyond 90 is a longitude).
    opened = frame[col][ok].astype(str).str.lstrip()
    brackets = bool(ok.any() and opened.str.startswith("[").all())
    if ok.any() and (np.abs(first[ok]) > 90).any() and (np.abs(second[ok]) <= 90).all():
        lon_first = True
    elif ok.any() and (np.abs(second[ok]) > 90).any() and (np.abs(first[ok]) <= 90).all():
        lon_first = False
    else:
        lon_first = brackets
    lat, lon = (second, first) if lon_first else (first, second)
    out = ok & ((np.abs(np.nan_to_num(lat)) > 90) | (np.abs(np.nan_to_num(lon)) > 180))
    problems = []
    if bad.any():
        where = rows.describe(np.flatnonzero(bad))
        problems.append(f"column {col!r} holds pairs that are not numbers in {where}")
    if out.any():
        where = rows.describe(np.flatnonzero(out))
        problems.append(f"column {col!r} holds points outside lat/lon ranges in {where}")
    geoms = np.full(len(frame), None, dtype=object)
    good = ok & ~out
    if good.any():
        geoms[good] = points_of(lon[good], lat[good])
    order = "(lon, lat)" if lon_first else "(lat, lon)"
    source = f"{order} pairs in column {col!r} (WGS84)"
    return Coordinates(geoms, "EPSG:4326", source, (col,), missing, problems, checked_points=True)


def plain_floats(values: pd.Series) -> npt.NDArray[np.float64] | None:
    """A text column whose every value is a decimal number of at most 15 characters and no
    exponent, as floats by Arrow's parser (C++, no Python object per value); ``None`` for
    any other column.

    With 15 digits or fewer and no exponent, both Arrow's parser and the one behind
    ``pd.to_numeric`` round exactly (the digits are an exact integer, scaled by an exact
    power of ten), so the numbers are the same to the last bit; anything else goes through
    pandas as before. (Values that are not finite are read again from the text by the caller.)
    """
    dtype = values.dtype
    if not (isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow") or len(values) == 0:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(values.array)
    if arr.null_count or pc.max(pc.utf8_length(arr)).as_py() > 15:
        return None
    # an exponent anywhere in the text (a byte search; a regular expression took 9 ms a column)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    text = arr.buffers()[2]
    if text is not None and any(e in text.to_pybytes() for e in (b"e", b"E")):
        return None
    try:
        out = pc.cast(arr, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return np.asarray(out.to_numpy(zero_copy_only=False), dtype=np.float64)


def _numbers(values: pd.Series) -> tuple[pd.Series, npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Numbers (decimal commas accepted), which rows are missing, which are not numbers.

    Plain numbers are read at C speed; only the cells that are not (empty, ``NA``,
    ``60,17``, ``sixty``) are looked at as text.
    """
    plain = plain_floats(values)
    num = (
        pd.to_numeric(values, errors="coerce").astype("float64")
        if plain is None
        else pd.Series(plain, index=values.index)
    )
    odd = np.flatnonzero(~np.isfinite(num.to_numpy(dtype=np.float64, na_value=np.nan)))
    missing = np.zeros(len(values), dtype=bool)
    bad = np.zeros(len(values), dtype=bool)
    if odd.size:
        text = values.iloc[odd].fillna("").astype(str).str.strip()
        gone = np.array(text.str.lower().isin(MISSING_TOKENS), dtype=bool)
        fixed = np.array(
            pd.to_numeric(text.str.replace(",", ".", regex=False), errors="coerce"), dtype=np.float64
        )
        fixed[gone] = np.nan
        missing[odd[gone]] = True
        bad[odd[~gone & ~np.isfinite(fixed)]] = True
        arr = num.to_numpy(dtype=np.float64, na_value=np.nan).copy()
        arr[odd] = fixed
        num = pd.Series(arr, index=values.index)
    return num, missing, bad


def _lonlat_or_crs(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64], spec: LayerSpec, path: Path, what: str
) -> Any:
    """The CRS of x/y coordinates: the one given, else WGS84 if they fit degrees, else an error."""
    if spec.crs is not None:
        return spec.crs
    ok = np.isfinite(x) & np.isfinite(y)
    if not ok.any() or ((np.abs(x[ok]) <= 180).all() and (np.abs(y[ok]) <= 90).all()):
        return "EPSG:4326"
    msg = (
        f"{path}: {what} holds projected coordinates but the CSV has no CRS; give it with "
        "--csv-crs (e.g. EPSG:2926) or `crs` in the scenario file"
    )
    raise NoCrsError(msg)


def _from_lat_lon(frame: pd.DataFrame, lat_col: str, lon_col: str, rows: RowNames) -> Coordinates:
    lat, lat_missing, lat_bad = _numbers(frame[lat_col])
    lon, lon_missing, lon_bad = _numbers(frame[lon_col])
    problems = []
    for col, bad in ((lat_col, lat_bad), (lon_col, lon_bad)):
        if bad.any():
            problems.append(f"column {col!r} is not a number in {rows.describe(np.flatnonzero(bad))}")
    la = lat.to_numpy(dtype=np.float64, na_value=np.nan)
    lo = lon.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = lat_missing | lon_missing | ((la == 0) & (lo == 0))
    ok = ~missing & ~lat_bad & ~lon_bad
    if not problems:
        lat_out = ok & (np.abs(np.nan_to_num(la)) > 90)
        lon_out = ok & (np.abs(np.nan_to_num(lo)) > 180)
        if (
            lat_out.any()
            and not (ok & (np.abs(np.nan_to_num(la)) > 180)).any()
            and (np.abs(lo[ok]) <= 90).all()
        ):
            problems.append(
                f"column {lat_col!r} has values beyond ±90 in {rows.describe(np.flatnonzero(lat_out))} while "
                f"{lon_col!r} fits latitude: latitude and longitude look swapped; swap the column names "
                "or pass --lat-column/--lon-column"
            )
        else:
            if lat_out.any():
                problems.append(
                    f"latitude in column {lat_col!r} is outside -90..90 in {rows.describe(np.flatnonzero(lat_out))}"
                )
            if lon_out.any():
                problems.append(
                    f"longitude in column {lon_col!r} is outside -180..180 in {rows.describe(np.flatnonzero(lon_out))}"
                )
    geoms = np.full(len(frame), None, dtype=object)
    if ok.any():
        geoms[ok] = points_of(lo[ok], la[ok])
    # latitude/longitude are WGS84 degrees; `crs` is for x/y and geometry columns
    return Coordinates(
        geoms,
        "EPSG:4326",
        f"columns {lat_col!r}/{lon_col!r} (WGS84)",
        (lat_col, lon_col),
        missing,
        problems,
        checked_points=True,
    )


def _from_xy(
    frame: pd.DataFrame, x_col: str, y_col: str, rows: RowNames, spec: LayerSpec, path: Path
) -> Coordinates:
    x, x_missing, x_bad = _numbers(frame[x_col])
    y, y_missing, y_bad = _numbers(frame[y_col])
    problems = [
        f"column {col!r} is not a number in {rows.describe(np.flatnonzero(bad))}"
        for col, bad in ((x_col, x_bad), (y_col, y_bad))
        if bad.any()
    ]
    xs = x.to_numpy(dtype=np.float64, na_value=np.nan)
    ys = y.to_numpy(dtype=np.float64, na_value=np.nan)
    missing = x_missing | y_missing
    ok = ~missing & ~x_bad & ~y_bad
    crs = _lonlat_or_crs(xs[ok], ys[ok], spec, path, f"columns {x_col!r}/{y_col!r}")
    missing |= (xs == 0) & (ys == 0)
    ok &= ~missing
    geoms = np.full(len(frame), None, dtype=object)
    if ok.any():
        geoms[ok] = points_of(xs[ok], ys[ok])
    return Coordinates(geoms, crs, f"columns {x_col!r}/{y_col!r} ({crs})", (x_col, y_col), missing, problems)


def _from_geometry_column(
    frame: pd.DataFrame, col: str, kind: str, rows: RowNames, spec: LayerSpec, path: Path
) -> Coordinates:
    values = frame[col].fillna("").astype(str)
    missing = _is_missing(values)
    geoms = np.full(len(frame), None, dtype=object)
    todo = ~missing
    crs: Any = spec.crs
    if kind == "r":
        parts = extract(values, _RVEC_NAMED)
        px, py = parts["x"].astype("str").str.strip(), parts["y"].astype("str").str.strip()
        x = np.array(pd.to_numeric(px, errors="coerce"), dtype=np.float64)
        y = np.array(pd.to_numeric(py, errors="coerce"), dtype=np.float64)
        matched = parts["x"].notna().to_numpy()
        empty_vec = matched & np.array(
            px.str.lower().isin(MISSING_TOKENS) | py.str.lower().isin(MISSING_TOKENS), dtype=bool
        )
        missing |= empty_vec
        bad = todo & ~empty_vec & ~(matched & np.isfinite(x) & np.isfinite(y))
        ok = todo & ~empty_vec & ~bad
        if ok.any():
            geoms[ok] = points_of(x[ok], y[ok])
        what, source = "R c(x, y) values", f"R c(x, y) column {col!r}"
    else:
        text = values.copy()
        if kind == "wkt":
            srid = text.str.extract(_SRID)[0]
            srids = sorted(set(srid.dropna()))
            if len(srids) == 1 and crs is None:
                crs = f"EPSG:{srids[0]}"
            text = text.str.replace(_SRID, "", regex=True)
            parsed = shapely.from_wkt(text.to_numpy(dtype=object), on_invalid="ignore")
            what, source = "WKT", f"WKT column {col!r}"
        else:
            parsed = shapely.from_geojson(text.to_numpy(dtype=object), on_invalid="ignore")
            crs = crs or "EPSG:4326"  # RFC 7946: GeoJSON coordinates are WGS84
            what, source = "GeoJSON", f"GeoJSON column {col!r}"
        parsed = np.asarray(parsed, dtype=object)
        parsed[missing] = None
        got = np.array([g is not None for g in parsed], dtype=bool)
        empty = got & shapely.is_empty(np.where(got, parsed, shapely.Point()))
        missing |= empty
        bad = todo & ~got
        ok = got & ~empty
        geoms[ok] = parsed[ok]
    problems = []
    if bad.any():
        problems.append(
            f"column {col!r} holds {what} that cannot be read in {rows.describe(np.flatnonzero(bad))}; fix those values"
        )
    if crs is None:
        xy = shapely.get_coordinates(geoms[ok]) if ok.any() else np.zeros((0, 2))
        crs = _lonlat_or_crs(xy[:, 0], xy[:, 1], spec, path, f"column {col!r}")
    return Coordinates(geoms, crs, f"{source} ({crs})", (col,), missing & ~bad, problems)


def find_coordinates(frame: pd.DataFrame, spec: LayerSpec, path: Path, rows: RowNames) -> Coordinates:
    """The points of a CSV table, by the first of these that the table has.

    1. latitude/longitude columns (named with ``lat_column``/``lon_column``, or found by
       their usual names);
    2. a column of WKT (``POINT (x y)``, EWKT's ``SRID=...;`` read as its CRS), GeoJSON
       or R's ``c(x, y)`` (found by its content; x is longitude in WGS84), else a location
       column of ``(lat, lon)`` pairs as Socrata and ArcGIS write them;
    3. x/y columns (projected coordinates need ``crs``).
    """
    cols = list(frame.columns)
    lat_col = find_column(cols, "lat", spec.lat_column, path)
    lon_col = find_column(cols, "lon", spec.lon_column, path)
    if lat_col is not None and lon_col is not None:
        return _from_lat_lon(frame, lat_col, lon_col, rows)
    hard = (spec.lat_column and not spec.lat_column.startswith("?")) or (
        spec.lon_column and not spec.lon_column.startswith("?")
    )
    if not hard:
        found = geometry_column(frame)
        if found is not None and found[1] == "pair":
            return _from_pair(frame, found[0], rows)
        if found is not None:
            return _from_geometry_column(frame, found[0], found[1], rows, spec, path)
        lower = {c.lower(): c for c in reversed([str(c) for c in cols])}
        x_col = next((lower[c] for c in _X_NAMES if c in lower), None)
        y_col = next((lower[c] for c in _Y_NAMES if c in lower), None)
        if x_col is not None and y_col is not None:
            return _from_xy(frame, x_col, y_col, rows, spec, path)
    msg = (
        f"{path}: no coordinates found: no latitude/longitude columns and no column of WKT, GeoJSON, "
        f"R c(x, y) or (lat, lon) points (columns are {column_list(cols)}); name them lat and lon or pass "
        "--lat-column/--lon-column"
    )
    raise InputError(msg)


def geometry_problems(geoms: npt.NDArray[np.object_], crs: Any, rows: RowNames, role: str) -> list[str]:
    """Invalid geometry, lines, and coordinates outside lat/lon ranges (rows with a geometry)."""
    problems: list[str] = []
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        problems.append(
            f"{rows.describe(np.flatnonzero(invalid))} {'has' if int(np.count_nonzero(invalid)) == 1 else 'have'} invalid geometry "
            "(e.g. self-intersecting polygons); repair them (QGIS: Fix geometries)"
        )
    lines = np.isin(shapely.get_type_id(geoms), (1, 2, 5))
    if lines.any():
        verb = "is a line" if lines.sum() == 1 else "are lines"
        problems.append(
            f"{rows.describe(np.flatnonzero(lines))} {verb}; {'an' if role[0] in 'aeiou' else 'a'} {role} "
            "layer needs points or polygons (outlines drawn as lines, such as school grounds, belong in "
            "--exclude, which reads closed lines as areas: siting inspect FILE --role exclusion)"
        )
    if crs is not None and getattr(crs, "is_geographic", False):
        xy = shapely.get_coordinates(geoms[~invalid])
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
