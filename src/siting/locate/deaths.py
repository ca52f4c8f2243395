"""Maximise expected deaths averted, by network-distance band, on the low or central estimate.

Each fatal incident takes the effect of the band its nearest chosen site falls in
(:mod:`siting.effects`: 35-67% within 500 m, 0-60% from 500 m to 5 km, with their
sources), so a set of sites averts ``sum_i fatal_i x effect(d_i)`` deaths over the period
of the data. The choice maximises that sum on one estimate (``low`` by default, the
cautious reading, or ``central``) and the result reports the chosen set under all three
(``low``, ``central``, ``high``), so the range carries through the choice. Solved exactly
like the attendance model (:mod:`siting.locate._value`), with fixed sites, exclusions and
regional quotas. Capacity does not apply: the published effects are neighbourhood death
rates, not visits.

The weights are **fatal incidents** (counts per demand point), never siting weights: a
fatal incident weighted 5 for scoring is still one death.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from .._errors import InputError
from ..effects import DEFAULT_BANDS, ESTIMATES, EffectBand, Estimate, band_effect, validate_bands
from ._value import ValueModel, ValueResult

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ._common import F64, Mask


class MaximizeDeathsAverted(ValueModel):
    """Choose ``p`` sites maximising expected overdose deaths averted.

    Parameters
    ----------
    costs
        Candidates x demand **network metres** (sparse: absent = out of reach).
    weights
        Fatal incidents per demand point (0/1 per incident, or counts); default 1 each.
    bands
        The effect bands (default :data:`siting.effects.DEFAULT_BANDS`).
    estimate
        ``"low"`` (default) or ``"central"``: the estimate the choice maximises. (``high``
        is reported, never chosen on.)
    candidate_ids, p, cutoff, regions, quotas, fixed, excluded
        As for :class:`~siting.locate.MaximalCovering` (``cutoff`` in metres can only
        shorten the bands' reach).

    Examples
    --------
    A hand check: site ``a`` has one fatal incident at 100 m and one at 2 km; site ``b``
    has two fatal incidents at 600 m and 700 m. On the low estimate ``a`` averts 0.35 and
    ``b`` 0 (no effect is detected beyond 500 m); on the central one ``a`` averts
    0.51 + 0.30 = 0.81 and ``b`` 2 x 0.30 = 0.60.

    >>> import numpy as np
    >>> d = np.array([[100.0, 2000.0, np.inf, np.inf], [np.inf, np.inf, 600.0, 700.0]])
    >>> r = MaximizeDeathsAverted(d, candidate_ids=["a", "b"], p=1).solve()
    >>> r.chosen, round(r.objective, 6), {k: round(v, 6) for k, v in r.estimates.items()}
    (['a'], 0.35, {'low': 0.35, 'central': 0.81, 'high': 1.27})
    >>> r = MaximizeDeathsAverted(d, candidate_ids=["a", "b"], p=2).solve()
    >>> {k: round(v, 6) for k, v in r.estimates.items()}
    {'low': 0.35, 'central': 1.41, 'high': 2.47}
    """

    name = "deaths"
    options = ("p", "bands", "estimate")
    value_name = "expected deaths averted"
    value_column = "deaths_averted"
    value_unit = "deaths over the data's period"

    def __init__(
        self,
        costs: Any,
        *,
        weights: npt.ArrayLike | None = None,
        candidate_ids: Sequence[Any] | None = None,
        p: int,
        bands: Sequence[EffectBand] | None = None,
        estimate: Estimate = "low",
        **kw: Any,
    ) -> None:
        if estimate not in ("low", "central"):
            msg = f"`estimate` must be 'low' or 'central' (never chosen on 'high'), got {estimate!r}"
            raise InputError(msg)
        if kw.get("capacity") is not None:
            msg = (
                "the deaths model takes no capacity: its effects are neighbourhood death rates, "
                "not visits; use --model attendance with --capacity"
            )
            raise InputError(msg)
        if weights is not None and "counts" not in kw:
            f = np.asarray(weights, dtype=np.float64).ravel()
            if np.all(np.isfinite(f)) and np.all(f == np.round(f)) and np.all(f >= 0):
                kw["counts"] = f  # the incidents this model counts are the fatal ones
        self.bands = validate_bands(DEFAULT_BANDS if bands is None else bands)
        self.estimate: Estimate = estimate
        super().__init__(costs, weights=weights, candidate_ids=candidate_ids, p=p, **kw)

    def value_of(self, costs: F64) -> F64:
        return band_effect(costs, self.bands, self.estimate)

    def own_args(self) -> dict[str, Any]:
        return {"bands": self.bands, "estimate": self.estimate}

    def reach(self) -> float:
        return max(b.end_m for b in self.bands)

    def describe(self) -> str:
        parts = [f"{b.label}: {b.low:.0%}/{b.central:.0%}/{b.high:.0%}" for b in self.bands]
        return "deaths averted (low/central/high) by band: " + "; ".join(parts)

    def result(
        self, mask: Mask, obj: float, bound: float, seconds: float, status: str, method: str
    ) -> ValueResult:
        res = super().result(mask, obj, bound, seconds, status, method)
        assert isinstance(res, ValueResult)
        res.chosen_on = self.estimate
        res.estimates = {
            e: self.values_for(mask, lambda d, e=e: band_effect(d, self.bands, e)) for e in ESTIMATES
        }
        return res


def deaths_values(
    costs_m: Any, fatal: npt.ArrayLike, bands: Sequence[EffectBand] = DEFAULT_BANDS
) -> np.ndarray:
    """Per candidate alone: deaths averted on (low, central, high), shape ``(n, 3)``.

    A quick per-candidate view (each site on its own), for tables and the map.
    """
    from scipy import sparse

    m = sparse.csr_matrix(costs_m)
    f = np.asarray(fatal, np.float64).ravel()
    out = np.zeros((m.shape[0], 3))
    rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    for k, e in enumerate(ESTIMATES):
        v = band_effect(m.data, bands, e) * f[m.indices]
        out[:, k] = np.bincount(rows, weights=v, minlength=m.shape[0])
    return out
