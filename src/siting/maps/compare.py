"""Two plans side by side with linked panning and zooming."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._leaflet import folium_module, macro, new_map
from .draw import add_assets, plan_map

if TYPE_CHECKING:
    import branca

    from ..plan import Plan


# ------------------------------------------------------------- side by side
SYNC_TEMPLATE = """
{% macro script(this, kwargs) %}
(function () {
    var a = {{ this.a }}, b = {{ this.b }}, busy = false;
    function follow(src, dst) {
        src.on('move', function () {
            if (busy) { return; }
            busy = true;
            dst.setView(src.getCenter(), src.getZoom(), {animate: false});
            busy = false;
        });
    }
    follow(a, b); follow(b, a);
})();
{% endmacro %}
"""


def compare_map(plan_a: Plan, plan_b: Plan, *, cdn: bool = False, **kwargs: Any) -> branca.element.Figure:
    """Two plans side by side with linked panning and zooming (e.g. 10 vs 15 minutes).

    Keyword arguments go to :func:`plan_map` for both. Save with :func:`save_map`.
    """
    from branca.element import Figure

    folium = folium_module()
    fig = Figure()
    maps = []
    for left, plan in (("0%", plan_a), ("50%", plan_b)):
        m = new_map(
            folium, title=plan.name, width="50%", height="100%", left=left, top="0%", position="absolute"
        )
        fig.add_child(m)
        plan_map(plan, cdn=cdn, _m=m, **kwargs)
        maps.append(m)
    internal = any(getattr(m, "siting_internal", False) for m in maps)
    add_assets(fig, cdn=cdn, internal=internal, title=f"{plan_a.name} | {plan_b.name}")
    sync = macro(SYNC_TEMPLATE, a=maps[0].get_name(), b=maps[1].get_name())
    maps[1].add_child(sync)
    fig.siting_maps = maps
    return fig
