"""The results of a run: what maps, the report and file outputs draw from.

A :class:`Plan` holds GeoDataFrames in the network's projected CRS (outputs reproject to
WGS84 themselves) plus a manifest. Nothing here computes; it only carries results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from .network import StreetNetwork


@dataclass
class Plan:
    """Everything one run produced.

    Attributes
    ----------
    name
        The scenario's name (shown on the map and report title).
    network
        The walking network the run used (drawn as a faint basemap; isochrones).
    candidates
        One row per candidate: ``candidate_id`` (text, the user's own id), the score
        components (``covered_incidents``, ``covered_demand_weight``,
        ``access_demand_weight``, ``mean_walk_min``, ``services_within``,
        ``nearest_service_min``, one ``layer_<name>`` per extra
        layer, ``score``, ``rank``), ``excluded`` (bool) and ``excluded_reason`` (text),
        ``region`` where regions were given, and geometry (points).
    demand
        The incidents as read (private: never drawn or written raw unless the user opts
        in); columns ``weight``, optional ``date`` and ``fatal``; point geometry.
    services
        Homeless services (points), with ``name`` where known; may be ``None``.
    extra_layers
        Extra point layers by name (role and weight in ``parameters['layers']``).
    sites
        Chosen sites (a subset of candidates) with the reason each was chosen; may be ``None``.
    isochrones
        Walking isochrone polygons of the chosen sites: ``candidate_id``, ``minutes``.
    hotspots
        Hotspot polygons (``method`` column says which analysis made them).
    regions, exclusions
        Polygon layers the planner gave.
    coverage_curve
        ``n_sites``, ``covered_incidents``, ``covered_incident_share``,
        ``covered_demand_weight``, ``covered_demand_share`` (best coverage for 1..K sites).
    impact
        The impact table (one row per measure, with low/high where it is a range).
    site_impact, site_hours, deaths_bands
        Per chosen site: attendance, deaths averted, opening hours and booths; each site's
        hour-of-day profile of reachable incidents (exact counts: internal); deaths averted
        by distance band with sources (:mod:`siting.site_impact`).
    parameters
        Settings used (cutoff minutes and metres, walking speed, weights, seed, ...).
    manifest
        Inputs with SHA-256, package versions, seed, time of the run.
    not_chosen, findings
        Why higher-ranked candidates were not chosen, and the findings a planner must see
        (see :mod:`siting.choice`); filled when sites were chosen.
    basemap
        Streets with names, water, parks and landmarks for the map (see
        :mod:`siting.basemap`); read from the network's source when left ``None``.
    """

    name: str
    network: StreetNetwork
    candidates: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    services: gpd.GeoDataFrame | None = None
    extra_layers: dict[str, gpd.GeoDataFrame] = field(default_factory=dict)
    sites: gpd.GeoDataFrame | None = None
    isochrones: gpd.GeoDataFrame | None = None
    hotspots: gpd.GeoDataFrame | None = None
    regions: gpd.GeoDataFrame | None = None
    exclusions: gpd.GeoDataFrame | None = None
    coverage_curve: pd.DataFrame | None = None
    impact: pd.DataFrame | None = None
    site_impact: pd.DataFrame | None = None
    site_hours: pd.DataFrame | None = None
    deaths_bands: pd.DataFrame | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    manifest: dict[str, Any] = field(default_factory=dict)
    not_chosen: pd.DataFrame | None = None
    findings: pd.DataFrame | None = None
    basemap: gpd.GeoDataFrame | None = None
