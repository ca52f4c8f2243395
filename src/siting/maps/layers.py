"""Layers as compact specs the page's script turns into Leaflet shapes (``Siting.layer``).

A spec holds the layer's geometry as encoded polylines (:mod:`.encode`), its distinct
styles and each feature's style index, popups as rows of already escaped HTML whose
labels are shared across the layer, tooltips, ids and the pane it is drawn in. That keeps
a county's 5,000 candidates or 20,000 hexagons to a few bytes each, where GeoJSON with a
popup string per feature took most of a 15 MB page.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from ._leaflet import macro, to_wgs84
from .encode import encode_lines, encode_polygons
from .text import js_json

if TYPE_CHECKING:
    import geopandas as gpd

    from .popups import Popup

_LAYER_TEMPLATE = """
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = Siting.layer({{ this.spec }}).addTo({{ this._parent.get_name() }});
{% endmacro %}
"""


class Popups:
    """Popups of one layer, with row labels stored once."""

    def __init__(self) -> None:
        self.labels: list[str] = []
        self._index: dict[str, int] = {}
        self.data: list[Any] = []

    def add(self, popup: Popup) -> None:
        title, rows, note = popup
        out: list[list[Any]] = []
        for row in rows:
            if len(row) == 1:
                out.append([row[0]])
                continue
            label, value = row
            k = self._index.get(label)
            if k is None:
                k = self._index[label] = len(self.labels)
                self.labels.append(label)
            out.append([k, value])
        self.data.append([title, out, note] if note else [title, out])

    def spec(self) -> dict[str, Any]:
        """Row labels once (``L``), and every text more than one popup shows once too (``S``):
        a feature refers to it by its number (a county's 20,000 hexagons share one privacy
        note). Every other value is text."""
        counts: Counter[str] = Counter()
        data = [
            [
                _text(d[0]),
                [[_text(r[0])] if len(r) == 1 else [r[0], _text(r[1])] for r in d[1]],
                *map(_text, d[2:]),
            ]
            if not isinstance(d, str)
            else d
            for d in self.data
        ]
        for d in data:
            if isinstance(d, str):
                continue
            counts.update([d[0], *(r[-1] for r in d[1]), *d[2:]])
        shared = [t for t, n in counts.items() if n > 1 and len(t) > 3]
        if not shared:
            return {"L": self.labels, "d": data}
        ref = {t: i for i, t in enumerate(shared)}

        def r(t: str) -> str | int:
            return ref.get(t, t)

        out = [
            [r(d[0]), [[r(row[0])] if len(row) == 1 else [row[0], r(row[1])] for row in d[1]], *map(r, d[2:])]
            if not isinstance(d, str)
            else d
            for d in data
        ]
        return {"L": self.labels, "S": shared, "d": out}


def _text(v: Any) -> str:
    return v if isinstance(v, str) else "" if v is None else str(v)


def spec(
    gdf: gpd.GeoDataFrame,
    *,
    kind: str,
    styles: list[dict[str, Any]],
    style_index: list[int] | None = None,
    popups: Popups | None = None,
    tips: list[str] | None = None,
    ids: list[str] | None = None,
    pane: str,
    interactive: bool = True,
    tab: bool = False,
    labelled: bool = False,
    precision: int = 6,
    simplify_deg: float = 0.0,
) -> dict[str, Any]:
    """A layer spec for ``Siting.layer``: ``kind`` is ``pt`` (dots), ``sq`` (square HTML
    markers), ``ln`` or ``pg``.

    Features with empty geometry are left out (with their popup, tooltip and id).
    """
    geoms = np.asarray(to_wgs84(gdf).geometry.values, dtype=object)
    if simplify_deg:
        geoms = shapely.simplify(geoms, simplify_deg)
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    idx = np.flatnonzero(keep)
    geoms = geoms[idx]
    out: dict[str, Any] = {"k": kind, "f": precision, "pane": pane, "st": styles}
    if kind == "pg":
        out["g"], out["r"] = encode_polygons(geoms, precision=precision)
    else:
        if kind in ("pt", "sq"):
            geoms = shapely.point_on_surface(geoms)
        out["g"], _ = encode_lines(geoms, precision=precision)
    if style_index is not None and len(styles) > 1:
        out["si"] = [int(style_index[i]) for i in idx]
    if popups is not None:
        p = popups.spec()
        p["d"] = [p["d"][i] for i in idx]
        out["pop"] = p
    if tips is not None:
        out["t"] = [tips[i] for i in idx]
    if ids is not None:
        out["ids"] = [ids[i] for i in idx]
    if not interactive:
        out["ia"] = False
    if tab:
        out["tab"] = True
    if labelled:
        out["lab"] = True
    return out


def add_layer(parent: Any, layer_spec: dict[str, Any]) -> Any:
    """Add a spec to a FeatureGroup (as a script on the page)."""
    el = macro(_LAYER_TEMPLATE, spec=js_json(layer_spec))
    el.siting_spec = layer_spec
    el.add_to(parent)
    return el


def styles_of(items: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[int]]:
    """Distinct styles and each item's index into them."""
    seen: dict[str, int] = {}
    styles: list[dict[str, Any]] = []
    index: list[int] = []
    for st in items:
        key = json.dumps(st, sort_keys=True)
        k = seen.get(key)
        if k is None:
            k = seen[key] = len(styles)
            styles.append(st)
        index.append(k)
    return styles, index


def popup_html(pop: dict[str, Any], i: int) -> str:
    """The HTML the page builds for feature ``i``'s popup (the Python twin of ``Siting.popupHtml``)."""
    d = pop["d"][i]
    if isinstance(d, str):
        return d
    shared = pop.get("S", [])

    def t(v: str | int) -> str:
        return shared[v] if isinstance(v, int) else v

    rows = "".join(
        f'<tr><td colspan="2" class="siting-sub">{t(r[0])}</td></tr>'
        if len(r) == 1
        else f"<tr><th>{pop['L'][r[0]]}</th><td>{t(r[1])}</td></tr>"
        for r in d[1]
    )
    note = f'<div class="siting-popup-note">{t(d[2])}</div>' if len(d) > 2 and t(d[2]) else ""
    title = f'<div class="siting-popup-title">{t(d[0])}</div>'
    return f'<div class="siting-popup">{title}<table>{rows}</table>{note}</div>'


def layer_content(layer_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Every feature of a layer spec as drawn: decoded coordinates, popup HTML, tooltip, id.

    What a reader of the page can get out of it (tests and privacy checks use this rather
    than searching the page's text, which holds encoded coordinates).
    """
    from .encode import decode

    f = int(layer_spec.get("f", 5))
    state = [0, 0]
    feats: list[dict[str, Any]] = []
    if layer_spec["k"] == "pg":
        k = 0
        for parts in layer_spec["r"]:
            rings = []
            for n_rings in parts:
                for _ in range(n_rings):
                    rings.append(decode(layer_spec["g"][k], precision=f, state=state))
                    k += 1
            feats.append({"coords": rings})
    else:
        for text in layer_spec["g"]:
            pts = decode(text, precision=f, state=state)
            feats.append({"coords": pts[0] if layer_spec["k"] in ("pt", "sq") else pts})
    for i, feat in enumerate(feats):
        if "pop" in layer_spec:
            feat["popup"] = popup_html(layer_spec["pop"], i)
        if "t" in layer_spec:
            feat["tooltip"] = layer_spec["t"][i]
        if "ids" in layer_spec:
            feat["id"] = layer_spec["ids"][i]
        si = layer_spec.get("si")
        feat["style"] = layer_spec["st"][si[i] if si else 0]
    return feats
