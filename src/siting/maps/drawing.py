"""The map's data layers, drawn in order under the sites: basemap, zones, incidents,
hotspots, walking areas, services and extra layers.

Each ``draw_*`` step takes the :class:`Drawing` being built (plan, released figures,
Folium map, notes, legend) and adds its FeatureGroup; :mod:`.draw` runs them in order.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ._leaflet import Notes, capped, macro, records
from .basemap import basemap_payload, focus_area
from .heat import heat_overlay
from .layers import Popups, add_layer, spec, styles_of
from .legend import Legend, gradient, swatch
from .popups import Context, hex_popup, point_popup, zone_popup
from .styles import (
    EXCLUSION,
    EXTRA,
    HEAT_STOPS,
    HEX_CLASSES,
    HEX_OPACITY,
    HEX_SUPPRESSED,
    HOTSPOT,
    ISO_OPACITY,
    REGION,
    SERVICE,
    hex_colour,
    iso_colour,
)
from .text import esc, fmt, js_json

if TYPE_CHECKING:
    from ..plan import Plan
    from .release import Figures

log = logging.getLogger("siting.maps")

CHOSEN_LAYER = "Chosen sites"
AREAS_LAYER = "Walking areas of the chosen sites"

BASEMAP_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = Siting.basemap({{ this.map }}, {{ this.data }});
{{ this._parent.get_name() }}.addLayer({{ this.get_name() }});
{{ this.map }}.sitingBase = {{ this.get_name() }};
{% endmacro %}
"""


@dataclass
class Drawing:
    """One map being drawn: the plan, its figures, the Folium map, layers and legend."""

    plan: Plan
    fig: Figures
    ctx: Context
    m: Any
    folium: Any
    notes: Notes = field(default_factory=Notes)
    legend: Legend = field(default_factory=Legend)
    groups: list[tuple[str, Any, int]] = field(default_factory=list)  # name, FeatureGroup, order
    layer_specs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def group(self, name: str, *, show: bool = True, order: int = 50, label: str = "") -> Any:
        fg = self.folium.FeatureGroup(name=label or esc(name), show=show, control=False)
        fg.add_to(self.m)
        fg.siting_name = name
        self.groups.append((name, fg, order))
        return fg

    def add(self, fg: Any, layer_spec: dict[str, Any]) -> None:
        add_layer(fg, layer_spec)
        self.layer_specs.setdefault(fg.siting_name, []).append(layer_spec)


def draw_basemap(d: Drawing, *, detail: str) -> str:
    """Streets with names, water, parks, landmarks; returns the attribution credit."""
    from ..basemap import basemap_for

    plan = d.plan
    base = plan.basemap if plan.basemap is not None else basemap_for(plan)
    crs = base.crs if base is not None else plan.network.crs if plan.network is not None else None
    focus = focus_area(plan, crs) if detail == "focus" and crs is not None else None
    payload = basemap_payload(base, plan.network, focus=focus)
    if payload is None:
        return ""
    if payload["note"]:
        d.notes.items.append(payload["note"])
    name = "Basemap: streets and names" if payload["named"] else "Basemap: streets"
    fg = d.group(name, order=95)
    el = macro(BASEMAP_TEMPLATE, map=d.m.get_name(), data=js_json(payload))
    el.add_to(fg)
    d.layer_specs[name] = [payload]
    items = [
        (swatch({"color": "#c2b59b", "fillColor": "#fdfcf8", "fillOpacity": 1, "weight": 2}), "main street"),
        (swatch({"color": "#d3cdc2", "fillColor": "#ffffff", "fillOpacity": 1, "weight": 1}), "street"),
    ]
    kinds = {layer.get("name") for layer in payload["layers"]}
    if "path" in kinds:
        items.append(
            (swatch({"color": "#b3aa9c", "dashArray": "3,3", "weight": 2}, "line"), "footway or path")
        )
    if "water" in kinds:
        items.append((swatch({"color": "#8fbcd4", "fillColor": "#aad3df", "fillOpacity": 1}), "water"))
    if "park" in kinds:
        items.append(
            (swatch({"color": "#b5d29e", "fillColor": "#d8e8c8", "fillOpacity": 1}), "park or green")
        )
    if "building" in kinds:
        items.append(
            (swatch({"color": "#b9a99b", "fillColor": "#d9d0c9", "fillOpacity": 1}), "landmark building")
        )
    d.legend.add("Basemap", items)
    return str(payload["credit"])


def draw_zones(d: Drawing) -> None:
    """Exclusion zones and regions (outlines), under everything that takes a click."""
    plan, notes = d.plan, d.notes
    if plan.exclusions is not None and len(plan.exclusions):
        ex = capped(plan.exclusions, "exclusions", notes, label="Exclusion zones")
        pops = Popups()
        for row in records(ex):
            pops.add(zone_popup(row))
        fg = d.group("Exclusion zones", order=80)
        d.add(fg, spec(ex, kind="pg", styles=[EXCLUSION], popups=pops, pane="sitingZones", simplify_deg=2e-6))
        rules = sorted({str(r) for r in ex["rule"].dropna()}) if "rule" in ex.columns else ["exclusion rule"]
        d.legend.add("Exclusion zones", [(swatch(EXCLUSION), esc(r)) for r in rules])
    if plan.regions is not None and len(plan.regions):
        reg = capped(plan.regions, "regions", notes, label="Regions")
        name_col = next((c for c in ("name", "region") if c in reg.columns), None)
        tips = [esc(v) for v in reg[name_col]] if name_col else None
        fg = d.group("Regions", order=85)
        d.add(fg, spec(reg, kind="pg", styles=[REGION], tips=tips, pane="sitingRegions", simplify_deg=2e-6))
        d.legend.add("Regions", [(swatch(REGION, "line"), "planning region (quotas)")])


def draw_incidents(d: Drawing, *, hex_size_m: float, heat_bandwidth_m: float, points: bool) -> Any:
    """Incidents: counts per hexagon and a heat surface from them; points only when opted in."""
    plan, fig = d.plan, d.fig
    cells = fig.cells
    if cells is None or not len(cells):
        return None
    cells = capped(
        cells, "incidents", d.notes, label="Incident hexagons", order="heat", ascending=False, kept="busiest"
    )
    labels = cells["count_label"] if "count_label" in cells.columns else cells["label"]
    sup = cells["suppressed"].to_numpy(bool) if "suppressed" in cells.columns else np.zeros(len(cells), bool)
    heat = pd.to_numeric(cells["heat"], errors="coerce").fillna(0).to_numpy()
    styles, index = styles_of(
        [
            {
                "color": "#8c4a1f",
                "weight": 0.4,
                "opacity": 0.5,
                "fillColor": hex_colour(h, s),
                "fillOpacity": HEX_OPACITY,
            }
            for h, s in zip(heat, sup, strict=True)
        ]
    )
    pops = Popups()
    for lab in labels:
        pops.add(hex_popup(str(lab), fig.statement if fig.internal else fig.rule.statement(), hex_size_m))
    tips = [f"Incidents: {esc(lab)}" for lab in labels]
    name = f"Incidents per {hex_size_m:g} m hexagon"
    fg = d.group(name, order=40)
    d.add(
        fg, spec(cells, kind="pg", styles=styles, style_index=index, popups=pops, tips=tips, pane="sitingHex")
    )
    bounds_lo = [lo for lo, _ in HEX_CLASSES]
    labels_legend = [fig.suppressed_label if not fig.internal else "1"]
    for k, lo in enumerate(bounds_lo):
        hi = bounds_lo[k + 1] if k + 1 < len(bounds_lo) else None
        labels_legend.append(f"{lo + 1}\u2013{hi}" if hi is not None else f"more than {lo}")
    if not fig.internal:
        labels_legend[1] = f"up to {bounds_lo[1]}"
    items = [
        (swatch({"color": "#8c4a1f", "weight": 1, "fillColor": c, "fillOpacity": HEX_OPACITY}), esc(lab))
        for lab, c in zip(labels_legend, [HEX_SUPPRESSED, *[c for _, c in HEX_CLASSES]], strict=False)
    ]
    d.legend.add("Incidents per hexagon", items)
    heat_img = heat_overlay(cells, bandwidth_m=heat_bandwidth_m)
    if heat_img is not None:
        url, hb, _ = heat_img
        fg = d.group(
            f"Heat surface (from the hexagon counts, {heat_bandwidth_m:g} m kernel)", show=False, order=45
        )
        d.folium.raster_layers.ImageOverlay(
            image=url, bounds=hb, opacity=0.75, interactive=False, cross_origin=False, pane="sitingHex"
        ).add_to(fg)
        d.legend.add(
            "Heat surface (off at start)",
            [(gradient(HEAT_STOPS, opacity=0.75), "fewer \u2192 more incidents")],
        )
    if points and plan.demand is not None and len(plan.demand):
        pts = capped(plan.demand, "incident_points", d.notes, label="Incident points")
        st = {"radius": 2.5, "color": "#b00020", "weight": 0, "fillColor": "#b00020", "fillOpacity": 0.8}
        fg = d.group("Incident points (INTERNAL)", show=False, order=46)
        d.add(fg, spec(pts, kind="pt", styles=[st], pane="sitingPoints", interactive=False))
        d.legend.add("INTERNAL", [(swatch(st, "dot"), "incident (exact location)")])
    return cells


def draw_hotspots(d: Drawing) -> None:
    """Hotspots: one layer per method, outlines only (never the hexagons' orange)."""
    fig = d.fig
    hs_all = (
        fig.released.hotspots if not fig.internal and fig.released.hotspots is not None else d.plan.hotspots
    )
    if hs_all is None or not len(hs_all):
        return
    key = "params" if "params" in hs_all.columns else ("method" if "method" in hs_all.columns else None)
    groups = [(None, hs_all)] if key is None else list(hs_all.groupby(key, sort=True, dropna=False))
    for gname, hs in groups:
        hs = capped(hs, "hotspots", d.notes, label="Hotspots")
        pops = Popups()
        for row in records(hs):
            rows = []
            if "n_incidents" in row:
                lab = row.get("n_incidents_label")
                rows.append(
                    ("Incidents", esc(lab) if isinstance(lab, str) else fig.count(row.get("n_incidents")))
                )
            if "n_cells" in row:
                rows.append(("Hexagons", fmt(row["n_cells"])))
            method = row.get("params") or row.get("method") or ""
            pops.add(("Hotspot", rows, esc(method)))
        name = "Hotspots" if gname is None or pd.isna(gname) else f"Hotspots ({gname})"
        fg = d.group(name, order=50)
        d.add(
            fg, spec(hs, kind="pg", styles=[{**HOTSPOT, "fill": False}], popups=pops, pane="sitingHotspots")
        )
    d.legend.add("Hotspots", [(swatch(HOTSPOT, "line"), "significant cluster of incidents (outline)")])


def draw_areas(d: Drawing) -> None:
    """Walking areas (5/10/15 minutes) of the chosen sites: under the points, never in the way."""
    plan = d.plan
    if plan.isochrones is None or not len(plan.isochrones):
        return
    iso = capped(plan.isochrones, "isochrones", d.notes, label="Walking areas")
    if "minutes" in iso.columns:
        iso = iso.sort_values("minutes", ascending=False, kind="stable")
    minutes = [float(v) if pd.notna(v) else 0.0 for v in iso.get("minutes", pd.Series([0.0] * len(iso)))]
    styles, index = styles_of(
        [
            {
                "color": iso_colour(mn),
                "weight": 1.5,
                "opacity": 0.8,
                "fillColor": iso_colour(mn),
                "fillOpacity": ISO_OPACITY,
            }
            for mn in minutes
        ]
    )
    fg = d.group(AREAS_LAYER, order=10)
    d.add(
        fg,
        spec(
            iso,
            kind="pg",
            styles=styles,
            style_index=index,
            pane="sitingCatchments",
            interactive=False,
            simplify_deg=2e-6,
        ),
    )
    shown = sorted({round(mn) for mn in minutes})
    d.legend.add(
        "Walking time from the chosen sites",
        [
            (
                swatch(
                    {"color": iso_colour(mn), "fillColor": iso_colour(mn), "fillOpacity": 0.35, "weight": 1.5}
                ),
                f"{mn} min",
            )
            for mn in shown
        ],
    )


def draw_points(d: Drawing, *, hex_size_m: float) -> None:
    """Services and extra point layers (demand layers as released hexagon counts)."""
    plan, ctx = d.plan, d.ctx
    if plan.services is not None and len(plan.services):
        sv = capped(plan.services, "services", d.notes, label=ctx.services_label)
        pops = Popups()
        tips = []
        for row in records(sv):
            nm = row.get("name")
            title = esc(nm) if isinstance(nm, str) and nm else esc(ctx.services_label)
            pops.add(point_popup(row, title))
            tips.append(title)
        fg = d.group(ctx.services_label, order=30)
        d.add(fg, spec(sv, kind="sq", styles=[SERVICE], popups=pops, tips=tips, pane="sitingPoints"))
        d.legend.add(
            ctx.services_label, [('<span class="sw siting-svc" aria-hidden="true"></span>', "service")]
        )
    for lname, lgdf in (plan.extra_layers or {}).items():
        if lgdf is None or not len(lgdf) or ctx.layer_roles.get(lname) == "demand":
            continue  # demand layers are incidents: only their released counts may be drawn
        lg = capped(lgdf, "extra", d.notes, label=str(lname))
        pops = Popups()
        tips = []
        for row in records(lg):
            nm = row.get("name")
            title = esc(nm) if isinstance(nm, str) and nm else esc(lname)
            pops.add(point_popup(row, title))
            tips.append(title)
        fg = d.group(str(lname), order=35)
        d.add(fg, spec(lg, kind="pt", styles=[EXTRA], popups=pops, tips=tips, pane="sitingPoints"))
        d.legend.add(str(lname), [(swatch(EXTRA, "dot"), esc(lname))])
