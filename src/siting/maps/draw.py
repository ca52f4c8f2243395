"""plan_map: the recommendation first, then every layer, private by default.

Drawing order (bottom to top) is fixed by panes, not by the order layers happen to be
switched on, so chosen sites and candidates always take the click:

basemap < exclusion zones < regions < incident hexagons < hotspot outlines < walking
areas (not clickable) < services and extra layers < candidates < chosen sites.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ._leaflet import folium_module, macro, new_map, panel, to_wgs84
from .assets import asset_html
from .basemap import is_finite_bounds, network_bounds
from .drawing import (
    AREAS_LAYER,
    CHOSEN_LAYER,
    Drawing,
    draw_areas,
    draw_basemap,
    draw_hotspots,
    draw_incidents,
    draw_points,
    draw_zones,
)
from .legend import DEFINITIONS, swatch
from .release import figures
from .site_layers import draw_candidates, draw_sites
from .styles import (
    CANDIDATE,
    CHOSEN,
    EXCLUSION,
    HEX_CLASSES,
    HOTSPOT,
    REGION,
    VIRIDIS,
)
from .summary import plan_context, summary_html
from .text import esc, js_json
from .whatif import CANDIDATE_LAYER, whatif_data, whatif_html

if TYPE_CHECKING:
    import folium

    from ..plan import Plan

log = logging.getLogger("siting.maps")


_PANES_TEMPLATE = """
{% macro script(this, kwargs) %}
Siting.panes({{ this._parent.get_name() }});
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
    basemap_detail: str = "focus",
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
    basemap_detail
        ``"focus"`` (default): full detail near the candidates and in the chosen sites'
        walking areas, generalised elsewhere (a county's map stays a few megabytes);
        ``"full"``: every street and path at full detail everywhere.
    whatif
        Add the what-if panel (click candidates to build a set).

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`. ``m.siting_layers`` lists the layer names.
    """
    del threshold
    if basemap_detail not in ("focus", "full"):
        msg = f"basemap_detail must be 'focus' or 'full', got {basemap_detail!r}"
        raise ValueError(msg)
    folium = folium_module()
    internal = bool(internal or include_incident_points)
    fig = figures(plan, released=released, internal=internal, hex_size_m=hex_size_m)
    ctx = plan_context(plan, fig)
    m = _m if _m is not None else new_map(folium, title=plan.name)
    d = Drawing(plan=plan, fig=fig, ctx=ctx, m=m, folium=folium)
    macro(_PANES_TEMPLATE).add_to(m)
    credit = draw_basemap(d, detail=basemap_detail) if basemap else ""
    draw_zones(d)
    hexes = draw_incidents(
        d, hex_size_m=hex_size_m, heat_bandwidth_m=heat_bandwidth_m, points=include_incident_points
    )
    draw_hotspots(d)
    draw_areas(d)
    draw_points(d, hex_size_m=hex_size_m)
    draw_candidates(d)
    draw_sites(d)
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


def _finish(d: Drawing, *, credit: str, bounds: list[list[float]] | None, whatif: bool) -> None:
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
