"""Walking reach from candidates to the released demand units, and coverage of any set.

Every shareable figure about a place (a candidate, a set of chosen sites, an effect zone)
is a sum of released unit masses over the units within some walking time of it. The
units are public points on the streets, so a reader with the network can redo every sum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from collections.abc import Sequence

    from scipy import sparse

    import geopandas as gpd

    from ..network import StreetNetwork
    from .area import StudyArea

F64 = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class UnitCoverage:
    """Walking minutes from every candidate to every unit within ``max_minutes``.

    Attributes
    ----------
    ids
        Candidate ids, in row order (all candidates, those far from streets with no row data).
    minutes
        Sparse candidates x units walking minutes (explicit zeros are real zeros).
    max_minutes
        The longest walk kept.
    speed_m_per_min
        Walking speed used to turn metres into minutes.
    """

    ids: list[str]
    minutes: sparse.csr_matrix
    max_minutes: float
    speed_m_per_min: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "_pos", {c: i for i, c in enumerate(self.ids)})

    def rows(self, ids: Sequence[str]) -> list[int]:
        pos: dict[str, int] = self.__dict__["_pos"]
        return [pos[str(c)] for c in ids if str(c) in pos]

    def within(self, cutoff_min: float) -> sparse.csr_matrix:
        """The pairs within ``cutoff_min`` as a 0/1 matrix."""
        from scipy import sparse  # imported when used: the CLI checks its outputs before any work

        m = self.minutes
        keep = m.data <= cutoff_min + 1e-9
        rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[keep]
        return sparse.csr_matrix((np.ones(int(keep.sum())), (rows, m.indices[keep])), shape=m.shape)

    def per_candidate(self, mass: F64, cutoff_min: float) -> F64:
        """Sum of ``mass`` over the units within ``cutoff_min`` of each candidate."""
        return np.asarray(self.within(cutoff_min) @ mass).ravel()

    def mean_minutes(self, mass: F64, cutoff_min: float) -> F64:
        """Mass-weighted mean walk of the units each candidate covers (NaN: none)."""
        from scipy import sparse  # imported when used: the CLI checks its outputs before any work

        m = self.minutes
        keep = (m.data <= cutoff_min + 1e-9).astype(np.float64)
        timed = sparse.csr_matrix((m.data * keep, m.indices, m.indptr), shape=m.shape)
        w = self.per_candidate(mass, cutoff_min)
        s = np.asarray(timed @ mass).ravel()
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(w > 0, s / np.where(w > 0, w, 1.0), np.nan)

    def nearest(self, ids: Sequence[str], cutoff_min: float) -> tuple[F64, npt.NDArray[np.int64]]:
        """Per unit, minutes to the nearest of ``ids`` within the cutoff and which (position in ids).

        ``inf`` and ``-1`` where none is within reach; ties go to the first in ``ids``.
        """
        n = self.minutes.shape[1]
        best = np.full(n, np.inf)
        who = np.full(n, -1, dtype=np.int64)
        pos: dict[str, int] = self.__dict__["_pos"]
        for k, c in enumerate(ids):
            i = pos.get(str(c))
            if i is None:
                continue
            a, b = self.minutes.indptr[i], self.minutes.indptr[i + 1]
            cols, mins = self.minutes.indices[a:b], self.minutes.data[a:b]
            ok = mins <= cutoff_min + 1e-9
            cols, mins = cols[ok], mins[ok]
            better = mins < best[cols]
            best[cols[better]] = mins[better]
            who[cols[better]] = k
        return best, who

    def covered(self, ids: Sequence[str], cutoff_min: float) -> npt.NDArray[np.bool_]:
        """Units within ``cutoff_min`` of any of ``ids``."""
        best, _ = self.nearest(ids, cutoff_min)
        return np.isfinite(best)


def unit_coverage(
    net: StreetNetwork,
    candidates: gpd.GeoDataFrame,
    area: StudyArea,
    *,
    ids: Sequence[str],
    max_minutes: float,
    speed_m_per_min: float,
    max_snap_m: float,
    workers: int = 1,
) -> UnitCoverage:
    """Walking minutes from the candidates to the study area's units (public computation)."""
    from ..reach import walking_reach

    n = len(candidates)
    src = net.snap(candidates.geometry.values, max_snap_m=max_snap_m)
    cutoff_m = max_minutes * speed_m_per_min
    reach = walking_reach(net, src, area.snapped_units(), cutoff_m=cutoff_m, workers=workers)
    r = reach.to_csr()
    counts = np.zeros(n, dtype=np.int64)
    counts[src.index] = np.diff(r.indptr)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    from scipy import sparse

    minutes = sparse.csr_matrix(
        (np.asarray(r.data, np.float64) / speed_m_per_min, r.indices, indptr), shape=(n, area.n_units)
    )
    return UnitCoverage(
        ids=[str(i) for i in ids], minutes=minutes, max_minutes=max_minutes, speed_m_per_min=speed_m_per_min
    )
