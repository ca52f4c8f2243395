"""Folium and Leaflet plumbing shared by the map's modules: GeoJSON out, macros, caps, controls."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from .._errors import InputError, MissingDependencyError
from .text import js_json

if TYPE_CHECKING:
    import geopandas as gpd

log = logging.getLogger("siting.maps")

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


# -------------------------------------------------------------- geometry out
def round_coords(geoms: npt.NDArray[np.object_], decimals: int) -> npt.NDArray[np.object_]:
    return shapely.transform(geoms, lambda c: np.round(c, decimals))


def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        msg = "a layer given to the map has no CRS; set one before drawing it"
        raise InputError(msg)
    return gdf.to_crs(4326)


def features(
    geoms: npt.NDArray[np.object_],
    props: list[dict[str, Any]],
    *,
    decimals: int = 6,
) -> dict[str, Any]:
    geoms = round_coords(np.asarray(geoms, dtype=object), decimals)
    feats = []
    for g, p in zip(geoms, props, strict=True):
        if g is None or shapely.is_empty(g):
            continue
        feats.append({"type": "Feature", "geometry": g.__geo_interface__, "properties": p})
    return {"type": "FeatureCollection", "features": feats}


# -------------------------------------------------------------- folium parts
def folium_module() -> Any:
    try:
        import folium
    except ImportError as exc:  # pragma: no cover - folium is a core dependency
        msg = "maps need folium: pip install folium"
        raise MissingDependencyError(msg) from exc
    return folium


def macro(template: str, **attrs: Any) -> Any:
    """A branca MacroElement with a script template and attributes."""
    from branca.element import MacroElement
    from jinja2 import Template

    el = MacroElement()
    el._template = Template(template)
    for k, v in attrs.items():
        setattr(el, k, v)
    return el


GEOJSON_TEMPLATE = """
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


def geojson_layer(collection: dict[str, Any], *, interactive: bool = True) -> Any:
    return macro(GEOJSON_TEMPLATE, data=js_json(collection), interactive="true" if interactive else "false")


@dataclass
class Notes:
    """Messages shown in the title panel (caps applied, layers left out)."""

    items: list[str] = field(default_factory=list)

    def cap(self, layer: str, n: int, limit: int, kept: str) -> None:
        msg = f"{layer}: showing {limit:,} of {n:,} ({kept}); the map caps this layer at {limit:,}"
        log.warning("map: %s", msg)
        self.items.append(msg)


def capped(
    gdf: gpd.GeoDataFrame,
    key: str,
    notes: Notes,
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


def json_num(v: Any) -> Any:
    try:
        if v is None or pd.isna(v):
            return None
    except (TypeError, ValueError):
        return None
    return float(v) if isinstance(v, (float, np.floating)) else int(v)


def records(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of their non-geometry columns (much faster than ``iterrows``)."""
    cols = [c for c in gdf.columns if c != gdf.geometry.name]
    return pd.DataFrame(gdf[cols]).to_dict("records")


CONTROL_TEMPLATE = """
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


def control(content_html: str, *, position: str, css_class: str) -> Any:
    return macro(
        CONTROL_TEMPLATE,
        content=js_json(content_html),
        position=js_json(position),
        css_class=js_json(css_class),
    )


# --------------------------------------------------------------------- map
def new_map(folium: Any, *, title: str, **kwargs: Any) -> Any:
    m = folium.Map(
        location=[0, 0], zoom_start=2, tiles=None, control_scale=True, prefer_canvas=False, **kwargs
    )
    # assets are ours (inlined or linked once per page); drop folium's CDN defaults
    m.default_js = []
    m.default_css = []
    return m
