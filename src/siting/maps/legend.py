"""The legend: one entry per layer drawn, with swatches drawn from the same styles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .styles import style_css
from .text import esc


def swatch(style: dict[str, Any], shape: str = "square") -> str:
    """An inline swatch for a legend or the layer list (``shape``: square, dot, line)."""
    cls = "sw dot" if shape == "dot" else "sw"
    if shape == "line":
        border = "dashed" if style.get("dashArray") else "solid"
        w = max(2.0, min(3.0, float(style.get("weight", 2))))
        css = f"height:0;border:0;border-top:{w:g}px {border} {style.get('color', '#000')};"
        return f'<span class="sw" style="{css}" aria-hidden="true"></span>'
    return f'<span class="{cls}" style="{style_css(style, shape=shape)}" aria-hidden="true"></span>'


def gradient(stops: tuple[str, ...], *, opacity: float = 1.0) -> str:
    css = f"background:linear-gradient(to right,{','.join(stops)});opacity:{opacity:g}"
    return f'<span class="ramp" style="{css}" aria-hidden="true"></span>'


@dataclass
class Legend:
    """Legend groups in drawing order: ``(title, [(swatch_html, label_html), ...])``."""

    groups: list[tuple[str, list[tuple[str, str]]]] = field(default_factory=list)

    def add(self, title: str, items: list[tuple[str, str]]) -> None:
        self.groups.append((title, items))

    def html(self, *, definitions: list[tuple[str, str]] | None = None) -> str:
        parts = []
        for title, items in self.groups:
            parts.append(f'<div class="siting-legend-group">{esc(title)}</div>')
            parts.extend(f"<div>{sw} {label}</div>" for sw, label in items)
        if definitions:
            parts.append('<div class="siting-legend-group">Terms</div>')
            parts.extend(
                f'<div style="white-space:normal"><b>{esc(k)}</b>: {esc(v)}</div>' for k, v in definitions
            )
        body = "".join(parts)
        return (
            '<details class="siting-fold" data-desktop-open><summary>Legend</summary>'
            f'<div class="siting-body">{body}</div></details>'
        )


#: Words the map and report use, defined once.
DEFINITIONS: list[tuple[str, str]] = [
    ("Incidents", "overdose incidents, each counted once."),
    (
        "Demand weight",
        "incidents weighted as the run was told (the demo counts a fatal overdose 5 times); "
        "the choice of sites maximises demand weight reached.",
    ),
    ("Reaches", "within the walking cutoff of the site, on the street network."),
    ("Reaches alone", "reached by this chosen site and by no other chosen site."),
    ("Nearest site for", "demand for which this is the closest chosen site; these add up to the total."),
]
