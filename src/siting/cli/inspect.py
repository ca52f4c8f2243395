"""``siting inspect``: what a layer holds and what a run would use of it, before any run.

Rows read and used; rows left out by each filter, for lack of coordinates (failed
geocodes), as duplicate calls, and (with ``--network``) far from every street, each with
the rows' own ids; the date range; the values of a disposition or status column. A
street line layer gets its own summary: lines read, left out by the filter and by road
class, and the classes it holds.
"""

from __future__ import annotations

import json
from typing import Any

import click

from .. import settings
from ..layers import ROLES, Intake, LayerSpec
from ._options import verbosity_options

_SHOWN_IDS = 10


def _n(v: int) -> str:
    return f"{v:,}"


def format_intake(intake: Intake) -> str:
    """The summary of one point layer as text lines (what ``siting inspect`` prints)."""
    lines = [
        f"{intake.path}: {intake.role} layer ({intake.format}), {_n(intake.rows_read)} "
        f"{intake.row_word}s read, {_n(intake.rows_used)} used"
    ]
    if intake.geometry:
        lines.append(f"  points from: {intake.geometry}")
    if intake.id_column:
        lines.append(f"  ids from column: {intake.id_column!r} (rows below are named by these ids)")
    for note in intake.notes:
        lines.append(f"  note: {note}")
    width = max([len(_n(intake.rows_read)), *(len(_n(s.removed)) for s in intake.steps)])
    lines.append(f"  {'rows read':<22}{_n(intake.rows_read):>{width}}")
    for step in intake.steps:
        share = 100.0 * step.removed / intake.rows_read if intake.rows_read else 0.0
        verb = "excluded" if step.excluded_only else "left out"
        lines.append(f"  {verb:<22}{_n(step.removed):>{width}}  {step.text} ({share:.1f}% of rows read)")
        shown = ", ".join(step.who[:_SHOWN_IDS])
        more = f" and {len(step.who) - _SHOWN_IDS:,} more" if len(step.who) > _SHOWN_IDS else ""
        if shown:
            lines.append(f"  {'':<22}{'':>{width}}  {shown}{more}")
    lines.append(f"  {'rows used':<22}{_n(intake.rows_used):>{width}}")
    if intake.date_column:
        if intake.date_first:
            span = f"{intake.date_first} to {intake.date_last}"
        else:
            span = "no dates"
        undated = f"; {_n(intake.undated)} used rows undated" if intake.undated else ""
        lines.append(f"  dates ({intake.date_column!r}, read as {intake.date_format}): {span}{undated}")
    elif intake.role == "demand":
        lines.append("  dates: no date column found (name it with --date-column)")
    if intake.fatal_column:
        how = (
            f"column {intake.fatal_column!r} is {' or '.join(map(repr, intake.fatal_values))}"
            if intake.fatal_values
            else f"yes/no column {intake.fatal_column!r}"
        )
        lines.append(f"  fatal: {_n(intake.fatal_used or 0)} of the rows used ({how})")
    if intake.status_column:
        lines.append(f"  values of {intake.status_column!r}:   read   used")
        vw = max(len(v) for v in intake.status_read) if intake.status_read else 0
        for value, count in intake.status_read.items():
            used = intake.status_used.get(value, 0)
            lines.append(f"    {value:<{vw}}  {_n(count):>7}  {_n(used):>7}")
    return "\n".join(lines)


def format_lines(summary: dict[str, Any]) -> str:
    """The summary of a street line layer as text lines."""
    lines = [
        f"{summary['path']}: street line layer, {_n(summary['lines_read'])} features read, "
        f"{_n(summary['lines_used'])} used ({summary['length_km']:,.1f} km)"
    ]
    if summary.get("where"):
        lines.append(f"  left out {_n(summary.get('left_out_by_where', 0))} by the filter {summary['where']}")
    for cls, count in (summary.get("not_walkable") or {}).items():
        lines.append(f"  left out {_n(count)} not walkable: {cls} (--all-road-classes keeps them)")
    if summary.get("no_line_geometry"):
        lines.append(f"  left out {_n(summary['no_line_geometry'])} with no line geometry")
    rings = int(summary.get("closed_rings") or 0)
    if rings:
        lines.append(
            f"  note: {_n(rings)} of these lines are closed rings, as outlines of areas are drawn; if this "
            "is an exclusion layer (school grounds...), inspect it with --role exclusion"
        )
    for column, counts in (summary.get("classes") or {}).items():
        lines.append(f"  values of {column!r}:")
        for value, count in counts.items():
            lines.append(f"    {value:<24} {_n(count):>9}")
    return "\n".join(lines)


def format_polygons(summary: dict[str, Any]) -> str:
    """The summary of a polygon layer (exclusion zones, regions) as text lines."""
    what = "exclusion" if summary["purpose"] == "exclusion" else "region"
    lines = [f"{summary['path']}: {what} layer, {_n(summary['features_read'])} features read, all used"]
    if summary["polygons"]:
        lines.append(f"  polygons                   {_n(summary['polygons'])}")
    if summary["lines_closed_into_polygons"]:
        lines.append(
            f"  lines closed into polygons {_n(summary['lines_closed_into_polygons'])}  "
            "(outlines drawn as lines, read as the areas they enclose)"
        )
    if summary["lines_kept_as_lines"]:
        lines.append(
            f"  open lines                 {_n(summary['lines_kept_as_lines'])}  "
            f"(enclose no area: the zone is the {summary['buffer_m']:g} m around them)"
        )
    if summary["points"]:
        lines.append(
            f"  points                     {_n(summary['points'])}  "
            f"(the zone is the {summary['buffer_m']:g} m around them)"
        )
    if summary["repaired"]:
        lines.append(f"  repaired                   {_n(summary['repaired'])}  (invalid polygons made valid)")
    col = summary.get("name_column")
    lines.append(f"  names from column: {col!r}" if col else "  names: none (numbered)")
    return "\n".join(lines)


def _inspect_polygons(path: str, role: str, layer: str | None, buffer_m: float, as_json: bool) -> None:
    from ..layers import read_polygons

    purpose = "exclusion" if role == "exclusion" else "region"
    gdf = read_polygons(path, layer=layer, buffer_m=buffer_m, purpose=purpose)
    summary = gdf.attrs["polygons"]
    click.echo(json.dumps(summary, indent=2) if as_json else format_polygons(summary))


@click.command("inspect")
@click.argument("path", type=click.Path(dir_okay=True), metavar="LAYER")
@click.option(
    "--role",
    type=click.Choice([*ROLES, "exclusion", "regions"]),
    default="demand",
    show_default=True,
    help="What the layer is (only demand layers are checked for duplicate calls; exclusion and "
    "regions are polygon layers, lines that close around an area are read as polygons).",
)
@click.option(
    "--buffer",
    "buffer_m",
    type=click.FloatRange(min=0),
    default=0.0,
    metavar="METRES",
    help="--role exclusion: the buffer the run will use (a zone around points and open lines).",
)
@click.option("--layer", "layer_name", metavar="NAME", help="Layer of a multi-layer file (GeoPackage).")
@click.option("--where", metavar="SQL", help="OGR SQL filter, as --demand-where would apply it.")
@click.option("--since", metavar="DATE", help="Keep rows dated on or after DATE.")
@click.option("--until", metavar="DATE", help="Keep rows dated on or before DATE.")
@click.option("--id-column", metavar="COL", help="The layer's id column (default: id, site_id, ...).")
@click.option("--date-column", metavar="COL", help="The date column (default: date, datetime, ...).")
@click.option("--date-format", metavar="FORMAT", help="strftime format of the date column.")
@click.option(
    "--status-column",
    metavar="COL",
    help="A disposition/status column to summarise (default: disposition, status, ...).",
)
@click.option("--weight-column", metavar="COL", help="The weight column (default: weight, count).")
@click.option(
    "--fatal-column",
    metavar="COL[=VALUES]",
    help="The fatal flag column, yes/no (default: fatal, ...); COL=Deceased,DOA: those values are fatal.",
)
@click.option("--lat-column", metavar="COL", help="Latitude column of a CSV.")
@click.option("--lon-column", metavar="COL", help="Longitude column of a CSV.")
@click.option("--csv-crs", metavar="CRS", help="CRS of projected x/y or WKT coordinates in a CSV.")
@click.option(
    "--duplicate-minutes",
    type=click.FloatRange(min=0),
    default=None,
    metavar="MIN",
    help=f"Duplicate calls: same place within MIN minutes [default: {settings.duplicate_minutes:g}].",
)
@click.option(
    "--network",
    "-n",
    metavar="PATH",
    help="Also count the points farther than --max-snap from every street of this network.",
)
@click.option(
    "--max-snap",
    "max_snap_m",
    type=click.FloatRange(min=0),
    default=settings.max_snap_m,
    show_default=True,
    help="Metres from the nearest street beyond which a point is left out.",
)
@click.option("--network-where", metavar="SQL", help="Filter of the street line layer (as in score).")
@click.option("--all-road-classes", is_flag=True, help="Keep road classes nobody walks on.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@verbosity_options
def inspect(
    path: str,
    role: str,
    layer_name: str | None,
    buffer_m: float,
    as_json: bool,
    network: str | None,
    max_snap_m: float,
    network_where: str | None,
    all_road_classes: bool,
    **kw: Any,
) -> None:
    """What a layer holds, and what a run would use of it and leave out (and why).

    \b
    Examples:
      siting inspect ems_export.csv --where "DISPOSITION_TEXT <> 'CAN: CANCELLED'" --since 2021-01-01
      siting inspect parcels.gpkg --role candidates --id-column PIN -n streets.gpkg
      siting inspect county_centrelines.shp
      siting inspect school_outlines.geojson --role exclusion --buffer 200
    """
    from ..network_sources import is_line_layer, line_layer_summary

    if role in ("exclusion", "regions"):
        _inspect_polygons(path, role, layer_name, buffer_m, as_json)
        return
    if is_line_layer(path, layer=layer_name):
        summary = line_layer_summary(
            path, layer=layer_name, where=kw.get("where") or network_where, all_road_classes=all_road_classes
        )
        click.echo(json.dumps(summary, indent=2) if as_json else format_lines(summary))
        return
    from ..layers import read_layer

    spec = LayerSpec(
        path=path,
        role=role,
        layer=layer_name,
        crs=kw.pop("csv_crs"),
        where_flag="--where",
        **{k: v for k, v in kw.items() if v is not None},
    )
    gdf = read_layer(spec)
    intake: Intake = gdf.attrs["intake"]
    if network:
        from ..network_load import load_network
        from ..pipeline import snap_layer
        from ..scenario import resolve_network

        net = load_network(resolve_network(network), where=network_where, all_road_classes=all_road_classes)
        snap_layer(spec, gdf, net, max_snap_m)
    if as_json:
        click.echo(json.dumps(intake.to_dict(), indent=2, default=str))
    else:
        click.echo(format_intake(intake))
