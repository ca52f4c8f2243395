"""Inline SVG charts for the report (no script, every text escaped)."""

from __future__ import annotations

import numpy as np

from ..maps import esc, fmt

PALETTE = ("#08519c", "#e6550d", "#31a354", "#756bb1", "#636363")


# --------------------------------------------------------------------- charts
def nice_axis(v: float) -> tuple[float, float]:
    """``(top, step)`` of an axis from 0 that holds ``v`` in 3 to 6 round steps.

    >>> nice_axis(23.0), nice_axis(0.82), nice_axis(0.0)
    ((25.0, 5.0), (1.0, 0.2), (1.0, 0.25))
    """
    if not np.isfinite(v) or v <= 0:
        return 1.0, 0.25
    raw = v / 5
    mag = 10 ** np.floor(np.log10(raw))
    step = next(k * mag for k in (1, 2, 2.5, 5, 10) if k * mag >= raw)
    top = step * np.ceil(v / step - 1e-9)
    return float(top), float(step)


def line_chart(
    series: list[tuple[str, list[float], list[float]]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    ymax: float | None = None,
    percent: bool = False,
    width: int = 440,
    height: int = 260,
) -> str:
    """An inline SVG line chart; every text is escaped.

    >>> svg = line_chart([("s", [1, 2], [0.5, 0.75])], title="a<b", xlabel="x", ylabel="y")
    >>> svg.startswith("<svg") and "a&lt;b" in svg
    True
    """
    left, right, top, bottom = 52, 12, 26, 42
    pw, ph = width - left - right, height - top - bottom
    xs_all = [x for _, xs, _ in series for x in xs]
    ys_all = [y for _, _, ys in series for y in ys if np.isfinite(y)]
    x0, x1 = (min(xs_all), max(xs_all)) if xs_all else (0.0, 1.0)
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    top_v, ystep = nice_axis(max(ys_all) if ys_all else 1.0)
    if ymax is not None:
        top_v, ystep = ymax, ymax / 4

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + ph - (y / top_v) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
        f'<text x="{left}" y="15" font-weight="bold">{esc(title)}</text>',
    ]
    for k in range(round(top_v / ystep) + 1):
        v = ystep * k
        y = sy(v)
        lab = f"{v * 100:.0f}%" if percent else fmt(v)
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e3e3e3"/>'
            f'<text class="tick" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{lab}</text>'
        )
    ticks = sorted(set(xs_all))
    if len(ticks) > 12:
        ticks = ticks[:: int(np.ceil(len(ticks) / 12))]
    for x in ticks:
        out.append(
            f'<text class="tick" x="{sx(x):.1f}" y="{top + ph + 14}" text-anchor="middle">{fmt(x)}</text>'
        )
    out.append(
        f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#444"/>'
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" stroke="#444"/>'
    )
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 6}" text-anchor="middle">{esc(xlabel)}</text>')
    out.append(
        f'<text transform="translate(12,{top + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{esc(ylabel)}</text>"
    )
    for i, (name, xs, ys) in enumerate(series):
        c = PALETTE[i % len(PALETTE)]
        pts = [(sx(x), sy(y)) for x, y in zip(xs, ys, strict=True) if np.isfinite(y)]
        if pts:
            path = " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            out.append(f'<polyline fill="none" stroke="{c}" stroke-width="2" points="{path}"/>')
            out.extend(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{c}"/>' for a, b in pts)
        if len(series) > 1:
            ly = top + 6 + 14 * i
            out.append(
                f'<rect x="{left + pw - 110}" y="{ly}" width="10" height="10" fill="{c}"/>'
                f'<text x="{left + pw - 96}" y="{ly + 9}">{esc(name)}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def bar_chart(
    labels: list[str],
    values: list[float],
    *,
    title: str,
    ylabel: str,
    suppressed: list[bool] | None = None,
    suppressed_height: float = 0.0,
    width: int = 440,
    height: int = 220,
) -> str:
    """An inline SVG bar chart; suppressed bars are drawn hatched at a fixed height."""
    left, right, top, bottom = 44, 8, 26, 34
    pw, ph = width - left - right, height - top - bottom
    sup = suppressed or [False] * len(values)
    shown = [suppressed_height if s else v for v, s in zip(values, sup, strict=True)]
    top_v, ystep = nice_axis(max(shown) if shown else 1.0)
    bw = pw / max(len(values), 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#999" '
        'stroke-width="2"/></pattern></defs>',
        f'<text x="{left}" y="15" font-weight="bold">{esc(title)}</text>',
    ]
    for k in range(round(top_v / ystep) + 1):
        v = ystep * k
        y = top + ph - v / top_v * ph
        out.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e3e3e3"/>'
            f'<text class="tick" x="{left - 4}" y="{y + 4:.1f}" text-anchor="end">{fmt(v)}</text>'
        )
    step = max(1, int(np.ceil(len(labels) / 24)))
    for i, (lab, v, s) in enumerate(zip(labels, shown, sup, strict=True)):
        h = v / top_v * ph
        x = left + i * bw + 1
        fill = "url(#hatch)" if s else "#3182bd"
        out.append(
            f'<rect x="{x:.1f}" y="{top + ph - h:.1f}" width="{max(bw - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="{fill}"/>'
        )
        if i % step == 0:
            out.append(
                f'<text class="tick" x="{x + bw / 2 - 1:.1f}" y="{top + ph + 13}" text-anchor="middle">'
                f"{esc(lab)}</text>"
            )
    out.append(f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" stroke="#444"/>')
    out.append(
        f'<text transform="translate(11,{top + ph / 2:.1f}) rotate(-90)" text-anchor="middle">'
        f"{esc(ylabel)}</text></svg>"
    )
    return "".join(out)
