"""The walking reach a run needs, for :mod:`siting.pipeline`.

Site selection (and a Dask run) needs the walking metres of every (candidate, point) pair
within reach, as sparse candidates x points matrices (:func:`reach_pairs`); a plain score
needs only per-candidate sums, taken inside the searches without keeping the pairs
(:func:`reach_totals`). Both walk from each candidate once for every layer.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from . import settings
from ._errors import InputError
from .score import CandidateTotals, check_demand_weight

if TYPE_CHECKING:
    from scipy import sparse

    from .inputs import PointLayer
    from .network import Snapped, StreetNetwork
    from .pipeline import Prepared
    from .reach_sums import SumsIndex
    from .scenario import Scenario

log = logging.getLogger("siting.pipeline")


def _expand_rows(mat: sparse.csr_matrix, kept: npt.NDArray[np.int64], n_rows: int) -> sparse.csr_matrix:
    """Rows of ``mat`` placed at ``kept`` positions of an ``n_rows``-row matrix (others empty)."""
    from scipy import sparse

    counts = np.zeros(n_rows, dtype=np.int64)
    counts[kept] = np.diff(mat.indptr)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return sparse.csr_matrix((mat.data, mat.indices, indptr), shape=(n_rows, mat.shape[1]))


@contextmanager
def _dask_client(address: str | None) -> Iterator[Any]:
    """A Dask client for ``address`` (a scheduler like tcp://host:8786), or ``None``."""
    if not address:
        yield None
        return
    try:
        from dask.distributed import Client
    except ImportError as exc:
        from ._errors import MissingDependencyError

        msg = "`--dask` needs dask.distributed; install it with: pip install 'siting[dask]'"
        raise MissingDependencyError(msg) from exc
    try:
        client = Client(address, timeout="20s")
    except OSError as exc:
        msg = f"cannot reach the Dask scheduler at {address} ({exc}); start it with `dask scheduler`"
        raise InputError(msg) from None
    with client:
        log.info(
            "reach runs on the Dask cluster at %s (%d workers)",
            address,
            len(client.scheduler_info()["workers"]),
        )
        yield client


def _reach_matrices(
    net: StreetNetwork, src: PointLayer, targets: list[tuple[PointLayer, float]], workers: int | None
) -> list[sparse.csr_matrix]:
    """Walking metres from the candidates to each layer within its cutoff, by one search."""
    from .reach import walking_reach_layers  # numba loads here, after the input checks

    rs = walking_reach_layers(
        net, src.snapped, [t.snapped for t, _ in targets], cutoffs_m=[c for _, c in targets], workers=workers
    )
    out = []
    rs.reverse()
    while rs:  # each layer's 64-bit pair arrays are freed once its matrix is made
        out.append(_expand_rows(rs.pop().to_csr(), src.snapped.index, len(src.gdf)))
    return out


def _reach_matrix(
    net: StreetNetwork, src: PointLayer, dst: PointLayer, cutoff_m: float, workers: int | None, client: Any = None
) -> sparse.csr_matrix:
    if client is not None:
        from .distributed import walking_reach_dask

        # tasks by tiles: each worker gets only the network within the cutoff of its tile's
        # sources, so a state-wide network is never held whole by one worker
        r = walking_reach_dask(
            client, net, src.snapped, dst.snapped, cutoff_m=cutoff_m, tile_m=max(10_000.0, 10 * cutoff_m)
        )
    else:
        from .reach import walking_reach  # numba loads here, after the input checks

        r = walking_reach(net, src.snapped, dst.snapped, cutoff_m=cutoff_m, workers=workers)
    return _expand_rows(r.to_csr(), src.snapped.index, len(src.gdf))


def within(metres: sparse.csr_matrix, cutoff_m: float) -> sparse.csr_matrix:
    """The entries of a reach matrix that are ``<= cutoff_m`` (explicit zeros kept)."""
    from scipy import sparse

    m = sparse.csr_matrix(metres)
    keep = m.data <= cutoff_m
    # entries kept before each position: a row's new start is the count before its old start
    kept_before = np.zeros(len(keep) + 1, dtype=np.int64)
    np.cumsum(keep, out=kept_before[1:])
    indptr = kept_before[np.asarray(m.indptr, dtype=np.int64)]
    return sparse.csr_matrix((m.data[keep], m.indices[keep], indptr), shape=m.shape)


def wide_cutoff_m(scenario: Scenario) -> float:
    """Reach needed to choose sites: the cutoff, the sensitivity cutoffs and the effect zone."""
    sens = max(settings.sensitivity_cutoffs_min) * scenario.speed_m_per_min
    return max(scenario.cutoff_m, sens, settings.effect_zone_m)


def reach_pairs(
    net: StreetNetwork,
    sc: Scenario,
    candidates: PointLayer,
    demand: PointLayer,
    services: PointLayer | None,
    extras: list[PointLayer],
    wide_m: float,
) -> tuple[sparse.csr_matrix, sparse.csr_matrix, sparse.csr_matrix | None, list[sparse.csr_matrix]]:
    """Walking metres from the candidates to the demand (within ``wide_m`` and within the
    cutoff), the services and the extra layers."""
    with _dask_client(sc.dask) as client:
        if client is None:  # one search per candidate for every layer
            others = ([services] if services else []) + extras
            mats = _reach_matrices(
                net, candidates, [(demand, wide_m)] + [(e, sc.cutoff_m) for e in others], sc.workers
            )
            demand_wide = mats[0]
            service_m = mats[1] if services else None
            extra_m = mats[2:] if services else mats[1:]
        else:
            demand_wide = _reach_matrix(net, candidates, demand, wide_m, sc.workers, client)
            service_m = (
                _reach_matrix(net, candidates, services, sc.cutoff_m, sc.workers, client)
                if services
                else None
            )
            extra_m = [_reach_matrix(net, candidates, e, sc.cutoff_m, sc.workers, client) for e in extras]
    demand_m = within(demand_wide, sc.cutoff_m) if wide_m > sc.cutoff_m else demand_wide
    return demand_wide, demand_m, service_m, extra_m


def reach_layers(prep: Prepared) -> list[Snapped]:
    """The layers the score walks to: demand, services (if any), the extra layers."""
    layers = [prep.demand] + ([prep.services] if prep.services else []) + prep.extras
    return [layer.snapped for layer in layers]


def reach_totals(
    prep: Prepared, in_hot: npt.NDArray[np.bool_] | None, index: SumsIndex | None = None
) -> CandidateTotals:
    """What the score needs from the walks, summed inside them (no pairs kept): one
    search per candidate, the same sums in the same order as from the pairs."""
    from .reach_sums import Channel, reach_sums  # numba loads here, after the input checks

    sc = prep.scenario
    cut = sc.cutoff_m
    w = prep.demand_weight
    check_demand_weight(w)
    layers = reach_layers(prep)
    channels = [Channel(0, "weight", w), Channel(0, "access", w, cut), Channel(0, "metres")]
    hot = in_hot is not None and bool(np.any(in_hot))
    if hot:
        channels.append(Channel(0, "weight", w * np.asarray(in_hot, dtype=np.float64)))
    first_extra = 2 if prep.services else 1
    n_fixed = len(channels)
    channels += [
        Channel(first_extra + i, "weight", e.kept["weight"].to_numpy(dtype=np.float64))
        for i, e in enumerate(prep.extras)
    ]
    r = reach_sums(
        prep.network,
        prep.candidates.snapped,
        layers,
        cutoffs_m=[cut] * len(layers),
        channels=channels,
        workers=sc.workers,
        index=index,
    )
    # rows of the candidates far from every street stay empty
    rows = prep.candidates.snapped.index
    n = len(prep.candidates.gdf)

    def full(a: npt.NDArray[Any], fill: float) -> npt.NDArray[Any]:
        out = np.full(n, fill, dtype=a.dtype)
        out[rows] = a
        return out

    return CandidateTotals(
        covered_incidents=full(r.count[:, 0], 0),
        covered_weight=full(r.sums[:, 0], 0.0),
        access_weight=full(r.sums[:, 1], 0.0),
        walk_metres=full(r.sums[:, 2], 0.0),
        hotspot_weight=full(r.sums[:, 3], 0.0) if hot else None,
        services=(full(r.count[:, 1], 0), full(r.nearest_m[:, 1], np.inf)) if prep.services else None,
        layers=[full(r.sums[:, n_fixed + i], 0.0) for i in range(len(prep.extras))],
    )


__all__ = ["reach_layers", "reach_pairs", "reach_totals", "wide_cutoff_m", "within"]
