"""The compiled grouping of demand rows and the dominance test against brute force."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from siting.locate import MaximalCovering, PMedian
from siting.locate._common import merge_rows


def _random_pairs(seed: int, n_d: int = 400, n_c: int = 12) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    # few distinct patterns, so that many rows merge; distances from a small set so that
    # equal patterns with equal distances occur too
    patterns = [rng.choice(n_c, size=rng.integers(1, 5), replace=False) for _ in range(15)]
    rows, cands, dists = [], [], []
    for d in range(n_d):
        if rng.random() < 0.1:
            continue  # unreached demand
        pat = patterns[rng.integers(len(patterns))]
        for c in rng.permutation(pat):
            rows.append(d)
            cands.append(c)
            dists.append(float(rng.choice([1.0, 2.5, 4.0])))
    order = rng.permutation(len(rows))
    w = rng.integers(0, 4, n_d).astype(float)
    return (np.array(rows)[order], np.array(cands)[order], np.array(dists)[order], w)


def _brute(d_row, d_cand, d_dist, w, by_distance):  # type: ignore[no-untyped-def]
    entries: dict[int, list[tuple[int, float]]] = {}
    for r, c, x in zip(d_row.tolist(), d_cand.tolist(), d_dist.tolist(), strict=True):
        entries.setdefault(r, []).append((c, x))
    groups: dict[tuple, list[int]] = {}
    for r in sorted(entries):
        e = sorted(entries[r], key=(lambda t: (t[1], t[0])) if by_distance else (lambda t: (t[0], t[1])))
        key = tuple(e) if by_distance else tuple(c for c, _ in e)
        groups.setdefault(key, []).append(r)
    out = []
    for members in groups.values():  # dicts keep first-appearance order
        rep = members[0]
        e = sorted(entries[rep], key=(lambda t: (t[1], t[0])) if by_distance else (lambda t: (t[0], t[1])))
        out.append(([c for c, _ in e], [x for _, x in e], float(w[members].sum())))
    unreached = float(w[[r for r in range(len(w)) if r not in entries]].sum())
    return out, unreached


@pytest.mark.parametrize("by_distance", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_merge_rows_matches_brute_force(seed: int, by_distance: bool) -> None:
    d_row, d_cand, d_dist, w = _random_pairs(seed)
    rows, unreached = merge_rows(d_row, d_cand, d_dist, w, by_distance=by_distance)
    expect, expect_unreached = _brute(d_row, d_cand, d_dist, w, by_distance)
    assert unreached == expect_unreached
    assert rows.n == len(expect)
    for r, (cands, dists, weight) in enumerate(expect):
        a, b = rows.ptr[r], rows.ptr[r + 1]
        assert rows.cand[a:b].tolist() == cands
        assert rows.dist[a:b].tolist() == dists
        assert rows.weight[r] == weight



@pytest.mark.parametrize("repeat", [False, True])
@pytest.mark.parametrize("by_distance", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_merge_rows_of_entries_given_in_candidate_order(seed: int, by_distance: bool, repeat: bool) -> None:
    """Entries already in (candidate or distance, demand) order, as a canonical candidates x
    demand matrix gives them (merged without the sort within rows), and the same with a
    repeated (demand, candidate) pair whose copies come in falling distance (sorted anyway)."""
    d_row, d_cand, d_dist, w = _random_pairs(seed)
    if repeat:
        d_row, d_cand = np.append(d_row, d_row[0]), np.append(d_cand, d_cand[0])
        d_dist = np.append(d_dist, d_dist[0] + 1.0)
    k1 = d_dist if by_distance else d_cand
    order = np.lexsort((-d_dist, d_row, k1))  # k1, then demand, then falling distance
    d_row, d_cand, d_dist = d_row[order], d_cand[order], d_dist[order]
    rows, unreached = merge_rows(d_row, d_cand, d_dist, w, by_distance=by_distance)
    expect, expect_unreached = _brute(d_row, d_cand, d_dist, w, by_distance)
    assert unreached == expect_unreached
    assert rows.n == len(expect)
    for r, (cands, dists, weight) in enumerate(expect):
        a, b = rows.ptr[r], rows.ptr[r + 1]
        assert rows.cand[a:b].tolist() == cands
        assert rows.dist[a:b].tolist() == dists
        assert rows.weight[r] == weight

def test_dominated_matches_brute_force() -> None:
    rng = np.random.default_rng(5)
    n_c, n_d = 30, 120
    cover = rng.random((n_c, n_d)) < 0.15
    cover[3] = cover[7]  # identical candidates: the higher index is dominated
    cover[4] = cover[5] & (rng.random(n_d) < 0.5)  # a subset
    cover[9] = False  # covers nothing
    costs = sparse.csr_matrix(np.where(cover, 1.0, 0.0))
    costs.data[:] = 1.0
    costs = sparse.csr_matrix((np.ones(cover.sum()), np.nonzero(cover)), shape=cover.shape)
    model = MaximalCovering(costs, p=2)
    got = model.dominated()
    sets = [set(np.flatnonzero(cover[j])) for j in range(n_c)]
    expect = np.array(
        [
            not sets[j]
            or any(
                k != j and sets[j] <= sets[k] and (len(sets[k]) > len(sets[j]) or k < j) for k in range(n_c)
            )
            for j in range(n_c)
        ]
    )
    np.testing.assert_array_equal(got, expect)
    assert got[7] and not got[3] and got[4] and got[9]


def test_models_unchanged_on_a_merged_instance() -> None:
    # the same optimum through the compiled grouping as by enumerating every pair of sites
    rng = np.random.default_rng(9)
    n_c, n_d = 8, 300
    dense = np.where(rng.random((n_c, n_d)) < 0.3, rng.choice([2.0, 5.0, 8.0], (n_c, n_d)), np.inf)
    w = rng.integers(1, 5, n_d).astype(float)
    cov = MaximalCovering(dense, weights=w, p=2, cutoff=10).solve()
    med = PMedian(dense, weights=w, p=2, cutoff=10, penalty=20.0).solve()
    best_cov = max(
        (w[np.isfinite(dense[[i, j]]).any(axis=0)].sum(), (i, j))
        for i in range(n_c)
        for j in range(i + 1, n_c)
    )[0]
    assert cov.objective == best_cov
    assert med.status == "optimal" and med.objective > 0
