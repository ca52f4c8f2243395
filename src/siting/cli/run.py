"""``siting run``: a whole run described by a scenario file (TOML)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import click

from .._errors import InputError
from ..scenario import Scenario
from ._options import verbosity_options
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
    for key in ("path", "map"):
        if key in output and not Path(str(output[key])).is_absolute():
            output[key] = str(p.parent / str(output[key]))
    return Scenario.from_mapping(data, base_dir=p.parent.resolve(), source=str(p)), output


@click.command()
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), help="Overrides [output] path."
)
@click.option("--map", "map_path", type=click.Path(dir_okay=False), help="Overrides [output] map.")
@click.option("--overwrite", is_flag=True, help="Replace existing output files.")
@click.option("--top", type=click.IntRange(min=0), default=10, show_default=True)
@verbosity_options
@click.pass_context
def run(
    ctx: click.Context,
    scenario_file: str,
    output: str | None,
    map_path: str | None,
    overwrite: bool,
    top: int,
) -> None:
    """Score the candidates of a scenario file (see data/demo/scenario.toml)."""
    scenario, out = read_scenario_file(scenario_file)
    run_and_write(
        ctx,
        scenario,
        output=output or out.get("path"),
        map_path=map_path or out.get("map"),
        overwrite=overwrite,
        top=top,
    )
