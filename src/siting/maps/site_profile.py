"""A chosen site's profile in its popup: hours with their bar chart, attendance, deaths, booths.

The figures come from the released tables (:func:`siting.privacy.release_plan`: hour bars
through the rule, attendance and deaths recomputed from released units) unless the map is
internal, when they are the exact ones. Every string is escaped.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .text import esc

if TYPE_CHECKING:
    import pandas as pd

    from ..plan import Plan


def hour_bars_svg(values: Any, hidden: Any, window: Any, *, width: int = 168, height: int = 34) -> str:
    """A 24-bar sparkline: open hours dark, closed light, hidden bars hatched at mid height.

    >>> svg = hour_bars_svg([1] * 24, [False] * 24, [True] * 12 + [False] * 12)
    >>> svg.startswith("<svg") and svg.count("<rect") == 24
    True
    """
    v = np.nan_to_num(np.asarray(values, dtype=float), nan=0.0)
    hid = np.asarray(hidden, dtype=bool)
    top = float(v.max()) if v.max() > 0 else 1.0
    bw = width / 24.0
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 10}" '
        f'role="img" aria-label="incidents by hour of day">'
    ]
    for h in range(24):
        frac = 0.5 if hid[h] else v[h] / top
        bh = max(frac * height, 0.0)
        colour = "#9e9e9e" if hid[h] else ("#1f5f99" if window[h] else "#b9cfe3")
        faded = ' fill-opacity="0.5"' if hid[h] else ""
        parts.append(
            f'<rect x="{h * bw + 0.5:.1f}" y="{height - bh:.1f}" width="{bw - 1:.1f}" height="{bh:.1f}" '
            f'fill="{colour}"{faded}/>'
        )
    parts.append(
        f'<text x="0" y="{height + 9}" font-size="8">0</text>'
        f'<text x="{width / 2:.0f}" y="{height + 9}" font-size="8" text-anchor="middle">12</text>'
        f'<text x="{width}" y="{height + 9}" font-size="8" text-anchor="end">23</text></svg>'
    )
    return "".join(parts)


def _label(row: dict[str, Any], col: str, internal: bool, *, decimals: int = 0) -> str:
    if not internal and f"{col}_label" in row:
        return esc(str(row[f"{col}_label"]))
    v = row.get(col)
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "not estimated"
    return esc(f"{float(v):,.{decimals}f}")


def site_profiles(
    plan: Plan, *, released: Any = None, internal: bool = False, threshold: int | None = None
) -> dict[str, str]:
    """Per chosen site id, the popup's profile HTML (empty dict when the run has none)."""
    if plan.site_impact is None or not len(plan.site_impact):
        return {}
    if internal:
        si, hours = plan.site_impact, plan.site_hours
    else:
        if released is None:
            from ..privacy import release_plan

            released = release_plan(plan)
        si, hours = released.site_impact, released.site_hours
    if si is None:
        return {}
    wait = (plan.parameters or {}).get("impact_led", {}).get("wait_target_min", 5)
    out: dict[str, str] = {}
    for row in si.to_dict("records"):
        sid = str(row["candidate_id"])
        lines = [f"<b>Opening hours</b>: {esc(str(row.get('hours_text', '')))}"]
        g: pd.DataFrame | None = None
        if hours is not None and len(hours):
            g = hours[hours["candidate_id"].astype(str) == sid].sort_values("hour")
        if g is not None and len(g) == 24:
            hid = (g["status"] != "shown").to_numpy() if "status" in g.columns else np.zeros(24, bool)
            open_ = _window_mask(str(row.get("hours_window", "")))
            lines.append(hour_bars_svg(g["incidents"].to_numpy(dtype=float), hid, open_))
        lines.append(f"<b>Expected attendance</b>: {_label(row, 'attendance', internal)} incidents")
        deaths = " / ".join(
            _label(row, f"deaths_{e}", internal, decimals=1) for e in ("low", "central", "high")
        )
        lines.append(f"<b>Deaths averted</b> (low / central / high): {deaths}")
        be, br = row.get("booths_erlang"), row.get("booths_rule")
        if be is not None and isinstance(be, float) and math.isfinite(be):
            lines.append(
                f"<b>Booths</b>: {int(be)} to keep the mean wait under {esc(str(wait))} min "
                f"(Erlang C); {int(br)} by 40 uses a booth a day"
            )
        else:
            lines.append("<b>Booths</b>: not estimated (give the visits a day)")
        out[sid] = '<div class="siting-site-profile">' + "<br>".join(lines) + "</div>"
    return out


def _window_mask(window: str) -> np.ndarray:
    """24 booleans from ``'08:00-22:00'`` (``'24 hours'``: all; empty: none)."""
    m = np.zeros(24, bool)
    if window == "24 hours":
        m[:] = True
    elif "-" in window:
        a, b = (int(x.split(":")[0]) for x in window.split("-", 1))
        n = (b - a) % 24 or 24
        m[(a + np.arange(n)) % 24] = True
    return m
