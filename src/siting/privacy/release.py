"""``release_plan``: everything a shareable map, report or table may show about a run.

:func:`release_plan` turns a :class:`~siting.plan.Plan` (exact, internal) into a
:class:`ReleasedPlan` whose every incident-derived value follows the rule. Maps, the
report and ``--shareable`` tables draw only from it. See the package docstring for the
method and README.md ("Privacy") for the threat model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import settings
from .area import StudyArea, study_area
from .candidates import release_candidates
from .choices import release_curve, release_impact, release_sensitivity, release_sites, set_weight
from .coverage import UnitCoverage, unit_coverage
from .demand import ReleasedDemand, release_demand
from .metadata import release_manifest, release_parameters, release_period
from .patterns import release_hotspots, release_regions, release_time_profile
from .rule import Rule

if TYPE_CHECKING:
    import geopandas as gpd

    from ..plan import Plan

log = logging.getLogger("siting.privacy")

#: The classification written into every output's metadata.
SHAREABLE = "shareable"
INTERNAL = "internal"

METHOD = (
    "Primary suppression (0 to threshold shown as 'fewer than threshold+1') and rounding to a base "
    "of the incident counts per hexagon (every hexagon over the study area's streets, empty ones "
    "included), the fatal counts per hexagon, the totals and the hour and weekday bars; secondary "
    "suppression of further values wherever a hidden count could be recovered from a total; every "
    "other figure recomputed from the released hexagon values spread along the streets."
)


@dataclass(eq=False)
class ReleasedPlan:
    """What shareable outputs may show about a plan (see :func:`release_plan`).

    Every incident-derived column ``X`` holds the released number (NaN where it is not
    shown) and ``X_label`` the text to show; :meth:`display` gives the text version.
    """

    name: str
    rule: Rule
    demand: ReleasedDemand
    cells: gpd.GeoDataFrame
    totals: pd.DataFrame
    candidates: gpd.GeoDataFrame
    coverage: UnitCoverage
    cutoff_min: float
    sites: gpd.GeoDataFrame | None = None
    coverage_curve: pd.DataFrame | None = None
    sensitivity: pd.DataFrame | None = None
    impact: pd.DataFrame | None = None
    hotspots: gpd.GeoDataFrame | None = None
    time_profile: dict[str, pd.DataFrame] = field(default_factory=dict)
    regions: pd.DataFrame | None = None
    demand_layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    left_out: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    period: str | None = None
    network: Any = None
    max_snap_m: float = settings.max_snap_m
    #: per chosen site: attendance, deaths averted, hours, booths; hour bars; deaths bands
    site_impact: pd.DataFrame | None = None
    site_hours: pd.DataFrame | None = None
    deaths_bands: pd.DataFrame | None = None

    @property
    def area(self) -> StudyArea:
        return self.demand.area

    @property
    def statement(self) -> str:
        """The privacy statement for the map and the report."""
        return self.rule.statement()

    @property
    def note(self) -> str:
        """One sentence for the summary panel: figures are approximate, decisions are exact."""
        return (
            "Figures are rounded and estimated from published hexagon counts to protect health "
            "records, so they can differ slightly from the exact ones; the ranking of candidates and "
            "the choice of sites were made on the exact data."
        )

    def reach_from(self, ids: list[str], max_m: float, *, network: Any = None, workers: int = 1) -> Any:
        """Walking metres from some candidates to every demand unit within ``max_m``.

        Sparse ``len(ids) x n_units`` (explicit zeros kept), for figures that reach farther
        than :attr:`unit_minutes` (a 5 km effect band, say). Needs the plan's network.
        """
        from scipy import sparse

        from ..reach import walking_reach

        net = network if network is not None else self.network
        rows = self.coverage.rows(ids)
        pts = self.candidates.geometry.values[rows]
        src = net.snap(pts, max_snap_m=self.max_snap_m)
        r = walking_reach(net, src, self.area.snapped_units(), cutoff_m=max_m, workers=workers)
        counts = np.zeros(len(rows), dtype=np.int64)
        counts[src.index] = np.diff(r.indptr)
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return sparse.csr_matrix((r.metres, r.target, indptr), shape=(len(rows), self.area.n_units))

    @property
    def units(self) -> gpd.GeoDataFrame:
        """The released demand units (points on streets with count, fatal, weight masses)."""
        return self.demand.units_frame()

    @property
    def unit_minutes(self) -> Any:
        """Sparse candidates x units walking minutes (rows in ``candidates`` order)."""
        return self.coverage.minutes

    def total(self, measure: str = "incidents") -> tuple[float, str]:
        """A released total: its number (NaN if not shown) and its label."""
        row = self.totals.set_index("measure").loc[measure]
        return float(row["value"]), str(row["label"])

    def cover(self, ids: list[str], minutes: float | None = None) -> dict[str, Any]:
        """What a set of candidates reaches within ``minutes`` (default: the run's cutoff).

        The same sums the what-if and the report use: released units within the walk of
        any site of the set. Returns count, weight and share, numbers and labels.
        """
        cut = self.cutoff_min if minutes is None else float(minutes)
        count = set_weight(self.coverage, [str(i) for i in ids], self.demand.unit_count, cut)
        weight = set_weight(self.coverage, [str(i) for i in ids], self.demand.unit_weight, cut)
        share, share_label = self.rule.share(weight, float(self.demand.unit_weight.sum()))
        count_share, count_share_label = self.rule.share(count, float(self.demand.unit_count.sum()))
        return {
            "count": self.rule.released([count])[0],
            "count_label": self.rule.label(count),
            "weight": self.rule.released([weight])[0],
            "weight_label": self.rule.label(weight),
            "share": share,
            "share_label": share_label,
            "count_share": count_share,
            "count_share_label": count_share_label,
        }

    def reached_also(
        self, ids: list[str], *, by: list[str], minutes: float | None = None
    ) -> tuple[float, float]:
        """Released incidents within the walk of ``ids``, and how many of them are also
        within the walk of ``by`` (``(also, all)``): a candidate's overlap with a chosen
        site, or what a chosen site adds to the others. Show them with :meth:`Rule.share`."""
        cut = self.cutoff_min if minutes is None else float(minutes)
        mass = self.demand.unit_count
        mine = self.coverage.covered([str(i) for i in ids], cut) if ids else np.zeros(len(mass), bool)
        theirs = self.coverage.covered([str(i) for i in by], cut) if by else np.zeros(len(mass), bool)
        return float(mass[mine & theirs].sum()), float(mass[mine].sum())

    def metadata(self) -> dict[str, Any]:
        """What every shareable file says about itself."""
        return {
            "classification": SHAREABLE,
            "rule": self.rule.describe(),
            "method": METHOD,
            "statement": self.statement,
            "hexagon_size_m": self.area.size_m,
            "hexagon_origin": list(self.area.origin),
            "weights": self.demand.weight_note,
            "left_out": list(self.left_out),
        }


def display(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """Each ``X`` replaced by its ``X_label`` text (label columns dropped), for popups and tables.

    >>> display(pd.DataFrame({"a": [1.0], "a_label": ["fewer than 11"], "b": [2]})).to_dict("list")
    {'a': ['fewer than 11'], 'b': [2]}
    """
    if df is None:
        return None
    out = df.copy()
    for col in list(out.columns):
        lab = f"{col}_label"
        if lab in out.columns:
            out[col] = out[lab].to_numpy()
            out = out.drop(columns=lab)
    return out


def rule_for(plan: Plan, rule: Rule | None = None) -> Rule:
    """The rule of a run: given, or from its parameters (threshold, base, allow_weaker)."""
    if rule is not None:
        return rule
    p = plan.parameters or {}
    return Rule(
        threshold=int(p.get("suppression_threshold", settings.suppression_threshold)),
        base=int(p.get("rounding_base", 10)),
        allow_weaker=bool(p.get("allow_weaker_privacy", False)),
    )


def _default_weights(cands: pd.DataFrame, roles: dict[str, Any], p: dict[str, Any]) -> dict[str, float]:
    """Score weights when the run recorded none: the defaults of the components present."""
    from ..score import DEFAULT_WEIGHTS

    w = {"demand": DEFAULT_WEIGHTS["demand"], "walk": DEFAULT_WEIGHTS["walk"]}
    if "part_services" in cands.columns or "services_within" in cands.columns:
        w["services"] = DEFAULT_WEIGHTS["services"]
    if "part_service_access" in cands.columns or "nearest_service_min" in cands.columns:
        w["service_access"] = DEFAULT_WEIGHTS["service_access"]
    if "hotspot_demand_weight" in cands.columns:
        w["hotspot"] = DEFAULT_WEIGHTS["hotspot"]
    for name, spec in (p.get("layers") or {}).items():
        if (
            f"layer_{name}" in cands.columns
            and isinstance(spec, dict)
            and roles.get(name) in ("attract", "avoid", "demand")
        ):
            w[f"layer_{name}"] = float(spec.get("weight", 0.0))
    return w


def _totals(rd: ReleasedDemand) -> pd.DataFrame:
    rows = [("incidents", rd.total)]
    if rd.fatal_total is not None:
        rows.append(("fatal_incidents", rd.fatal_total))
    rows += sorted(rd.extra_totals.items())
    recs = []
    for name, rel in rows:
        recs.append(
            {
                "measure": name,
                "value": float(rel.value[0]),
                "label": str(rel.label[0]),
                "status": str(rel.status[0]),
            }
        )
    return pd.DataFrame(recs, columns=["measure", "value", "label", "status"])


def release_plan(
    plan: Plan,
    rule: Rule | None = None,
    *,
    hex_size_m: float = 250.0,
    workers: int = 1,
) -> ReleasedPlan:
    """Everything a shareable output may show about ``plan``.

    Parameters
    ----------
    plan
        The run's exact results (internal).
    rule
        The disclosure rule (default: the run's threshold with base 10).
    hex_size_m
        Hexagon circumradius of the base table (metres).
    workers
        Threads for the walking reach to the demand units.
    """
    rule = rule_for(plan, rule)
    p = plan.parameters or {}
    speed = float(p.get("walking_speed_m_per_min", settings.walking_speed_m_per_min))
    cutoff_min = float(p.get("cutoff_min", settings.cutoff_min))
    max_snap = float(p.get("max_snap_m", settings.max_snap_m))
    area = study_area(plan.network, size_m=hex_size_m, max_snap_m=max_snap)
    rd = release_demand(plan.demand, area, rule)

    roles = {k: (v.get("role") if isinstance(v, dict) else None) for k, v in (p.get("layers") or {}).items()}
    demand_layers: dict[str, ReleasedDemand] = {
        name: release_demand(g, area, rule)
        for name, g in (plan.extra_layers or {}).items()
        if roles.get(name) == "demand" and g is not None and len(g)
    }
    hotspots, hot = release_hotspots(plan.hotspots, rd, rule)

    sens = pd.DataFrame(p.get("sensitivity") or [])
    sens_max = float(sens["cutoff_min"].max()) if len(sens) and "cutoff_min" in sens.columns else 0.0
    wide = max(cutoff_min, sens_max, settings.effect_zone_m / speed)
    ids = [str(c) for c in plan.candidates["candidate_id"]]
    cover = unit_coverage(
        plan.network,
        plan.candidates,
        area,
        ids=ids,
        max_minutes=wide,
        speed_m_per_min=speed,
        max_snap_m=max_snap,
        workers=workers,
    )
    weights = {str(k): float(v) for k, v in (p.get("weights") or {}).items()} or _default_weights(
        plan.candidates, roles, p
    )
    cands = release_candidates(
        plan.candidates,
        cover,
        unit_count=rd.unit_count,
        unit_weight=rd.unit_weight,
        unit_hot=hot[area.unit_cell] if hot.any() else None,
        demand_layers={n: d.unit_weight for n, d in demand_layers.items()},
        layer_roles={k: str(v) for k, v in roles.items()},
        weights=weights,
        cutoff_min=cutoff_min,
        rule=rule,
    )
    left_out: list[str] = []
    sites = curve = sensitivity = impact = None
    chosen: list[str] = []
    if plan.sites is not None and len(plan.sites):
        chosen = [str(c) for c in plan.sites["candidate_id"]]
        sites = release_sites(
            plan.sites,
            cover,
            unit_weight=rd.unit_weight,
            cutoff_min=cutoff_min,
            released_candidates=cands,
            rule=rule,
        )
    if plan.coverage_curve is not None and len(plan.coverage_curve):
        if "chosen" in plan.coverage_curve.columns:
            curve = release_curve(
                plan.coverage_curve, cover, unit_weight=rd.unit_weight, cutoff_min=cutoff_min, rule=rule
            )
        else:
            left_out.append("coverage curve (no chosen sets to re-measure)")
    if len(sens) and chosen and "sites" in sens.columns:
        sensitivity = release_sensitivity(sens, cover, unit_weight=rd.unit_weight, chosen=chosen, rule=rule)
    if plan.impact is not None and len(plan.impact) and chosen:
        impact, dropped = release_impact(
            plan.impact,
            cover,
            chosen=chosen,
            unit_count=rd.unit_count,
            unit_fatal=rd.unit_fatal,
            cutoff_m=float(p.get("cutoff_m", cutoff_min * speed)),
            params=p,
            rule=rule,
            unit_weight=rd.unit_weight,
        )
        left_out += [f"impact: {m}" for m in dropped]
    out = ReleasedPlan(
        name=plan.name,
        rule=rule,
        demand=rd,
        cells=rd.cells_frame(),
        totals=_totals(rd),
        candidates=cands,
        coverage=cover,
        cutoff_min=cutoff_min,
        sites=sites,
        coverage_curve=curve,
        sensitivity=sensitivity,
        impact=impact,
        hotspots=hotspots,
        time_profile=release_time_profile(rd),
        regions=release_regions(plan.regions, rd),
        demand_layers={n: d.cells_frame() for n, d in demand_layers.items()},
        left_out=left_out,
        parameters=release_parameters(p),
        manifest=release_manifest(
            plan.manifest or {},
            sensitive={"demand", *demand_layers},
            rule=rule,
            used_label=str(rd.total.label[0]),
        ),
        period=release_period(p),
        network=plan.network,
        max_snap_m=max_snap,
    )
    # impact-led figures (siting.privacy.sites_impact): per-site tables and the value curve
    from .sites_impact import release_site_tables, release_value_curve, value_reasons

    out.site_impact, out.site_hours, out.deaths_bands = release_site_tables(plan, out, workers=workers)
    value_reasons(plan, out)
    value_curve = release_value_curve(plan, out, workers=workers)
    if value_curve is not None:
        out.coverage_curve = value_curve
    return out
