"""Every colour and line style of the map, in one place, and the contrast arithmetic behind them.

Colour-blind-safe choices: candidates on viridis, incidents on a single-hue orange ramp,
walking areas on a single-hue blue ramp, categorical layers from the Okabe-Ito palette
(services blue #0072B2, exclusion zones reddish purple #CC79A7, regions bluish green
#009E73, extra layers orange #E69F00), hotspots as a black dashed outline so they never
look like the orange hexagons. Every marker has a dark outline: :func:`contrast` of it
against every fill the marker can sit on is at least 3:1 (WCAG 2.1 non-text contrast),
which the tests check with :func:`blend` over the basemap's background.
"""

from __future__ import annotations

from typing import Any

import numpy as np

VIRIDIS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
#: Incidents per hexagon: the suppressed class first, then lower bounds (exclusive) of each class.
HEX_SUPPRESSED = "#fff5eb"
HEX_CLASSES = ((0, "#fdd0a2"), (25, "#fdae6b"), (50, "#fd8d3c"), (100, "#e6550d"), (250, "#a63603"))
HEX_OPACITY = 0.38
HEAT_STOPS = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
ISO_COLOURS = {5: "#08519c", 10: "#3182bd", 15: "#9ecae1"}
ISO_OPACITY = 0.12
EXCLUDED_COLOUR = "#9e9e9e"
SERVICE_COLOUR = "#0072b2"
EXCLUSION_COLOUR = "#cc79a7"
EXCLUSION_OPACITY = 0.22
REGION_COLOUR = "#009e73"
EXTRA_COLOUR = "#e69f00"
HOTSPOT_COLOUR = "#000000"
MARKER_OUTLINE = "#1a1a1a"
#: The basemap's background (land), streets, water, parks and landmark buildings.
BACKGROUND = "#f2efe9"
BASEMAP = {
    "water": {"color": "#8fbcd4", "weight": 1, "fillColor": "#aad3df", "fillOpacity": 1.0},
    "water_line": {"color": "#8fbcd4", "weight": 2},
    "park": {"color": "#b5d29e", "weight": 0.5, "fillColor": "#d8e8c8", "fillOpacity": 1.0},
    "building": {"color": "#b9a99b", "weight": 0.8, "fillColor": "#d9d0c9", "fillOpacity": 1.0},
    "main": {"color": "#fdfcf8", "casing": "#c2b59b"},
    "local": {"color": "#ffffff", "casing": "#d3cdc2"},
    "path": {"color": "#b3aa9c", "dashArray": "3,3"},
}

#: Leaflet path styles of the data layers.
CANDIDATE = {"radius": 7, "color": MARKER_OUTLINE, "weight": 1.5, "fillOpacity": 0.95}
EXCLUDED = {
    "radius": 6,
    "color": MARKER_OUTLINE,
    "weight": 1.5,
    "fillColor": EXCLUDED_COLOUR,
    "fillOpacity": 0.7,
    "dashArray": "2,2",
}
CHOSEN = {"radius": 13, "color": "#000000", "weight": 4, "fillColor": "#ffffff", "fillOpacity": 0.85}
#: Services are squares (an HTML marker): blue, a white inner ring, a dark outline.
SERVICE = {
    "className": "siting-svc",
    "color": MARKER_OUTLINE,
    "weight": 1.5,
    "fillColor": SERVICE_COLOUR,
    "fillOpacity": 1.0,
}
EXTRA = {
    "radius": 4.5,
    "color": MARKER_OUTLINE,
    "weight": 1.5,
    "fillColor": EXTRA_COLOUR,
    "fillOpacity": 0.95,
}
HOTSPOT = {"color": HOTSPOT_COLOUR, "weight": 2.5, "dashArray": "7,5", "fill": True, "fillOpacity": 0.0}
EXCLUSION = {
    "color": EXCLUSION_COLOUR,
    "weight": 1.5,
    "fillColor": EXCLUSION_COLOUR,
    "fillOpacity": EXCLUSION_OPACITY,
}
REGION = {"color": REGION_COLOUR, "weight": 2.5, "dashArray": "8,5", "fill": False}


def hex_to_rgb(c: str) -> tuple[int, int, int]:
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


def ramp(t: float, stops: tuple[str, ...] = VIRIDIS) -> str:
    """Colour at ``t`` in [0, 1] on a ramp of hex colours (linear in RGB).

    >>> ramp(0.0), ramp(1.0)
    ('#440154', '#fde725')
    """
    t = float(np.clip(t if np.isfinite(t) else 0.0, 0.0, 1.0))
    pos = t * (len(stops) - 1)
    i = min(int(pos), len(stops) - 2)
    f = pos - i
    a, b = hex_to_rgb(stops[i]), hex_to_rgb(stops[i + 1])
    rgb = [round(a[k] + (b[k] - a[k]) * f) for k in range(3)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def hex_colour(heat: float, suppressed: bool = False) -> str:
    """Fill of a hexagon from its released value (suppressed cells have their own colour)."""
    if suppressed:
        return HEX_SUPPRESSED
    colour = HEX_CLASSES[0][1]
    for lo, c in HEX_CLASSES:
        if heat > lo:
            colour = c
    return colour


def iso_colour(minutes: float) -> str:
    return ISO_COLOURS.get(round(minutes), "#6baed6")


# ----------------------------------------------------------------- contrast
def luminance(c: str) -> float:
    """WCAG relative luminance of a ``#rrggbb`` colour.

    >>> round(luminance("#ffffff"), 3), round(luminance("#000000"), 3)
    (1.0, 0.0)
    """
    out = []
    for v in hex_to_rgb(c):
        s = v / 255.0
        out.append(s / 12.92 if s <= 0.03928 else ((s + 0.055) / 1.055) ** 2.4)
    return 0.2126 * out[0] + 0.7152 * out[1] + 0.0722 * out[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours (1 to 21).

    >>> round(contrast("#000000", "#ffffff"), 1)
    21.0
    """
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def blend(fg: str, alpha: float, bg: str = BACKGROUND) -> str:
    """``fg`` drawn at ``alpha`` over ``bg``, as the eye sees it."""
    f, b = hex_to_rgb(fg), hex_to_rgb(bg)
    rgb = [round(f[k] * alpha + b[k] * (1 - alpha)) for k in range(3)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def area_fills() -> dict[str, str]:
    """Every fill a marker can sit on, as seen over the basemap (for the contrast checks)."""
    fills: dict[str, str] = {"background": BACKGROUND}
    for name in ("water", "park", "building"):
        fills[f"basemap {name}"] = BASEMAP[name]["fillColor"]
    fills["street"] = BASEMAP["local"]["color"]
    for lo, c in ((-1, HEX_SUPPRESSED), *HEX_CLASSES):
        fills[f"hexagon > {lo}"] = blend(c, HEX_OPACITY)
    for mnt in ISO_COLOURS:
        # the three walking areas overlap: the 5-minute area lies under all three fills
        seen = BACKGROUND
        for m2 in sorted(ISO_COLOURS, reverse=True):
            if m2 >= mnt:
                seen = blend(ISO_COLOURS[m2], ISO_OPACITY, seen)
        fills[f"{mnt} min walk"] = seen
    fills["exclusion zone"] = blend(EXCLUSION_COLOUR, EXCLUSION_OPACITY)
    for c in HEAT_STOPS:
        fills[f"heat {c}"] = blend(c, 0.75 * 0.8)
    return fills


def marker_outlines() -> dict[str, str]:
    """The outline colour of every marker kind."""
    return {
        "candidate": CANDIDATE["color"],
        "excluded candidate": EXCLUDED["color"],
        "chosen site": CHOSEN["color"],
        "service": MARKER_OUTLINE,
        "extra layer": EXTRA["color"],
    }


def style_css(style: dict[str, Any], *, shape: str = "square") -> str:
    """Inline CSS of a legend swatch drawn like a Leaflet path style."""
    fill = style.get("fillColor", style.get("color", "#000"))
    fill_op = style.get("fillOpacity", 0.2) if style.get("fill", True) else 0.0
    r, g, b = hex_to_rgb(fill) if str(fill).startswith("#") else (0, 0, 0)
    border = "dashed" if style.get("dashArray") else "solid"
    width = max(1.0, min(3.0, float(style.get("weight", 1))))
    radius = "border-radius:50%;" if shape == "dot" else ""
    return (
        f"background:rgba({r},{g},{b},{fill_op:.2f});border:{width:g}px {border} {style.get('color', fill)};"
        f"{radius}"
    )
