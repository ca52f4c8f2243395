"""What the map's what-if needs to show expected attendance and deaths averted for any set.

The what-if adds and removes sites in the page. Coverage is a sum over "atoms" (units
reached by the same candidates); attendance and deaths averted are not, because each
incident counts once at its *most valuable* site of the set. So each candidate carries its
(unit, value) pairs and the page sums ``mass x max value`` over the set
(:data:`VALUE_JS`, the same sum :func:`set_value` does in Python).

Shareable pages use the released demand units (count and fatal masses) and the released
reach, like every other shareable figure; the page shows the sum through the rule
(attendance as a count label; deaths to one decimal only above the threshold). Internal
pages are not different here: the units are public points and the masses released.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from ..plan import Plan

#: Most (candidate, unit) pairs a page carries (about 12 bytes each in the page).
MAX_PAIRS = 150_000

#: The page's sum: ``V`` is :func:`value_payload`'s dict, ``ids`` the set's candidate ids.
VALUE_JS = """function sitingSetValue(V, ids, estimate) {
  var best = {}, sum = 0;
  ids.forEach(function (id) {
    var pairs = V.pairs[id];
    if (!pairs) { return; }
    for (var i = 0; i < pairs.length; i += 2) {
      var u = pairs[i], v = V.kind === 'deaths' ? V.effects[estimate][pairs[i + 1]] : pairs[i + 1];
      if (!(u in best) || v > best[u]) { best[u] = v; }
    }
  });
  for (var u in best) { sum += V.mass[u] * best[u]; }
  return sum;
}"""


def value_payload(plan: Plan, released: Any = None, *, max_pairs: int = MAX_PAIRS) -> dict[str, Any] | None:
    """The what-if's data for attendance or deaths runs (``None`` for the other models).

    Keys: ``kind`` (``attendance`` | ``deaths``), ``name``, ``estimate``, ``mass`` (per
    used unit: released incidents, or fatal incidents for deaths), ``pairs`` (per candidate
    id: a flat ``[unit, value, ...]`` list; deaths: ``[unit, band, ...]``), ``effects``
    (deaths: per estimate the effect of each band), ``omitted`` (candidates left out to keep
    the page small: best ranked and chosen first), ``threshold``.
    """
    from ..decay import DecayCurve
    from ..effects import bands_from_config, max_distance_m

    params = plan.parameters or {}
    model = (params.get("selection") or {}).get("model")
    if model not in ("attendance", "deaths"):
        return None
    if released is None:
        from ..privacy import release_plan

        released = release_plan(plan)
    imp = params.get("impact_led") or {}
    speed = float(params.get("walking_speed_m_per_min", 80.0))
    bands = bands_from_config(imp.get("bands") or None)
    curve = DecayCurve.parse(imp["decay_spec"]) if imp.get("decay_spec") else DecayCurve("linear")
    deaths = model == "deaths"
    if deaths and released.demand.fatal_total is None:
        return None
    ids = _priority(plan)
    reach_m = max_distance_m(bands) if deaths else curve.reach * speed
    metres = released.reach_from(ids, reach_m).tocsr()
    mass_all = released.demand.unit_fatal if deaths else released.demand.unit_count
    ends = np.array([b.end_m for b in bands])
    pairs: dict[str, list[float]] = {}
    used: dict[int, int] = {}
    total, omitted = 0, []
    for k, cid in enumerate(ids):
        a, b = metres.indptr[k], metres.indptr[k + 1]
        units, d = metres.indices[a:b], metres.data[a:b]
        if deaths:
            vals = np.searchsorted(ends, d, side="left").astype(float)  # band index
            keep = vals < len(bands)
        else:
            vals = np.round(curve(d / speed), 3)
            keep = vals > 0
        keep &= mass_all[units] > 0
        units, vals = units[keep], vals[keep]
        if total + len(units) > max_pairs:
            omitted.append(cid)
            continue
        total += len(units)
        flat: list[float] = []
        for u, v in zip(units.tolist(), vals.tolist(), strict=True):
            j = used.setdefault(int(u), len(used))
            flat += [j, int(v) if deaths else v]
        pairs[cid] = flat
    mass = np.zeros(len(used))
    for u, j in used.items():
        mass[j] = mass_all[u]
    out: dict[str, Any] = {
        "kind": model,
        "name": "expected deaths averted" if deaths else "expected attendance",
        "estimate": str(imp.get("estimate", "low")),
        "mass": np.round(mass, 4).tolist(),
        "pairs": pairs,
        "omitted": omitted,
        "threshold": int(released.rule.threshold),
    }
    if deaths:
        out["effects"] = {e: [float(getattr(b, e)) for b in bands] for e in ("low", "central", "high")}
    return out


def set_value(payload: dict[str, Any], ids: list[str], estimate: str | None = None) -> float:
    """What :data:`VALUE_JS` computes, in Python (tests and the report use the same sum)."""
    best: dict[int, float] = {}
    est = estimate or payload["estimate"]
    for cid in ids:
        flat = payload["pairs"].get(str(cid), [])
        for i in range(0, len(flat), 2):
            u = int(flat[i])
            v = (
                payload["effects"][est][int(flat[i + 1])]
                if payload["kind"] == "deaths"
                else float(flat[i + 1])
            )
            if v > best.get(u, -math.inf):
                best[u] = v
    return float(sum(payload["mass"][u] * v for u, v in best.items()))


def _priority(plan: Plan) -> list[str]:
    """Candidate ids, chosen sites first, then by rank (excluded ones last)."""
    c = plan.candidates
    chosen = [str(s) for s in plan.sites["candidate_id"]] if plan.sites is not None else []
    order = c.sort_values([col for col in ("rank", "candidate_id") if col in c.columns], na_position="last")
    rest = [str(i) for i in order["candidate_id"] if str(i) not in set(chosen)]
    return chosen + rest
