"""Where a command's results go: table file, map, report; checked before any work is done."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from ..outputs import check_writable, output_format, write_layers

if TYPE_CHECKING:
    from ..plan import Plan


@dataclass
class Outputs:
    """The output options of a command (see ``_options.output_options``)."""

    path: str | None = None
    map: str | None = None
    report: str | None = None
    overwrite: bool = False
    cdn: bool = False
    include_incident_points: bool = False

    @classmethod
    def pop_from(cls, kw: dict[str, Any]) -> Outputs:
        return cls(
            path=kw.pop("output", None),
            map=kw.pop("map_path", None),
            report=kw.pop("report_path", None),
            overwrite=kw.pop("overwrite", False),
            cdn=kw.pop("cdn", False),
            include_incident_points=kw.pop("include_incident_points", False),
        )

    def check(self) -> None:
        """Fail before any work when an output cannot be written."""
        if self.path and self.path != "-":
            output_format(self.path)
            check_writable(self.path, overwrite=self.overwrite)
        for flag, path in (("--map", self.map), ("--report", self.report)):
            if not path:
                continue
            if not path.lower().endswith((".html", ".htm")):
                msg = f"{path}: give a path ending in .html"
                raise click.BadParameter(msg, param_hint=flag)
            check_writable(path, overwrite=self.overwrite)

    def write(self, plan: Plan, *, progress: Any = None, extra_layers: dict[str, Any] | None = None) -> None:
        table = plan.candidates.sort_values(["rank", "candidate_id"], na_position="last", kind="stable")
        if self.path == "-":
            click.echo(table.to_crs(4326).to_json(drop_id=True, na="null"))
        elif self.path:
            layers: dict[str, Any] = {"candidates": table}
            for name in ("sites", "isochrones", "hotspots"):
                value = getattr(plan, name)
                if value is not None and len(value):
                    layers[name] = value
            layers.update(extra_layers or {})
            write_layers(layers, self.path, overwrite=self.overwrite)
            if progress:
                progress(f"wrote {self.path}")
        internal = bool(plan.parameters.get("include_incident_points", False))
        if self.map:
            from ..maps import plan_map, save_map

            save_map(plan_map(plan, include_incident_points=internal, cdn=self.cdn), self.map)
            if progress:
                progress(f"wrote {self.map}")
        if self.report:
            from ..report import save_report

            save_report(plan, self.report, internal=internal)
            if progress:
                progress(f"wrote {self.report}")
