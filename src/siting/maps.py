"""The planner's map: every layer of a :class:`~siting.plan.Plan`, private by default.

:func:`plan_map` draws a plan on a Folium map with one FeatureGroup per layer and a layer
control: incidents as suppressed hexagon counts and a heat surface built from those
counts, hotspots, homeless services, candidates coloured by score (legend, popup with the
breakdown), chosen sites with walking isochrones, exclusion zones and regions, and the
street network drawn faintly as a basemap (no tile server is assumed). A title panel
states the scenario, date, cutoff and privacy rule; scale bar, fullscreen and minimap.

Self-contained by default: Leaflet and its plugins are read from the npm packages
installed in ``siting/static/node_modules`` (``npm ci --prefix src/siting/static``) and
inlined, so the map opens with no network. ``cdn=True`` links them instead.

Every string that comes from input data is escaped with :func:`html.escape` before it
reaches HTML; JSON embedded in scripts has ``<``, ``>`` and ``&`` escaped too.
"""

from __future__ import annotations

import base64
import html
import json
import logging
import os
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from . import privacy, settings
from ._atomic import write_bytes_atomic
from ._errors import InputError, MissingDependencyError

if TYPE_CHECKING:
    import branca
    import folium
    import geopandas as gpd

    from .network import StreetNetwork
    from .plan import Plan

log = logging.getLogger(__name__)

#: A map written by :func:`save_map` should stay under this size; caps below keep it there.
MAX_HTML_BYTES = 25 * 1024 * 1024
#: Most features drawn per layer; beyond this the best (or largest) are kept and the map says so.
MAX_FEATURES: dict[str, int] = {
    "candidates": 5000,
    "incidents": 20000,
    "incident_points": 20000,
    "services": 5000,
    "hotspots": 2000,
    "isochrones": 300,
    "exclusions": 5000,
    "regions": 500,
    "extra": 5000,
}
#: Most vertices of the street-network basemap (simplified further until under it).
MAX_NETWORK_VERTICES = 250_000
#: Most vertices of the coarse network in the minimap.
MAX_MINIMAP_VERTICES = 20_000

#: Score components shown in a candidate's popup, in this order, when present.
SCORE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("covered_weight", "Demand covered (weighted)"),
    ("covered_count", "Incidents covered"),
    ("mean_walk_min", "Mean walk of covered demand (min)"),
    ("services_within", "Services within cutoff"),
    ("nearest_service_min", "Nearest service (min)"),
    ("hotspot_share", "Hotspot share"),
)

_VIRIDIS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
#: Hexagon fill by count: suppressed cells first, then lower bounds (exclusive) of each class.
_HEX_SUPPRESSED = "#fdf0dc"
_HEX_CLASSES = ((0, "#fdd49e"), (25, "#fdae6b"), (50, "#fd8d3c"), (100, "#e6550d"), (250, "#a63603"))
_ISO_COLOURS = {5: "#08519c", 10: "#3182bd", 15: "#9ecae1"}
_EXCLUDED_COLOUR = "#9e9e9e"

_STATIC = Path(__file__).parent / "static"
#: (npm package, file inside it, kind) inlined into every offline map, in load order.
_ASSET_FILES: tuple[tuple[str, str, str], ...] = (
    ("leaflet", "dist/leaflet.css", "css"),
    ("leaflet", "dist/leaflet.js", "js"),
    ("leaflet.fullscreen", "dist/Control.FullScreen.css", "css"),
    ("leaflet.fullscreen", "dist/Control.FullScreen.umd.js", "js"),
    ("leaflet-minimap", "dist/Control.MiniMap.min.css", "css"),
    ("leaflet-minimap", "dist/Control.MiniMap.min.js", "js"),
)
_CDN = "https://cdn.jsdelivr.net/npm/{pkg}@{ver}/{file}"


# ----------------------------------------------------------------- escaping
def esc(value: Any) -> str:
    """Text for HTML: ``None``/NA as empty, everything else ``html.escape(str(v))``.

    >>> esc('<img src=x onerror=alert(1)>')
    '&lt;img src=x onerror=alert(1)&gt;'
    >>> esc(None), esc(float('nan'))
    ('', '')
    """
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return html.escape(str(value), quote=True)


def js_json(obj: Any) -> str:
    """JSON safe to put inside a ``<script>`` element (``<``, ``>``, ``&`` escaped).

    >>> js_json({"a": "</script><b>"})
    '{"a":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e"}'
    """
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def fmt(value: Any) -> str:
    """A number or text for a popup (already escaped).

    >>> fmt(3), fmt(0.87349), fmt(1234.5), fmt(True), fmt(None)
    ('3', '0.873', '1,234.5', 'yes', '')
    """
    if value is None:
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if not np.isfinite(value):
            return ""
        v = float(value)
        if v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        if abs(v) >= 100:
            return f"{v:,.1f}"
        return f"{v:.3g}" if abs(v) < 1 else f"{v:,.2f}"
    return esc(value)


# ------------------------------------------------------------------- assets
def assets_dir() -> Path:
    """Where the npm packages with Leaflet and its plugins are installed."""
    env = os.environ.get("SITING_ASSETS")
    return Path(env) if env else _STATIC / "node_modules"


def _asset_versions() -> dict[str, str]:
    pkg = json.loads((_STATIC / "package.json").read_text(encoding="utf-8"))
    return dict(pkg["dependencies"])


def _inline_css_urls(css: str, base: Path) -> str:
    def repl(m: re.Match[str]) -> str:
        url = m.group(2)
        if url.startswith(("data:", "#", "http:", "https:")):
            return m.group(0)
        f = base / url
        if not f.exists():
            return m.group(0)
        mime = {".png": "image/png", ".svg": "image/svg+xml", ".gif": "image/gif"}.get(
            f.suffix.lower(), "application/octet-stream"
        )
        return f"url(data:{mime};base64,{base64.b64encode(f.read_bytes()).decode('ascii')})"

    return re.sub(r"""url\((['"]?)([^'")]+)\1\)""", repl, css)


def asset_html(*, cdn: bool = False) -> str:
    """The ``<style>``/``<script>`` (or ``<link>``/``<script src>`` with ``cdn``) for the map."""
    versions = _asset_versions()
    parts = []
    if cdn:
        for pkg, file, kind in _ASSET_FILES:
            url = _CDN.format(pkg=pkg, ver=versions[pkg], file=file)
            parts.append(
                f'<link rel="stylesheet" href="{url}"/>'
                if kind == "css"
                else f'<script src="{url}"></script>'
            )
        return "\n".join(parts)
    root = assets_dir()
    missing = [f"{pkg}/{file}" for pkg, file, _ in _ASSET_FILES if not (root / pkg / file).exists()]
    if missing:
        msg = (
            f"map assets not found in {root} ({', '.join(missing)}): run "
            "`npm ci --prefix src/siting/static` (part of `make install`), "
            "or pass `cdn=True` (`--cdn`) for the online variant"
        )
        raise MissingDependencyError(msg)
    for pkg, file, kind in _ASSET_FILES:
        f = root / pkg / file
        text = f.read_text(encoding="utf-8")
        if kind == "css":
            parts.append(
                f"<style>/* {pkg} {versions.get(pkg, '')} */\n{_inline_css_urls(text, f.parent)}</style>"
            )
        else:
            text = re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE)
            parts.append(f"<script>/* {pkg} {versions.get(pkg, '')} */\n{text}</script>")
    return "\n".join(parts)


# ------------------------------------------------------------------ colours
def _hex_to_rgb(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def ramp(t: float, stops: tuple[str, ...] = _VIRIDIS) -> str:
    """Colour at ``t`` in [0, 1] on a ramp of hex colours (linear in RGB).

    >>> ramp(0.0), ramp(1.0)
    ('#440154', '#fde725')
    """
    t = float(np.clip(t if np.isfinite(t) else 0.0, 0.0, 1.0))
    pos = t * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    f = pos - i
    a, b = _hex_to_rgb(stops[i]), _hex_to_rgb(stops[i + 1])
    rgb = [round(a[k] + (b[k] - a[k]) * f) for k in range(3)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def _hex_colour(heat: float, suppressed: bool = False) -> str:
    if suppressed:
        return _HEX_SUPPRESSED
    colour = _HEX_CLASSES[0][1]
    for lo, c in _HEX_CLASSES:
        if heat > lo:
            colour = c
    return colour


# -------------------------------------------------------------- geometry out
def _round_coords(geoms: npt.NDArray[np.object_], decimals: int) -> npt.NDArray[np.object_]:
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        msg = "a layer given to the map has no CRS; set one before drawing it"
        raise InputError(msg)
    return gdf.to_crs(4326)


def _features(
    geoms: npt.NDArray[np.object_],
    props: list[dict[str, Any]],
    *,
    decimals: int = 6,
) -> dict[str, Any]:
    geoms = _round_coords(np.asarray(geoms, dtype=object), decimals)
    feats = []
    for g, p in zip(geoms, props, strict=True):
        if g is None or shapely.is_empty(g):
            continue
        feats.append({"type": "Feature", "geometry": g.__geo_interface__, "properties": p})
    return {"type": "FeatureCollection", "features": feats}


def _popup_table(title: str, rows: list[tuple[str, str]], *, note: str = "") -> str:
    """A popup's HTML; ``title``, row labels and values must already be escaped."""
    body = "".join(
        f'<tr><th style="text-align:left;padding-right:8px;font-weight:600">{k}</th>'
        f'<td class="siting-{re.sub(r"[^a-z0-9]+", "-", k.lower()).strip("-")}">{v}</td></tr>'
        for k, v in rows
    )
    extra = f'<div style="margin-top:4px">{note}</div>' if note else ""
    return f'<div class="siting-popup"><b>{title}</b><table>{body}</table>{extra}</div>'


# -------------------------------------------------------------- folium parts
def _folium() -> Any:
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - folium is a core dependency
        msg = "maps need folium: pip install folium"
        raise MissingDependencyError(msg) from exc
    return folium


def _macro(template: str, **attrs: Any) -> Any:
    """A branca MacroElement with a script template and attributes."""
    from branca.element import MacroElement
    from jinja2 import Template

    el = MacroElement()
    el._template = Template(template)
    for k, v in attrs.items():
        setattr(el, k, v)
    return el


_GEOJSON_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJSON({{ this.data }}, {
    interactive: {{ this.interactive }},
    style: function (f) { return f.properties._s || {}; },
    pointToLayer: function (f, ll) { return L.circleMarker(ll, f.properties._s || {}); },
    onEachFeature: function (f, layer) {
        if (f.properties._p) { layer.bindPopup(f.properties._p, {maxWidth: 380}); }
        if (f.properties._t) { layer.bindTooltip(f.properties._t); }
    }
}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""


def _geojson_layer(collection: dict[str, Any], *, interactive: bool = True) -> Any:
    return _macro(_GEOJSON_TEMPLATE, data=js_json(collection), interactive="true" if interactive else "false")


@dataclass
class _Notes:
    """Messages shown in the title panel (caps applied, layers left out)."""

    items: list[str] = field(default_factory=list)

    def cap(self, layer: str, n: int, limit: int, kept: str) -> None:
        msg = f"{layer}: showing {limit:,} of {n:,} ({kept}); the map caps this layer at {limit:,}"
        log.warning("map: %s", msg)
        self.items.append(msg)


def _capped(
    gdf: gpd.GeoDataFrame,
    key: str,
    notes: _Notes,
    *,
    label: str,
    order: str | None = None,
    ascending: bool = True,
    kept: str = "first rows",
) -> gpd.GeoDataFrame:
    limit = MAX_FEATURES[key]
    if len(gdf) <= limit:
        return gdf
    if order is not None and order in gdf.columns:
        gdf = gdf.sort_values(order, ascending=ascending, kind="stable")
    notes.cap(label, len(gdf), limit, kept)
    return gdf.iloc[:limit]


# ------------------------------------------------------------------ network
def _network_geojson(
    net: StreetNetwork, *, max_vertices: int, decimals: int, straight: bool = False
) -> tuple[str, str]:
    """The network as one MultiLineString in WGS84 (JSON text) and a note ('' if whole).

    Edges are simplified (2 m, then coarser) until the vertex count fits ``max_vertices``;
    if even straight segments do not fit, the longest edges are kept. ``straight`` draws
    every edge as a straight segment between its ends (the minimap).
    """
    from pyproj import Transformer

    m = net.n_edges
    note = ""
    if straight or 2 * m > max_vertices:
        keep = np.arange(m)
        if 2 * m > max_vertices:
            # longest first; equal lengths spread over the whole network (deterministic)
            spread = np.random.default_rng(settings.seed).permutation(m)
            keep = np.sort(np.lexsort((spread, -np.round(net.edge_length_m, 1)))[: max_vertices // 2])
            note = (
                f"Street network: showing the {keep.size:,} longest of {m:,} street segments, as "
                f"straight lines (the map caps it at {max_vertices:,} vertices)"
            )
        u, v = net.edge_u[keep], net.edge_v[keep]
        coords = np.empty((2 * keep.size, 2))
        coords[0::2, 0], coords[0::2, 1] = net.x[u], net.y[u]
        coords[1::2, 0], coords[1::2, 1] = net.x[v], net.y[v]
        idx = np.repeat(np.arange(keep.size), 2)
    else:
        simple = shapely.simplify(net.edge_geometries(), 2.0)
        for tol in (5.0, 15.0, 40.0, 100.0):
            if int(shapely.get_num_coordinates(simple).sum()) <= max_vertices:
                break
            simple = shapely.simplify(simple, tol)
            note = f"Street network simplified to {tol:g} m to keep the map small"
        coords, idx = shapely.get_coordinates(simple, return_index=True)
    tr = Transformer.from_crs(net.crs, 4326, always_xy=True)
    lon, lat = tr.transform(coords[:, 0], coords[:, 1])
    f = f"{{:.{decimals}f}}"
    pos = [f"[{f.format(a)},{f.format(b)}]" for a, b in zip(lon.tolist(), lat.tolist(), strict=True)]
    splits = (np.flatnonzero(np.diff(idx)) + 1).tolist()
    lines = []
    start = 0
    for end in [*splits, len(pos)]:
        lines.append("[" + ",".join(pos[start:end]) + "]")
        start = end
    return '{"type":"MultiLineString","coordinates":[' + ",".join(lines) + "]}", note


def _network_bounds(net: StreetNetwork) -> list[list[float]]:
    from pyproj import Transformer

    minx, miny, maxx, maxy = net.bounds()
    tr = Transformer.from_crs(net.crs, 4326, always_xy=True)
    xs = np.array([minx, maxx, minx, maxx])
    ys = np.array([miny, miny, maxy, maxy])
    lon, lat = tr.transform(xs, ys)
    return [[float(np.min(lat)), float(np.min(lon))], [float(np.max(lat)), float(np.max(lon))]]


# ---------------------------------------------------------------- heat (PNG)
def _png_rgba(rgba: npt.NDArray[np.uint8]) -> bytes:
    """Encode an ``(h, w, 4)`` uint8 array as PNG (no dependency beyond zlib)."""
    h, w, _ = rgba.shape
    raw = b"".join(b"\x00" + rgba[i].tobytes() for i in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def heat_overlay(
    hexes: gpd.GeoDataFrame, *, bandwidth_m: float = 250.0, max_pixels: int = 512
) -> tuple[str, list[list[float]], dict[str, Any]] | None:
    """A heat surface from suppressed hexagon counts, as a PNG data URL and its bounds.

    The kernel density of hexagon centres weighted by their public value (``heat``:
    suppressed cells at the midpoint, see :func:`siting.privacy.public_value`), computed in
    the projected CRS and resampled to Web Mercator pixels so it lies right on the map.
    """
    from pyproj import Transformer
    from scipy import ndimage

    from .hotspots import kde_grid

    if hexes is None or len(hexes) == 0:
        return None
    c = shapely.get_coordinates(shapely.centroid(hexes.geometry.values))
    cell = max(bandwidth_m / 5.0, 10.0)
    grid, (minx, miny, maxx, maxy) = kde_grid(
        c[:, 0], c[:, 1], weights=hexes["heat"].to_numpy(np.float64), bandwidth_m=bandwidth_m, cell_m=cell
    )
    if grid.size == 0 or grid.max() <= 0:
        return None
    to_m = Transformer.from_crs(hexes.crs, 3857, always_xy=True)
    from_m = Transformer.from_crs(3857, hexes.crs, always_xy=True)
    ex, ey = to_m.transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
    mx0, mx1, my0, my1 = min(ex), max(ex), min(ey), max(ey)
    aspect = (my1 - my0) / max(mx1 - mx0, 1e-9)
    w = max_pixels if aspect <= 1 else max(8, int(max_pixels / aspect))
    h = max(8, int(w * aspect)) if aspect <= 1 else max_pixels
    px = mx0 + (np.arange(w) + 0.5) * (mx1 - mx0) / w
    py = my1 - (np.arange(h) + 0.5) * (my1 - my0) / h  # row 0 at the north
    gx, gy = np.meshgrid(px, py)
    ux, uy = from_m.transform(gx.ravel(), gy.ravel())
    col = (np.asarray(ux) - minx) / cell - 0.5
    row = (np.asarray(uy) - miny) / cell - 0.5
    vals = ndimage.map_coordinates(grid, [row, col], order=1, mode="constant", cval=0.0).reshape(h, w)
    t = np.clip(vals / grid.max(), 0.0, 1.0)
    stops = np.array([_hex_to_rgb(s) for s in ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")], float)
    pos = t * (len(stops) - 1)
    i = np.minimum(pos.astype(int), len(stops) - 2)
    f = (pos - i)[..., None]
    rgb = stops[i] * (1 - f) + stops[i + 1] * f
    alpha = np.where(t < 0.03, 0.0, 40 + 170 * np.sqrt(t))
    rgba = np.dstack([rgb, alpha]).round().astype(np.uint8)
    url = "data:image/png;base64," + base64.b64encode(_png_rgba(rgba)).decode("ascii")
    to_ll = Transformer.from_crs(3857, 4326, always_xy=True)
    lon0, lat0 = to_ll.transform(mx0, my0)
    lon1, lat1 = to_ll.transform(mx1, my1)
    params = {"kernel": "gaussian", "bandwidth_m": bandwidth_m, "from": "suppressed hexagon counts"}
    return url, [[lat0, lon0], [lat1, lon1]], params


# ------------------------------------------------------------------- layers
_CANDIDATE_SKIP = {
    "candidate_id",
    "geometry",
    "rank",
    "score",
    "excluded",
    "excluded_reason",
    "region",
    "name",
}


def _candidate_popup(row: dict[str, Any], region_col: bool) -> str:
    """Rank, score, every component column present, other attributes, region, exclusion."""
    rows: list[tuple[str, str]] = []
    if "rank" in row:
        rows.append(("Rank", fmt(row["rank"]) or "not ranked"))
    if "score" in row:
        rows.append(("Score", fmt(row["score"])))
    shown = set(_CANDIDATE_SKIP)
    for col, label in SCORE_COLUMNS:
        if col in row:
            rows.append((label, fmt(row[col])))
            shown.add(col)
    for col in row:
        if str(col).startswith("part_"):
            rows.append(
                (esc(str(col).removeprefix("part_").replace("_", " ")) + " (part of score)", fmt(row[col]))
            )
            shown.add(col)
    for col in row:
        if str(col).startswith("layer_"):
            rows.append((esc(str(col).removeprefix("layer_")) + " (layer)", fmt(row[col])))
            shown.add(col)
    for col in row:
        if col not in shown and not str(col).startswith("_"):
            rows.append((esc(col), fmt(row[col])))
    if region_col:
        rows.append(("Region", fmt(row["region"])))
    ex = row.get("excluded", False)
    if ex is not None and not pd.isna(ex) and bool(ex):
        rows.append(("Excluded", esc(row.get("excluded_reason", "")) or "yes"))
    title = "Candidate " + esc(row.get("candidate_id", ""))
    if "name" in row and pd.notna(row["name"]) and str(row["name"]):
        title += f" &middot; {esc(row['name'])}"
    return _popup_table(title, rows)


def _candidates_layer(cands: gpd.GeoDataFrame, notes: _Notes) -> tuple[dict[str, Any], tuple[float, float]]:
    cands = _capped(cands, "candidates", notes, label="Candidates", order="rank", kept="best ranked")
    region_col = "region" in cands.columns
    score = pd.to_numeric(cands["score"], errors="coerce") if "score" in cands.columns else None
    excluded = cands["excluded"].fillna(False).astype(bool) if "excluded" in cands.columns else None
    lo, hi = 0.0, 1.0
    if score is not None and score.notna().any():
        ok = score if excluded is None else score[~excluded]
        if ok.notna().any():
            lo, hi = float(ok.min()), float(ok.max())
    props = []
    for i, row in enumerate(_records(cands)):
        is_ex = bool(excluded.iloc[i]) if excluded is not None else False
        s = float(score.iloc[i]) if score is not None and pd.notna(score.iloc[i]) else float("nan")
        colour = _EXCLUDED_COLOUR if is_ex else ramp((s - lo) / (hi - lo) if hi > lo else 1.0)
        style = {
            "radius": 6,
            "color": "#222222",
            "weight": 1,
            "fillColor": colour,
            "fillOpacity": 0.55 if is_ex else 0.95,
        }
        if is_ex:
            style["dashArray"] = "2,2"
        tip = esc(row.get("candidate_id", ""))
        if "rank" in row and pd.notna(row["rank"]):
            tip += f" (rank {fmt(row['rank'])})"
        props.append(
            {
                "_s": style,
                "_p": _candidate_popup(row, region_col),
                "_t": tip,
                "candidate_id": str(row.get("candidate_id", "")),
                "rank": _json_num(row.get("rank")),
            }
        )
    geoms = _to_wgs84(cands).geometry.values
    return _features(geoms, props), (lo, hi)


def _json_num(v: Any) -> Any:
    try:
        if v is None or pd.isna(v):
            return None
    except (TypeError, ValueError):
        return None
    return float(v) if isinstance(v, (float, np.floating)) else int(v)


def _records(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of their non-geometry columns (much faster than ``iterrows``)."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    return pd.DataFrame(gdf[cols]).to_dict("records")


def _generic_popup(row: dict[str, Any], title: str, skip: set[str]) -> str:
    rows = [(esc(k), fmt(v)) for k, v in row.items() if k not in skip and not str(k).startswith("_")]
    return _popup_table(title, rows)


def _points_layer(
    gdf: gpd.GeoDataFrame,
    *,
    colour: str,
    radius: float,
    title_col: str,
    label: str,
    skip: set[str] | None = None,
) -> dict[str, Any]:
    skip = {"geometry", *(skip or set())}
    props = []
    for row in _records(gdf):
        name = esc(row[title_col]) if title_col in row and pd.notna(row[title_col]) else label
        props.append(
            {
                "_s": {
                    "radius": radius,
                    "color": "#ffffff",
                    "weight": 1,
                    "fillColor": colour,
                    "fillOpacity": 0.9,
                },
                "_p": _generic_popup(row, name, skip),
                "_t": name,
            }
        )
    return _features(_to_wgs84(gdf).geometry.values, props)


def _polygon_layer(
    gdf: gpd.GeoDataFrame,
    *,
    style: dict[str, Any],
    title: str,
    skip: set[str] | None = None,
    decimals: int = 6,
    tooltip_col: str | None = None,
) -> dict[str, Any]:
    skip = {"geometry", *(skip or set())}
    props = []
    for row in _records(gdf):
        prop = {"_s": style, "_p": _generic_popup(row, title, skip)}
        if tooltip_col is not None and pd.notna(row.get(tooltip_col)):
            prop["_t"] = esc(row[tooltip_col])
        props.append(prop)
    g = _to_wgs84(gdf).geometry.values
    g = shapely.simplify(g, 1e-6 * 2)  # about 0.2 m: fewer vertices, same picture
    return _features(g, props, decimals=decimals)


def _hex_layer(hexes: gpd.GeoDataFrame, notes: _Notes, threshold: int) -> dict[str, Any]:
    hexes = _capped(
        hexes,
        "incidents",
        notes,
        label="Incidents (hexagons)",
        order="heat",
        ascending=False,
        kept="busiest cells",
    )
    props = []
    for label, heat, sup in zip(hexes["label"], hexes["heat"], hexes["suppressed"], strict=True):
        props.append(
            {
                "_s": {
                    "color": "#7f2704",
                    "weight": 0.5,
                    "fillColor": _hex_colour(float(heat), bool(sup)),
                    "fillOpacity": 0.45,
                },
                "_t": f"Incidents: {esc(label)}",
                "_p": _popup_table(
                    "Incidents in this hexagon",
                    [("Count", esc(label))],
                    note=esc(privacy.privacy_rule(threshold)),
                ),
            }
        )
    return _features(_to_wgs84(hexes).geometry.values, props)


# -------------------------------------------------------------- title/legend
def _title_html(plan: Plan, *, internal: bool, threshold: int, notes: _Notes, cutoff: Any) -> str:
    when = plan.manifest.get("created") or plan.manifest.get("time") or plan.parameters.get("date")
    when = esc(when) if when else datetime.now(UTC).strftime("%Y-%m-%d")
    rule = (
        "INTERNAL: this map shows incident locations (health records). Do not share."
        if internal
        else privacy.privacy_rule(threshold)
    )
    lines = [
        f'<div style="font-size:15px;font-weight:700">{esc(plan.name)}</div>',
        f"<div>Date: {when} &middot; Walking cutoff: {fmt(cutoff)} min</div>",
        *(
            [
                f"<div>Incidents from {esc(plan.parameters['incidents_from'])} to "
                f"{esc(plan.parameters['incidents_to'])}</div>"
            ]
            if plan.parameters.get("incidents_from") and plan.parameters.get("incidents_to")
            else []
        ),
        f'<div style="max-width:320px;{"color:#b00020;font-weight:700" if internal else ""}">'
        f"{esc(rule)}</div>",
    ]
    for n in notes.items:
        lines.append(f'<div style="max-width:320px;color:#8a4b00">{esc(n)}</div>')
    return "".join(lines)


def _legend_html(
    score_range: tuple[float, float] | None, has_hex: bool, threshold: int, iso_minutes: list[int]
) -> str:
    parts = []
    if score_range is not None:
        lo, hi = score_range
        grad = ",".join(_VIRIDIS)
        parts.append(
            '<div style="font-weight:600">Candidate score</div>'
            f'<div style="height:10px;width:160px;background:linear-gradient(to right,{grad})"></div>'
            f'<div style="display:flex;justify-content:space-between;width:160px">'
            f"<span>{fmt(lo)}</span><span>{fmt(hi)}</span></div>"
            f'<div><span style="display:inline-block;width:10px;height:10px;border-radius:5px;'
            f'background:{_EXCLUDED_COLOUR}"></span> excluded</div>'
        )
    if has_hex:
        parts.append('<div style="font-weight:600;margin-top:4px">Incidents per hexagon</div>')
        labels = [
            privacy.suppression_label(threshold),
            f"{threshold + 1}\u201325",
            "26\u201350",
            "51\u2013100",
            "101\u2013250",
            "more than 250",
        ]
        classes = [_HEX_SUPPRESSED, *[c for _, c in _HEX_CLASSES]]
        for lab, c in zip(labels, classes, strict=False):
            parts.append(
                f'<div><span style="display:inline-block;width:12px;height:10px;background:{c};'
                f'opacity:.8"></span> {esc(lab)}</div>'
            )
    if iso_minutes:
        parts.append('<div style="font-weight:600;margin-top:4px">Walking time from chosen sites</div>')
        for mnt in iso_minutes:
            c = _ISO_COLOURS.get(mnt, "#6baed6")
            parts.append(
                f'<div><span style="display:inline-block;width:12px;height:10px;background:{c};'
                f'opacity:.5"></span> {mnt} min</div>'
            )
    return "".join(parts)


_CONTROL_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
    var ctl = L.control({position: {{ this.position }}});
    ctl.onAdd = function () {
        var div = L.DomUtil.create('div', {{ this.css_class }});
        div.innerHTML = {{ this.content }};
        div.style.background = 'rgba(255,255,255,0.92)';
        div.style.padding = '6px 8px';
        div.style.font = '12px/1.35 sans-serif';
        div.style.borderRadius = '4px';
        div.style.boxShadow = '0 1px 4px rgba(0,0,0,0.3)';
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
    };
    ctl.addTo({{ this._parent.get_name() }});
})();
{% endmacro %}
"""


def _control(content_html: str, *, position: str, css_class: str) -> Any:
    return _macro(
        _CONTROL_TEMPLATE,
        content=js_json(content_html),
        position=js_json(position),
        css_class=js_json(css_class),
    )


_PLUGINS_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
    var map = {{ this._parent.get_name() }};
    if (L.Control.FullScreen) {
        new L.Control.FullScreen({position: 'topleft', title: 'Full screen',
                                  titleCancel: 'Exit full screen'}).addTo(map);
    }
    if (L.Control.MiniMap && {{ this.mini }}) {
        var mini = L.geoJSON({{ this.mini }}, {interactive: false,
                              style: {color: '#555', weight: 1, opacity: 0.7}});
        new L.Control.MiniMap(mini, {position: 'bottomright', toggleDisplay: true,
                                     zoomLevelOffset: -3, width: 140, height: 140}).addTo(map);
    }
})();
{% endmacro %}
"""

_NETWORK_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJSON({{ this.data }}, {
    interactive: false, style: {color: '#7a7a7a', weight: 1, opacity: 0.45}
}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""


# --------------------------------------------------------------------- map
def _new_map(folium: Any, *, title: str, **kwargs: Any) -> Any:
    m = folium.Map(
        location=[0, 0], zoom_start=2, tiles=None, control_scale=True, prefer_canvas=False, **kwargs
    )
    # assets are ours (inlined or linked once per page); drop folium's CDN defaults
    m.default_js = []
    m.default_css = []
    return m


def _add_assets(root: Any, *, cdn: bool, internal: bool, title: str) -> None:
    from branca.element import Element

    root.header.add_child(Element(asset_html(cdn=cdn)), name="siting_assets")
    classification = "internal" if internal else "public"
    root.header.add_child(
        Element(
            f'<meta name="siting-classification" content="{classification}"/>'
            f"<title>{esc(title)}</title>"
            "<style>.siting-popup table{border-collapse:collapse;font-size:12px}"
            ".siting-popup th,.siting-popup td{padding:1px 4px;vertical-align:top}"
            "@media print{.leaflet-control-minimap,.leaflet-control-zoom{display:none}}</style>"
        ),
        name="siting_meta",
    )


def plan_map(
    plan: Plan,
    *,
    include_incident_points: bool = False,
    cdn: bool = False,
    hex_size_m: float = 250.0,
    threshold: int | None = None,
    heat_bandwidth_m: float = 250.0,
    _m: Any = None,
) -> folium.Map:
    """Draw a plan: every layer, explainable, private by default.

    Parameters
    ----------
    plan
        The results of a run.
    include_incident_points
        Also draw every incident as a point. Off by default: with it on, the map is marked
        "internal" (title panel, ``<meta name="siting-classification">``) and must not be
        shared.
    cdn
        Link Leaflet and its plugins from a CDN instead of inlining them (small file, needs
        a network to open).
    hex_size_m
        Hexagon circumradius for the incident counts (metres).
    threshold
        Small-count suppression threshold (default ``settings.suppression_threshold``).
    heat_bandwidth_m
        Bandwidth of the heat surface built from the hexagon counts.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`. Layer names are listed in ``m.siting_layers``.
    """
    folium = _folium()
    params = plan.parameters or {}
    if threshold is None:
        threshold = params.get("suppression_threshold", settings.suppression_threshold)
    t = int(threshold)  # type: ignore[arg-type]
    notes = _Notes()
    net = plan.network
    cutoff = params.get("cutoff_min", settings.cutoff_min)
    m = _m if _m is not None else _new_map(folium, title=plan.name)
    root = m.get_root()
    layers: list[str] = []

    def group(name: str, *, show: bool = True) -> Any:
        fg = folium.FeatureGroup(name=esc(name), show=show)
        fg.add_to(m)
        layers.append(name)
        return fg

    # 1. street network basemap
    if net is not None and net.n_edges:
        text, note = _network_geojson(net, max_vertices=MAX_NETWORK_VERTICES, decimals=6)
        if note:
            log.warning("map: %s", note)
            notes.items.append(note)
        fg = group("Street network")
        _macro(_NETWORK_TEMPLATE, data=text.replace("<", "\\u003c")).add_to(fg)
        bounds = _network_bounds(net)
    else:
        bounds = None

    # 2. regions and exclusions
    if plan.regions is not None and len(plan.regions):
        reg = _capped(plan.regions, "regions", notes, label="Regions")
        name_col = next((c for c in ("name", "region") if c in reg.columns), None)
        fg = group("Regions")
        coll = _polygon_layer(
            reg,
            style={"color": "#6a3d9a", "weight": 2, "fill": False, "dashArray": "6,4"},
            title="Region",
            tooltip_col=name_col,
        )
        _geojson_layer(coll).add_to(fg)
    if plan.exclusions is not None and len(plan.exclusions):
        ex = _capped(plan.exclusions, "exclusions", notes, label="Exclusion zones")
        fg = group("Exclusion zones")
        _geojson_layer(
            _polygon_layer(
                ex,
                style={"color": "#c51b7d", "weight": 1, "fillColor": "#c51b7d", "fillOpacity": 0.18},
                title="Exclusion zone",
            )
        ).add_to(fg)

    # 3. incidents: hexagon counts and heat surface (public), points only on request
    hexes = None
    if plan.demand is not None and len(plan.demand):
        w = "weight" if "weight" in plan.demand.columns else None
        hexes = privacy.hex_counts(plan.demand, size_m=hex_size_m, weight=w, threshold=t)
        fg = group(f"Incidents (count per {hex_size_m:g} m hexagon)")
        _geojson_layer(_hex_layer(hexes, notes, t)).add_to(fg)
        heat = heat_overlay(hexes, bandwidth_m=heat_bandwidth_m)
        if heat is not None:
            url, hb, _ = heat
            fg = group(f"Heat surface (kernel {heat_bandwidth_m:g} m, from hexagon counts)", show=False)
            folium.raster_layers.ImageOverlay(
                image=url, bounds=hb, opacity=0.75, interactive=False, cross_origin=False
            ).add_to(fg)
        if include_incident_points:
            pts = _capped(plan.demand, "incident_points", notes, label="Incident points")
            fg = group("Incident points (INTERNAL)", show=False)
            coll = _features(
                _to_wgs84(pts).geometry.values,
                [
                    {
                        "_s": {
                            "radius": 2.5,
                            "color": "#b00020",
                            "weight": 0,
                            "fillColor": "#b00020",
                            "fillOpacity": 0.8,
                        }
                    }
                    for _ in range(len(pts))
                ],
            )
            _geojson_layer(coll, interactive=False).add_to(fg)

    # 4. hotspots: one layer per method, named with its parameters
    if plan.hotspots is not None and len(plan.hotspots):
        hs_all = plan.hotspots
        key = "params" if "params" in hs_all.columns else ("method" if "method" in hs_all.columns else None)
        groups = [(None, hs_all)] if key is None else list(hs_all.groupby(key, sort=True, dropna=False))
        for gname, hs in groups:
            hs = _capped(hs, "hotspots", notes, label="Hotspots")
            fg = group("Hotspots" if gname is None or pd.isna(gname) else f"Hotspots ({gname})")
            _geojson_layer(
                _polygon_layer(
                    hs,
                    style={"color": "#d94801", "weight": 2, "fillColor": "#fd8d3c", "fillOpacity": 0.25},
                    title="Hotspot",
                )
            ).add_to(fg)

    # 5. isochrones (under the points)
    iso_minutes: list[int] = []
    if plan.isochrones is not None and len(plan.isochrones):
        iso = _capped(plan.isochrones, "isochrones", notes, label="Isochrones")
        if "minutes" in iso.columns:
            iso = iso.sort_values("minutes", ascending=False, kind="stable")
            iso_minutes = sorted({int(v) for v in iso["minutes"].dropna()})
        fg = group("Walking isochrones")
        props = []
        for row in _records(iso):
            mnt = int(row["minutes"]) if "minutes" in row and pd.notna(row["minutes"]) else 0
            c = _ISO_COLOURS.get(mnt, "#6baed6")
            props.append(
                {
                    "_s": {"color": c, "weight": 1, "fillColor": c, "fillOpacity": 0.18},
                    "_t": f"{esc(row.get('candidate_id', ''))}: {mnt} min walk",
                }
            )
        g = shapely.simplify(_to_wgs84(iso).geometry.values, 2e-6)
        _geojson_layer(_features(g, props)).add_to(fg)

    # 6. services and extra layers
    if plan.services is not None and len(plan.services):
        sv = _capped(plan.services, "services", notes, label="Homeless services")
        fg = group("Homeless services")
        _geojson_layer(
            _points_layer(sv, colour="#1f78b4", radius=5, title_col="name", label="Homeless service")
        ).add_to(fg)
    layer_roles = (
        {k: (v.get("role") if isinstance(v, dict) else None) for k, v in (params.get("layers") or {}).items()}
        if isinstance(params.get("layers"), dict)
        else {}
    )
    for lname, lgdf in (plan.extra_layers or {}).items():
        if lgdf is None or not len(lgdf):
            continue
        if layer_roles.get(lname) == "demand":
            hx = privacy.hex_counts(lgdf, size_m=hex_size_m, threshold=t)
            fg = group(f"{lname} (count per hexagon)")
            _geojson_layer(_hex_layer(hx, notes, t)).add_to(fg)
            continue
        lg = _capped(lgdf, "extra", notes, label=str(lname))
        fg = group(str(lname))
        _geojson_layer(
            _points_layer(lg, colour="#33a02c", radius=4, title_col="name", label=esc(lname))
        ).add_to(fg)

    # 7. candidates and chosen sites (on top)
    score_range = None
    if plan.candidates is not None and len(plan.candidates):
        coll, score_range = _candidates_layer(plan.candidates, notes)
        fg = group("Candidates (colour = score)")
        _geojson_layer(coll).add_to(fg)
        m.siting_candidates = coll  # for tests and callers that need positions
    if plan.sites is not None and len(plan.sites):
        fg = group("Chosen sites")
        props = []
        for row in sites_table(plan).to_dict("records"):
            rows = [
                (esc(str(k).replace("_", " ").capitalize()), fmt(v))
                for k, v in row.items()
                if k not in ("candidate_id", "name")
            ]
            title = "Chosen site " + esc(row.get("candidate_id", ""))
            if pd.notna(row.get("name")) and str(row.get("name", "")):
                title += f" &middot; {esc(row['name'])}"
            props.append(
                {
                    "_s": {
                        "radius": 11,
                        "color": "#000000",
                        "weight": 3,
                        "fillColor": "#ffffff",
                        "fillOpacity": 0.0,
                    },
                    "_p": _popup_table(title, rows),
                    "_t": title,
                }
            )
        _geojson_layer(_features(_to_wgs84(plan.sites).geometry.values, props)).add_to(fg)

    # 8. controls
    internal = bool(include_incident_points)
    _control(
        _title_html(plan, internal=internal, threshold=t, notes=notes, cutoff=cutoff),
        position="topright",
        css_class="siting-title",
    ).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    legend = _legend_html(score_range, hexes is not None, t, iso_minutes)
    if legend:
        _control(legend, position="bottomleft", css_class="siting-legend").add_to(m)
    mini = "null"
    if net is not None and net.n_edges:
        mini, _ = _network_geojson(net, max_vertices=MAX_MINIMAP_VERTICES, decimals=6, straight=True)
    _macro(_PLUGINS_TEMPLATE, mini=mini).add_to(m)
    if bounds is None:
        bounds = _layer_bounds(plan)
    if bounds is not None:
        m.fit_bounds(bounds)
    if _m is None:
        _add_assets(root, cdn=cdn, internal=internal, title=plan.name)
    m.siting_layers = layers
    m.siting_internal = internal
    m.siting_notes = list(notes.items)
    return m


def sites_table(plan: Plan) -> pd.DataFrame:
    """The chosen sites with their candidate's name, rank and score, reason first.

    Columns in order: ``candidate_id``, ``name``, ``rank``, ``score``, ``region``,
    ``reason`` (those present), then the site's other columns; no geometry.
    """
    s = plan.sites
    if s is None or len(s) == 0:
        return pd.DataFrame()
    t = pd.DataFrame(s.drop(columns=s.geometry.name) if hasattr(s, "geometry") else s).copy()
    c = plan.candidates
    if c is not None and "candidate_id" in t.columns and "candidate_id" in c.columns:
        extra = [
            col for col in ("name", "rank", "score", "region") if col in c.columns and col not in t.columns
        ]
        if extra:
            look = pd.DataFrame(c[["candidate_id", *extra]]).drop_duplicates("candidate_id")
            look["candidate_id"] = look["candidate_id"].astype(str)
            t["candidate_id"] = t["candidate_id"].astype(str)
            t = t.merge(look, on="candidate_id", how="left")
    first = [col for col in ("candidate_id", "name", "rank", "score", "region", "reason") if col in t.columns]
    return t[first + [col for col in t.columns if col not in first]]


def _layer_bounds(plan: Plan) -> list[list[float]] | None:
    for gdf in (plan.candidates, plan.services):
        if gdf is not None and len(gdf):
            b = _to_wgs84(gdf).total_bounds
            return [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]
    return None


# ------------------------------------------------------------- side by side
_SYNC_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
    var a = {{ this.a }}, b = {{ this.b }}, busy = false;
    function follow(src, dst) {
        src.on('move', function () {
            if (busy) { return; }
            busy = true;
            dst.setView(src.getCenter(), src.getZoom(), {animate: false});
            busy = false;
        });
    }
    follow(a, b); follow(b, a);
})();
{% endmacro %}
"""


def compare_map(plan_a: Plan, plan_b: Plan, *, cdn: bool = False, **kwargs: Any) -> branca.element.Figure:
    """Two plans side by side with linked panning and zooming (e.g. 10 vs 15 minutes).

    Keyword arguments go to :func:`plan_map` for both. Save with :func:`save_map`.
    """
    from branca.element import Figure

    folium = _folium()
    fig = Figure()
    maps = []
    for left, plan in (("0%", plan_a), ("50%", plan_b)):
        m = _new_map(
            folium, title=plan.name, width="50%", height="100%", left=left, top="0%", position="absolute"
        )
        fig.add_child(m)
        plan_map(plan, cdn=cdn, _m=m, **kwargs)
        maps.append(m)
    internal = any(getattr(m, "siting_internal", False) for m in maps)
    _add_assets(fig, cdn=cdn, internal=internal, title=f"{plan_a.name} | {plan_b.name}")
    sync = _macro(_SYNC_TEMPLATE, a=maps[0].get_name(), b=maps[1].get_name())
    maps[1].add_child(sync)
    fig.siting_maps = maps
    return fig


# --------------------------------------------------------------------- save
def render_html(m: Any) -> str:
    """The full HTML of a map or figure."""
    return str(m.get_root().render())


def save_map(m: Any, path: str | os.PathLike[str]) -> Path:
    """Write a map (or :func:`compare_map` figure) as one HTML file, atomically.

    Written to a temporary file in the same folder, then renamed. Logs the size and warns
    when it exceeds :data:`MAX_HTML_BYTES`.
    """
    path = Path(path)
    text = render_html(m)
    data = text.encode("utf-8")
    write_bytes_atomic(path, data)
    size = len(data)
    if size > MAX_HTML_BYTES:
        log.warning(
            "map %s is %.1f MB, over the %.0f MB the caps aim for", path, size / 1e6, MAX_HTML_BYTES / 1e6
        )
    else:
        log.info("map written: %s (%.1f MB)", path, size / 1e6)
    return path
