"""plan_map: the recommendation first, then every layer, private by default.

Drawing order (bottom to top) is fixed by panes, not by the order layers happen to be
switched on, so chosen sites and candidates always take the click:

basemap < exclusion zones < regions < incident hexagons < hotspot outlines < walking
areas (not clickable) < services and extra layers < candidates < chosen sites.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely

from .. import settings
from ._leaflet import Notes, capped, folium_module, macro, new_map, panel, records, to_wgs84
from .assets import asset_html
from .basemap import basemap_payload, is_finite_bounds, network_bounds
from .heat import heat_overlay
from .layers import Popups, add_layer, spec, styles_of
from .legend import DEFINITIONS, Legend, gradient, swatch
from .popups import Context, candidate_popup, hex_popup, point_popup, site_name, site_popup, zone_popup
from .release import Figures, figures
from .styles import (
    CANDIDATE,
    CHOSEN,
    EXCLUDED,
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
    VIRIDIS,
    hex_colour,
    iso_colour,
    ramp,
)
from .summary import names_of, not_chosen_of, sites_order, summary_html
from .text import esc, fmt, js_json
from .whatif import CANDIDATE_LAYER, whatif_data, whatif_html

if TYPE_CHECKING:
    import folium

    from ..plan import Plan

log = logging.getLogger("siting.maps")

CHOSEN_LAYER = "Chosen sites"
AREAS_LAYER = "Walking areas of the chosen sites"

_PANES_TEMPLATE = """
{% macro script(this, kwargs) %}
Siting.panes({{ this._parent.get_name() }});
{% endmacro %}
"""
_BASEMAP_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = Siting.basemap({{ this.map }}, {{ this.data }});
{{ this._parent.get_name() }}.addLayer({{ this.get_name() }});
{{ this.map }}.sitingBase = {{ this.get_name() }};
{% endmacro %}
"""
_INIT_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
    var map = {{ this._parent.get_name() }};
    if (L.Control.FullScreen) {
        new L.Control.FullScreen({position: 'topleft', title: 'Full screen', titleCancel: 'Exit full screen'})
            .addTo(map);
    }
    Siting.minimap(map, map.sitingBase);
    {{ this.panels }}
    var cfg = {{ this.cfg }};
    cfg.groups = [
    {%- for name, var in this.groups %}
        [{{ name }}, {{ var }}]{% if not loop.last %},{% endif %}
    {%- endfor %}
    ];
    Siting.init(map, cfg);
})();
{% endmacro %}
"""


@dataclass
class _Drawing:
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


def plan_map(
    plan: Plan,
    *,
    released: Any = None,
    internal: bool = False,
    include_incident_points: bool = False,
    cdn: bool = False,
    hex_size_m: float = 250.0,
    threshold: int | None = None,
    heat_bandwidth_m: float = 250.0,
    basemap: bool = True,
    whatif: bool = True,
    _m: Any = None,
) -> folium.Map:
    """Draw a plan: the recommendation first, every layer explained, private by default.

    Parameters
    ----------
    plan
        The results of a run.
    released
        The run's :class:`~siting.privacy.ReleasedPlan` (made here when not given): every
        incident-derived figure on the map comes from it.
    internal
        Draw exact figures instead, and mark the map INTERNAL (``<meta
        name="siting-classification">``, summary panel). Implied by ``include_incident_points``.
    include_incident_points
        Also draw every incident as a point (INTERNAL; must not be shared).
    cdn
        Link Leaflet and its plugins from a CDN instead of inlining them.
    hex_size_m
        Hexagon circumradius of the incident counts (metres).
    threshold
        Deprecated: the suppression rule is the run's (``privacy.Rule``); ignored.
    heat_bandwidth_m
        Bandwidth of the heat surface built from the hexagon counts.
    basemap
        Draw the streets (with names), water, parks and landmarks of the network's source.
    whatif
        Add the what-if panel (click candidates to build a set).

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`. ``m.siting_layers`` lists the layer names.
    """
    del threshold
    folium = folium_module()
    internal = bool(internal or include_incident_points)
    fig = figures(plan, released=released, internal=internal, hex_size_m=hex_size_m)
    params = plan.parameters or {}
    ctx = Context(
        fig=fig,
        cutoff_min=float(params.get("cutoff_min", settings.cutoff_min)),
        n_ranked=int(pd.to_numeric(plan.candidates["rank"], errors="coerce").notna().sum())
        if plan.candidates is not None and "rank" in plan.candidates.columns
        else 0,
        weights={str(k): float(v) for k, v in (params.get("weights") or {}).items()},
        layer_roles={
            k: str(v.get("role")) for k, v in (params.get("layers") or {}).items() if isinstance(v, dict)
        },
        chosen=sites_order(plan),
        names=names_of(plan),
        not_chosen=not_chosen_of(plan),
        services_label=str(params.get("services_label") or "Homeless services"),
    )
    m = _m if _m is not None else new_map(folium, title=plan.name)
    d = _Drawing(plan=plan, fig=fig, ctx=ctx, m=m, folium=folium)
    macro(_PANES_TEMPLATE).add_to(m)
    credit = _draw_basemap(d) if basemap else ""
    _draw_zones(d)
    hexes = _draw_incidents(
        d, hex_size_m=hex_size_m, heat_bandwidth_m=heat_bandwidth_m, points=include_incident_points
    )
    _draw_hotspots(d)
    _draw_areas(d)
    _draw_points(d, hex_size_m=hex_size_m)
    _draw_candidates(d)
    _draw_sites(d)
    del hexes
    bounds = _initial_bounds(plan)
    _finish(d, credit=credit, bounds=bounds, whatif=whatif)
    if _m is None:
        add_assets(m.get_root(), cdn=cdn, internal=internal, title=plan.name)
    m.siting_layers = [name for name, _, _ in sorted(d.groups, key=lambda g: g[2])]
    m.siting_internal = internal
    m.siting_notes = list(d.notes.items)
    m.siting_figures = fig
    m.siting_specs = d.layer_specs
    return m


def add_assets(root: Any, *, cdn: bool, internal: bool, title: str) -> None:
    from branca.element import Element

    root.header.add_child(Element(asset_html(cdn=cdn)), name="siting_assets")
    classification = "internal" if internal else "public"
    root.header.add_child(
        Element(
            f'<meta name="siting-classification" content="{classification}"/><title>{esc(title)}</title>'
        ),
        name="siting_meta",
    )


# ----------------------------------------------------------------- steps
def _draw_basemap(d: _Drawing) -> str:
    """Streets with names, water, parks, landmarks; returns the attribution credit."""
    from ..basemap import basemap_for

    plan = d.plan
    base = plan.basemap if plan.basemap is not None else basemap_for(plan)
    payload = basemap_payload(base, plan.network)
    if payload is None:
        return ""
    if payload["note"]:
        d.notes.items.append(payload["note"])
    name = "Basemap: streets and names" if payload["named"] else "Basemap: streets"
    fg = d.group(name, order=95)
    el = macro(_BASEMAP_TEMPLATE, map=d.m.get_name(), data=js_json(payload))
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


def _draw_zones(d: _Drawing) -> None:
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


def _draw_incidents(d: _Drawing, *, hex_size_m: float, heat_bandwidth_m: float, points: bool) -> Any:
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


def _draw_hotspots(d: _Drawing) -> None:
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


def _draw_areas(d: _Drawing) -> None:
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


def _draw_points(d: _Drawing, *, hex_size_m: float) -> None:
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


def _draw_candidates(d: _Drawing) -> None:
    """Candidates coloured by score (viridis), excluded ones grey and dashed."""
    ctx, fig = d.ctx, d.fig
    c_all = fig.candidates
    if c_all is None or not len(c_all):
        return
    cands = capped(c_all, "candidates", d.notes, label="Candidates", order="rank", kept="best ranked")
    # colour by rank (the order the run computed on the exact data; released scores are rounded)
    rank = pd.to_numeric(cands["rank"], errors="coerce") if "rank" in cands.columns else None
    excluded = cands["excluded"].fillna(False).astype(bool) if "excluded" in cands.columns else None
    worst = float(rank.max()) if rank is not None and rank.notna().any() else 1.0
    items, tips, ids = [], [], []
    pops = Popups()
    for i, row in enumerate(records(cands)):
        is_ex = bool(excluded.iloc[i]) if excluded is not None else False
        r = float(rank.iloc[i]) if rank is not None and pd.notna(rank.iloc[i]) else float("nan")
        pos = 1.0 - (r - 1.0) / (worst - 1.0) if worst > 1 and np.isfinite(r) else float(np.isfinite(r))
        items.append(EXCLUDED if is_ex else {**CANDIDATE, "fillColor": ramp(pos)})
        cid = str(row.get("candidate_id", ""))
        tip = site_name(cid, row.get("name"))
        if pd.notna(row.get("rank")):
            tip += f" (rank {fmt(int(row['rank']))})"
        elif is_ex:
            tip += " (excluded)"
        tips.append(tip)
        ids.append(cid)
        pops.add(candidate_popup(row, ctx))
    styles, index = styles_of(items)
    fg = d.group(CANDIDATE_LAYER, order=20)
    d.add(
        fg,
        spec(
            cands,
            kind="pt",
            styles=styles,
            style_index=index,
            popups=pops,
            tips=tips,
            ids=ids,
            pane="sitingCandidates",
        ),
    )
    d.m.siting_candidates = _positions(cands, ids)
    d.legend.add(
        "Candidates",
        [
            (gradient(VIRIDIS[::-1]), f"rank 1 \u2192 {fmt(int(worst))} (yellow is best)"),
            (swatch(EXCLUDED, "dot"), "excluded by a rule"),
        ],
    )


def _draw_sites(d: _Drawing) -> None:
    """Chosen sites: large rings with a permanent label, in the top pane, keyboard-reachable."""
    plan, ctx, fig = d.plan, d.ctx, d.fig
    sites = fig.sites
    if sites is None or not len(sites):
        return
    cands = fig.candidates.set_index(fig.candidates["candidate_id"].astype(str))
    pops = Popups()
    tips, ids = [], []
    findings = plan.findings
    for k, row in enumerate(records(sites), start=1):
        cid = str(row["candidate_id"])
        crow = cands.loc[cid].to_dict() if cid in cands.index else {}
        merged = {**crow, **{kk: v for kk, v in row.items() if v is not None}}
        extra: list[tuple[str, ...]] = []
        if findings is not None and len(findings):
            for rec in findings[findings["site"] == cid].to_dict("records"):
                if rec["finding"] == "rule":
                    extra.append(("Chosen by rule", esc(rec.get("rule"))))
                elif rec["finding"] == "low_rank":
                    extra.append(
                        (
                            "Adds",
                            f"{fig.adds(rec, ctx.cutoff_min)} of its incidents "
                            "no other chosen site reaches",
                        )
                    )
        pops.add(site_popup(merged, k, ctx, extra))
        tips.append(f"{k}. {site_name(cid, row.get('name'))}")
        ids.append(cid)
    from .site_profile import site_profiles  # hours, attendance, deaths, booths (impact-led's)

    profiles = site_profiles(plan, released=fig.released, internal=fig.internal)
    if profiles:
        for k, cid in enumerate(ids):
            if cid in profiles:
                entry = pops.data[k]
                note = entry[2] if len(entry) > 2 else ""
                pops.data[k] = [entry[0], entry[1], profiles[cid] + (f"<br>{note}" if note else "")]
    fg = d.group(CHOSEN_LAYER, order=0)
    d.add(
        fg,
        spec(
            sites,
            kind="pt",
            styles=[CHOSEN],
            popups=pops,
            tips=tips,
            ids=ids,
            pane="sitingChosen",
            tab=True,
            labelled=True,
        ),
    )
    d.legend.add("Recommendation", [(swatch(CHOSEN, "dot"), "chosen site (numbered, labelled)")])


# ----------------------------------------------------------------- finish
def _positions(gdf: Any, ids: list[str]) -> dict[str, Any]:
    """Candidate positions in lon/lat (for tests and callers that click them)."""
    pts = shapely.get_coordinates(
        shapely.point_on_surface(np.asarray(to_wgs84(gdf).geometry.values, dtype=object))
    )
    return {
        "features": [
            {"geometry": {"coordinates": [float(x), float(y)]}, "properties": {"candidate_id": cid}}
            for (x, y), cid in zip(pts, ids, strict=True)
        ]
    }


def _initial_bounds(plan: Plan) -> list[list[float]] | None:
    """The recommendation first: the chosen sites' walking areas, else the candidates, else the network."""
    for gdf in (plan.isochrones, plan.sites, plan.candidates, plan.services):
        if gdf is not None and len(gdf):
            b = to_wgs84(gdf).total_bounds
            out = [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]
            if is_finite_bounds(out):
                return out
    if plan.network is not None and plan.network.n_edges:
        return network_bounds(plan.network)
    return None


def _finish(d: _Drawing, *, credit: str, bounds: list[list[float]] | None, whatif: bool) -> None:
    """Panels (summary, legend, what-if), layer control, fullscreen, minimap, first view."""
    plan, fig, ctx = d.plan, d.fig, d.ctx
    when = plan.manifest.get("created") or plan.manifest.get("time") or plan.parameters.get("date")
    date = str(when) if when else datetime.now(UTC).strftime("%Y-%m-%d")
    panels = [
        panel(
            summary_html(plan, ctx, title=plan.name, date=date, notes=d.notes.items),
            "topright",
            "siting-summary",
        ),
        panel(d.legend.html(definitions=DEFINITIONS), "bottomleft", "siting-legend"),
    ]
    cfg: dict[str, Any] = {"bounds": bounds, "credit": credit}
    if whatif and fig.released is not None and plan.candidates is not None and len(plan.candidates):
        data = whatif_data(plan, fig)
        if data is not None:
            panels.append(
                panel(whatif_html(plan, fig, cutoff_min=ctx.cutoff_min), "topleft", "siting-whatif")
            )
            cfg["whatif"] = data
    ordered = sorted(d.groups, key=lambda g: g[2])
    init = macro(
        _INIT_TEMPLATE,
        panels="\n    ".join(panels),
        cfg=js_json(cfg),
        groups=[(js_json(f"{_layer_swatch(name)}{esc(name)}"), fg.get_name()) for name, fg, _ in ordered],
    )
    init.add_to(d.m)


def _layer_swatch(name: str) -> str:
    """A small swatch in front of a layer's name in the layer list (its legend at a glance)."""
    table = {
        CHOSEN_LAYER: (CHOSEN, "dot"),
        CANDIDATE_LAYER: ({**CANDIDATE, "fillColor": VIRIDIS[2]}, "dot"),
        AREAS_LAYER: (
            {"color": "#3182bd", "fillColor": "#3182bd", "fillOpacity": 0.3, "weight": 1},
            "square",
        ),
        "Exclusion zones": (EXCLUSION, "square"),
        "Regions": (REGION, "line"),
    }
    if name in table:
        style, shape = table[name]
        return swatch(style, shape)
    if name.startswith("Hotspots"):
        return swatch(HOTSPOT, "line")
    if name.startswith("Incidents per"):
        return swatch({"color": "#8c4a1f", "weight": 1, "fillColor": HEX_CLASSES[2][1], "fillOpacity": 0.6})
    return ""
