"""The offline basemap: the walking network drawn from the plan (no tile server), and the minimap."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import shapely

from .. import settings

if TYPE_CHECKING:
    from ..network import StreetNetwork

#: Most vertices of the street-network basemap (simplified further until under it).
MAX_NETWORK_VERTICES = 250_000
#: Most vertices of the coarse network in the minimap.
MAX_MINIMAP_VERTICES = 20_000


# ------------------------------------------------------------------ network
def network_geojson(
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


def network_bounds(net: StreetNetwork) -> list[list[float]]:
    from pyproj import Transformer

    minx, miny, maxx, maxy = net.bounds()
    tr = Transformer.from_crs(net.crs, 4326, always_xy=True)
    xs = np.array([minx, maxx, minx, maxx])
    ys = np.array([miny, miny, maxy, maxy])
    lon, lat = tr.transform(xs, ys)
    return [[float(np.min(lat)), float(np.min(lon))], [float(np.max(lat)), float(np.max(lon))]]


PLUGINS_TEMPLATE = """
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

NETWORK_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.geoJSON({{ this.data }}, {
    interactive: false, style: {color: '#7a7a7a', weight: 1, opacity: 0.45}
}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""
