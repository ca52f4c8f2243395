"""Read one point layer into the common shape, with the accounting of every row.

Steps, in order: read the file; keep the rows the ``where`` filter selects; read the
dates and keep those within ``since``/``until``; find the coordinates (rows without any
are counted as failed geocodes and left out, except in a candidates layer where they are
an error); check ids, weights and flags of the rows kept; drop duplicate calls (demand).
Every problem found is reported at once, in one message.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from .. import settings
from .._errors import InputError, InputFileNotFoundError, NoCrsError, UnknownFormatError
from ..zones import dates_in_one_zone
from ._coords import find_coordinates, geometry_problems, plain_floats
from ._csv import read_csv_table
from ._dates import date_like_column, has_time_of_day, parse_bound, parse_dates, read_times, time_column
from ._flags import flag_problem, flag_rule, parse_flags, read_flags
from ._intake import Intake, Step, find_duplicates, metre_xy, summarise_status
from ._spec import MAX_LISTED, READ_FORMATS, LayerSpec, RowNames, column_list, find_column, listed
from ._where import table_mask, vector_mask

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

_FLAGS = {"demand": "--demand-where", "candidates": "--candidates-where", "services": "--services-where"}


def detect_format(path: str | Path) -> str:
    """The reader for a path by its extension, or a clear error."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix not in READ_FORMATS:
        msg = (
            f"{p}: unknown layer format {suffix or '(no extension)'!r}; use .csv (lat/lon, WKT or "
            "GeoJSON column), .geojson, .gpkg, .shp or .parquet"
        )
        raise UnknownFormatError(msg)
    return READ_FORMATS[suffix]


def where_flag(spec: LayerSpec) -> str:
    """How the user gave this layer's filter, for messages."""
    if spec.where_flag:
        return spec.where_flag
    if spec.role in _FLAGS and spec.name == spec.role:
        return _FLAGS[spec.role]
    return f"where (layer {spec.name})"


def _read_vector(path: Path, spec: LayerSpec) -> tuple[gpd.GeoDataFrame, npt.NDArray[np.int64] | None]:
    """A vector file and the GDAL feature ids of its rows (``None`` for GeoParquet)."""
    import geopandas as gpd
    import pyogrio

    suffix = path.suffix.lower()
    fids = None
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
            gdf = gpd.read_file(path, engine="pyogrio", fid_as_index=True, **kwargs)
            fids = gdf.index.to_numpy(dtype=np.int64)
            gdf = gdf.reset_index(drop=True)
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
    return gdf, fids


_parse_bool = parse_flags  # the one flag reader (layers/_flags.py)


def _text(series: pd.Series) -> pd.Series:
    return series.astype("str").fillna("").str.strip()


def _column(values: pd.Series) -> Any:
    """A column of the layer as the file has it: text stays in pandas' ``str`` arrays (as
    it would be inferred again from Python strings, without making them); the rest as numpy."""
    if isinstance(values.dtype, pd.StringDtype) and values.notna().any():
        return values.astype("str").array
    return values.to_numpy()


def _have(mask: npt.NDArray[np.bool_]) -> str:
    return "has" if int(np.count_nonzero(mask)) == 1 else "have"


def _as_points(geoms: npt.NDArray[np.object_], how: str) -> npt.NDArray[np.object_]:
    arr = np.asarray(geoms, dtype=object).copy()
    kinds = shapely.get_type_id(arr)
    poly = np.isin(kinds, (3, 6, 7))
    if poly.any():
        arr[poly] = shapely.centroid(arr[poly]) if how == "centroid" else shapely.point_on_surface(arr[poly])
    multi = kinds == 4
    if multi.any():
        arr[multi] = shapely.centroid(arr[multi])
    return arr


class _Who:
    """Names rows for reports: the layer's own ids where it has an id column, else ``row 7``."""

    def __init__(self, ids: npt.NDArray[np.object_] | None, rows: RowNames) -> None:
        self.ids, self.rows = ids, rows

    def __call__(self, positions: npt.NDArray[np.int64]) -> list[str]:
        if self.ids is not None:
            return [
                str(v) or self.rows.labels([p])[0]
                for v, p in zip(self.ids[positions], positions, strict=True)
            ]
        return self.rows.labels(positions)

    def describe(self, positions: npt.NDArray[np.int64]) -> str:
        if self.ids is not None:
            return listed(self(positions), "id")
        return self.rows.describe(positions)


def read_layer(spec: LayerSpec) -> gpd.GeoDataFrame:
    """Read one layer into the common shape: a GeoDataFrame of points.

    Columns: a text ``id`` (the layer's id column, else the row or feature number), a
    float ``weight`` (1 where the file has none), optional ``date``, ``fatal`` and
    ``name``, the file's other columns as they are; the file's CRS. ``attrs`` holds
    ``intake`` (an :class:`Intake`: what was read, removed and why), ``row_names``
    (each row as the file names it), ``id_column``, ``source``, ``role``,
    ``layer_name`` and ``coordinate_columns``.

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
    fids = None
    r_rows = 0
    if fmt == "CSV":
        table = read_csv_table(path, spec.role)
        frame: pd.DataFrame = table.frame
        rows = RowNames("row", table.lines)
        r_rows = table.r_rows
        geom_col = None
    else:
        frame, fids = _read_vector(path, spec)
        rows = RowNames("feature", np.arange(1, len(frame) + 1, dtype=np.int64))
        geom_col = frame.geometry.name
    n = len(frame)
    if n == 0:
        msg = f"{path}: the {spec.role} layer is empty; it needs at least one feature"
        raise InputError(msg)
    cols = [c for c in frame.columns if c != geom_col]
    intake = Intake(
        name=str(spec.name), role=spec.role, path=str(path), format=fmt, rows_read=n, row_word=rows.word
    )
    if r_rows:
        intake.notes.append(
            f"{r_rows:,} rows had more fields than the header because of R's unquoted c(x, y) point, read as one value"
        )
    problems: list[str] = []

    id_col = find_column(cols, "id", spec.id_column, path)
    id_text = _text(frame[id_col]) if id_col is not None else None
    ids_all = id_text.to_numpy(dtype=object) if id_text is not None else None
    intake.id_column = id_col
    who_all = _Who(ids_all, rows)
    keep = np.ones(n, dtype=bool)

    # ---- filters on the file's own columns
    if spec.where:
        flag = where_flag(spec)
        if fids is not None:
            mask = vector_mask(path, spec.layer, spec.where, fids, flag=flag, columns=cols)
        else:
            mask = table_mask(frame[cols], spec.where, flag=flag, path=path)
        out = np.flatnonzero(~mask)
        intake.add(Step("where", int(out.size), spec.where, who_all(out)))
        keep &= mask
        if not keep.any():
            msg = (
                f"{path}: `{flag}` {spec.where!r} leaves none of the {n:,} rows of the {spec.role} layer; "
                "check the column names and values (siting inspect shows them)"
            )
            raise InputError(msg)

    d_col = find_column(cols, "date", spec.date_column, path)
    if d_col is None and spec.date_column is None:
        d_col = date_like_column(frame, cols, keep)
    dates = None
    zone = ""  # the zone hours of day are read in (siting.zones)
    if (spec.since or spec.until) and d_col is None:
        problems.append(
            f"`since`/`until` need a date column and none was found (columns are {column_list(cols)}); "
            "name it with --date-column"
        )
    if d_col is not None:
        try:
            parsed = parse_dates(frame[d_col], spec.date_format)
        except (ValueError, TypeError) as exc:
            msg = f"{path}: `date_format` {spec.date_format!r} cannot read column {d_col!r} ({exc})"
            raise InputError(msg) from None
        t_col = None if has_time_of_day(parsed.values) else time_column(frame, cols, d_col, keep)
        if t_col is not None:  # the date in one column, the time of day in another
            times, t_missing, t_bad = read_times(frame[t_col])
            lacking = keep & parsed.values.notna().to_numpy() & (t_missing | t_bad)
            if lacking.any():
                intake.notes.append(
                    f"times of day in {t_col!r} not used: {who_all.describe(np.flatnonzero(lacking))} "
                    f"{_have(lacking)} none"
                )
            else:
                parsed.values = parsed.values + times.to_numpy()
                parsed.format = f"{parsed.format}, times of day from {t_col!r}"
        where_d = f"{path}, column {d_col!r}"
        dates, zone = dates_in_one_zone(frame[d_col], parsed.values, spec.timezone, where=where_d)
        intake.date_column, intake.date_format = d_col, parsed.format
        bad = parsed.bad & keep
        if bad.any():
            problems.append(
                f"column {d_col!r} has values that are not dates in {rows.describe(np.flatnonzero(bad))}; "
                "use ISO dates like 2025-03-31 or 2025-03-31T22:15, or give --date-format"
            )
        for key, end in (("since", False), ("until", True)):
            text = getattr(spec, key)
            if not text:
                continue
            try:
                bound = parse_bound(text, end=end)
            except (ValueError, TypeError):
                problems.append(
                    f"`{key}` {text!r} is not a date written year-month-day; write it as 2021-01-31 or "
                    "2021-01-31T18:00 (04/03/2021 is April 3 in one country and 4 March in another)"
                )
                continue
            d = dates
            if getattr(d.dt, "tz", None) is not None and bound.tzinfo is None:
                bound = bound.tz_localize(d.dt.tz)
            inside = (d <= bound) if end else (d >= bound)
            drop = keep & ~inside.fillna(False).to_numpy(dtype=bool) & ~parsed.bad
            out = np.flatnonzero(drop)
            undated = int((drop & dates.isna().to_numpy()).sum())
            detail = text + (f" ({undated:,} of them undated)" if undated else "")
            intake.add(Step(key, int(out.size), detail, who_all(out)))
            keep &= ~drop

    # ---- coordinates of the rows kept
    pos = np.flatnonzero(keep)
    sub_rows = rows.take(pos)
    if fmt == "CSV":
        coords = find_coordinates(frame.iloc[pos].reset_index(drop=True), spec, path, sub_rows)
        problems.extend(coords.problems)
        geoms = coords.geoms
        crs = coords.crs
        missing = coords.missing
        coord_cols: tuple[str, ...] = coords.columns
        intake.geometry = coords.source
        # points made from checked lat/lon numbers: nothing for geometry_problems to find
        plain_points = coords.checked_points and not coords.problems
    else:
        geoms = np.asarray(frame.geometry.values, dtype=object)[pos]
        crs = frame.crs
        missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        coord_cols = ()
        intake.geometry = f"geometry ({crs.name})" if crs is not None else "geometry"
        plain_points = False
    from pyproj import CRS

    crs_obj = CRS.from_user_input(crs) if crs is not None else None
    has_geom = ~shapely.is_missing(geoms) & ~missing
    if has_geom.any() and not plain_points:
        problems.extend(
            geometry_problems(geoms[has_geom], crs_obj, sub_rows.take(np.flatnonzero(has_geom)), spec.role)
        )
    if missing.all() and not problems:
        msg = (
            f"{path}: none of the {len(pos):,} rows of the {spec.role} layer has coordinates; give point "
            "geometries, lat/lon columns or a WKT column (check the geocoding)"
        )
        raise InputError(msg)
    if missing.any():
        gone = pos[missing]
        if spec.role == "candidates":
            leave = (
                f", or leave them out with --candidates-where '\"{coord_cols[0]}\" IS NOT NULL'"
                if len(coord_cols) == 2  # lat/lon columns (blank when a geocode failed)
                else ""
            )
            problems.append(
                f"{who_all.describe(gone)} {'has' if gone.size == 1 else 'have'} no coordinates; "
                f"geocode those candidates or remove them{leave}"
            )
        else:
            step = Step("no_coordinates", int(gone.size), "", who_all(gone))
            intake.add(step)
            log.warning(
                "%s: %s of %s %s rows (%.1f%%) have no coordinates (failed geocodes?) and were left out: %s",
                path,
                f"{gone.size:,}",
                f"{len(pos):,}",
                spec.role,
                100 * gone.size / len(pos),
                who_all.describe(gone),
            )
    keep[pos[missing]] = False

    # ---- ids, weights, flags of the rows kept
    pos = np.flatnonzero(keep)
    geoms = geoms[~missing]
    kept_rows = rows.take(pos)
    who = _Who(ids_all[pos] if ids_all is not None else None, kept_rows)
    id_column: Any = None
    if ids_all is not None and id_text is not None:
        ids = ids_all[pos]
        id_column = id_text.iloc[pos].array
        empty = ids == ""
        if empty.any():
            problems.append(
                f"column {id_col!r} is empty in {kept_rows.describe(np.flatnonzero(empty))}: give every feature an id"
            )
    else:
        ids = np.asarray(kept_rows.numbers, dtype=np.int64).astype(str).astype(object)
        id_column = pd.array(ids, dtype="str")
    if spec.role == "candidates":
        dup = pd.Series(ids).duplicated(keep=False).to_numpy() & (ids != "")
        if dup.any():
            values = sorted(set(ids[dup]))[:MAX_LISTED]
            problems.append(
                f"duplicate candidate ids {', '.join(map(repr, values))} in {kept_rows.describe(np.flatnonzero(dup))} "
                f"of column {id_col or '(row number)'!r}: candidate ids must be unique"
            )

    data = frame.iloc[pos].reset_index(drop=True)
    out_cols: dict[str, Any] = {"id": id_column}
    w_col = find_column(cols, "weight", spec.weight_column, path)
    if w_col is not None:
        if pd.api.types.is_numeric_dtype(data[w_col]):
            w = data[w_col].astype("float64")
        else:
            # plain numbers as they are (a space or a decimal comma fails it and goes the long way)
            plain = plain_floats(data[w_col])
            text = data[w_col]
            if plain is None:
                text = data[w_col].astype("string").str.strip().str.replace(",", ".", regex=False)
                plain = plain_floats(text)
            w = pd.to_numeric(text, errors="coerce") if plain is None else pd.Series(plain, index=text.index)
        bad = (w.isna() | ~np.isfinite(w.fillna(0)) | (w < 0)).to_numpy()
        if bad.any():
            problems.append(
                f"column {w_col!r} must be a number >= 0; not in {kept_rows.describe(np.flatnonzero(bad))}"
            )
        out_cols["weight"] = w.fillna(0).astype("float64").to_numpy()
    else:
        out_cols["weight"] = np.ones(len(pos))
    if dates is not None:
        out_cols["date"] = dates.iloc[pos].to_numpy()
    f_given, f_values = flag_rule(spec.fatal_column)
    f_col = find_column(cols, "fatal", f_given, path)
    if f_col is not None:
        fatal, bad = read_flags(data[f_col], f_values)
        if bad.any():
            problems.append(
                flag_problem(f_col, data[f_col], bad, kept_rows.describe(np.flatnonzero(bad)))
            )
        out_cols["fatal"] = fatal
    n_col = find_column(cols, "name", spec.name_column, path)
    if n_col is not None:
        out_cols["name"] = data[n_col].astype("string").fillna("").to_numpy(dtype=object)
    s_col = find_column(cols, "status", spec.status_column, path)
    if s_col is None and spec.status_column is None:
        s_col = next((c for c in cols if any(w in str(c).lower() for w in ("disposition", "status"))), None)

    if problems:
        msg = f"{path}: " + "; ".join(problems)
        raise InputError(msg)

    used = {c for c in (w_col, d_col, f_col, n_col) if c} | set(coord_cols)
    for c in cols:
        if c not in used and c not in out_cols:
            out_cols[c] = _column(data[c])
    gdf = gpd.GeoDataFrame(out_cols, geometry=geoms if plain_points else _as_points(geoms, spec.polygons), crs=crs)

    # ---- duplicate calls (demand with times of day)
    if spec.role == "demand":
        minutes = settings.duplicate_minutes if spec.duplicate_minutes is None else spec.duplicate_minutes
        if minutes > 0:
            if dates is None:
                intake.notes.append("duplicate calls not checked: no date column")
            elif not has_time_of_day(gdf["date"]):
                intake.notes.append(f"duplicate calls not checked: {d_col!r} has no time of day")
            else:
                xy = metre_xy(gdf.geometry.values, crs)
                dup, of = find_duplicates(
                    xy, gdf["date"], minutes=minutes, place_m=settings.duplicate_place_m
                )
                if dup.any():
                    if "fatal" in gdf.columns:  # a fatal outcome recorded on a repeat call is kept
                        fatal = gdf["fatal"].to_numpy(dtype=bool).copy()
                        np.logical_or.at(fatal, of[dup], fatal[dup])
                        gdf["fatal"] = fatal
                    weight = gdf["weight"].to_numpy(dtype=np.float64).copy()
                    np.maximum.at(weight, of[dup], weight[dup])
                    gdf["weight"] = weight
                    d_pos = np.flatnonzero(dup)
                    intake.add(
                        Step(
                            "duplicate",
                            int(d_pos.size),
                            f"same place (within {settings.duplicate_place_m:g} m) within {minutes:g} minutes",
                            who(d_pos),
                        )
                    )
                    keep[pos[dup]] = False
                    gdf = gdf.loc[~dup].reset_index(drop=True)
                    pos = pos[~dup]
                    kept_rows = rows.take(pos)

    if s_col is not None:
        intake.status_column = s_col
        intake.status_read, intake.status_used = summarise_status(frame[s_col], keep)
    if "fatal" in gdf.columns:
        intake.fatal_column, intake.fatal_values = f_col, sorted(f_values or ())
        intake.fatal_used = int(np.count_nonzero(gdf["fatal"].to_numpy(dtype=bool)))
    if "date" in gdf.columns:
        d = pd.Series(gdf["date"])
        intake.undated = int(d.isna().sum())
        if d.notna().any():
            timed = has_time_of_day(d)
            fmt_out = "%Y-%m-%d %H:%M" if timed else "%Y-%m-%d"
            intake.date_first, intake.date_last = d.min().strftime(fmt_out), d.max().strftime(fmt_out)

    gdf.attrs.update(
        source=str(path),
        role=spec.role,
        layer_name=spec.name,
        coordinate_columns=coord_cols,
        id_column=id_col,
        row_names=kept_rows,
        intake=intake,
        timezone=zone,
    )
    return gdf


def who_of(gdf: gpd.GeoDataFrame, positions: Any) -> list[str]:
    """Rows of a layer read by :func:`read_layer` as the data names them: ids, else ``row 7``."""
    pos = np.asarray(positions, dtype=np.int64)
    if gdf.attrs.get("id_column"):
        return [str(v) for v in gdf["id"].to_numpy()[pos]]
    names = gdf.attrs.get("row_names")
    if names is None or len(names.numbers) != len(gdf):
        return [f"row {p + 1}" for p in pos.tolist()]
    return names.labels(pos)


def describe_rows(gdf: gpd.GeoDataFrame, positions: Any) -> str:
    """``"ids A, B and 3 more"`` or ``"rows 7, 9"``: rows of a layer read by :func:`read_layer`."""
    names = who_of(gdf, positions)
    if gdf.attrs.get("id_column") or not names:
        return listed(names, "id")
    word = names[0].split(" ", 1)[0]
    return listed([n.split(" ", 1)[-1] for n in names], word)
