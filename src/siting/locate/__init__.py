"""Choosing a set of sites: maximal covering, p-median and fewest sites, solved exactly.

Every model is built from a cost matrix (candidates x demand walking minutes), so it does
not care where the minutes came from: :mod:`siting.reach`, an OD matrix from another tool
(:func:`siting.odmatrix.read_od_matrix`) or a dense array such as the OR-Library p-median
instances.

The cost matrix
    A scipy sparse matrix (any format) or a dense array, one row per candidate and one
    column per demand point. In a sparse matrix an *absent* entry means "beyond the
    cutoff" and an explicit zero is a real distance of zero. In a dense array ``NaN`` and
    ``inf`` mean beyond the cutoff. Entries above ``cutoff`` (when given) are dropped.

Demand points that no candidate can tell apart (the same candidates at the same
minutes, or for covering models the same covering candidates) are merged into one row
with the summed weight before a model is built: a county's 200,000 incidents collapse to
the few thousand patterns that matter.

Status
    ``optimal`` only when HiGHS proves it (gap within ``mip_rel_gap``, default 1e-9);
    ``time-limit-feasible`` when the time limit stopped the search with a solution;
    ``heuristic`` for the greedy, with its gap to the LP relaxation bound. Nothing
    unproven is ever called optimal.

The package, one job a module
    ``base`` (:class:`Model`: inputs, quotas, fixed and excluded sites, the solve driver,
    per-site reasons), one module per model (``coverage``, ``median``, ``fewest_sites``),
    ``capacity`` (:class:`Capacity` and the capacitated formulations), ``curve``
    (:func:`coverage_curve`), ``result`` (:class:`Result`), and the private ``_highs``
    (the only code that calls HiGHS), ``_greedy`` (greedy starts and swaps) and
    ``_common`` (cost matrix, merged demand rows).

A new model is one module with a :class:`Model` subclass (``name``, ``sense``,
``options``, and ``build``/``evaluate``/``greedy``) plus its entry in :data:`MODELS`.
"""

from __future__ import annotations

from ._value import ValueModel, ValueResult, value_curve
from .attendance import MaximizeAttendance
from .base import Model, Quota, parse_quota
from .capacity import Capacity
from .coverage import MaximalCovering
from .curve import coverage_curve
from .deaths import MaximizeDeathsAverted
from .fewest_sites import FewestSites
from .median import PMedian
from .result import Result

#: The models by name (``siting select --model``), in the order the CLI lists them.
MODELS: dict[str, type[Model]] = {
    m.name: m for m in (MaximalCovering, PMedian, FewestSites, MaximizeAttendance, MaximizeDeathsAverted)
}

__all__ = [
    "MODELS",
    "Capacity",
    "FewestSites",
    "MaximalCovering",
    "MaximizeAttendance",
    "MaximizeDeathsAverted",
    "Model",
    "PMedian",
    "Quota",
    "Result",
    "ValueModel",
    "ValueResult",
    "coverage_curve",
    "parse_quota",
    "value_curve",
]
