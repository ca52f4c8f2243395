"""``siting select``: choose a set of sites (maximal covering, p-median or fewest sites).

Two ways in:

* the same inputs as ``siting score`` (network, incidents, candidates...): walking
  minutes come from the street network;
* ``--matrix OD.csv``: bring your own travel times (``candidate_id``, ``demand_id``,
  ``minutes`` | ``metres``); ``--demand`` then only gives weights (and fatal flags) joined
  by id, and ``--candidates`` (optional) the candidate ids and, with ``--regions``, where
  they lie.

With ``--matrix`` the costs keep the file's unit (minutes or metres), so a p-median
objective compares directly with a published optimum; for ``--model median`` the cutoff
applies only when ``--cutoff`` is given (otherwise every pair in the file counts and
missing pairs cost the penalty).

Writes the chosen sites with the reason each was chosen, the coverage curve and the
impact table (``-o``: the sites layer; ``*_coverage_curve.csv`` and ``*_impact.csv`` next
to it), and ``--summary-json`` for scripts.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import numpy as np
import pandas as pd

from .. import settings
from .._errors import InputError
from ..scenario import parse_cutoff
from ..selection import MODELS
from . import progress_printer
from ._impact import impact_options, pop_impact
from ._options import input_options, output_options, scenario_from_options, verbosity_options
from ._text import amount
from ._write import Outputs

if TYPE_CHECKING:
    from ..locate import Result
    from ..odmatrix import MatrixInputs



def _parse_quotas(texts: tuple[str, ...]) -> dict[str, tuple[str, int]]:
    from ..locate import parse_quota

    out: dict[str, tuple[str, int]] = {}
    for t in texts:
        try:
            name, q = parse_quota(t)
        except InputError as exc:
            raise click.BadParameter(str(exc), param_hint="--quota") from None
        if name in out:
            msg = f"region {name!r} has two quotas; give one per region"
            raise click.BadParameter(msg, param_hint="--quota")
        out[name] = q
    return out


def _fixed_ids(fixed: tuple[str, ...], fixed_layer: str | None, id_column: str | None) -> list[str]:
    from ..layers import read_ids

    ids = [s.strip() for t in fixed for s in t.split(",") if s.strip()]
    if fixed_layer:
        ids += read_ids(fixed_layer, id_column=id_column, flag="--id-column", role="fixed sites")
    return list(dict.fromkeys(ids))


def _check_quota_regions(quotas: dict[str, tuple[str, int]], regions: str, name_column: str | None) -> None:
    """A quota on a region the --regions file does not have: say which regions it has (before any work)."""
    from ..layers import read_polygons
    from ..selection import check_quota_regions

    try:
        names = list(read_polygons(regions, name_column=name_column)["name"].astype(str))
        check_quota_regions(quotas, names, source=regions)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--quota") from None


@click.command("select")
@input_options
@output_options
@click.option("--model", type=click.Choice(MODELS), default="coverage", show_default=True,
              help="coverage: most demand within the cutoff; median: least total walking time; "
              "min-sites: fewest sites reaching --target; attendance: most expected attendance "
              "under --decay; deaths: most expected deaths averted (--estimate, --effect-band).")
@click.option("-p", "--sites", "p", type=click.IntRange(min=1), default=settings.n_sites,
              show_default=True, help="Number of sites (coverage, median), fixed sites included.")
@click.option("--target", type=click.FloatRange(0, 1, min_open=True), default=0.8,
              show_default=True, help="min-sites: share of all demand weight to cover.")
@click.option("--fixed", multiple=True, metavar="IDS",
              help="Candidate ids that must be open (existing or required sites), comma-separated.")
@click.option("--fixed-layer", type=click.Path(dir_okay=False), metavar="PATH",
              help="A file whose id column lists the candidates that must be open.")
@click.option("--quota", "quotas", multiple=True, metavar="'NAME>=K'",
              help="Regional quota (needs --regions): NAME>=K, NAME==K or NAME<=K; repeatable.")
@click.option("--capacity", "booths", type=click.FloatRange(min=0), metavar="BOOTHS",
              help="Booths per site; demand above a site's capacity is not counted as served.")
@click.option("--demand-per-day", type=click.FloatRange(min=0, min_open=True), metavar="VISITS",
              help="Supervised visits a day the whole incident layer stands for (capacity, "
              "visits and booths in the impact table).")
@click.option("--uses-per-booth", type=click.FloatRange(min=0, min_open=True),
              default=settings.uses_per_booth_per_day, show_default=True,
              help="Supervised uses per booth per day.")
@click.option("--beyond", type=click.Choice(["penalty", "exclude"]), default="penalty",
              show_default=True, help="median: demand beyond the cutoff counts at --penalty "
              "minutes, or demand no candidate reaches is left out and the rest must be reached.")
@click.option("--penalty", "penalty_min", type=click.FloatRange(min=0), default=None,
              help="median: cost charged for demand beyond the cutoff, in the costs' unit "
              "[default: 2 x cutoff, or 2 x the largest cost when no cutoff applies].")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="S", help="Seconds for all the solving (the choice, curve, sensitivity and explain "
              "re-solves share them); then the best solution found and its gap.")
@click.option("--method", type=click.Choice(["milp", "greedy"]), default="milp", show_default=True,
              help="milp: exact (HiGHS); greedy: greedy plus swaps, gap to the LP bound.")
@click.option("--curve", "curve_max", type=click.IntRange(min=0), default=None, metavar="K",
              help="Coverage curve for 1..K sites [default: max(5, p); 0 for none].")
@click.option("--sensitivity/--no-sensitivity", default=True, show_default=True,
              help="Re-solve at 5, 10 and 15 minutes to show how the choice depends on the cutoff "
              "(three more solves; --no-sensitivity for a county-sized first look).")
@click.option("--matrix", type=click.Path(dir_okay=False), metavar="OD.csv",
              help="Travel times from another tool: candidate_id, demand_id, minutes|metres.")
@click.option("--summary-json", type=click.Path(dir_okay=False, allow_dash=True), metavar="PATH",
              help="Write the headline figures as JSON (- for stdout).")
@impact_options
@verbosity_options
@click.pass_context
def select(ctx: click.Context, **kw: Any) -> None:
    """Choose sites: maximal covering, p-median or fewest sites, solved exactly.

    \b
    Examples:
      siting select -n streets.gpkg -d overdoses.csv -c sites.csv -p 2 \\
          --regions cities.geojson --quota 'Seattle==1' -o chosen.gpkg --summary-json -
      siting select --matrix od.csv -d overdoses.csv --model median -p 3 --penalty 30
    """
    from ..locate import Capacity

    outputs = Outputs.pop_from(kw)
    model_name = kw.pop("model")
    p = kw.pop("p")
    target = kw.pop("target")
    quotas = _parse_quotas(kw.pop("quotas"))
    fixed = _fixed_ids(kw.pop("fixed"), kw.pop("fixed_layer"), kw.get("id_column"))
    booths, per_day, uses = kw.pop("booths"), kw.pop("demand_per_day"), kw.pop("uses_per_booth")
    if booths is not None and per_day is None:
        msg = "--capacity needs --demand-per-day (how many visits a day the incidents stand for)"
        raise click.BadParameter(msg, param_hint="--demand-per-day")
    capacity = (
        Capacity(booths=booths, demand_per_day=per_day, uses_per_booth_per_day=uses)
        if booths is not None
        else None
    )
    beyond, penalty = kw.pop("beyond"), kw.pop("penalty_min")
    time_limit, method = kw.pop("time_limit"), kw.pop("method")
    curve_max = kw.pop("curve_max")
    sensitivity = kw.pop("sensitivity")
    matrix = kw.pop("matrix")
    summary_path = kw.pop("summary_json")
    impact_spec = pop_impact(kw)
    if impact_spec.capacity_rule == "erlang" and (booths is None or matrix):
        msg = (
            "--capacity-rule erlang needs --capacity BOOTHS"
            if booths is None
            else "--capacity-rule erlang needs the incidents' times and walking reach, not --matrix"
        )
        raise click.BadParameter(msg, param_hint="--capacity-rule")
    if model_name == "deaths" and booths is not None:
        msg = "--model deaths takes no --capacity (its effects are death rates near sites, not visits)"
        raise click.BadParameter(msg, param_hint="--capacity")
    if quotas and not kw.get("regions"):
        msg = "--quota needs --regions (the polygons the quotas name)"
        raise click.BadParameter(msg, param_hint="--quota")
    if outputs.path == "-" and summary_path == "-":
        msg = "-o - and --summary-json - both want stdout; send one to a file"
        raise click.BadParameter(msg, param_hint="--summary-json")
    # every file this run writes is checked before any work
    outputs.check_side_tables()
    if summary_path and summary_path != "-":
        from ._write import check_file

        check_file(summary_path, overwrite=outputs.overwrite)
    if quotas:
        _check_quota_regions(quotas, kw["regions"], kw.get("regions_name_column"))
    progress = progress_printer(ctx)

    if matrix:
        from click.core import ParameterSource

        _check_matrix_outputs(outputs)
        cutoff_given = ctx.get_parameter_source("cutoff") != ParameterSource.DEFAULT
        # the median of a full matrix needs no cutoff: every pair in the file counts
        inputs = _matrix_inputs(matrix, kw, use_cutoff=cutoff_given or model_name != "median")
    else:
        for flag, key in (("--network", "network"), ("--demand", "demand"),
                          ("--candidates", "candidates")):
            if not kw.get(key):
                msg = f"Missing option '{flag}' (or give --matrix OD.csv)."
                raise click.UsageError(msg)
        scenario = scenario_from_options(kw)
        outputs.apply_to(scenario)
        outputs.check(scenario)
        from .score import read_first

        layers_read = read_first(scenario, progress=progress)  # bad layers fail before anything slow

    from ..selection import SelectionSpec, solve_selection

    spec = SelectionSpec(
        model=model_name, p=p, target=target, fixed=fixed, quotas=quotas, capacity=capacity,
        demand_per_day=per_day, uses_per_booth_per_day=uses, beyond=beyond, penalty_min=penalty,
        time_limit=time_limit, method=method, curve_max=curve_max, impact=impact_spec,
    )
    if not sensitivity:
        spec.sensitivity_min = ()
    if matrix:
        from ..impact import impact_table, nearest_chosen_distance

        costs, weights, cutoff = inputs["costs"], inputs["weights"], inputs["cutoff"]
        if model_name in ("attendance", "deaths"):  # minutes within the curve, or metres to fatal incidents
            from ..impact_select import matrix_model_inputs

            v = matrix_model_inputs(inputs, spec, kw["speed_kmh"] * 1000 / 60)
            costs, weights, cutoff = v["costs"], v["weights"], v["cutoff"]
        from ..budget import TimeBudget

        budget = TimeBudget.for_selection(time_limit, steps=("choice", "curve"))
        result, curve = solve_selection(
            costs, spec, weights=weights, candidate_ids=inputs["candidate_ids"],
            cutoff=cutoff, regions=inputs["regions"], excluded=inputs["excluded"], progress=progress,
            budget=budget,
        )
        time_used = budget.report()
        impact = impact_table(
            nearest_chosen_distance(inputs["metres"], inputs["candidate_ids"], result.chosen),
            cutoff_m=inputs["cutoff_m"], weights=inputs["weights"], fatal=inputs["fatal"],
            demand_per_day=per_day, uses_per_booth_per_day=uses, n_sites=len(result.chosen),
        )
        _write_matrix_outputs(outputs, result.sites.copy(), curve, impact, progress)
    else:
        from ..pipeline import prepare, score_plan
        from ..selection import choose_sites

        prep = prepare(scenario, progress=progress, wide=True, inputs=layers_read)
        plan = score_plan(prep)
        result = choose_sites(prep, plan, spec, progress=progress)
        time_used = plan.parameters.get("time", {})
        curve = plan.coverage_curve if plan.coverage_curve is not None else pd.DataFrame()
        impact = plan.impact
        extra = {"sites_impact": plan.site_impact, "deaths_bands": plan.deaths_bands}
        outputs.write(plan, progress=progress)
        if outputs.path and outputs.path != "-":
            tables, meta = outputs.side_tables(plan)
            _write_tables(outputs.path, tables, outputs.overwrite, progress, metadata=meta)
    if summary_path:
        if not matrix and outputs.shareable:
            _write_released_summary(summary_path, outputs.released(plan), result, outputs.overwrite)
        else:
            _write_summary(summary_path, result, curve, impact, outputs.overwrite,
                           unit=inputs["unit"] if matrix else "minutes", extra=None if matrix else extra,
                           time_used=time_used)
    # with data on stdout, the human summary goes to stderr only when someone watches it
    # (a terminal, or -v): a script's stderr gets warnings and errors alone
    on_stderr = outputs.path == "-" or summary_path == "-"
    if not on_stderr or progress is not None:
        _print_summary(result, err=on_stderr, time_used=time_used)


# --------------------------------------------------------------------------- inputs


def _matrix_inputs(matrix: str, kw: dict[str, Any], *, use_cutoff: bool) -> MatrixInputs:
    """The OD matrix and its tables, read by the library (:func:`siting.odmatrix.read_matrix_inputs`)."""
    from ..odmatrix import read_matrix_inputs

    speed = kw["speed_kmh"] * 1000 / 60
    try:
        cutoff_m = parse_cutoff(kw["cutoff"], speed_m_per_min=speed)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--cutoff") from None
    return read_matrix_inputs(
        matrix,
        cutoff_m=cutoff_m,
        speed_m_per_min=speed,
        use_cutoff=use_cutoff,
        demand=kw.get("demand"),
        demand_id_column=kw.get("demand_id_column"),
        weight_column=kw.get("weight_column"),
        fatal_column=kw.get("fatal_column"),
        candidates=kw.get("candidates"),
        id_column=kw.get("id_column"),
        lat_column=kw.get("lat_column"),
        lon_column=kw.get("lon_column"),
        csv_crs=kw.get("csv_crs"),
        regions=kw.get("regions"),
        regions_name_column=kw.get("regions_name_column"),
    )


# --------------------------------------------------------------------------- outputs


def _check_matrix_outputs(outputs: Outputs) -> None:
    if outputs.shareable:
        msg = ("shareable tables are released from hexagon counts on the street network; with --matrix "
               "the tables are internal only (drop --shareable)")
        raise click.BadParameter(msg, param_hint="--shareable")
    if outputs.map or outputs.report:
        msg = "--map and --report need the street network; with --matrix write -o sites.csv"
        raise click.BadParameter(msg, param_hint="--map/--report")
    if outputs.path and outputs.path != "-":
        if not outputs.path.lower().endswith(".csv"):
            msg = f"{outputs.path}: with --matrix the sites have no geometry; write a .csv"
            raise click.BadParameter(msg, param_hint="-o")
        from ._write import check_file

        check_file(outputs.path, overwrite=outputs.overwrite, table=True)


def _write_matrix_outputs(outputs: Outputs, sites: pd.DataFrame, curve: pd.DataFrame,
                          impact: pd.DataFrame, progress: Any) -> None:
    if outputs.path == "-":
        click.echo(sites.to_csv(index=False), nl=False)
    elif outputs.path:
        from ..outputs import write_csv
        from ._write import internal_metadata

        write_csv(sites, outputs.path, overwrite=outputs.overwrite, metadata=internal_metadata())
        _write_tables(outputs.path, {"coverage_curve": curve, "impact": impact}, outputs.overwrite, progress,
                      metadata=internal_metadata())
        if progress:
            progress(f"wrote {outputs.path}")


def _write_tables(path: str, tables: dict[str, pd.DataFrame | None], overwrite: bool, progress: Any, *,
                  metadata: dict[str, Any]) -> None:
    from ..outputs import write_csv
    from ._write import side_table_path

    for name, table in tables.items():
        if table is None or len(table) == 0:
            continue
        out = side_table_path(path, name)
        write_csv(table, out, overwrite=overwrite, metadata=metadata)
        if progress:
            progress(f"wrote {out}")


def _jsonable(v: Any) -> Any:
    if isinstance(v, float | np.floating):
        f = float(v)
        return f if math.isfinite(f) else None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    return v


def _write_summary(path: str, result: Result, curve: pd.DataFrame, impact: pd.DataFrame,
                   overwrite: bool, *, unit: str,
                   extra: dict[str, pd.DataFrame | None] | None = None,
                   time_used: dict[str, Any] | None = None) -> None:
    data = result.summary()
    data["time"] = time_used or {}
    data["classification"] = "internal"
    data["cost_unit"] = unit
    data["sites"] = result.sites.to_dict("records")
    data["coverage_curve"] = curve.to_dict("records") if len(curve) else []
    data["impact"] = impact.to_dict("records")
    for name, table in (extra or {}).items():
        data[name] = table.to_dict("records") if table is not None else []
    text = json.dumps(_jsonable(data), indent=2)
    if path == "-":
        click.echo(text)
        return
    from ..outputs import atomic_path

    with atomic_path(path, overwrite=overwrite) as tmp:
        Path(tmp).write_text(text + "\n", encoding="utf-8")


def _write_released_summary(path: str, rel: Any, result: Result, overwrite: bool) -> None:
    """The summary JSON of a shareable run: released figures only (see siting.privacy)."""
    from ..privacy import display
    from ._write import shareable_metadata

    data: dict[str, Any] = {"classification": "shareable", "siting": shareable_metadata(rel),
                            "model": result.model, "status": result.status, "chosen": list(result.chosen)}
    for name, attr in (("sites", "sites"), ("coverage_curve", "coverage_curve"), ("impact", "impact"),
                       ("sites_impact", "site_impact"), ("deaths_bands", "deaths_bands")):
        table = getattr(rel, attr)
        if table is None:
            data[name] = []
            continue
        t = display(table)
        if hasattr(t, "geometry"):
            t = pd.DataFrame(t.drop(columns=t.geometry.name))
        data[name] = t.to_dict("records")
    data["totals"] = rel.totals.to_dict("records")
    text = json.dumps(_jsonable(data), indent=2, default=str)
    if path == "-":
        click.echo(text)
        return
    from ..outputs import atomic_path

    with atomic_path(path, overwrite=overwrite) as tmp:
        Path(tmp).write_text(text + "\n", encoding="utf-8")


def _print_summary(result: Result, *, err: bool, time_used: dict[str, Any] | None = None) -> None:
    from ..impact import figure, percent

    head = (
        f"{result.model}: objective {result.objective:.6g}, bound {result.bound:.6g}, "
        f"gap {result.gap:.2%}, {result.status} ({result.method}, {result.solve_seconds:.2f} s); "
    )
    share = percent(100 * result.covered_incident_share)
    if result.model == "deaths":  # its incidents are the fatal ones, reached where an effect applies
        head += (
            f"{amount(result.covered_incidents)} of {amount(result.total_incidents)} fatal incidents "
            f"({share}) lie where the {result.chosen_on} estimate gives an effect"
        )
    elif result.model == "attendance":
        head += (
            f"{amount(result.covered_incidents)} of {amount(result.total_incidents)} incidents "
            f"({share}) within the attendance curve's reach"
        )
    else:
        head += (
            f"covered {amount(result.covered_incidents)} of {amount(result.total_incidents)} incidents "
            f"({share}), demand weight {amount(result.covered_weight)} of "
            f"{amount(result.total_weight)} ({percent(100 * result.covered_share)})"
        )
    lines = [head]
    estimates = getattr(result, "estimates", None)
    if estimates:
        lines.append(f"  {result.value_name} (chosen on {result.chosen_on}): low {figure(estimates['low'])}, "
                     f"central {figure(estimates['central'])}, high {figure(estimates['high'])}")
    for row in result.sites.itertuples(index=False):
        lines.append(f"  {row.candidate_id}: {row.reason}")
    if time_used:
        from ..budget import describe

        lines.append(f"time: {describe(time_used)}")
    click.echo("\n".join(lines), err=err)


# ``--network``, ``--demand`` and ``--candidates`` are required by ``score``; here
# ``--matrix`` can stand in for the network, so they are checked in the command instead.
for _param in select.params:
    if _param.name in ("network", "demand", "candidates"):
        _param.required = False
