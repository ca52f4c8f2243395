"""pipeline_reach.within: a reach matrix cut at a shorter cutoff."""

from __future__ import annotations

import numpy as np
from scipy import sparse


def test_within_keeps_the_entries_at_or_under_the_cutoff() -> None:
    """pipeline.within against a row-by-row filter: empty rows, stored zeros, rows emptied
    by the cutoff, the last row, int64 and int32 index arrays."""
    from siting.pipeline_reach import within

    rng = np.random.default_rng(3)
    for n_c, n_d in ((1, 1), (7, 5), (30, 50)):
        lens = rng.integers(0, min(n_d, 6) + 1, size=n_c)
        lens[0] = 0
        indptr = np.concatenate([[0], np.cumsum(lens)])
        idx = np.concatenate([np.sort(rng.choice(n_d, size=k, replace=False)) for k in lens]).astype(np.int32)
        data = rng.choice([0.0, 100.0, 299.9, 300.0, 300.1, 900.0], size=int(indptr[-1]))
        m = sparse.csr_matrix((data, idx, indptr), shape=(n_c, n_d))
        for cut in (0.0, 300.0, 1e9):
            got = within(m, cut)
            assert got.shape == m.shape
            exp_ptr = [0]
            for r in range(n_c):
                sl = slice(indptr[r], indptr[r + 1])
                k = data[sl] <= cut
                exp_ptr.append(exp_ptr[-1] + int(k.sum()))
                assert got.indices[got.indptr[r] : got.indptr[r + 1]].tolist() == idx[sl][k].tolist()
                assert got.data[got.indptr[r] : got.indptr[r + 1]].tolist() == data[sl][k].tolist()
            assert got.indptr.tolist() == exp_ptr
            assert got.nnz == exp_ptr[-1]
