"""The title panel (scenario, date, cutoff, privacy rule, notes) and the legend."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .. import privacy
from .colours import EXCLUDED_COLOUR, HEX_CLASSES, HEX_SUPPRESSED, ISO_COLOURS, VIRIDIS
from .text import esc, fmt

if TYPE_CHECKING:
    from ..plan import Plan
    from ._leaflet import Notes


# -------------------------------------------------------------- title/legend
def title_html(plan: Plan, *, internal: bool, threshold: int, notes: Notes, cutoff: Any) -> str:
    when = plan.manifest.get("created") or plan.manifest.get("time") or plan.parameters.get("date")
    when = esc(when) if when else datetime.now(UTC).strftime("%Y-%m-%d")
    rule = (
        "INTERNAL: this map shows incident locations (health records). Do not share."
        if internal
        else privacy.privacy_rule(threshold)
    )
    lines = [
        f'<div style="font-size:15px;font-weight:700">{esc(plan.name)}</div>',
        f"<div>Date: {when} &middot; Walking cutoff: {fmt(cutoff)} min</div>",
        *(
            [
                f"<div>Incidents from {esc(plan.parameters['incidents_from'])} to "
                f"{esc(plan.parameters['incidents_to'])}</div>"
            ]
            if plan.parameters.get("incidents_from") and plan.parameters.get("incidents_to")
            else []
        ),
        f'<div style="max-width:320px;{"color:#b00020;font-weight:700" if internal else ""}">'
        f"{esc(rule)}</div>",
    ]
    for n in notes.items:
        lines.append(f'<div style="max-width:320px;color:#8a4b00">{esc(n)}</div>')
    return "".join(lines)


def legend_html(
    score_range: tuple[float, float] | None, has_hex: bool, threshold: int, iso_minutes: list[int]
) -> str:
    parts = []
    if score_range is not None:
        lo, hi = score_range
        grad = ",".join(VIRIDIS)
        parts.append(
            '<div style="font-weight:600">Candidate score</div>'
            f'<div style="height:10px;width:160px;background:linear-gradient(to right,{grad})"></div>'
            f'<div style="display:flex;justify-content:space-between;width:160px">'
            f"<span>{fmt(lo)}</span><span>{fmt(hi)}</span></div>"
            f'<div><span style="display:inline-block;width:10px;height:10px;border-radius:5px;'
            f'background:{EXCLUDED_COLOUR}"></span> excluded</div>'
        )
    if has_hex:
        parts.append('<div style="font-weight:600;margin-top:4px">Incidents per hexagon</div>')
        labels = [
            privacy.suppression_label(threshold),
            f"{threshold + 1}\u201325",
            "26\u201350",
            "51\u2013100",
            "101\u2013250",
            "more than 250",
        ]
        classes = [HEX_SUPPRESSED, *[c for _, c in HEX_CLASSES]]
        for lab, c in zip(labels, classes, strict=False):
            parts.append(
                f'<div><span style="display:inline-block;width:12px;height:10px;background:{c};'
                f'opacity:.8"></span> {esc(lab)}</div>'
            )
    if iso_minutes:
        parts.append('<div style="font-weight:600;margin-top:4px">Walking time from chosen sites</div>')
        for mnt in iso_minutes:
            c = ISO_COLOURS.get(mnt, "#6baed6")
            parts.append(
                f'<div><span style="display:inline-block;width:12px;height:10px;background:{c};'
                f'opacity:.5"></span> {mnt} min</div>'
            )
    return "".join(parts)
