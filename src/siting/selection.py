"""Choose sites for a prepared scenario and put everything a planner needs into the Plan.

:mod:`siting.locate` holds the models; this module runs one on the walking reach of a
:class:`~siting.pipeline.Prepared` scenario and adds what maps and the report draw: the
chosen sites with their reasons, 5/10/15-minute isochrones, the coverage curve, the
impact table (effect zone measured on the network even when it is longer than the
cutoff) and the sensitivity of the choice to the walking cutoff.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from scipy import sparse

from . import settings
from ._errors import InputError
from .budget import TimeBudget
from .impact_select import VALUE_MODELS, ImpactSpec
from .locate import MODELS as REGISTRY

if TYPE_CHECKING:
    from collections.abc import Sequence

    import numpy.typing as npt

    from .locate import Capacity, Result
    from .pipeline import Prepared
    from .plan import Plan

log = logging.getLogger(__name__)

#: The model names ``--model`` and ``[select] model`` accept (the :mod:`siting.locate` registry).
MODELS = tuple(REGISTRY)


@dataclass
class SelectionSpec:
    """What to choose and under which constraints (see ``siting select --help``)."""

    model: str = "coverage"
    p: int = settings.n_sites
    target: float = 0.8
    fixed: list[str] = field(default_factory=list)
    quotas: dict[str, tuple[str, int]] = field(default_factory=dict)
    capacity: Capacity | None = None
    demand_per_day: float | None = None
    uses_per_booth_per_day: float = settings.uses_per_booth_per_day
    beyond: Literal["penalty", "exclude"] = "penalty"
    penalty_min: float | None = None
    time_limit: float | None = None
    method: Literal["milp", "greedy"] = "milp"
    curve_max: int | None = None
    sensitivity_min: tuple[float, ...] = settings.sensitivity_cutoffs_min
    isochrone_min: tuple[float, ...] = settings.sensitivity_cutoffs_min
    #: attendance curve, deaths-averted bands and estimate, opening hours and booths
    impact: ImpactSpec = field(default_factory=ImpactSpec)

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: str = "scenario") -> SelectionSpec:
        """From a scenario file's ``[select]`` table (every problem reported at once)."""
        from .locate import Capacity, parse_quota

        problems: list[str] = []
        # the flags' names (`siting select --penalty`, `--curve`, `--uses-per-booth`) work too
        aliases = {
            "penalty": "penalty_min",
            "curve": "curve_max",
            "uses_per_booth": "uses_per_booth_per_day",
            "sites": "p",
        }
        data = {aliases.get(k, k): v for k, v in data.items()}
        known = {
            "model",
            "p",
            "target",
            "fixed",
            "quotas",
            "booths",
            "demand_per_day",
            "uses_per_booth_per_day",
            "beyond",
            "penalty_min",
            "time_limit",
            "method",
            "curve_max",
            "sensitivity",
            *ImpactSpec.KEYS,
        }
        for key in sorted(set(data) - known):
            problems.append(f"unknown key {key!r} in [select]")
        spec = cls()
        model = str(data.get("model", "coverage"))
        if model not in MODELS:
            problems.append(f"`select.model` {model!r} unknown; use {', '.join(MODELS)}")
        spec.model = model
        try:
            spec.p = int(data.get("p", settings.n_sites))
            spec.target = float(data.get("target", 0.8))
            if spec.p < 1 or not 0 < spec.target <= 1:
                raise ValueError
        except (TypeError, ValueError):
            problems.append("`p` must be a whole number >= 1 and `target` a share in (0, 1]")
        fixed = data.get("fixed", [])
        spec.fixed = [str(f) for f in (fixed.split(",") if isinstance(fixed, str) else fixed)]
        for text in data.get("quotas", []) or []:
            try:
                name, q = parse_quota(str(text))
                spec.quotas[name] = q
            except InputError as exc:
                problems.append(str(exc))
        if "demand_per_day" in data:
            spec.demand_per_day = float(data["demand_per_day"])
        spec.uses_per_booth_per_day = float(
            data.get("uses_per_booth_per_day", settings.uses_per_booth_per_day)
        )
        if "booths" in data:
            if spec.demand_per_day is None:
                problems.append("`booths` needs `demand_per_day`")
            else:
                spec.capacity = Capacity(
                    booths=data["booths"],
                    demand_per_day=spec.demand_per_day,
                    uses_per_booth_per_day=spec.uses_per_booth_per_day,
                )
        beyond = str(data.get("beyond", "penalty"))
        if beyond not in ("penalty", "exclude"):
            problems.append("`select.beyond` must be 'penalty' or 'exclude'")
        spec.beyond = "exclude" if beyond == "exclude" else "penalty"
        spec.penalty_min = float(data["penalty_min"]) if "penalty_min" in data else None
        spec.time_limit = float(data["time_limit"]) if "time_limit" in data else None
        method = str(data.get("method", "milp"))
        if method not in ("milp", "greedy"):
            problems.append("`select.method` must be 'milp' or 'greedy'")
        spec.method = "greedy" if method == "greedy" else "milp"
        spec.curve_max = int(data["curve_max"]) if "curve_max" in data else None
        if data.get("sensitivity", True) is False:
            spec.sensitivity_min = ()
        spec.impact = ImpactSpec.from_mapping(data, problems)
        if spec.impact.capacity_rule == "erlang" and spec.capacity is None:
            problems.append("`capacity_rule = \"erlang\"` needs `booths` (and `demand_per_day`)")
        if problems:
            msg = f"{source}: " + "; ".join(problems)
            raise InputError(msg)
        return spec


def solve_selection(
    costs: Any,
    spec: SelectionSpec,
    *,
    weights: Any,
    candidate_ids: list[str],
    cutoff: float | None,
    regions: list[str | None] | None = None,
    excluded: list[str] | None = None,
    curve: bool = True,
    progress: Any = None,
    budget: TimeBudget | None = None,
    start: Sequence[str] = (),
) -> tuple[Result, pd.DataFrame]:
    """Solve ``spec`` on a candidates x demand cost matrix; the result and coverage curve.

    ``costs`` are minutes for a walking reach, or the unit of an OD matrix; ``cutoff`` is in
    the same unit (``None``: every pair counts, for a p-median of a full matrix; no curve).
    ``budget`` shares ``spec.time_limit`` between the choice and the curve (steps
    ``choice`` and ``curve``); without one, a budget of just these two steps is used.
    ``start``: the sites of a related choice (another cutoff), a warm start for the solver.
    """
    from .locate import ValueModel, coverage_curve, value_curve

    if spec.model not in REGISTRY:
        msg = f"`model` must be one of {', '.join(REGISTRY)}, got {spec.model!r}"
        raise InputError(msg)
    cls = REGISTRY[spec.model]
    common: dict[str, Any] = {
        "weights": weights,
        "candidate_ids": candidate_ids,
        "cutoff": cutoff,
        "regions": regions,
        "fixed": list(spec.fixed),
        "excluded": list(excluded or []),
        "quotas": spec.quotas,
        "capacity": spec.capacity,
    }
    if progress:
        progress(f"choosing sites ({spec.model}, {spec.method})")
    options: dict[str, Any] = {
        "p": spec.p,
        "target": spec.target,
        "beyond": spec.beyond,
        **spec.impact.model_options(),
    }
    if "penalty" in cls.options:
        options["penalty"] = _default_penalty(costs, spec, cutoff)
    k_max = min(max(5, spec.p), 20) if spec.curve_max is None else spec.curve_max
    if not curve or (cutoff is None and spec.curve_max is None):
        k_max = 0  # coverage needs a cutoff
    if budget is None:
        steps = ("choice", "curve") if k_max else ("choice",)
        budget = TimeBudget.for_selection(spec.time_limit, steps=steps)
    with budget.step("choice") as step:  # building the model is part of the choice's time
        model = cls(costs, **{k: options[k] for k in cls.options}, **common)
        if start:
            model.warm_start(start)
        result = model.solve(step.allot(), method=spec.method)
    log.info("selection: %s", result.summary())
    if spec.curve_max is None and k_max:
        k_max = min(max(k_max, len(result.chosen)), 20)
    if not k_max:
        return result, pd.DataFrame()
    if progress:
        progress(f"coverage curve for 1..{k_max} sites")
    with budget.step("curve") as step:
        if issubclass(cls, ValueModel):  # the value (attendance, deaths) for 1..K sites
            own = {k: options[k] for k in cls.options if k != "p"}
            table = value_curve(
                cls, costs, k_max=k_max, time_limit=step.allot(), method=spec.method, **own, **common
            )
        else:
            table = coverage_curve(costs, k_max=k_max, time_limit=step.allot(), method=spec.method, **common)
    return result, table


def check_quota_regions(quotas: dict[str, tuple[str, int]], regions: list[str], *, source: str) -> None:
    """Raise when a quota names a region that ``regions`` (the names in ``source``) does not have.

    >>> check_quota_regions({"Seatle": (">=", 1)}, ["Seattle", "Rest of county"], source="cities.geojson")
    Traceback (most recent call last):
    ...
    siting._errors.InputError: quota on 'Seatle': cities.geojson has no region of that name; its regions are \
'Rest of county', 'Seattle'
    """
    names = sorted({str(r) for r in regions if r})
    unknown = [q for q in quotas if q not in names]
    if unknown:
        shown = ", ".join(map(repr, names[:20])) + (" ..." if len(names) > 20 else "")
        msg = (
            f"quota on {', '.join(map(repr, unknown))}: {source} has no region of "
            f"{'that name' if len(unknown) == 1 else 'those names'}; its regions are {shown or 'none'}"
        )
        raise InputError(msg)


def _default_penalty(costs: Any, spec: SelectionSpec, cutoff: float | None) -> float | None:
    """The p-median penalty: as given, else twice the cutoff (or the largest cost without one)."""
    if spec.penalty_min is not None or spec.beyond != "penalty":
        return spec.penalty_min
    if cutoff is not None:
        top = cutoff
    elif sparse.issparse(costs):
        top = float(costs.max()) if costs.nnz else 1.0
    else:
        arr = np.asarray(costs, dtype=np.float64)
        top = float(arr[np.isfinite(arr)].max()) if np.isfinite(arr).any() else 1.0
    return 2.0 * top


def _sensitivity_row(
    cut_min: float,
    row: dict[str, Any],
    within: sparse.csr_matrix,
    chosen: list[str],
    ids: list[str],
    weights: npt.NDArray[np.float64],
) -> dict[str, Any]:
    """One cutoff's record: the set re-chosen there (``row``) and what the run's own set covers."""
    total, n_inc = float(weights.sum()), len(weights)
    rows = [ids.index(c) for c in chosen]
    reached = np.unique(within[rows].indices) if rows else np.zeros(0, np.int64)
    out = {
        "cutoff_min": cut_min,
        "n_sites": np.nan,
        "covered_incidents": np.nan,
        "covered_demand_weight": np.nan,
        "sites": "",
        **row,
    }
    out["covered_incident_share"] = out["covered_incidents"] / n_inc if n_inc else 0.0
    out["covered_demand_share"] = out["covered_demand_weight"] / total if total else 0.0
    out["chosen_here_covered_incident_share"] = len(reached) / n_inc if n_inc else 0.0
    out["chosen_here_covered_demand_share"] = float(weights[reached].sum()) / total if total else 0.0
    return out


def choose_sites(prep: Prepared, plan: Plan, spec: SelectionSpec, *, progress: Any = None) -> Result:
    """Solve ``spec`` on the prepared reach; fill ``plan`` with sites, isochrones, curve, impact.

    Returns the solver's :class:`~siting.locate.Result`.
    """
    import geopandas as gpd

    from .impact import impact_table, nearest_chosen_distance
    from .pipeline import within
    from .isochrones import isochrones

    sc = prep.scenario
    if spec.quotas:
        names = [] if prep.regions is None else list(prep.regions["name"].astype(str))
        check_quota_regions(spec.quotas, names, source=str(sc.regions or "the scenario (no regions given)"))
    speed = sc.speed_m_per_min
    ids = prep.candidate_ids
    regions = None
    if prep.candidate_region is not None:
        regions = [r if r else None for r in prep.candidate_region]
    excluded = [i for i, e in zip(ids, prep.excluded, strict=True) if e]
    weights = prep.demand_weight

    def minutes_within(cutoff_m: float) -> sparse.csr_matrix:
        m = within(prep.demand_metres_wide, cutoff_m)
        np.divide(m.data, speed, out=m.data)  # within's data is its own copy
        return m

    # --time-limit bounds all of it: the choice, the curve, the sensitivity and explain re-solves
    steps = ["choice"]
    if spec.curve_max != 0:
        steps.append("curve")
    if spec.sensitivity_min and spec.model not in VALUE_MODELS:
        steps.append("sensitivity")
    steps.append("explain")
    budget = TimeBudget.for_selection(spec.time_limit, steps=tuple(steps))

    def solve(
        cutoff_m: float, *, curve: bool, within_budget: TimeBudget | None = None, start: Sequence[str] = ()
    ) -> tuple[Result, pd.DataFrame]:
        return solve_selection(
            minutes_within(cutoff_m),
            spec,
            weights=weights,
            candidate_ids=ids,
            cutoff=cutoff_m / speed,
            regions=regions,
            excluded=excluded,
            curve=curve,
            progress=progress if curve else None,
            budget=within_budget or budget,
            start=start,
        )

    def one_solve(seconds: float | None) -> TimeBudget:
        return TimeBudget(seconds, {"choice": 1.0})

    v_costs: Any = None
    v_weights: Any = None
    v_cutoff: float | None = None
    if spec.capacity is not None and spec.impact.capacity_rule == "erlang":
        from .impact_select import erlang_capacity

        spec = dataclasses.replace(spec, capacity=erlang_capacity(prep, spec))
    if spec.model in VALUE_MODELS:  # their own reach and weights (deaths: fatal incidents, metres)
        from .impact_select import model_inputs

        v_costs, v_weights, v_cutoff = model_inputs(prep, spec)
        result, curve = solve_selection(
            v_costs,
            spec,
            weights=v_weights,
            candidate_ids=ids,
            cutoff=v_cutoff,
            regions=regions,
            excluded=excluded,
            progress=progress,
            budget=budget,
        )
    else:
        result, curve = solve(sc.cutoff_m, curve=True)

    # sensitivity: the same choice re-made at each cutoff, and how much the chosen set covers there
    cutoffs = [c for c in spec.sensitivity_min if c * speed <= prep.wide_m + 1e-9]
    with budget.step("sensitivity") as step:
        sens = []
        for i, cut_min in enumerate(cutoffs):
            sub = minutes_within(cut_min * speed)
            if spec.model in VALUE_MODELS:  # chosen on a curve or bands, not a cutoff: nothing to re-solve
                row: dict[str, Any] = {"status": "not re-solved: the model does not use the walking cutoff"}
            else:
                try:
                    seconds = step.allot(len(cutoffs) - i)
                    r, _ = solve(  # the run's own choice is the warm start at each cutoff
                        cut_min * speed, curve=False, within_budget=one_solve(seconds), start=result.chosen
                    )
                    row = {
                        "n_sites": len(r.chosen),
                        "covered_incidents": r.covered_incidents,
                        "covered_demand_weight": r.covered_weight,
                        "sites": ";".join(r.chosen),
                        "status": r.status,
                    }
                except (InputError, ValueError) as exc:  # e.g. a target no longer reachable
                    row = {"status": f"infeasible: {exc}"}
            sens.append(_sensitivity_row(cut_min, row, sub, result.chosen, ids, weights))
    sensitivity = pd.DataFrame(sens)

    dist_m = nearest_chosen_distance(prep.demand_metres_wide, ids, result.chosen)
    kept = prep.demand.kept
    impact = impact_table(
        dist_m,
        cutoff_m=sc.cutoff_m,
        weights=weights,
        fatal=kept["fatal"].to_numpy().astype(bool) if "fatal" in kept.columns else None,
        demand_per_day=spec.demand_per_day,
        uses_per_booth_per_day=spec.uses_per_booth_per_day,
        n_sites=len(result.chosen),
    )

    cand = plan.candidates
    by_id = cand.set_index(cand["candidate_id"].astype(str))
    sites = result.sites.copy()
    sites = gpd.GeoDataFrame(
        sites, geometry=by_id.geometry.loc[sites["candidate_id"]].to_numpy(), crs=cand.crs
    )
    # the candidates' own attributes (name, address, ...) travel with the chosen sites
    own = [c for c in cand.attrs.get("candidate_attributes", ["name"]) if c != cand.geometry.name]
    for col in [*own, "rank", "score"]:
        if col in by_id.columns and col not in sites.columns:
            sites[col] = by_id[col].loc[sites["candidate_id"]].to_numpy()
    plan.sites = sites

    # isochrones of the chosen sites: 5, 10 and 15 minutes on the network
    snapped = prep.candidates.snapped
    cand_ids = prep.candidates.gdf["id"].to_numpy()  # once: a column read per site took 2.8 s at 5,000
    pos = {str(cand_ids[int(i)]): k for k, i in enumerate(snapped.index)}
    keep = [pos[c] for c in result.chosen if c in pos]
    if keep:
        from .network import Snapped

        sub = Snapped(
            index=snapped.index[keep],
            edge=snapped.edge[keep],
            offset_m=snapped.offset_m[keep],
            leg_m=snapped.leg_m[keep],
            dropped=np.zeros(0, dtype=np.int64),
            n_input=snapped.n_input,
        )
        iso = isochrones(prep.network, sub, [m * speed for m in spec.isochrone_min], workers=sc.workers)
        chosen_kept = [c for c in result.chosen if c in pos]
        iso["candidate_id"] = [chosen_kept[int(s)] for s in iso["source"]]
        iso["minutes"] = np.round(iso["cutoff_m"].to_numpy() / speed, 6)
        plan.isochrones = iso[["candidate_id", "minutes", "cutoff_m", "geometry"]]

    plan.coverage_curve = curve if len(curve) else None
    plan.impact = impact
    # per site: attendance, deaths averted by band, opening hours, booths (any model)
    from .impact_select import site_figures

    figs = site_figures(prep, spec, result.chosen)
    plan.site_impact, plan.site_hours, plan.deaths_bands = (
        figs["site_impact"], figs["site_hours"], figs["deaths_bands"])
    plan.parameters["impact_led"] = {**spec.impact.describe(), "hours_note": figs["hours_note"],
                                     "years": figs["years"], "timezone": getattr(sc, "timezone", None),
                                     "demand_per_day": spec.demand_per_day,
                                     "uses_per_booth_per_day": spec.uses_per_booth_per_day}
    summary = result.summary()
    plan.parameters["selection"] = {
        **{k: v for k, v in summary.items() if k not in ("chosen", "solve_seconds")},
        "p": spec.p,
        "quotas": {k: f"{op} {n}" for k, (op, n) in spec.quotas.items()},
        "fixed": list(spec.fixed),
        "demand_per_day": spec.demand_per_day,
        "uses_per_booth_per_day": spec.uses_per_booth_per_day,
        "capacity_rule": spec.impact.capacity_rule if spec.capacity is not None else None,
    }
    plan.parameters["sensitivity"] = sensitivity.to_dict("records") if len(sensitivity) else []

    from .choice import explain_choice  # why these sites (map and report): planner-map's module

    def resolve(s: SelectionSpec, seconds: float | None) -> Result:
        if s.model in VALUE_MODELS:  # the value models' own reach and weights (deaths: metres, fatal)
            return solve_selection(
                v_costs, s, weights=v_weights, candidate_ids=ids, cutoff=v_cutoff, regions=regions,
                excluded=excluded, curve=False, budget=one_solve(seconds),
            )[0]
        return solve_selection(
            minutes_within(sc.cutoff_m), s, weights=weights, candidate_ids=ids, cutoff=sc.cutoff_min,
            regions=regions, excluded=excluded, curve=False, budget=one_solve(seconds),
        )[0]

    with budget.step("explain") as step:
        explain_choice(
            plan,
            result,
            spec,
            candidate_ids=ids,
            within=minutes_within(sc.cutoff_m),
            weights=weights,
            regions=regions,
            resolve=lambda s: resolve(s, step.allot()),
            within_at=lambda mnt: minutes_within(mnt * speed) if mnt * speed <= prep.wide_m + 1e-9 else None,
        )  # fmt: skip
    plan.parameters["time"] = budget.report()
    return result
