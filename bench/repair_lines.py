"""Time `repair_lines` and `StreetNetwork.from_lines` on a synthetic, deliberately dirty grid.

A square grid of streets (100 m blocks) drawn the way county centreline layers often are:
half the east-west streets as one line per block with ends jittered up to ``--jitter``
metres (to be merged), the other half and the north-south streets as long lines spanning
five blocks (crossings to split, T-junctions to join), cul-de-sac stubs ending 0.5 m short
of a street (T-junctions within tolerance), and 2% duplicated lines. The clean network it
stands for has a known number of nodes and edges, printed first.

    .venv/bin/python bench/repair_lines.py --size 300                    # ~104k lines
    .venv/bin/python bench/repair_lines.py --size 300 --vertex-every 10  # same, ~2.1M vertices

prints the number of lines, the node and edge counts the repair must reach, the repair
report, the network built, and wall and CPU times.
"""

from __future__ import annotations

import argparse
import time

import geopandas as gpd
import numpy as np
import shapely

from siting._lines import repair_lines
from siting.network import StreetNetwork


def _segments(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return shapely.linestrings(np.stack([a, b], axis=1))


def dirty_grid(size: int, *, jitter: float, seed: int) -> tuple[gpd.GeoDataFrame, int, int]:
    """The dirty layer, and the node and edge counts of the clean network it stands for."""
    rng = np.random.default_rng(seed)
    block = 100.0

    def jit(xy: np.ndarray) -> np.ndarray:
        return xy + rng.uniform(-jitter, jitter, xy.shape)

    # east-west, even rows: one line per block, ends jittered (to be merged)
    r, c = np.meshgrid(np.arange(0, size, 2), np.arange(size - 1), indexing="ij")
    x0, y0 = c.ravel() * block, r.ravel() * block
    ew_blocks = _segments(jit(np.column_stack([x0, y0])), jit(np.column_stack([x0 + block, y0])))
    # east-west, odd rows, and north-south: long lines of up to five blocks, jittered ends;
    # they cross each other mid-line (crossings to split) and pass through the block ends
    # of the even rows (T-junctions)
    long_lines = []
    for horizontal in (True, False):
        lanes = np.arange(1, size, 2) if horizontal else np.arange(size)
        k, s = np.meshgrid(lanes, np.arange(0, size - 1, 5), indexing="ij")
        fixed, s0 = k.ravel() * block, s.ravel() * block
        s1 = np.minimum(s0 + 5 * block, (size - 1) * block)
        a, b = (np.column_stack([s0, fixed]), np.column_stack([s1, fixed])) if horizontal else (
            np.column_stack([fixed, s0]), np.column_stack([fixed, s1]))
        long_lines.append(_segments(jit(a), jit(b)))
    # cul-de-sacs from the middle of blocks of every east-west street, ending 0.5 m short
    rows, cols = np.meshgrid(np.arange(size), np.arange(size - 1), indexing="ij")
    pick = rng.choice(rows.size, size=rows.size // 3, replace=False)
    mx, my = cols.ravel()[pick] * block + block / 2, rows.ravel()[pick] * block
    stubs = _segments(np.column_stack([mx, my + 0.5]), np.column_stack([mx, my + 40.0]))
    geoms = np.concatenate([ew_blocks, *long_lines, stubs])
    dups = geoms[rng.choice(geoms.size, size=geoms.size // 50, replace=False)]
    geoms = np.concatenate([geoms, dups])
    nodes = size * size + 2 * pick.size
    edges = 2 * size * (size - 1) + 2 * pick.size
    return gpd.GeoDataFrame(geometry=geoms, crs=32610), nodes, edges


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=250, help="intersections per side")
    ap.add_argument("--jitter", type=float, default=0.3, help="end jitter, metres")
    ap.add_argument("--tolerance", type=float, default=1.0, help="`tolerance_m`")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--vertex-every", type=float, default=0.0,
                    help="add vertices every this many metres (county lines follow curves)")
    args = ap.parse_args()

    lines, nodes, edges = dirty_grid(args.size, jitter=args.jitter, seed=args.seed)
    if args.vertex_every > 0:
        lines = lines.set_geometry(shapely.segmentize(lines.geometry.values, args.vertex_every))
    n_vertices = int(shapely.get_num_coordinates(lines.geometry.values).sum())
    print(f"{len(lines):,} lines, {n_vertices:,} vertices")
    print(f"clean network: {nodes:,} nodes, {edges:,} edges (when crossings are split)")
    for split in (True, False):
        t0, c0 = time.perf_counter(), time.process_time()
        out, report = repair_lines(lines, tolerance_m=args.tolerance, split_crossings=split)
        t1, c1 = time.perf_counter(), time.process_time()
        net = StreetNetwork.from_lines(out)
        t2, c2 = time.perf_counter(), time.process_time()
        print(f"split_crossings={split}: {len(lines):,} lines in")
        print("  report:", ", ".join(f"{k}={v:,}" for k, v in report.items()))
        print(f"  network: {net}")
        print(f"  repair_lines {t1 - t0:.2f} s wall ({c1 - c0:.2f} s CPU), "
              f"from_lines {t2 - t1:.2f} s wall ({c2 - c1:.2f} s CPU)")


if __name__ == "__main__":
    main()
