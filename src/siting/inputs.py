"""Every layer of a scenario: read and checked first, then projected and snapped to the network.

:func:`read_inputs` reads and validates every layer (points, exclusions, regions) before
the slow network is built, so a missing, empty or broken layer, a bad filter or a bad
column stops a run at once. :func:`snap_layer` then puts a layer on the network and adds
the points far from every street to the layer's :class:`~siting.layers.Intake`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from ._errors import InputError
from .layers import Intake, LayerSpec, Step, describe_rows, read_layer, read_polygons, to_network_crs, who_of

if TYPE_CHECKING:
    import geopandas as gpd

    from .network import Snapped, StreetNetwork
    from .scenario import Scenario

log = logging.getLogger("siting.pipeline")


@dataclass
class PointLayer:
    """A read, projected and snapped point layer."""

    spec: LayerSpec
    gdf: gpd.GeoDataFrame  # every feature, in the network CRS
    snapped: Snapped

    @property
    def kept(self) -> gpd.GeoDataFrame:
        return self.gdf.iloc[self.snapped.index]

    @property
    def dropped_ids(self) -> list[str]:
        """The points left out far from every street, by the layer's own ids (else ``row 7``)."""
        return who_of(self.gdf, self.snapped.dropped)

    @property
    def intake(self) -> Intake | None:
        """What was read, filtered and left out (see :class:`siting.layers.Intake`)."""
        return self.gdf.attrs.get("intake")


def _check_swapped(
    layer: gpd.GeoDataFrame, raw: gpd.GeoDataFrame, net: StreetNetwork, spec: LayerSpec
) -> None:
    """Most points far outside the network but inside it with lat/lon swapped: say so."""
    if raw.crs is None or not raw.crs.is_geographic or len(layer) == 0:
        return
    x0, y0, x1, y1 = net.bounds()
    pad = 5000.0
    xy = shapely.get_coordinates(layer.geometry.values)
    inside = (xy[:, 0] >= x0 - pad) & (xy[:, 0] <= x1 + pad) & (xy[:, 1] >= y0 - pad) & (xy[:, 1] <= y1 + pad)
    if inside.mean() >= 0.5:
        return
    ll = shapely.get_coordinates(raw.geometry.values)
    if (np.abs(ll[:, 0]) > 90).any():
        return
    import geopandas as gpd

    swapped = gpd.GeoSeries(shapely.points(ll[:, 1], ll[:, 0]), crs=raw.crs).to_crs(net.crs)
    sxy = shapely.get_coordinates(swapped.values)
    s_inside = (
        (sxy[:, 0] >= x0 - pad) & (sxy[:, 0] <= x1 + pad) & (sxy[:, 1] >= y0 - pad) & (sxy[:, 1] <= y1 + pad)
    )
    if s_inside.mean() >= 0.5:
        cols = raw.attrs.get("coordinate_columns")
        where = f"columns {cols[0]!r}/{cols[1]!r}" if cols else "the geometry"
        msg = (
            f"{spec.path}: latitude and longitude look swapped in {where} "
            f"({inside.sum()} of {len(layer)} points lie near the street network, {s_inside.sum()} would if swapped); "
            "swap them or pass --lat-column/--lon-column"
        )
        raise InputError(msg)


def snap_layer(
    spec: LayerSpec, raw: gpd.GeoDataFrame, net: StreetNetwork, max_snap_m: float, workers: int | None = None
) -> PointLayer:
    """Project a layer read by :func:`read_layer` to the network and snap it (far points reported)."""
    gdf = to_network_crs(raw, net.crs)
    _check_swapped(gdf, raw, net, spec)
    snapped = net.snap(gdf, max_snap_m=max_snap_m, workers=workers)
    layer = PointLayer(spec=spec, gdf=gdf, snapped=snapped)
    if snapped.dropped.size:
        far = snapped.dropped
        intake = layer.intake
        if intake is not None:
            intake.add(
                Step(
                    "far_from_streets",
                    int(far.size),
                    f"farther than {max_snap_m:.0f} m from any street"
                    + ("; excluded, kept in the table" if spec.role == "candidates" else ""),
                    who_of(gdf, far),
                    excluded_only=spec.role == "candidates",
                )
            )
        log.warning(
            "%s: %s of %s %s points are farther than %.0f m from any street and were %s (%s)",
            spec.path,
            f"{far.size:,}",
            f"{len(gdf):,}",
            spec.role,
            max_snap_m,
            "excluded" if spec.role == "candidates" else "left out",
            describe_rows(gdf, far),
        )
    if len(snapped) == 0:
        msg = (
            f"{spec.path}: none of the {len(gdf):,} points is within {max_snap_m:.0f} m of a street of the "
            "network; check the layer covers the same area (and CRS) as the network"
        )
        raise InputError(msg)
    return layer


def warm_up_snapping() -> threading.Thread:
    """Numba set up and the snapping kernels loaded in a thread while the network loads.

    Setting numba up is Python work (about 0.7 s of CPU, once per process) and loading a
    cached network is mostly reading and sorting arrays, which let other threads run: on
    two cores most of the set-up is hidden. Started only once every layer has been read
    and checked, so a bad layer still fails before numba is imported.
    """

    def run() -> None:
        try:
            from . import _snap

            _snap.warm_up()
        except Exception:  # the snapping step meets (and reports) any real problem itself
            log.debug("warming up the snapping kernels failed", exc_info=True)

    thread = threading.Thread(target=run, name="siting-warm-up", daemon=True)
    thread.start()
    return thread


@contextmanager
def joined_on_error(thread: threading.Thread) -> Iterator[None]:
    """Wait for ``thread`` if the block fails: the process may exit next, and a thread
    still importing numba then could write to a closing stderr."""
    try:
        yield
    except BaseException:
        thread.join()
        raise


@dataclass
class Inputs:
    """Every layer of a scenario, read and validated (before the network is built)."""

    demand: gpd.GeoDataFrame
    candidates: gpd.GeoDataFrame
    services: gpd.GeoDataFrame | None
    extras: list[gpd.GeoDataFrame]
    exclusions: list[gpd.GeoDataFrame]
    regions: gpd.GeoDataFrame | None


def network_options(sc: Scenario) -> dict[str, Any]:
    """How a scenario's network is loaded: :func:`~siting.network_load.load_network`'s options."""
    return {
        "split_crossings": sc.split_crossings,
        "snap_tolerance_m": sc.snap_tolerance_m,
        "layer": sc.network_layer,
        "where": sc.network_where,
        "all_road_classes": sc.all_road_classes,
    }


def read_inputs(sc: Scenario, *, check_network: bool = True, prefetch_network: bool = False) -> Inputs:
    """Read and check every layer of a scenario: what can fail without the network fails here.

    Called before the (slow) network is built, so a missing, empty or broken layer, a bad
    filter or a bad column stops the run in a moment. With ``check_network`` the network
    source is checked first (exists, known format, valid ``--network-where``), and with
    ``prefetch_network`` too its cached copy is read in a thread meanwhile (see
    :func:`~siting.network_load.prefetch_network`). Imports nothing of the routing code,
    so the CLI can call it before loading that.
    """
    if check_network:
        from .network_sources import check_network_source

        check_network_source(sc.network, layer=sc.network_layer, where=sc.network_where)
        if prefetch_network:  # a cached network is read in a thread while the layers are
            from .network_load import prefetch_network as prefetch

            prefetch(sc.network, **network_options(sc))
    names = [str(s.name) for s in sc.layers]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        msg = f"extra layer name(s) {', '.join(map(repr, dup))} used twice; give each layer its own NAME"
        raise InputError(msg)
    demand = read_layer(sc.demand)
    candidates = read_layer(sc.candidates)
    services = read_layer(sc.services) if sc.services else None
    extras = [read_layer(s) for s in sc.layers]
    exclusions = [
        read_polygons(ex.path, layer=ex.layer, buffer_m=ex.buffer_m, purpose="exclusion")
        if not ex.path.lower().endswith(".csv")
        else read_layer(LayerSpec(path=ex.path, role="attract"))
        for ex in sc.exclusions
    ]
    regions = read_polygons(sc.regions, name_column=sc.regions_name_column) if sc.regions else None
    return Inputs(demand, candidates, services, extras, exclusions, regions)


#: What the services layer is called when no label is given.
DEFAULT_SERVICES_LABEL = "Homeless services"


def filters(sc: Scenario) -> dict[str, dict[str, str]]:
    """Every filter of the run by layer: ``where``, ``since``, ``until``, network ``where``."""
    out: dict[str, dict[str, str]] = {}
    for spec in [sc.demand, sc.candidates, sc.services, *sc.layers]:
        if spec is None:
            continue
        given = {k: str(getattr(spec, k)) for k in ("where", "since", "until") if getattr(spec, k)}
        if given:
            out[str(spec.name)] = given
    if sc.network_where:
        out["network"] = {"where": sc.network_where}
    return out
