"""The map's colours: the score ramp, hexagon classes, isochrone and exclusion colours."""

from __future__ import annotations

import numpy as np

VIRIDIS = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
#: Hexagon fill by count: suppressed cells first, then lower bounds (exclusive) of each class.
HEX_SUPPRESSED = "#fdf0dc"
HEX_CLASSES = ((0, "#fdd49e"), (25, "#fdae6b"), (50, "#fd8d3c"), (100, "#e6550d"), (250, "#a63603"))
ISO_COLOURS = {5: "#08519c", 10: "#3182bd", 15: "#9ecae1"}
EXCLUDED_COLOUR = "#9e9e9e"


# ------------------------------------------------------------------ colours
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
    if suppressed:
        return HEX_SUPPRESSED
    colour = HEX_CLASSES[0][1]
    for lo, c in HEX_CLASSES:
        if heat > lo:
            colour = c
    return colour
