"""The one place the map and the report get incident-derived numbers from.

Every count, weight, walking time or share that depends on incidents reaches a page
through :class:`Figures`, built once per page by :func:`figures` from the privacy
package's :class:`~siting.privacy.ReleasedPlan`: hexagon cells, the candidates' and sites'
figures, what a set of sites reaches, the what-if's demand units, the privacy statement.
Shareable pages (the default) show released values (small counts suppressed, others
rounded, every other figure re-estimated from the released cells); internal pages (made
with ``internal=True`` or incident points opted in) show the exact values, marked
INTERNAL. The disclosure rule lives in :mod:`siting.privacy`; this module only routes.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from .. import privacy

if TYPE_CHECKING:
    import geopandas as gpd

    from ..plan import Plan

log = logging.getLogger("siting.maps")

INTERNAL_STATEMENT = (
    "INTERNAL: exact figures from the incident records (health data). Do not share this page."
)
#: Column prefixes of figures shaped by incidents (never copied from the exact plan).
INCIDENT_PREFIXES = ("covered_", "covers_", "alone_", "assigned_", "mean_walk", "hotspot_", "part_", "score")
#: Incident-derived candidate and site columns that have a released ``_label`` twin.
COUNT_COLUMNS = (
    "covered_incidents",
    "covered_demand_weight",
    "covers_incidents",
    "covers_demand_weight",
    "alone_incidents",
    "alone_demand_weight",
    "assigned_demand_weight",
)


@dataclass
class Units:
    """What-if demand units grouped into atoms: units reached by exactly the same candidates.

    The coverage of any set of candidates is the summed ``mass`` of the atoms any of them
    reaches, exactly what :meth:`siting.privacy.ReleasedPlan.cover` computes, in a few
    bytes per candidate.
    """

    mass: np.ndarray  # incidents per atom
    atoms: list[list[int]]  # per candidate (plan order): the atoms it reaches
    candidate_ids: list[str]
    total: float


@dataclass
class Figures:
    """Incident-derived figures of one page, as text, through one rule."""

    internal: bool
    released: Any  # siting.privacy.ReleasedPlan
    plan: Plan
    cells: gpd.GeoDataFrame | None = None
    _cover: dict[tuple[str, float], dict[str, str]] = field(default_factory=dict)

    # ---------------------------------------------------------------- rule
    @property
    def rule(self) -> Any:
        return self.released.rule

    @property
    def threshold(self) -> int:
        return int(self.rule.threshold)

    @property
    def statement(self) -> str:
        return INTERNAL_STATEMENT if self.internal else str(self.released.statement)

    @property
    def note(self) -> str:
        """Why figures may differ from the exact ones (empty on internal pages)."""
        return "" if self.internal else str(self.released.note)

    @property
    def suppressed_label(self) -> str:
        return str(self.rule.suppressed_label)

    def rule_js(self) -> dict[str, Any]:
        """The rule for the page's script (the what-if labels its sums with it)."""
        if self.internal:
            return {"t": -1, "base": 1, "first": 0, "sup": ""}
        return {
            "t": self.threshold,
            "base": int(self.rule.base),
            "first": int(self.rule.first_shown),
            "sup": self.suppressed_label,
        }

    # ---------------------------------------------------------------- numbers
    def count(self, value: Any) -> str:
        """An incident count or weight (or an estimate of one) as this page shows it."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            return ""
        if not math.isfinite(v):
            return ""
        if self.internal:
            return f"{v:,.0f}" if v == round(v) else f"{v:,.1f}"
        return str(self.rule.label(v))

    def minutes(self, value: Any) -> str:
        """A walking time in whole minutes."""
        return privacy.minutes_label(value)

    def percent(self, share: Any) -> str:
        """A share (0..1) in whole percent."""
        return privacy.percent_label(share)

    # ---------------------------------------------------------------- tables
    @property
    def candidates(self) -> pd.DataFrame:
        """Candidates with ``X_label`` text beside every incident-derived column ``X``."""
        if self.internal:
            return _exact_labels(self.plan.candidates, self)
        rel = self.released.candidates
        exact = self.plan.candidates
        roles = {
            k: (v.get("role") if isinstance(v, dict) else None)
            for k, v in ((self.plan.parameters or {}).get("layers") or {}).items()
        }
        # columns the release leaves out that no incident shaped (services, layers of other
        # points, exclusion margins, the planner's own columns) come from the plan as they are
        extra = [
            c
            for c in exact.columns
            if c not in rel.columns
            and not c.startswith(INCIDENT_PREFIXES)
            and not (c.startswith("layer_") and roles.get(c.removeprefix("layer_")) == "demand")
        ]
        if not extra:
            return rel
        look = exact.set_index(exact["candidate_id"].astype(str))[extra]
        out = rel.copy()
        for c in extra:
            out[c] = look[c].reindex(out["candidate_id"].astype(str)).to_numpy()
        return out

    @property
    def sites(self) -> pd.DataFrame | None:
        if self.plan.sites is None:
            return None
        if not self.internal and self.released.sites is not None:
            return self.released.sites
        return _exact_labels(self.plan.sites, self)

    def total(self) -> str:
        """All incidents, as shown."""
        if self.internal:
            return self.count(len(self.plan.demand)) if self.plan.demand is not None else ""
        return str(self.released.total("incidents")[1])

    def cover(self, ids: list[str], minutes: float) -> dict[str, str]:
        """What a set reaches within ``minutes``: ``count``, ``share`` (of incidents) and
        ``weight_share`` (of demand weight), as text; empty strings where unknown."""
        key = (";".join(ids), round(float(minutes), 6))
        if key in self._cover:
            return self._cover[key]
        out = {"count": "", "share": "", "weight_share": ""}
        if self.internal:
            out.update(_exact_cover(self.plan, ids, minutes, self))
        else:
            r = self.released.cover([str(i) for i in ids], minutes=minutes)
            out["count"] = str(r["count_label"])
            out["share"] = str(r["count_share_label"])
            out["weight_share"] = str(r["share_label"])
        self._cover[key] = out
        return out

    def overlap(self, rec: dict[str, Any], minutes: float | None = None) -> str:
        """Why-not's "N% of the incidents it reaches are already reached by <site>".

        Internal pages show the selection's exact share; shareable pages the share of the
        released incidents (never the exact one: a whole percent of a small exact count
        tells that count)."""
        if self.internal:
            return self.percent(rec.get("overlap_share"))
        other = str(rec.get("overlap_with") or "")
        if not other:
            return ""
        also, mine = self.released.reached_also([str(rec["candidate_id"])], by=[other], minutes=minutes)
        # a share of fewer than threshold+1 released incidents is not shown
        return str(self.rule.share(also, mine)[1]) or "a large part"

    def adds(self, rec: dict[str, Any], minutes: float | None = None) -> str:
        """A chosen site's "N% of the incidents it reaches no other chosen site reaches"."""
        if self.internal:
            return self.percent(rec.get("chosen_incident_share"))
        site = str(rec.get("site") or "")
        others = [c for c in str(rec.get("chosen") or "").split(";") if c and c != site]
        also, mine = self.released.reached_also([site], by=others, minutes=minutes)
        return str(self.rule.share(mine - also, mine)[1]) or "some"

    def units(self, minutes: float | None = None) -> Units:
        """The what-if's demand units within ``minutes`` (default: the run's cutoff)."""
        rel = self.released
        cut = float(rel.cutoff_min if minutes is None else minutes)
        m = sparse.csc_matrix(rel.coverage.minutes)
        keep = m.data <= cut + 1e-9
        rows = m.indices[keep]
        cols = np.repeat(np.arange(m.shape[1]), np.diff(m.indptr))[keep]
        mass_unit = np.asarray(rel.demand.unit_count, dtype=np.float64)
        atom_of: dict[tuple[int, ...], int] = {}
        masses: list[float] = []
        per_cand: list[list[int]] = [[] for _ in range(m.shape[0])]
        order = np.lexsort((rows, cols))
        rows, cols = rows[order], cols[order]
        bounds = np.flatnonzero(np.diff(np.concatenate([[-1], cols, [m.shape[1]]])))
        for a, b in itertools.pairwise(bounds):
            if a >= len(cols):
                break
            key = tuple(rows[a:b].tolist())
            u = int(cols[a])
            k = atom_of.get(key)
            if k is None:
                k = atom_of[key] = len(masses)
                masses.append(0.0)
                for r in key:
                    per_cand[r].append(k)
            masses[k] += float(mass_unit[u])
        return Units(
            mass=np.asarray(masses),
            atoms=per_cand,
            candidate_ids=[str(i) for i in rel.coverage.ids],
            total=float(mass_unit.sum()),
        )


def _exact_labels(df: pd.DataFrame, fig: Figures) -> pd.DataFrame:
    out = df.copy()
    for col in COUNT_COLUMNS:
        if col in out.columns:
            out[f"{col}_label"] = [fig.count(v) for v in out[col]]
    for col in ("mean_walk_min", "nearest_service_min"):
        if col in out.columns:
            out[f"{col}_label"] = [fig.minutes(v) for v in out[col]]
    if "hotspot_share" in out.columns:
        out["hotspot_share_label"] = [fig.percent(v) for v in out["hotspot_share"]]
    return out


def _exact_cover(plan: Plan, ids: list[str], minutes: float, fig: Figures) -> dict[str, str]:
    """Exact coverage of a set the selection measured (chosen set at each cutoff, best sets)."""
    f = plan.findings
    if f is None or not len(f):
        return {}
    key = ";".join(ids)
    for rec in f.to_dict("records"):
        mnt = rec.get("minutes")
        same_cut = mnt is not None and pd.notna(mnt) and abs(float(mnt) - float(minutes)) < 1e-9
        if rec.get("chosen") == key and (same_cut or rec["finding"] != "cutoff"):
            if rec["finding"] == "cutoff" or same_cut:
                return {
                    "count": fig.count(rec.get("chosen_count")),
                    "share": fig.percent(rec.get("chosen_incident_share")),
                    "weight_share": fig.percent(rec.get("chosen_share")),
                }
        if rec.get("best") == key and same_cut:
            return {"weight_share": fig.percent(rec.get("best_share"))}
    return {}


def figures(
    plan: Plan,
    *,
    released: Any = None,
    internal: bool = False,
    hex_size_m: float = 250.0,
) -> Figures:
    """The figures of one page of ``plan`` (map or report): the one release hook.

    ``released`` is the run's :class:`~siting.privacy.ReleasedPlan` when the caller made it
    already (the CLI makes one for tables, map and report); otherwise it is made here.
    """
    if released is None:
        released = privacy.release_plan(plan, hex_size_m=hex_size_m)
    fig = Figures(internal=internal, released=released, plan=plan)
    if internal and plan.demand is not None and len(plan.demand):
        w = "weight" if "weight" in plan.demand.columns else None
        fig.cells = privacy.hex_counts(plan.demand, size_m=hex_size_m, weight=w, threshold=0)
        fig.cells["count_label"] = [fig.count(v) for v in fig.cells["count"]]
    else:
        fig.cells = released.cells
    return fig
