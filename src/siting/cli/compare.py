"""``siting compare``: two scenarios side by side on one map (e.g. 10 vs 15 minutes)."""

from __future__ import annotations

from pathlib import Path

import click

from ..outputs import check_writable
from . import progress_printer
from ._options import verbosity_options
from .run import read_scenario_file
from .score import build_plan, print_summary


@click.command()
@click.argument("scenario_a", type=click.Path(dir_okay=False))
@click.argument("scenario_b", type=click.Path(dir_okay=False))
@click.option(
    "--map",
    "map_path",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="PATH.html",
    help="Where to write the side-by-side map.",
)
@click.option("--overwrite", is_flag=True, help="Replace an existing map.")
@click.option("--cdn", is_flag=True, help="Link Leaflet from a CDN instead of inlining it.")
@click.option("--top", type=click.IntRange(min=0), default=5, show_default=True)
@verbosity_options
@click.pass_context
def compare(
    ctx: click.Context, scenario_a: str, scenario_b: str, map_path: str, overwrite: bool, cdn: bool, top: int
) -> None:
    """Run two scenario files and draw them side by side with linked panning.

    \b
    Example: the demo at 10 and at 15 minutes
      sed 's/^cutoff = 10/cutoff = 15/' data/demo/scenario.toml > /tmp/demo15.toml
      siting compare data/demo/scenario.toml /tmp/demo15.toml --map maps/compare.html
    """
    if not map_path.lower().endswith((".html", ".htm")):
        msg = f"{map_path}: give a path ending in .html"
        raise click.BadParameter(msg, param_hint="--map")
    check_writable(map_path, overwrite=overwrite)
    progress = progress_printer(ctx)
    plans = []
    for path in (scenario_a, scenario_b):
        scenario, _ = read_scenario_file(path)
        if scenario.name == "siting scenario":
            scenario.name = Path(path).stem
        plans.append(build_plan(scenario, progress=progress))
    from ..maps import compare_map, save_map

    save_map(compare_map(plans[0], plans[1], cdn=cdn), map_path)
    for plan in plans:
        print_summary(plan, top=top)
    click.echo(f"map: {map_path}")
