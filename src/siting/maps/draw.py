"""plan_map: every layer of a plan on one Folium map, in drawing order."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pandas as pd
import shapely

from .. import privacy, settings
from ._leaflet import (
    Notes,
    capped,
    control,
    features,
    folium_module,
    geojson_layer,
    macro,
    new_map,
    records,
    to_wgs84,
)
from .assets import asset_html
from .basemap import (
    MAX_MINIMAP_VERTICES,
    MAX_NETWORK_VERTICES,
    NETWORK_TEMPLATE,
    PLUGINS_TEMPLATE,
    network_bounds,
    network_geojson,
)
from .colours import ISO_COLOURS
from .heat import heat_overlay
from .layers import candidates_layer, hex_layer, points_layer, polygon_layer
from .legend import legend_html, title_html
from .popups import popup_table
from .text import esc, fmt

if TYPE_CHECKING:
    import folium

    from ..plan import Plan

log = logging.getLogger("siting.maps")


def add_assets(root: Any, *, cdn: bool, internal: bool, title: str) -> None:
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
    d = _Drawing(plan, threshold=threshold, m=_m)
    d.internal = bool(include_incident_points)
    bounds = _draw_basemap(d)
    _draw_areas(d)
    hexes = _draw_incidents(
        d, hex_size_m=hex_size_m, heat_bandwidth_m=heat_bandwidth_m, points=include_incident_points
    )
    _draw_hotspots(d)
    iso_minutes = _draw_isochrones(d)
    _draw_points(d, hex_size_m=hex_size_m)
    score_range = _draw_candidates(d)
    _draw_sites(d)
    internal = bool(include_incident_points)
    _draw_controls(d, internal=internal, legend=legend_html(score_range, hexes is not None, d.t, iso_minutes))
    m = d.m
    if bounds is None:
        bounds = layer_bounds(plan)
    if bounds is not None:
        m.fit_bounds(bounds)
    if _m is None:
        add_assets(m.get_root(), cdn=cdn, internal=internal, title=plan.name)
    m.siting_layers = d.layers
    m.siting_internal = internal
    m.siting_notes = list(d.notes.items)
    return m


class _Drawing:
    """One map being drawn: the plan, the Folium map, its layer names and notes."""

    def __init__(self, plan: Plan, *, threshold: int | None, m: Any) -> None:
        self.folium = folium_module()
        self.plan = plan
        self.params = plan.parameters or {}
        if threshold is None:
            threshold = self.params.get("suppression_threshold", settings.suppression_threshold)
        self.t = int(threshold)  # type: ignore[arg-type]
        self.notes = Notes()
        self.m = m if m is not None else new_map(self.folium, title=plan.name)
        self.layers: list[str] = []
        self.internal = False

    def group(self, name: str, *, show: bool = True) -> Any:
        fg = self.folium.FeatureGroup(name=esc(name), show=show)
        fg.add_to(self.m)
        self.layers.append(name)
        return fg


def _draw_basemap(d: _Drawing) -> list[list[float]] | None:
    """1. The street network; returns its bounds (None without a network)."""
    net = d.plan.network
    if net is None or not net.n_edges:
        return None
    text, note = network_geojson(net, max_vertices=MAX_NETWORK_VERTICES, decimals=6)
    if note:
        log.warning("map: %s", note)
        d.notes.items.append(note)
    fg = d.group("Street network")
    macro(NETWORK_TEMPLATE, data=text.replace("<", "\\u003c")).add_to(fg)
    return network_bounds(net)


def _draw_areas(d: _Drawing) -> None:
    """2. Regions and exclusion zones."""
    plan, notes = d.plan, d.notes
    if plan.regions is not None and len(plan.regions):
        reg = capped(plan.regions, "regions", notes, label="Regions")
        name_col = next((c for c in ("name", "region") if c in reg.columns), None)
        fg = d.group("Regions")
        coll = polygon_layer(
            reg,
            style={"color": "#6a3d9a", "weight": 2, "fill": False, "dashArray": "6,4"},
            title="Region",
            tooltip_col=name_col,
        )
        geojson_layer(coll).add_to(fg)
    if plan.exclusions is not None and len(plan.exclusions):
        ex = capped(plan.exclusions, "exclusions", notes, label="Exclusion zones")
        fg = d.group("Exclusion zones")
        geojson_layer(
            polygon_layer(
                ex,
                style={"color": "#c51b7d", "weight": 1, "fillColor": "#c51b7d", "fillOpacity": 0.18},
                title="Exclusion zone",
            )
        ).add_to(fg)


def _draw_incidents(d: _Drawing, *, hex_size_m: float, heat_bandwidth_m: float, points: bool) -> Any:
    """3. Incidents: hexagon counts and heat surface (public), points only on request."""
    plan, notes, t = d.plan, d.notes, d.t
    if plan.demand is None or not len(plan.demand):
        return None
    w = "weight" if "weight" in plan.demand.columns else None
    hexes = privacy.hex_counts(plan.demand, size_m=hex_size_m, weight=w, threshold=t)
    fg = d.group(f"Incidents (count per {hex_size_m:g} m hexagon)")
    geojson_layer(hex_layer(hexes, notes, t)).add_to(fg)
    heat = heat_overlay(hexes, bandwidth_m=heat_bandwidth_m)
    if heat is not None:
        url, hb, _ = heat
        fg = d.group(f"Heat surface (kernel {heat_bandwidth_m:g} m, from hexagon counts)", show=False)
        d.folium.raster_layers.ImageOverlay(
            image=url, bounds=hb, opacity=0.75, interactive=False, cross_origin=False
        ).add_to(fg)
    if points:
        pts = capped(plan.demand, "incident_points", notes, label="Incident points")
        fg = d.group("Incident points (INTERNAL)", show=False)
        style = {"radius": 2.5, "color": "#b00020", "weight": 0, "fillColor": "#b00020", "fillOpacity": 0.8}
        coll = features(to_wgs84(pts).geometry.values, [{"_s": style} for _ in range(len(pts))])
        geojson_layer(coll, interactive=False).add_to(fg)
    return hexes


def _draw_hotspots(d: _Drawing) -> None:
    """4. Hotspots: one layer per method, named with its parameters."""
    hs_all = d.plan.hotspots
    if hs_all is None or not len(hs_all):
        return
    key = "params" if "params" in hs_all.columns else ("method" if "method" in hs_all.columns else None)
    groups = [(None, hs_all)] if key is None else list(hs_all.groupby(key, sort=True, dropna=False))
    for gname, hs in groups:
        hs = capped(hs, "hotspots", d.notes, label="Hotspots")
        fg = d.group("Hotspots" if gname is None or pd.isna(gname) else f"Hotspots ({gname})")
        geojson_layer(
            polygon_layer(
                hs,
                style={"color": "#d94801", "weight": 2, "fillColor": "#fd8d3c", "fillOpacity": 0.25},
                title="Hotspot",
            )
        ).add_to(fg)


def _draw_isochrones(d: _Drawing) -> list[int]:
    """5. Walking isochrones (under the points); returns the minutes drawn."""
    iso_minutes: list[int] = []
    if d.plan.isochrones is None or not len(d.plan.isochrones):
        return iso_minutes
    iso = capped(d.plan.isochrones, "isochrones", d.notes, label="Isochrones")
    if "minutes" in iso.columns:
        iso = iso.sort_values("minutes", ascending=False, kind="stable")
        iso_minutes = sorted({int(v) for v in iso["minutes"].dropna()})
    fg = d.group("Walking isochrones")
    props = []
    for row in records(iso):
        mnt = int(row["minutes"]) if "minutes" in row and pd.notna(row["minutes"]) else 0
        c = ISO_COLOURS.get(mnt, "#6baed6")
        props.append(
            {
                "_s": {"color": c, "weight": 1, "fillColor": c, "fillOpacity": 0.18},
                "_t": f"{esc(row.get('candidate_id', ''))}: {mnt} min walk",
            }
        )
    g = shapely.simplify(to_wgs84(iso).geometry.values, 2e-6)
    geojson_layer(features(g, props)).add_to(fg)
    return iso_minutes


def _draw_points(d: _Drawing, *, hex_size_m: float) -> None:
    """6. Services (called by ``services_label``) and extra layers (demand layers as hexagon counts)."""
    plan, notes, params = d.plan, d.notes, d.params
    if plan.services is not None and len(plan.services):
        label = str(params.get("services_label") or "Homeless services")
        sv = capped(plan.services, "services", notes, label=label)
        fg = d.group(label)
        geojson_layer(points_layer(sv, colour="#1f78b4", radius=5, title_col="name", label=esc(label))).add_to(fg)
    layer_roles = (
        {k: (v.get("role") if isinstance(v, dict) else None) for k, v in (params.get("layers") or {}).items()}
        if isinstance(params.get("layers"), dict)
        else {}
    )
    for lname, lgdf in (plan.extra_layers or {}).items():
        if lgdf is None or not len(lgdf):
            continue
        if layer_roles.get(lname) == "demand":
            hx = privacy.hex_counts(lgdf, size_m=hex_size_m, threshold=d.t)
            fg = d.group(f"{lname} (count per hexagon)")
            geojson_layer(hex_layer(hx, notes, d.t)).add_to(fg)
            continue
        lg = capped(lgdf, "extra", notes, label=str(lname))
        fg = d.group(str(lname))
        geojson_layer(
            points_layer(lg, colour="#33a02c", radius=4, title_col="name", label=esc(lname))
        ).add_to(fg)


def _draw_candidates(d: _Drawing) -> tuple[float, float] | None:
    """7a. Candidates coloured by score; returns the score range of the legend."""
    if d.plan.candidates is None or not len(d.plan.candidates):
        return None
    coll, score_range = candidates_layer(d.plan.candidates, d.notes)
    fg = d.group("Candidates (colour = score)")
    geojson_layer(coll).add_to(fg)
    d.m.siting_candidates = coll  # for tests and callers that need positions
    return score_range


def _draw_sites(d: _Drawing) -> None:
    """7b. Chosen sites (on top)."""
    plan = d.plan
    if plan.sites is None or not len(plan.sites):
        return
    fg = d.group("Chosen sites")
    props = []
    from .site_profile import site_profiles  # hours, attendance, deaths, booths (released)

    profiles = site_profiles(plan, internal=d.internal, threshold=d.t)
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
                "_p": popup_table(title, rows, note=profiles.get(str(row.get("candidate_id")), "")),
                "_t": title,
            }
        )
    geojson_layer(features(to_wgs84(plan.sites).geometry.values, props)).add_to(fg)


def _draw_controls(d: _Drawing, *, internal: bool, legend: str) -> None:
    """8. Title panel, layer control, legend, fullscreen and minimap."""
    m, net = d.m, d.plan.network
    cutoff = d.params.get("cutoff_min", settings.cutoff_min)
    control(
        title_html(d.plan, internal=internal, threshold=d.t, notes=d.notes, cutoff=cutoff),
        position="topright",
        css_class="siting-title",
    ).add_to(m)
    d.folium.LayerControl(collapsed=False, position="topright").add_to(m)
    if legend:
        control(legend, position="bottomleft", css_class="siting-legend").add_to(m)
    mini = "null"
    if net is not None and net.n_edges:
        mini, _ = network_geojson(net, max_vertices=MAX_MINIMAP_VERTICES, decimals=6, straight=True)
    macro(PLUGINS_TEMPLATE, mini=mini).add_to(m)


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


def layer_bounds(plan: Plan) -> list[list[float]] | None:
    for gdf in (plan.candidates, plan.services):
        if gdf is not None and len(gdf):
            b = to_wgs84(gdf).total_bounds
            return [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]
    return None
