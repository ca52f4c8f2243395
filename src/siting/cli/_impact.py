"""The impact-led options of ``siting select``: attendance curve, deaths bands, hours, booths."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from ..booths import DEFAULT_SERVICE_MIN, DEFAULT_TARGET_WAIT_MIN
from ..hours import DEFAULT_TARGET

if TYPE_CHECKING:
    from collections.abc import Callable

_OPTIONS = [
    click.option(
        "--decay",
        metavar="KIND[:PARAM=MIN...]",
        default=None,
        help="Attendance curve (--model attendance, and each site's expected attendance): "
        "step, linear, exponential or logistic, e.g. exponential:half=3 "
        "[default: linear to 0 at 10 min, ArcGIS's default].",
    ),
    click.option(
        "--effect-band",
        "effect_bands",
        multiple=True,
        metavar="END_M:LOW:CENTRAL:HIGH",
        help="A deaths-averted band from the last one's end to END_M metres, e.g. "
        "500:35%:51%:67%; repeatable [default: 0-500 m 35/51/67%, 500 m-5 km 0/30/60%, "
        "see README for sources].",
    ),
    click.option(
        "--estimate",
        type=click.Choice(["low", "central"]),
        default="low",
        show_default=True,
        help="--model deaths: the estimate the choice maximises (both are reported, with high).",
    ),
    click.option(
        "--hours-share",
        type=click.FloatRange(0, 1, min_open=True),
        default=DEFAULT_TARGET,
        show_default=True,
        help="Opening hours: the share of each site's reachable incidents its recommended hours must reach.",
    ),
    click.option(
        "--wait-target",
        type=click.FloatRange(min=0),
        default=DEFAULT_TARGET_WAIT_MIN,
        show_default=True,
        metavar="MIN",
        help="Booths: mean wait (minutes) to stay under "
        "in the busiest open hour (Erlang C; needs --demand-per-day).",
    ),
    click.option(
        "--booth-minutes",
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_SERVICE_MIN,
        show_default=True,
        metavar="MIN",
        help="Booths: mean minutes a visit occupies a booth.",
    ),
    click.option(
        "--capacity-rule",
        type=click.Choice(["uses", "erlang"]),
        default="uses",
        show_default=True,
        help="--capacity: a site takes booths x --uses-per-booth visits a day (uses), or the visits "
        "a day its booths serve with the mean wait under --wait-target in its busiest open hour, "
        "visits spread like the incidents it reaches (erlang; needs incident times).",
    ),
]


def impact_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """Add the impact-led options to a command."""
    for opt in reversed(_OPTIONS):
        f = opt(f)
    return f


def pop_impact(kw: dict[str, Any]) -> Any:
    """Remove the impact-led options from ``kw`` and return the :class:`ImpactSpec` they set."""
    from ..impact_select import ImpactSpec

    data = {
        "decay": kw.pop("decay"),
        "effect_bands": list(kw.pop("effect_bands")),
        "estimate": kw.pop("estimate"),
        "hours_share": kw.pop("hours_share"),
        "wait_target": kw.pop("wait_target"),
        "booth_minutes": kw.pop("booth_minutes"),
        "capacity_rule": kw.pop("capacity_rule"),
    }
    problems: list[str] = []
    spec = ImpactSpec.from_mapping(data, problems)
    if problems:
        hint = "--decay" if "decay curve" in problems[0] else "--effect-band"
        raise click.BadParameter("; ".join(problems), param_hint=hint)
    return spec
