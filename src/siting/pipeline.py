"""From a :class:`~siting.scenario.Scenario` to walking distances and a scored :class:`Plan`.

:func:`prepare` does the shared work every command needs (network, layers, snapping,
exclusions, regions, reach); :func:`score_plan` turns it into a Plan. Progress goes to an
optional callback so the CLI can show it; the library itself only logs.
"""

from __future__ import annotations

import logging
import platform
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from .inputs import (
    DEFAULT_SERVICES_LABEL,
    Inputs,
    PointLayer,
    filters,
    joined_on_error,
    network_options,
    read_inputs,
    snap_layer,
    warm_up_snapping,
)
from .layers import regions_of, to_network_crs
from .network import StreetNetwork
from .network_load import file_sha256, load_network
from .pipeline_reach import reach_layers, reach_pairs, reach_totals, wide_cutoff_m, within
from .plan import Plan
from .score import (
    ExtraLayer,
    check_weights,
    score_candidates,
    score_totals,
)

if TYPE_CHECKING:
    import geopandas as gpd
    from scipy import sparse

    from .reach_sums import SumsIndex

    from .scenario import Scenario

log = logging.getLogger(__name__)
Progress = Callable[[str], None]


@contextmanager
def _step(progress: Progress | None, what: str) -> Iterator[None]:
    t0 = time.perf_counter()
    if progress:
        progress(f"{what}...")
    yield
    dt = time.perf_counter() - t0
    log.info("%s took %.2f s", what, dt)
    if progress:
        progress(f"{what}: done in {dt:.1f} s")


@dataclass
class Prepared:
    """The shared inputs of scoring and selection."""

    scenario: Scenario
    network: StreetNetwork
    demand: PointLayer
    candidates: PointLayer
    services: PointLayer | None
    extras: list[PointLayer]
    #: all candidates x kept demand points, walking metres within the cutoff (``None``
    #: when prepared without pairs: :func:`score_plan` then sums inside the walks)
    demand_metres: sparse.csr_matrix | None
    #: the same within ``wide_m`` (>= the cutoff: the effect zone and sensitivity cutoffs)
    demand_metres_wide: sparse.csr_matrix | None
    wide_m: float
    service_metres: sparse.csr_matrix | None
    extra_metres: list[sparse.csr_matrix] | None
    excluded: npt.NDArray[np.bool_]
    excluded_reason: npt.NDArray[np.object_]
    regions: gpd.GeoDataFrame | None
    candidate_region: npt.NDArray[np.object_] | None
    exclusion_zones: gpd.GeoDataFrame | None
    manifest: dict[str, Any] = field(default_factory=dict)
    #: per candidate, the nearest exclusion feature and its margin (see :mod:`siting.margins`)
    exclusion_margins: pd.DataFrame | None = None

    @property
    def candidate_ids(self) -> list[str]:
        return [str(i) for i in self.candidates.gdf["id"]]

    @property
    def demand_weight(self) -> npt.NDArray[np.float64]:
        return self.demand.kept["weight"].to_numpy(dtype=np.float64)


def sha256(path: str | Path) -> str:
    """A file's SHA-256 (the network source's was found while loading the network)."""
    return file_sha256(path)


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in (
        "siting",
        "numpy",
        "pandas",
        "geopandas",
        "shapely",
        "scipy",
        "numba",
        "highspy",
        "osmnx",
        "pyrosm",
        "folium",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def prepare(
    scenario: Scenario,
    *,
    progress: Progress | None = None,
    network: StreetNetwork | None = None,
    wide: bool = False,
    inputs: Inputs | None = None,
    pairs: bool | None = None,
) -> Prepared:
    """Network, layers, snapping, exclusions, regions and walking reach for a scenario.

    With ``wide=True`` the demand reach is computed out to :func:`wide_cutoff_m` (what site
    selection needs for the effect zone and the sensitivity cutoffs) and the score uses the
    part within the cutoff. ``inputs`` are the layers already read by
    :func:`~siting.inputs.read_inputs` (read here when not given).

    ``pairs`` (default: ``wide`` or a Dask cluster) computes the (candidate, point) walks
    here; without them (scoring alone needs only per-candidate sums) the reach matrices
    are ``None`` and :func:`score_plan` sums inside the walks: the same scores, without
    the millions of pairs of a county.
    """
    sc = scenario
    check_weights(sc.weights, {str(s.name): (s.role, s.weight) for s in sc.layers})  # before any work
    if inputs is None:  # a missing network file or a bad filter fails before any layer is read
        with _step(progress, "reading layers"):
            inputs = read_inputs(sc, check_network=network is None)
    if network is None:
        warming = warm_up_snapping()
        with _step(progress, "building the street network"), joined_on_error(warming):
            network = load_network(sc.network, **network_options(sc))
    net = network
    log.info("network: %r", net)
    with _step(progress, "snapping layers to the streets"):
        demand = snap_layer(sc.demand, inputs.demand, net, sc.max_snap_m, sc.workers)
        candidates = snap_layer(sc.candidates, inputs.candidates, net, sc.max_snap_m, sc.workers)
        services = (
            snap_layer(sc.services, inputs.services, net, sc.max_snap_m, sc.workers) if sc.services else None
        )
        extras = [
            snap_layer(s, g, net, sc.max_snap_m, sc.workers) for s, g in zip(sc.layers, inputs.extras, strict=True)
        ]

    n_c = len(candidates.gdf)
    excluded = np.zeros(n_c, dtype=bool)
    reason = np.array([""] * n_c, dtype=object)
    far = candidates.snapped.dropped
    excluded[far] = True
    reason[far] = f"farther than {sc.max_snap_m:.0f} m from any street"

    zones = None
    margins = None
    if sc.exclusions:
        import geopandas as gpd

        from .margins import exclusion_margins

        parts = []
        margin_rules = []
        for ex, raw_zone in zip(sc.exclusions, inputs.exclusions, strict=True):
            z = to_network_crs(raw_zone, net.crs)
            geom = z.geometry.buffer(ex.buffer_m) if ex.buffer_m > 0 else z.geometry
            label = ex.label or (
                f"within {ex.buffer_m:.0f} m of {Path(ex.path).name}"
                if ex.buffer_m
                else f"inside {Path(ex.path).name}"
            )
            names_z = z["name"] if "name" in z.columns else pd.Series([""] * len(z))
            parts.append(
                gpd.GeoDataFrame(
                    {"rule": label, "name": names_z.astype(str).to_numpy(), "buffer_m": float(ex.buffer_m)},
                    geometry=geom.values,
                    crs=net.crs,
                )
            )
            margin_rules.append((z, float(ex.buffer_m), label))
        margins = exclusion_margins(candidates.gdf.geometry.values, margin_rules)
        zones = pd.concat(parts, ignore_index=True)
        zones = gpd.GeoDataFrame(zones, geometry="geometry", crs=net.crs)
        tree = shapely.STRtree(zones.geometry.values)
        ci, zi = tree.query(candidates.gdf.geometry.values, predicate="intersects")
        order = np.lexsort((zi, ci))
        for c, z in zip(ci[order], zi[order], strict=True):
            label = str(zones["rule"].iat[z])
            if label not in reason[c]:
                reason[c] = f"{reason[c]}; {label}" if reason[c] else label
            excluded[c] = True

    regions = None
    cand_region = None
    if inputs.regions is not None:
        regions = to_network_crs(inputs.regions, net.crs)
        cand_region = regions_of(candidates.gdf, regions)

    wide_m = wide_cutoff_m(sc) if wide else sc.cutoff_m
    if pairs is None:
        pairs = wide or bool(sc.dask)
    demand_wide = demand_m = service_m = None
    extra_m = None
    if pairs:
        with _step(
            progress, f"computing walking reach within {wide_m / sc.speed_m_per_min:g} min ({wide_m:.0f} m)"
        ):
            demand_wide, demand_m, service_m, extra_m = reach_pairs(
                net, sc, candidates, demand, services, extras, wide_m
            )

    manifest: dict[str, Any] = {
        "scenario": sc.name,
        "network": {
            "source": sc.network,
            "nodes": net.n_nodes,
            "edges": net.n_edges,
            "crs": net.crs_obj.name,
        },
        "inputs": {},
        "versions": package_versions(),
        "seed": sc.seed,
    }
    if not sc.network.startswith("place:") and Path(sc.network).exists():
        manifest["inputs"]["network"] = {"path": sc.network, "sha256": sha256(sc.network)}
    for layer in [demand, candidates, services, *extras]:
        if layer is None:
            continue
        manifest["inputs"][layer.spec.name or layer.spec.role] = {
            "path": str(layer.spec.path),
            "role": layer.spec.role,
            "sha256": sha256(layer.spec.path),
            "features": len(layer.gdf),
            "left_out_far_from_streets": layer.dropped_ids,
        }
        if layer.intake is not None:
            manifest["inputs"][layer.spec.name or layer.spec.role]["intake"] = layer.intake.to_dict()
    if net.build_report:
        manifest["network"]["lines"] = dict(net.build_report)
    return Prepared(
        scenario=sc,
        network=net,
        demand=demand,
        candidates=candidates,
        services=services,
        extras=extras,
        demand_metres=demand_m,
        demand_metres_wide=demand_wide,
        wide_m=wide_m,
        service_metres=service_m,
        extra_metres=extra_m,
        excluded=excluded,
        excluded_reason=reason,
        regions=regions,
        candidate_region=cand_region,
        exclusion_zones=zones,
        manifest=manifest,
        exclusion_margins=margins,
    )


def parameters(sc: Scenario) -> dict[str, Any]:
    return {
        "cutoff_min": round(sc.cutoff_min, 6),
        "cutoff_m": round(sc.cutoff_m, 6),
        "walking_speed_m_per_min": sc.speed_m_per_min,
        "max_snap_m": sc.max_snap_m,
        "suppression_threshold": sc.suppression_threshold,
        "rounding_base": sc.rounding_base,
        "allow_weaker_privacy": sc.allow_weaker_privacy,
        "include_incident_points": sc.include_incident_points,
        "seed": sc.seed,
        "layers": {s.name: {"role": s.role, "weight": s.weight, "path": str(s.path)} for s in sc.layers},
        "services_label": (sc.services.label if sc.services and sc.services.label else DEFAULT_SERVICES_LABEL),
        "filters": filters(sc),
    }


def _score_pairs(
    prep: Prepared,
    demand_metres: sparse.csr_matrix,
    extras: list[ExtraLayer],
    in_hot: npt.NDArray[np.bool_] | None,
) -> pd.DataFrame:
    sc = prep.scenario
    return score_candidates(
        prep.candidate_ids,
        demand_metres=demand_metres,
        demand_weight=prep.demand_weight,
        cutoff_m=sc.cutoff_m,
        speed_m_per_min=sc.speed_m_per_min,
        service_metres=prep.service_metres,
        extra=extras,
        weights=sc.weights,
        excluded=prep.excluded,
        demand_in_hotspot=in_hot,
    )


def score_plan(prep: Prepared, *, progress: Progress | None = None) -> Plan:
    """Score every candidate and wrap the results in a :class:`Plan`."""
    sc = prep.scenario
    extras = [
        ExtraLayer(
            name=str(layer.spec.name),
            role=layer.spec.role,
            weight=layer.spec.weight,
            metres=m,
            point_weight=layer.kept["weight"].to_numpy(dtype=np.float64),
        )
        for layer, m in zip(prep.extras, prep.extra_metres or [None] * len(prep.extras), strict=True)
    ]
    demand = prep.demand.kept.reset_index(drop=True)
    hotspots = None
    in_hot = None
    index = None
    if prep.demand_metres is None:  # the walks' index is built while the hotspots are found
        from concurrent.futures import ThreadPoolExecutor

        from .reach_sums import SumsIndex  # numba loads here, after the input checks

        pool = ThreadPoolExecutor(1, thread_name_prefix="siting-reach-index")
        index = pool.submit(SumsIndex.build, prep.network, prep.candidates.snapped, reach_layers(prep))
        pool.shutdown(wait=False)
    # too few incidents for a density or Gi* analysis to mean anything
    if len(demand) >= 30 and sc.hotspots:
        from .hotspots import find_hotspots

        with _step(progress, f"finding hotspots ({', '.join(sc.hotspots)})"):
            hotspots = find_hotspots(
                demand, weight="weight", methods=sc.hotspots, threshold=sc.suppression_threshold
            )
            gi = hotspots[hotspots["method"] == "gi_star"] if len(hotspots) else hotspots
            if len(gi):
                in_hot = shapely.contains_xy(
                    shapely.union_all(gi.geometry.values), *shapely.get_coordinates(demand.geometry.values).T
                )
                in_hot = np.asarray(in_hot, dtype=bool)
    if prep.demand_metres is None:  # prepared without pairs: sum inside the walks
        wide_m = sc.cutoff_m
        with _step(
            progress, f"computing walking reach within {wide_m / sc.speed_m_per_min:g} min ({wide_m:.0f} m)"
        ):
            totals = reach_totals(prep, in_hot, index.result() if index is not None else None)
        with _step(progress, "scoring candidates"):
            table = score_totals(
                prep.candidate_ids,
                totals,
                cutoff_m=sc.cutoff_m,
                speed_m_per_min=sc.speed_m_per_min,
                extra=extras,
                weights=sc.weights,
                excluded=prep.excluded,
            )
    else:
        with _step(progress, "scoring candidates"):
            table = _score_pairs(prep, prep.demand_metres, extras, in_hot)
    import geopandas as gpd

    cand = prep.candidates.gdf
    out = gpd.GeoDataFrame(table, geometry=cand.geometry.values, crs=cand.crs)
    out["excluded_reason"] = prep.excluded_reason
    if prep.exclusion_margins is not None:
        for col in prep.exclusion_margins.columns:
            out[col] = prep.exclusion_margins[col].to_numpy()
    if prep.candidate_region is not None:
        out["region"] = prep.candidate_region
    # the user's own columns (name, address, kind, ...) come first
    # the candidates' id is `candidate_id` in every output; their id column is not repeated
    id_col = cand.attrs.get("id_column")
    own = [
        c for c in cand.columns
        if c not in (cand.geometry.name, "id", "weight", id_col) and c not in out.columns
    ]
    for pos, col in enumerate(own, start=1):
        out.insert(pos, col, cand[col].to_numpy())
    out.attrs["candidate_attributes"] = list(own)  # what `sites` carries over (address, name, ...)
    params = parameters(sc)
    params["weights"] = table.attrs.get("weights", {})
    params["timezone"] = prep.demand.gdf.attrs.get("timezone") or None  # the zone of hours of day
    dates = prep.demand.gdf["date"] if "date" in prep.demand.gdf.columns else None
    if dates is not None and dates.notna().any():
        params["incidents_from"] = str(pd.Timestamp(dates.min()).date())
        params["incidents_to"] = str(pd.Timestamp(dates.max()).date())
    return Plan(
        name=sc.name,
        network=prep.network,
        candidates=out,
        demand=demand,
        hotspots=hotspots,
        services=prep.services.kept.reset_index(drop=True) if prep.services else None,
        extra_layers={str(e.spec.name): e.kept.reset_index(drop=True) for e in prep.extras},
        regions=prep.regions,
        exclusions=prep.exclusion_zones,
        parameters=params,
        manifest=prep.manifest,
    )
