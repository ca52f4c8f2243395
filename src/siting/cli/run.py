"""``siting run``: a whole run described by a scenario file (TOML)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import click

from .._errors import InputError
from ..scenario import Scenario
from ._options import privacy_options, verbosity_options
from ._write import Outputs
from .score import run_and_write


def read_scenario_file(path: str | Path) -> tuple[Scenario, dict[str, Any]]:
    """The Scenario in a TOML file and its ``[output]`` table (paths relative to the file)."""
    p = Path(path)
    if not p.exists():
        msg = f"{p}: scenario file not found"
        raise InputError(msg)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        msg = f"{p}: not valid TOML ({exc}); see data/demo/scenario.toml for an example"
        raise InputError(msg) from None
    except UnicodeDecodeError:
        msg = f"{p}: not a UTF-8 text file; save the scenario as UTF-8 TOML"
        raise InputError(msg) from None
    output = data.pop("output", {}) or {}
    if not isinstance(output, dict):
        msg = f"{p}: `output` must be a table with `path` and/or `map`"
        raise InputError(msg)
    for key in ("path", "map", "report"):
        if key in output and not Path(str(output[key])).is_absolute():
            output[key] = str(p.parent / str(output[key]))
    return Scenario.from_mapping(data, base_dir=p.parent.resolve(), source=str(p)), output


@click.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), help="Overrides [output] path."
)
@click.option("--map", "map_path", type=click.Path(dir_okay=False), help="Overrides [output] map.")
@click.option("--report", "report_path", type=click.Path(dir_okay=False), help="Overrides [output] report.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--cdn", is_flag=True, help="Map links Leaflet from a CDN instead of inlining it.")
@click.option(
    "--include-incident-points", is_flag=True, help="Opt in: incident points on the map (INTERNAL)."
)
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True)
@privacy_options
@verbosity_options
@click.pass_context
def run(ctx: click.Context, scenario_file: str, top: int, **kw: Any) -> None:
    """Score the candidates of a scenario file (see data/demo/scenario.toml)."""
    scenario, out = read_scenario_file(scenario_file)
    outputs = Outputs.pop_from(kw)
    outputs.path = outputs.path or out.get("path")
    outputs.map = outputs.map or out.get("map")
    outputs.report = outputs.report or out.get("report")
    outputs.shareable = outputs.shareable or bool(out.get("shareable", False))
    run_and_write(ctx, scenario, outputs, top=top)
