"""What the map's what-if needs to show expected attendance and deaths averted for any set.

The what-if adds and removes sites in the page. Coverage is a sum over "atoms" (units
reached by the same candidates); attendance and deaths averted are not, because each
incident counts once at its *most valuable* site of the set. So each candidate carries its
(unit, value) pairs and the page sums ``mass x max value`` over the set
(``Siting.setValue`` in ``static/siting-map.js``, the same sum :func:`set_value` does in
Python; ``Siting.valueText`` and :func:`value_text` print it as the page does).

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
    """What the page's ``Siting.setValue`` computes, in Python (tests and the report use the same sum)."""
    return _set_sum(payload, ids, estimate)[0]


def value_text(payload: dict[str, Any], ids: list[str], rule: dict[str, Any]) -> str:
    """The what-if's text for a set, as the page's ``Siting.valueText`` prints it.

    ``rule`` is the page's rule (:meth:`siting.maps.release.Figures.rule_js`).

    >>> V = {"kind": "deaths", "estimate": "low", "mass": [12.0], "pairs": {"a": [0, 0]},
    ...      "effects": {"low": [0.35], "central": [0.51], "high": [0.67]}}
    >>> rule = {"t": 10, "base": 10, "first": 20, "sup": "fewer than 11"}
    >>> value_text(V, ["a"], rule), value_text(V, [], rule) == chr(0x2013)  # an empty set: a dash
    ('4.2 / 6.1 / 8.0', True)
    >>> value_text({**V, "mass": [3.0]}, ["a"], rule)
    'not shown (fewer than 11 fatal incidents)'
    >>> two = {**V, "mass": [12.0, 3.0], "pairs": {"a": [0, 0, 1, 1]},
    ...        "effects": {"low": [0.35, 0.0], "central": [0.51, 0.3], "high": [0.67, 0.6]}}
    >>> value_text(two, ["a"], rule)  # 3 fatal in the outer band: only the low estimate shows
    '4.2 / not shown / not shown'
    """
    if not ids:
        return "\u2013"
    if payload["kind"] != "deaths":
        v = _set_sum(payload, ids, None)[0]
        if not v >= rule["t"] + 1:
            return str(rule["sup"])
        r = max(math.floor(v / rule["base"] + 0.5) * rule["base"], rule["first"])
        return f"{r:,.0f}"
    if not _set_sum(payload, ids, "low")[1] >= rule["t"] + 1:
        return f"not shown ({rule['sup']} fatal incidents)"
    mass = band_mass(payload, ids)
    out = []
    for e in ("low", "central", "high"):
        ok = all(
            not (eff > 0 and m > 1e-9 and m < rule["t"] + 1)
            for eff, m in zip(payload["effects"][e], mass, strict=True)
        )
        out.append(f"{_set_sum(payload, ids, e)[0]:.1f}" if ok else "not shown")
    return " / ".join(out)


def band_mass(payload: dict[str, Any], ids: list[str]) -> list[float]:
    """Deaths: fatal mass behind the set per distance band, each unit at its nearest site of
    the set (``Siting.bandMass``). An estimate is shown only when every band adding to it
    holds more than the threshold, as on the report (:mod:`siting.privacy.sites_impact`).

    >>> V = {"mass": [12.0, 3.0], "pairs": {"a": [0, 0, 1, 1], "b": [1, 0]},
    ...      "effects": {"low": [0.35, 0.0], "central": [0.51, 0.3], "high": [0.67, 0.6]}}
    >>> band_mass(V, ["a"]), band_mass(V, ["a", "b"])
    ([12.0, 3.0], [15.0, 0.0])
    """
    band: dict[int, int] = {}
    for cid in ids:
        flat = payload["pairs"].get(str(cid), [])
        for i in range(0, len(flat), 2):
            u, k = int(flat[i]), int(flat[i + 1])
            if k < band.get(u, 1 << 30):
                band[u] = k
    out = [0.0] * len(payload["effects"]["low"])
    for u, k in band.items():
        out[k] += float(payload["mass"][u])
    return out


def _set_sum(payload: dict[str, Any], ids: list[str], estimate: str | None) -> tuple[float, float]:
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
    value = float(sum(payload["mass"][u] * v for u, v in best.items()))
    return value, float(sum(payload["mass"][u] for u in best))


def _priority(plan: Plan) -> list[str]:
    """Candidate ids, chosen sites first, then by rank (excluded ones last)."""
    c = plan.candidates
    chosen = [str(s) for s in plan.sites["candidate_id"]] if plan.sites is not None else []
    order = c.sort_values([col for col in ("rank", "candidate_id") if col in c.columns], na_position="last")
    rest = [str(i) for i in order["candidate_id"] if str(i) not in set(chosen)]
    return chosen + rest
