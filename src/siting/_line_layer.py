"""Read a street-centreline layer (the kind county GIS departments keep) as LineStrings.

:func:`read_line_layer` reads Shapefile, GeoPackage, GeoJSON or GeoParquet; keeps the
features a ``where`` filter selects (OGR SQL, as ``ogr2ogr -where``); with
``walkable_only`` leaves out road classes nobody walks on (:mod:`siting._walkable`);
checks CRS and geometries, reporting every problem at once; and explodes multi-part
lines. What was left out and why is in ``attrs["read_report"]``. Features are named by
their position in the file counted from 1, as in QGIS and in every other siting message.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import shapely

from ._errors import InputError, InputFileNotFoundError, NoCrsError, UnknownFormatError

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger(__name__)

#: Suffixes read by :func:`read_line_layer` (a folder is read as a Shapefile folder).
VECTOR_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json", ".zip")
PARQUET_SUFFIXES = (".parquet", ".geoparquet")

_LINE_TYPES = ("LineString", "MultiLineString", "LinearRing")


def _features(positions: npt.ArrayLike, verb: str, limit: int = 10) -> str:
    """``"feature 4 has"``, ``"features 4, 18 and 5 more have"`` from 0-based positions."""
    pos = (np.asarray(positions, dtype=np.int64) + 1).tolist()
    head = ", ".join(str(p) for p in pos[:limit])
    if len(pos) > limit:
        head = f"{head} and {len(pos) - limit:,} more"
    plural = {"has": "have", "is": "are"}.get(verb, verb)
    return f"feature {head} {verb}" if len(pos) == 1 else f"features {head} {plural}"


def check_line_layer(path: str | Path, layer: str | None = None, *, where: str | None = None) -> None:
    """Cheap checks of a street line layer before it is read in full: it exists, opens, and
    its ``where`` filter (if any) is valid. Raises the same errors :func:`read_line_layer` would."""
    path = Path(path)
    if not path.exists():
        msg = f"{path}: street line layer not found; check the path"
        raise InputFileNotFoundError(msg)
    suffix = path.suffix.lower()
    if not (path.is_dir() or suffix in VECTOR_SUFFIXES or suffix in PARQUET_SUFFIXES):
        msg = (
            f"{path}: unknown street line layer format {path.suffix!r}; use .shp, .gpkg, .geojson or .parquet"
        )
        raise UnknownFormatError(msg)
    if where and suffix not in PARQUET_SUFFIXES:
        import pyogrio

        from .layers._where import _bad_filter, _detail

        name = _layer_name(path, layer)
        try:
            pyogrio.read_dataframe(path, layer=name, where=where, read_geometry=False, max_features=1)
        except Exception as exc:
            cols = pyogrio.read_info(path, layer=name)["fields"].tolist()
            raise _bad_filter(where, "--network-where", path, cols, _detail(exc)) from None


def read_line_layer(
    path: str | Path,
    layer: str | None = None,
    *,
    strict: bool = False,
    where: str | None = None,
    walkable_only: bool = False,
) -> gpd.GeoDataFrame:
    """Read a street-centreline layer as single-part 2-D LineStrings.

    Parameters
    ----------
    path
        A Shapefile (``.shp``, a folder, or a ``.zip``), GeoPackage (``.gpkg``), GeoJSON
        (``.geojson``/``.json``) or GeoParquet (``.parquet``/``.geoparquet``) file.
    layer
        Layer name in a multi-layer file. If omitted and the file has several layers, the
        only one holding lines is used.
    strict
        Raise instead of dropping (and logging) rows with empty geometry or with
        geometry that is not a line.
    where
        Keep only the features this OGR SQL filter selects (``--network-where``).
    walkable_only
        Leave out the road classes nobody walks on (TIGER ``S1100``/``S1630``, OSM
        motorways and trunk roads; see :mod:`siting._walkable`).

    Returns
    -------
    geopandas.GeoDataFrame
        One LineString per row, in the file's CRS, with the file's columns plus
        ``source_row`` (0-based position of the feature in the file; MultiLineStrings
        become several rows with the same ``source_row``). ``attrs["read_report"]``:
        ``lines_read``, ``where`` and ``left_out_by_where``, ``not_walkable`` (lines per
        class), ``no_line_geometry``.

    Raises
    ------
    InputFileNotFoundError
        The file does not exist.
    UnknownFormatError
        The extension is not one of the above.
    NoCrsError
        The layer has no coordinate reference system.
    InputError
        No line geometries, non-finite coordinates, an unreadable file, a bad filter, or
        a missing layer.
    """
    import geopandas as gpd

    path = Path(path)
    check_line_layer(path, layer)
    suffix = path.suffix.lower()
    fids = None
    if suffix in PARQUET_SUFFIXES:
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
                gdf = gpd.read_parquet(path)
        except Exception as exc:
            msg = f"{path}: cannot read this GeoParquet file ({exc}); check it was written as GeoParquet"
            raise InputError(msg) from exc
    else:
        gdf, fids = _read_vector(path, layer)
    report: dict[str, Any] = {"lines_read": len(gdf)}
    keep = np.ones(len(gdf), dtype=bool)
    if where:
        from .layers._where import table_mask, vector_mask

        cols = [c for c in gdf.columns if c != gdf.geometry.name]
        if fids is not None:
            keep &= vector_mask(
                path, _layer_name(path, layer), where, fids, flag="--network-where", columns=cols
            )
        else:
            keep &= table_mask(gdf[cols], where, flag="--network-where", path=path)
        report["where"] = where
        report["left_out_by_where"] = int((~keep).sum())
    if walkable_only:
        from ._walkable import walkable_lines

        ok, dropped = walkable_lines(gdf.drop(columns=gdf.geometry.name))
        report["not_walkable"] = {k: int(v) for k, v in dropped.items()}
        keep &= ok
        if dropped:
            log.info(
                "%s: left out %s lines nobody walks on (%s); --all-road-classes keeps them",
                path.name,
                f"{int((~ok).sum()):,}",
                ", ".join(f"{k}: {v:,}" for k, v in dropped.items()),
            )
    if not keep.any() and len(gdf):
        parts = []
        if where:
            parts.append(f"{report['left_out_by_where']:,} left out by --network-where {where!r}")
        if walkable_only:
            n_not = sum(report["not_walkable"].values())
            parts.append(f"{n_not:,} not walkable (--all-road-classes keeps them)")
        msg = f"{path}: no street lines left: {len(gdf):,} read, {', '.join(parts)}; check the filter"
        raise InputError(msg)
    out = _validate_lines(gdf, path, strict=strict, keep=keep)
    report["no_line_geometry"] = int(keep.sum()) - int(out["source_row"].nunique()) if len(out) else 0
    out.attrs["read_report"] = report
    return out


def _layer_name(path: Path, layer: str | None) -> str | None:
    """The layer to read: the one named, or the only one holding lines."""
    import pyogrio

    try:
        layers = pyogrio.list_layers(path)
    except Exception as exc:
        msg = f"{path}: cannot open this file as a vector layer ({exc}); check the file is complete"
        raise InputError(msg) from exc
    names = [str(n) for n in layers[:, 0]]
    if layer is None and len(names) > 1:
        lines = [str(n) for n, t in layers if t is not None and "LINE" in str(t).upper()]
        if len(lines) != 1:
            msg = (
                f"{path}: holds {len(names)} layers ({', '.join(names)}); "
                "say which one holds the street lines with `layer`"
            )
            raise InputError(msg)
        return lines[0]
    if layer is not None and layer not in names:
        msg = f"{path}: no layer {layer!r}; the file has {', '.join(names)}"
        raise InputError(msg)
    return layer


def _read_vector(path: Path, layer: str | None) -> tuple[gpd.GeoDataFrame, npt.NDArray[np.int64]]:
    import geopandas as gpd

    layer = _layer_name(path, layer)
    try:
        with warnings.catch_warnings():
            # NaN coordinates: reported by feature in `_validate_lines`, not as a warning here
            warnings.filterwarnings("ignore", "invalid value encountered", RuntimeWarning)
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio", fid_as_index=True)
    except Exception as exc:
        msg = f"{path}: cannot read layer {layer or 'of the file'!r} ({exc}); check the file is complete"
        raise InputError(msg) from exc
    fids = gdf.index.to_numpy(dtype=np.int64)
    return gdf.reset_index(drop=True), fids


def _validate_lines(
    gdf: gpd.GeoDataFrame, path: Path, *, strict: bool, keep: npt.NDArray[np.bool_] | None = None
) -> gpd.GeoDataFrame:
    """Check CRS and geometries (of the features kept), report every problem at once, explode."""
    import geopandas as gpd

    if gdf.crs is None:
        msg = (
            f"{path}: the layer has no coordinate reference system; define it (e.g. add the "
            ".prj of a Shapefile, or set it in QGIS) and try again"
        )
        raise NoCrsError(msg)
    if len(gdf) == 0:
        msg = f"{path}: the layer holds no features; give a layer of street centrelines"
        raise InputError(msg)
    keep = np.ones(len(gdf), dtype=bool) if keep is None else keep
    geoms = np.asarray(gdf.geometry.values, dtype=object)
    missing = shapely.is_missing(geoms)
    empty = (missing | shapely.is_empty(geoms)) & keep
    gtype = np.asarray(gdf.geometry.geom_type.fillna("None"), dtype=object)
    is_line = np.isin(gtype, _LINE_TYPES) & ~empty & keep
    if not is_line.any():
        kinds, counts = np.unique(gtype[~empty & keep], return_counts=True)
        found = ", ".join(f"{c} {t}" for t, c in zip(kinds, counts, strict=True))
        msg = (
            f"{path}: no line geometries (found {found or 'only empty geometries'}); "
            "give a layer of street centrelines (LineString/MultiLineString)"
        )
        raise InputError(msg)
    coords, cidx = shapely.get_coordinates(np.where(is_line, geoms, None), return_index=True)
    bad_coord = np.unique(cidx[~np.isfinite(coords).all(axis=1)])
    errors: list[str] = []
    if bad_coord.size:
        errors.append(f"{_features(bad_coord, 'has')} non-finite (NaN or infinite) coordinates")
    not_line = np.flatnonzero(~is_line & ~empty & keep)
    problems = []
    if empty.any():
        problems.append(f"{_features(np.flatnonzero(empty), 'has')} empty geometry")
    if not_line.size:
        kinds_ = ", ".join(sorted(set(gtype[not_line])))
        what = "a line" if not_line.size == 1 else "lines"
        problems.append(f"{_features(not_line, 'is')} not {what} ({kinds_})")
    if strict:
        errors.extend(problems)
    if errors:
        msg = f"{path}: {'; '.join(errors)} (counted from 1); fix or remove them and try again"
        raise InputError(msg)
    if problems:
        log.warning("%s: %s (counted from 1); those features were left out", path, "; ".join(problems))
    out = gdf.loc[is_line].copy()
    out["source_row"] = np.flatnonzero(is_line)
    out[out.geometry.name] = gpd.GeoSeries(
        shapely.force_2d(np.asarray(out.geometry.values, dtype=object)), index=out.index, crs=gdf.crs
    )
    out = out.explode(index_parts=False, ignore_index=True)
    return out
