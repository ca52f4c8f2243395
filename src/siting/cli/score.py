"""``siting score``: score candidate sites by walking access to incidents and services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from . import progress_printer
from ._options import input_options, output_options, scenario_from_options, verbosity_options
from ._text import amount, table_text
from ._write import Outputs

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
def score(ctx: click.Context, top: int, **kw: Any) -> None:
    """Score candidate sites: incidents and services within a walk, with every component shown.

    \b
    Example:
      siting score -n county_streets.gpkg -d overdoses.csv -c sites.gpkg -s services.csv \\
          --cutoff 10 --layer pharmacies=pharmacies.csv:role=attract:weight=0.1 -o scores.gpkg --map scores.html
    """
    outputs = Outputs.pop_from(kw)
    scenario = scenario_from_options(kw)
    run_and_write(ctx, scenario, outputs, top=top)


def run_and_write(ctx: click.Context, scenario: Scenario, outputs: Outputs, *, top: int) -> Plan:
    """Score a scenario and write what ``outputs`` asks for (checked before any work)."""
    outputs.apply_to(scenario)
    outputs.check(scenario)
    progress = progress_printer(ctx)
    plan = build_plan(scenario, progress=progress)
    outputs.write(plan, progress=progress)
    # with the data on stdout, the summary goes to stderr only when someone watches it
    if outputs.path != "-" or progress is not None:
        print_summary(plan, top=top, err=outputs.path == "-")
    return plan


def read_first(scenario: Scenario, *, progress: Any = None) -> Any:
    """Every layer read and checked before the routing code is even imported: a bad layer
    fails in the time it takes to read it (see :func:`siting.inputs.read_inputs`)."""
    import time

    t0 = time.perf_counter()
    if progress:  # first, before pandas and the readers load
        progress("reading layers...")
    from ..inputs import read_inputs

    inputs = read_inputs(scenario, prefetch_network=True)
    if progress:
        progress(f"reading layers: done in {time.perf_counter() - t0:.1f} s")
    return inputs


def build_plan(scenario: Scenario, *, progress: Any = None) -> Plan:
    """Score a scenario (and choose sites when it has a ``select`` table)."""
    inputs = read_first(scenario, progress=progress)
    from ..pipeline import prepare, score_plan

    if not scenario.selection:
        return score_plan(prepare(scenario, progress=progress, inputs=inputs), progress=progress)
    from ..selection import SelectionSpec, choose_sites

    spec = SelectionSpec.from_mapping(scenario.selection, source=f"{scenario.name} [select]")
    prep = prepare(scenario, progress=progress, wide=True, inputs=inputs)
    plan = score_plan(prep, progress=progress)
    choose_sites(prep, plan, spec, progress=progress)
    return plan


def print_summary(plan: Plan, *, top: int, err: bool = False) -> None:
    c = plan.candidates
    p = plan.parameters
    n_ex = int(c["excluded"].sum())
    lines = [
        f"{plan.name}: {len(c):,} candidates scored ({n_ex:,} excluded), {len(plan.demand):,} incidents, "
        f"cutoff {p['cutoff_min']:g} min ({p['cutoff_m']:.0f} m) at {p['walking_speed_m_per_min'] * 0.06:g} km/h",
    ]
    if top:
        ranked = c[c["rank"].notna()].sort_values("rank").head(top)
        cols = ["rank", "candidate_id", "score", "covered_incidents", "covered_demand_weight", "mean_walk_min"]
        if "services_within" in c.columns:
            cols += ["services_within", "nearest_service_min"]
        shown = ranked[cols].copy()
        shown["rank"] = shown["rank"].astype(int)
        lines.append(table_text(shown))
    if plan.sites is not None:
        sel = p.get("selection", {})
        lines.append(
            f"chosen ({sel.get('model')}, {sel.get('status')}, gap {sel.get('gap', 0):.2g}): "
            + ", ".join(
                f"{r.candidate_id} ({r.region})"
                if isinstance(getattr(r, "region", None), str) and r.region
                else str(r.candidate_id)
                for r in plan.sites.itertuples()
            )
            + f"; they reach {amount(sel.get('covered_incidents', 0))} of "
            + f"{amount(sel.get('total_incidents', 0))} incidents (demand weight "
            + f"{amount(sel.get('covered_demand_weight', 0))} of {amount(sel.get('total_demand_weight', 0))})"
        )
    click.echo("\n".join(lines), err=err)
