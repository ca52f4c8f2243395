"""Where a command's results go: table file, map, report; checked before any work is done.

Two classes of output (see :mod:`siting.privacy`):

* the map and the report are *shareable* by default: drawn from
  :func:`siting.privacy.release_plan`; ``--internal`` (or ``--include-incident-points``)
  draws them from the exact values instead and marks them INTERNAL;
* tables (``-o``) are *internal* working files by default, and say so in their metadata;
  ``--shareable`` writes the released tables instead.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click


if TYPE_CHECKING:
    from ..plan import Plan
    from ..privacy import ReleasedPlan, Rule
    from ..scenario import Scenario

#: What an internal table says about itself.
INTERNAL_NOTE = (
    "internal working file: exact figures derived from health records (incident counts, demand "
    "weights, walking times). Do not share it; write shareable tables with --shareable."
)


#: The CSV tables ``select -o PATH`` writes next to PATH, as ``<stem>_<name>.csv``.
SIDE_TABLES = ("coverage_curve", "impact", "sites_impact", "deaths_bands", "sites_hours")


def side_table_path(path: str, name: str) -> Path:
    """Where side table ``name`` of output ``path`` goes (``chosen.gpkg`` -> ``chosen_impact.csv``)."""
    return Path(f"{Path(path).with_suffix('')}_{name}.csv")


def check_file(path: str | Path, *, overwrite: bool, table: bool = False) -> None:
    """Fail before any work if ``path`` (and, for a CSV table, its metadata sidecar) cannot be written."""
    from ..outputs import check_writable, sidecar_path

    check_writable(path, overwrite=overwrite)
    if table and str(path).lower().endswith(".csv"):
        check_writable(sidecar_path(path), overwrite=overwrite)


def internal_metadata() -> dict[str, Any]:
    return {"classification": "internal", "note": INTERNAL_NOTE}


def shareable_metadata(rel: ReleasedPlan) -> dict[str, Any]:
    return {**rel.metadata(), "note": "shareable: " + rel.statement}


def _accepted(fn: Any, kw: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments ``fn`` accepts (maps and report gain ``released``/``internal``)."""
    params = inspect.signature(fn).parameters
    return {k: v for k, v in kw.items() if k in params}


@dataclass
class Outputs:
    """The output options of a command (see ``_options.output_options``)."""

    path: str | None = None
    map: str | None = None
    report: str | None = None
    overwrite: bool = False
    cdn: bool = False
    include_incident_points: bool = False
    shareable: bool = False
    internal: bool = False
    threshold: int | None = None
    rounding_base: int | None = None
    allow_weaker: bool = False
    _released: Any = field(default=None, repr=False)

    @classmethod
    def pop_from(cls, kw: dict[str, Any]) -> Outputs:
        return cls(
            path=kw.pop("output", None),
            map=kw.pop("map_path", None),
            report=kw.pop("report_path", None),
            overwrite=kw.pop("overwrite", False),
            cdn=kw.pop("cdn", False),
            include_incident_points=kw.pop("include_incident_points", False),
            shareable=kw.pop("shareable", False),
            internal=kw.pop("internal", False),
            threshold=kw.pop("suppression_threshold", None),
            rounding_base=kw.pop("rounding_base", None),
            allow_weaker=kw.pop("allow_weaker_privacy", False),
        )

    # ------------------------------------------------------------------ checks
    def rule(self, scenario: Scenario | None = None) -> Rule:
        """The disclosure rule: flags first, then the scenario's; raises on a weak one."""
        from .. import settings
        from ..privacy import Rule

        t = self.threshold
        if t is None:
            t = scenario.suppression_threshold if scenario is not None else settings.suppression_threshold
        base = self.rounding_base
        if base is None:
            base = getattr(scenario, "rounding_base", 10) if scenario is not None else 10
        allow = self.allow_weaker or bool(getattr(scenario, "allow_weaker_privacy", False))
        return Rule(threshold=int(t), base=int(base), allow_weaker=allow)

    def apply_to(self, scenario: Scenario) -> None:
        """Put the privacy choices into the scenario, so the plan's parameters record them."""
        rule = self.rule(scenario)
        scenario.suppression_threshold = rule.threshold
        if hasattr(scenario, "rounding_base"):
            scenario.rounding_base = rule.base
            scenario.allow_weaker_privacy = rule.allow_weaker
        if self.include_incident_points:
            scenario.include_incident_points = True

    def check(self, scenario: Scenario | None = None) -> None:
        """Fail before any work when an output cannot be written (or the rule is too weak)."""
        from ..outputs import check_writable, output_format

        self.rule(scenario)
        if self.path and self.path != "-":
            output_format(self.path)
            check_file(self.path, overwrite=self.overwrite, table=True)
        for flag, path in (("--map", self.map), ("--report", self.report)):
            if not path:
                continue
            if not path.lower().endswith((".html", ".htm")):
                msg = f"{path}: give a path ending in .html"
                raise click.BadParameter(msg, param_hint=flag)
            check_writable(path, overwrite=self.overwrite)

    def check_side_tables(self) -> None:
        """Fail before any work when a side table of ``select`` (curve, impact...) cannot be written."""
        if self.path and self.path != "-":
            for name in SIDE_TABLES:
                check_file(side_table_path(self.path, name), overwrite=self.overwrite, table=True)

    # ------------------------------------------------------------------ values
    def is_internal(self, plan: Plan) -> bool:
        """Are map and report drawn from exact values (and marked INTERNAL)?"""
        return (
            self.internal
            or self.include_incident_points
            or bool(plan.parameters.get("include_incident_points", False))
        )

    def released(self, plan: Plan) -> ReleasedPlan:
        """The plan's release, computed once for tables, map and report."""
        if self._released is None:
            from ..privacy import release_plan, rule_for

            self._released = release_plan(plan, rule_for(plan))
        return self._released

    def table_layers(self, plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
        """The layers ``-o`` writes and the metadata that goes with them."""
        if self.shareable:
            rel = self.released(plan)
            layers: dict[str, Any] = {"candidates": _by_rank(rel.candidates)}
            for name, value in (
                ("sites", rel.sites),
                ("isochrones", plan.isochrones),
                ("hotspots", rel.hotspots),
            ):
                if value is not None and len(value):
                    layers[name] = value
            layers["incident_cells"] = rel.cells.drop(columns=["label", "suppressed"], errors="ignore")
            return layers, shareable_metadata(rel)
        layers = {"candidates": _by_rank(plan.candidates)}
        for name in ("sites", "isochrones", "hotspots"):
            value = getattr(plan, name)
            if value is not None and len(value):
                layers[name] = value
        return layers, internal_metadata()

    def side_tables(self, plan: Plan) -> tuple[dict[str, Any], dict[str, Any]]:
        """The extra CSV tables of ``select`` (coverage curve, impact) and their metadata."""
        if self.shareable:
            rel = self.released(plan)
            tables = {"coverage_curve": rel.coverage_curve, "impact": rel.impact,
                      "sites_impact": rel.site_impact, "deaths_bands": rel.deaths_bands,
                      "sites_hours": rel.site_hours}
            return tables, shareable_metadata(rel)
        tables = {"coverage_curve": plan.coverage_curve, "impact": plan.impact,
                  "sites_impact": plan.site_impact, "deaths_bands": plan.deaths_bands}
        return tables, internal_metadata()

    # ------------------------------------------------------------------ write
    def write(self, plan: Plan, *, progress: Any = None, extra_layers: dict[str, Any] | None = None) -> None:
        from ..outputs import write_layers

        if self.path:
            layers, meta = self.table_layers(plan)
            layers.update(extra_layers or {})
            if self.path == "-":
                data = json.loads(layers["candidates"].to_crs(4326).to_json(drop_id=True, na="null"))
                data["siting"] = meta
                click.echo(json.dumps(data, default=str))
            else:
                write_layers(layers, self.path, overwrite=self.overwrite, metadata=meta)
                if progress:
                    progress(f"wrote {self.path}")
        internal = self.is_internal(plan)
        rel = None if internal or not (self.map or self.report) else self.released(plan)
        points = self.include_incident_points or bool(plan.parameters.get("include_incident_points", False))
        if self.map:
            from ..maps import plan_map, save_map

            kw = {"include_incident_points": points, "internal": internal, "released": rel, "cdn": self.cdn}
            m = plan_map(plan, **_accepted(plan_map, kw))
            save_map(m, self.map)
            if progress:
                progress(f"wrote {self.map}")
        if self.report:
            from ..report import report_html, save_report

            save_report(plan, self.report, **_accepted(report_html, {"internal": internal, "released": rel}))
            if progress:
                progress(f"wrote {self.report}")


def _by_rank(cands: Any) -> Any:
    return cands.sort_values(["rank", "candidate_id"], na_position="last", kind="stable")
