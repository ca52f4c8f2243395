"""Folium and Leaflet plumbing shared by the map's modules: GeoJSON out, macros, caps, controls."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

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
def to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if gdf.crs is None:
        msg = "a layer given to the map has no CRS; set one before drawing it"
        raise InputError(msg)
    return gdf.to_crs(4326)


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


def panel(content_html: str, position: str, css_class: str) -> str:
    """Script that adds a panel (escaped HTML) as a Leaflet control of ``map``."""
    return f"Siting.panel(map, {js_json(content_html)}, {js_json(position)}, {js_json(css_class)});"


# --------------------------------------------------------------------- map
def new_map(folium: Any, *, title: str, **kwargs: Any) -> Any:
    m = folium.Map(
        location=[0, 0], zoom_start=2, tiles=None, control_scale=True, prefer_canvas=False, **kwargs
    )
    # assets are ours (inlined or linked once per page); drop folium's CDN defaults
    m.default_js = []
    m.default_css = []
    return m
