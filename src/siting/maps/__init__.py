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

Modules: :mod:`.text` (escaping, number formats), :mod:`.assets` (Leaflet inlined or
linked), :mod:`.styles` (colours), :mod:`.encode` (encoded polylines), :mod:`.basemap`
(streets with names, full detail only near candidates and walking areas), :mod:`.heat`
(heat surface), :mod:`.popups`, :mod:`.layers` (compact layer specs), :mod:`.legend`,
:mod:`.summary` (summary panel), :mod:`.whatif` and :mod:`.whatif_values` (the offline
what-if), :mod:`.release` (every figure through the privacy rule), :mod:`.drawing` (the
data layers' steps), :mod:`.site_layers` (candidates and chosen sites), :mod:`.draw`
(:func:`plan_map`), :mod:`.compare`, :mod:`.save`; ``_leaflet`` holds the Folium plumbing
they share.
"""

from __future__ import annotations

from ._leaflet import MAX_FEATURES
from .assets import asset_html, assets_dir
from .compare import compare_map
from .draw import plan_map
from .heat import heat_overlay
from .save import MAX_HTML_BYTES, render_html, save_map
from .styles import ramp
from .summary import sites_table
from .text import esc, fmt, js_json

__all__ = [
    "MAX_FEATURES",
    "MAX_HTML_BYTES",
    "asset_html",
    "assets_dir",
    "compare_map",
    "esc",
    "fmt",
    "heat_overlay",
    "js_json",
    "map_content",
    "plan_map",
    "ramp",
    "readable_text",
    "render_html",
    "save_map",
    "sites_table",
]


def map_content(m: object) -> dict[str, list[dict[str, object]]]:
    """Every data layer of a map made by :func:`plan_map` as its reader gets it: per layer
    name, each feature's decoded coordinates (lat, lon), popup HTML, tooltip and id."""
    from .layers import layer_content

    specs = getattr(m, "siting_specs", {})
    return {
        name: [f for s in layer_specs if "k" in s for f in layer_content(s)]
        for name, layer_specs in specs.items()
    }


def readable_text(m: object) -> str:
    """The page as text plus every position a reader can decode from it, as ``lon,lat``.

    Geometry is written as encoded polylines, which a text search cannot see; privacy checks
    search this instead (the coordinates at the precision they were written).
    """
    lines = [render_html(m)]
    for feats in map_content(m).values():
        for f in feats:
            coords = f["coords"]
            stack = [coords]
            while stack:
                c = stack.pop()
                if c and isinstance(c[0], (int, float)):
                    lines.append(f"{c[1]!r},{c[0]!r}")
                else:
                    stack.extend(c)
    return "\n".join(lines)
