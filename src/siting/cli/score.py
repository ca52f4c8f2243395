"""``siting score``: score candidate sites by walking access to incidents and services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
import numpy as np

from ..outputs import check_writable, output_format, write_layers
from ..pipeline import prepare, score_plan
from . import progress_printer
from ._options import input_options, output_options, scenario_from_options, verbosity_options

if TYPE_CHECKING:
    from ..plan import Plan
    from ..scenario import Scenario


@click.command()
@input_options
@output_options
@click.option(
    "--top",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Rows of the ranked summary to print.",
)
@verbosity_options
@click.pass_context
def score(
    ctx: click.Context, output: str | None, map_path: str | None, overwrite: bool, top: int, **kw: Any
) -> None:
    """Score candidate sites: incidents and services within a walk, with every component shown.

    \b
    Example:
      siting score -n county_streets.gpkg -d overdoses.csv -c sites.gpkg -s services.csv \\
          --cutoff 10 --layer pharmacies=pharmacies.csv:role=attract:weight=0.1 -o scores.gpkg --map scores.html
    """
    scenario = scenario_from_options(kw)
    run_and_write(ctx, scenario, output=output, map_path=map_path, overwrite=overwrite, top=top)


def check_outputs(output: str | None, map_path: str | None, overwrite: bool) -> None:
    """Fail before any work when an output cannot be written."""
    if output and output != "-":
        output_format(output)
        check_writable(output, overwrite=overwrite)
    if map_path:
        if not map_path.lower().endswith((".html", ".htm")):
            msg = f"{map_path}: the map is an HTML file; give a path ending in .html"
            raise click.BadParameter(msg, param_hint="--map")
        check_writable(map_path, overwrite=overwrite)


def run_and_write(
    ctx: click.Context,
    scenario: Scenario,
    *,
    output: str | None,
    map_path: str | None,
    overwrite: bool,
    top: int,
) -> Plan:
    check_outputs(output, map_path, overwrite)
    progress = progress_printer(ctx)
    plan = score_plan(prepare(scenario, progress=progress))
    write_outputs(plan, output=output, map_path=map_path, overwrite=overwrite, progress=progress)
    stream_is_data = output == "-"
    print_summary(plan, top=top, err=stream_is_data)
    return plan


def write_outputs(
    plan: Plan, *, output: str | None, map_path: str | None, overwrite: bool, progress: Any = None
) -> None:
    table = plan.candidates.sort_values(["rank", "candidate_id"], na_position="last", kind="stable")
    if output == "-":
        click.echo(table.to_crs(4326).to_json(drop_id=True, na="null"))
    elif output:
        layers = {"candidates": table}
        if plan.sites is not None:
            layers["sites"] = plan.sites
        if plan.isochrones is not None:
            layers["isochrones"] = plan.isochrones
        write_layers(layers, output, overwrite=overwrite)
        if progress:
            progress(f"wrote {output}")
    if map_path:
        from ..maps import plan_map, save_map

        save_map(
            plan_map(plan, include_incident_points=plan.parameters.get("include_incident_points", False)),
            map_path,
        )
        if progress:
            progress(f"wrote {map_path}")


def print_summary(plan: Plan, *, top: int, err: bool = False) -> None:
    c = plan.candidates
    p = plan.parameters
    n_ex = int(c["excluded"].sum())
    lines = [
        f"{plan.name}: {len(c)} candidates scored ({n_ex} excluded), {len(plan.demand)} incidents, "
        f"cutoff {p['cutoff_min']:g} min ({p['cutoff_m']:.0f} m) at {p['walking_speed_m_per_min'] * 0.06:g} km/h",
    ]
    if top:
        ranked = c[c["rank"].notna()].sort_values("rank").head(top)
        cols = ["rank", "candidate_id", "score", "covered_weight", "covered_count", "mean_walk_min"]
        if "services_within" in c.columns:
            cols += ["services_within", "nearest_service_min"]
        shown = ranked[cols].copy()
        shown["rank"] = shown["rank"].astype(int)
        lines.append(
            shown.to_string(index=False, float_format=lambda v: f"{v:.3g}" if np.isfinite(v) else "-")
        )
    click.echo("\n".join(lines), err=err)
