"""The bucket search (siting._dijkstra._search) gives the same floats as networkx's
Dijkstra whatever the width of its buckets: ties, arcs of length 0, arcs far shorter than
a bucket (a node's walk shrinks after it was taken), a cutoff equal to a walk, a node
seeded twice, seeds beyond the cutoff."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from siting._dijkstra import N_BUCKETS, _search, _workspace

#: lengths that make ties, zero-length arcs and sums that round
LENGTHS = st.one_of(
    st.sampled_from([0.0, 0.0, 1.0, 2.0, 3.0, 0.1, 0.2, 0.3, 1e-9, 7.5]),
    st.floats(0.0, 50.0, allow_nan=False),
)


def _csr(n: int, arcs: list[tuple[int, int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    arcs = sorted(arcs, key=lambda a: a[0])
    indptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount([a[0] for a in arcs], minlength=n), out=indptr[1:])
    indices = np.array([a[1] for a in arcs], np.int64)
    arc_w = np.array([a[2] for a in arcs], np.float64)
    return indptr, indices, arc_w


def _networkx(n: int, arcs: list, seeds: list, cutoff: float) -> dict[int, float]:
    """Distances by networkx: a super-source joined to each seed by the seed's walk."""
    g = nx.MultiDiGraph()
    g.add_nodes_from(range(n))
    for u, v, w in arcs:
        g.add_edge(u, v, length=w)
    for node, d in seeds:
        g.add_edge("s", node, length=d)
    got = nx.single_source_dijkstra_path_length(g, "s", cutoff=cutoff, weight="length")
    return {v: d for v, d in got.items() if v != "s"}


def _run(n: int, arcs: list, seeds: list, cutoff: float, n_buckets: int) -> np.ndarray:
    indptr, indices, arc_w = _csr(n, arcs)
    dist = np.full(n, np.inf)
    touched = np.empty(n, np.int64)
    nxt, prv, _ = _workspace(n)
    head = np.empty(n_buckets + 2, np.int64)
    seed_node = np.array([s[0] for s in seeds], np.int64)
    seed_dist = np.array([s[1] for s in seeds], np.float64)
    nt = _search(indptr, indices, arc_w, seed_node, seed_dist, cutoff, dist, touched, nxt, prv, head)
    assert sorted(touched[:nt].tolist()) == np.flatnonzero(np.isfinite(dist)).tolist()
    return dist


@st.composite
def graphs(draw):  # type: ignore[no-untyped-def]
    n = draw(st.integers(1, 25))
    node = st.integers(0, n - 1)
    arcs = draw(st.lists(st.tuples(node, node, LENGTHS), max_size=80))
    if draw(st.booleans()):  # streets: both directions, the same length
        arcs += [(v, u, w) for u, v, w in arcs]
    seeds = draw(st.lists(st.tuples(node, st.floats(0.0, 60.0)), min_size=1, max_size=4))
    return n, arcs, seeds


@settings(max_examples=300, deadline=None)
@given(graphs(), st.sampled_from([1, 2, 3, 16, N_BUCKETS, 10_000]), st.floats(0.0, 120.0), st.booleans())
def test_search_equals_networkx_for_any_bucket_width(g, n_buckets, cutoff, on_a_walk) -> None:  # type: ignore[no-untyped-def]
    n, arcs, seeds = g
    if on_a_walk:  # the cutoff exactly on some node's walk: that node is in, to the bit
        free = _networkx(n, arcs, seeds, 1e9)
        cutoff = sorted(free.values())[len(free) // 2]
    ref = _networkx(n, arcs, seeds, cutoff)
    dist = _run(n, arcs, seeds, cutoff, n_buckets)
    got = {v: float(dist[v]) for v in np.flatnonzero(np.isfinite(dist))}
    assert got == ref  # the same floats, not merely close


def test_a_walk_that_shrinks_after_its_node_was_taken() -> None:
    # 0 -> 1 long (9.9), 0 -> 2 -> 4 -> 1 short (1.5); with one bucket for the whole
    # cutoff, 1 (put in last, taken first) is taken at 9.9 before 4 lowers it: it must be
    # taken again, and so must 3 and 5 behind it.
    arcs = [(0, 2, 1.0), (0, 1, 9.9), (2, 4, 0.25), (4, 1, 0.25), (1, 3, 0.0), (3, 5, 0.1)]
    for n_buckets in (1, 2, 4, N_BUCKETS):
        dist = _run(6, arcs, [(0, 0.0)], 10.0, n_buckets)
        assert dist.tolist() == [0.0, 1.5, 1.0, 1.5, 1.25, 1.6], n_buckets


def test_cutoff_zero_and_seeds_beyond_it() -> None:
    arcs = [(0, 1, 0.0), (1, 2, 0.0), (2, 3, 1e-300)]
    dist = _run(4, arcs, [(0, 0.0), (3, 5.0)], 0.0, N_BUCKETS)
    assert dist.tolist() == [0.0, 0.0, 0.0, np.inf]
    # a cutoff so small that cutoff / buckets underflows
    dist = _run(4, arcs, [(0, 0.0)], 5e-324, N_BUCKETS)
    assert dist.tolist() == [0.0, 0.0, 0.0, np.inf]


def test_radix_sort_of_rows_any_key_width() -> None:
    from siting._dijkstra import SORT_COUNTS, _sort_pairs

    rng = np.random.default_rng(3)
    for bits in (0, 1, 5, 9, 11, 12, 18, 22, 23, 33, 45, 62):
        for n in (0, 1, 63, 64, 65, 700, 5000):
            # distinct keys (as the kernels' rows have), in random order
            k = rng.permutation(np.unique(rng.integers(0, 2**bits, n, dtype=np.int64)))
            v = rng.uniform(0, 1, k.size)
            want = np.argsort(k, kind="stable")
            kk, vv = k.copy(), v.copy()
            _sort_pairs(kk, vv, k.size, np.empty_like(k), np.empty_like(v), np.empty(SORT_COUNTS, np.int64))
            assert kk.tolist() == k[want].tolist(), (bits, n)
            assert vv.tolist() == v[want].tolist(), (bits, n)
