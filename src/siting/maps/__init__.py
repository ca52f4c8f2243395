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
linked), :mod:`.colours`, :mod:`.basemap` (streets, minimap), :mod:`.heat` (heat surface),
:mod:`.popups`, :mod:`.layers` (GeoJSON collections per layer), :mod:`.legend` (title
panel, legend), :mod:`.draw` (:func:`plan_map`), :mod:`.compare`, :mod:`.save`;
``_leaflet`` holds the Folium plumbing they share.
"""

from __future__ import annotations

from ._leaflet import MAX_FEATURES
from .assets import asset_html, assets_dir
from .basemap import MAX_MINIMAP_VERTICES, MAX_NETWORK_VERTICES
from .colours import ramp
from .compare import compare_map
from .draw import plan_map, sites_table
from .heat import heat_overlay
from .popups import SCORE_COLUMNS
from .save import MAX_HTML_BYTES, render_html, save_map
from .text import esc, fmt, js_json

__all__ = [
    "MAX_FEATURES",
    "MAX_HTML_BYTES",
    "MAX_MINIMAP_VERTICES",
    "MAX_NETWORK_VERTICES",
    "SCORE_COLUMNS",
    "asset_html",
    "assets_dir",
    "compare_map",
    "esc",
    "fmt",
    "heat_overlay",
    "js_json",
    "plan_map",
    "ramp",
    "render_html",
    "save_map",
    "sites_table",
]
