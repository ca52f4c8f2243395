"""``siting demo``: the whole planner offline on central Helsinki with synthetic incidents."""

from __future__ import annotations

from pathlib import Path

import click

from .. import settings
from . import progress_printer
from ._options import verbosity_options
from ._write import Outputs
from .run import read_scenario_file
from .score import run_and_write


def demo_data_folder() -> Path:
    """data/demo of the source tree, or a copy generated into the cache folder."""
    here = Path(__file__).resolve()
    for root in (here.parents[3], Path.cwd()):
        folder = root / "data" / "demo"
        if (folder / "scenario.toml").exists():
            return folder
    from ..demo_data import generate

    folder = settings.cache_folder / "demo-data"
    if not (folder / "scenario.toml").exists():
        generate(folder)
    return folder


@click.command()
@click.option(
    "--out-dir",
    type=click.Path(file_okay=False),
    default="maps",
    show_default=True,
    help="Folder for the demo's map and outputs.",
)
@verbosity_options
@click.pass_context
def demo(ctx: click.Context, out_dir: str) -> None:
    """Run everything offline on central Helsinki (OpenStreetMap) with SYNTHETIC incidents."""
    folder = demo_data_folder()
    scenario, _ = read_scenario_file(folder / "scenario.toml")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    progress = progress_printer(ctx)
    if progress:
        progress(f"demo layers from {folder} (incidents are synthetic)")
    outputs = Outputs(
        path=str(out / "demo-candidates.gpkg"),
        map=str(out / "demo.html"),
        report=str(out / "demo-report.html"),
        overwrite=True,
    )
    run_and_write(ctx, scenario, outputs, top=10)
    click.echo(
        f"map: {out / 'demo.html'}\nreport: {out / 'demo-report.html'}\n"
        f"tables: {out / 'demo-candidates.gpkg'}"
    )
