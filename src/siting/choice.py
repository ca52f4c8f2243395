"""Why these sites: the figures behind the recommendation, for the map and the report.

Computed in the selection layer (called at the end of
:func:`siting.selection.choose_sites`), never in the drawing code. Two tables:

``not_chosen``
    Every candidate that ranks (or, excluded, would score) above the lowest-ranked chosen
    site but was not chosen, with the reason: ``exclusion`` (an exclusion rule), ``quota``
    (it is in the best set without the regional quotas), ``overlap`` (much of the demand it
    reaches is already reached by a chosen site), or ``coverage`` (with the other chosen
    sites it reaches less than the chosen set; its rank also counts services and walking).

``findings``
    What a planner must see before defending the choice, one row each, ``flagged`` when
    it changes the story:

    * ``next_site``: the best set of p + 1 sites (from the coverage curve) and the chosen
      sites it drops: "open 2 now, add 1 later" only holds when it drops none;
    * ``cutoff``: at each sensitivity cutoff, what the chosen set covers against the best
      set for that cutoff (flagged at 5 percentage points or more);
    * ``rule``: a chosen site the rules made (a regional quota, a fixed site): it is not
      in the best set without them;
    * ``low_rank``: a chosen site ranked below candidates left out, not made by a rule:
      ``chosen_incident_share`` is then the share of its incidents no other chosen site
      reaches (the rank weighs services and walking too; the choice maximises reach together).

Shares are of demand weight (what the model maximises) with incident counts beside them;
shareable outputs redisplay the named sets through the privacy release.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import sparse

from ._errors import InputError

if TYPE_CHECKING:
    from collections.abc import Callable

    from .locate import Result
    from .plan import Plan
    from .selection import SelectionSpec

#: A cutoff finding is flagged when the best set covers this much more (share of weight).
FLAG_GAP = 0.05
#: Overlap (share of a candidate's reached incidents already reached by a chosen site)
#: from which "overlap" is the reason it was not chosen.
OVERLAP_REASON = 0.3

NOT_CHOSEN_COLUMNS = [
    "candidate_id",
    "rank",
    "score",
    "region",
    "why",
    "excluded_reason",
    "overlap_with",
    "overlap_share",
    "rule",
]
FINDING_COLUMNS = [
    "finding",
    "flagged",
    "minutes",
    "n_sites",
    "chosen",
    "best",
    "dropped",
    "chosen_share",
    "best_share",
    "chosen_incident_share",
    "best_incident_share",
    "chosen_count",
    "total_count",
    "site",
    "site_rank",
    "rule",
]


Quotas = dict[str, tuple[str, int]]


def _ids(text: Any) -> list[str]:
    return [s for s in str(text).split(";") if s] if isinstance(text, str) else []


def _quota_ok(members: list[int], regions: list[str | None] | None, quotas: Quotas) -> bool:
    if not quotas or regions is None:
        return True
    for name, (op, n) in quotas.items():
        k = sum(1 for m in members if regions[m] == name)
        if (op == ">=" and k < n) or (op == "<=" and k > n) or (op == "==" and k != n):
            return False
    return True


def _quota_text(region: str | None, quotas: Quotas) -> str:
    if region is not None and region in quotas:
        op, n = quotas[region]
        return f"{region} {op} {n}"
    return "; ".join(f"{k} {op} {n}" for k, (op, n) in quotas.items())


def explain_choice(
    plan: Plan,
    result: Result,
    spec: SelectionSpec,
    *,
    candidate_ids: list[str],
    within: sparse.csr_matrix,
    weights: np.ndarray,
    regions: list[str | None] | None,
    resolve: Callable[[SelectionSpec], Result],
    within_at: Callable[[float], sparse.csr_matrix] | None = None,
) -> None:
    """Fill ``plan.not_chosen`` and ``plan.findings`` (see the module docstring).

    Parameters
    ----------
    within
        Candidates x demand points reached within the cutoff (any stored value counts).
    weights
        Demand weight per demand point (a point is one incident).
    resolve
        Solves another spec on the same inputs (used without the quotas).
    within_at
        The same reach at another cutoff (minutes), for the incidents the chosen set reaches
        at each sensitivity cutoff.
    """
    ids = [str(i) for i in candidate_ids]
    row_of = {c: k for k, c in enumerate(ids)}
    reach = sparse.csr_matrix(within)  # only its pattern is read
    w = np.asarray(weights, dtype=np.float64)
    total_w = float(w.sum())
    total_n = float(reach.shape[1])
    chosen = [c for c in result.chosen if c in row_of]
    chosen_rows = [row_of[c] for c in chosen]

    def covered(rows: list[int]) -> np.ndarray:
        mask = np.zeros(reach.shape[1], dtype=bool)
        for r in rows:
            mask[reach.indices[reach.indptr[r] : reach.indptr[r + 1]]] = True
        return mask

    def reached(r: int) -> np.ndarray:
        """The demand points row ``r`` reaches, once each, sorted."""
        return np.unique(reach.indices[reach.indptr[r] : reach.indptr[r + 1]])

    chosen_mask = covered(chosen_rows)
    # demand point -> the chosen sites (positions in chosen_rows) reaching it, made once
    chosen_pts = [reached(r) for r in chosen_rows]
    by_point = sparse.csr_matrix(
        (
            np.ones(sum(len(c) for c in chosen_pts), dtype=np.int64),
            (
                np.concatenate([np.zeros(0, np.int64), *chosen_pts]),
                np.repeat(np.arange(len(chosen_rows)), np.array([len(c) for c in chosen_pts], np.int64)),
            ),
        ),
        shape=(reach.shape[1], max(len(chosen_rows), 1)),
    )
    chosen_w = float(w[chosen_mask].sum())

    # the best set without the regional quotas (what the rules changed)
    free: list[str] | None = None
    if spec.quotas:
        try:
            free = list(resolve(dataclasses.replace(spec, quotas={})).chosen)
        except (InputError, ValueError):
            free = None

    cand = plan.candidates
    cand_ids = cand["candidate_id"].astype(str).to_numpy()
    rank = pd.to_numeric(cand["rank"], errors="coerce").to_numpy() if "rank" in cand.columns else None
    score = pd.to_numeric(cand["score"], errors="coerce").to_numpy() if "score" in cand.columns else None
    excluded = cand["excluded"].fillna(False).astype(bool).to_numpy() if "excluded" in cand.columns else None
    reasons = (
        cand["excluded_reason"].fillna("").astype(str).to_numpy()
        if "excluded_reason" in cand.columns
        else None
    )
    region_col = cand["region"].astype(object).to_numpy() if "region" in cand.columns else None

    rows = []
    if rank is not None and chosen:
        chosen_pos = [int(np.flatnonzero(cand_ids == c)[0]) for c in chosen if (cand_ids == c).any()]
        worst_rank = np.nanmax(rank[chosen_pos]) if chosen_pos else np.nan
        worst_score = np.nanmin(score[chosen_pos]) if score is not None and chosen_pos else np.nan
        for i, cid in enumerate(cand_ids):
            if cid in chosen or cid not in row_of:
                continue
            is_ex = bool(excluded[i]) if excluded is not None else False
            above = (rank[i] < worst_rank) if np.isfinite(rank[i]) else False
            if is_ex and score is not None and np.isfinite(score[i]) and np.isfinite(worst_score):
                above = score[i] > worst_score
            if not above:
                continue
            x = row_of[cid]
            mine = reached(x)
            mine_n = len(mine)
            overlap_with, overlap_share = "", np.nan
            if mine_n:
                # points of x each chosen site also reaches (x's points are distinct)
                shared = np.bincount(by_point[mine].indices, minlength=len(chosen_rows))
                k = max(range(len(chosen_rows)), key=lambda k: (int(shared[k]), -chosen_rows[k]))
                overlap_with = ids[chosen_rows[k]]
                overlap_share = float(shared[k]) / mine_n
            rule = ""
            if is_ex:
                why = "exclusion"
            elif free is not None and cid in free:
                why = "quota"
                rule = _quota_text(None, spec.quotas)
            elif mine_n and overlap_share >= OVERLAP_REASON:
                why = "overlap"
            else:
                why = "coverage"
                swaps = [
                    [r for r in chosen_rows if r != s] + [x]
                    for s in chosen_rows
                    if _quota_ok([r for r in chosen_rows if r != s] + [x], regions, spec.quotas)
                ]
                if not swaps and spec.quotas:
                    why, rule = "quota", _quota_text(regions[x] if regions else None, spec.quotas)
            rows.append(
                {
                    "candidate_id": cid,
                    "rank": rank[i],
                    "score": score[i] if score is not None else np.nan,
                    "region": region_col[i] if region_col is not None else None,
                    "why": why,
                    "excluded_reason": reasons[i] if reasons is not None and is_ex else "",
                    "overlap_with": overlap_with,
                    "overlap_share": overlap_share,
                    "rule": rule,
                }
            )
    not_chosen = pd.DataFrame(rows, columns=NOT_CHOSEN_COLUMNS)
    if len(not_chosen):
        not_chosen = not_chosen.sort_values(["score", "candidate_id"], ascending=[False, True], kind="stable")
    plan.not_chosen = not_chosen.reset_index(drop=True)

    findings = []
    p = len(chosen)
    curve = plan.coverage_curve
    if curve is not None and len(curve) and "chosen" in curve.columns and p:
        nxt = curve[curve["n_sites"] == p + 1]
        if len(nxt):
            best = _ids(nxt["chosen"].iat[0])
            dropped = [c for c in chosen if c not in best]
            best_mask = covered([row_of[c] for c in best if c in row_of])
            findings.append(
                {
                    "finding": "next_site",
                    "flagged": bool(dropped),
                    "n_sites": p + 1,
                    "chosen": ";".join(chosen),
                    "best": ";".join(best),
                    "dropped": ";".join(dropped),
                    "chosen_share": chosen_w / total_w if total_w else 0.0,
                    "best_share": float(w[best_mask].sum()) / total_w if total_w else 0.0,
                    "chosen_incident_share": chosen_mask.sum() / total_n if total_n else 0.0,
                    "best_incident_share": best_mask.sum() / total_n if total_n else 0.0,
                }
            )
    for rec in plan.parameters.get("sensitivity") or []:
        if not np.isfinite(rec.get("covered_demand_share", np.nan)):
            continue
        best_share = float(rec["covered_demand_share"])
        chosen_share = float(rec.get("chosen_here_covered_demand_share", np.nan))
        minutes = float(rec["cutoff_min"])
        at = within_at(minutes) if within_at is not None else None
        n_here = np.nan
        if at is not None:
            hit = np.zeros(at.shape[1], dtype=bool)
            for r in chosen_rows:
                hit[at.indices[at.indptr[r] : at.indptr[r + 1]]] = True
            n_here = float(hit.sum())
        findings.append(
            {
                "finding": "cutoff",
                "flagged": bool(best_share - chosen_share >= FLAG_GAP),
                "minutes": minutes,
                "n_sites": p,
                "chosen": ";".join(chosen),
                "best": str(rec.get("sites", "")),
                "chosen_share": chosen_share,
                "best_share": best_share,
                "chosen_count": n_here,
                "total_count": total_n,
                "chosen_incident_share": n_here / total_n if total_n else np.nan,
            }
        )
    if free is not None:
        for c in chosen:
            if c in free:
                continue
            i = int(np.flatnonzero(cand_ids == c)[0]) if (cand_ids == c).any() else None
            findings.append(
                {
                    "finding": "rule",
                    "flagged": True,
                    "n_sites": p,
                    "chosen": ";".join(chosen),
                    "best": ";".join(free),
                    "site": c,
                    "site_rank": rank[i] if rank is not None and i is not None else np.nan,
                    "rule": _quota_text(regions[row_of[c]] if regions else None, spec.quotas),
                    "chosen_share": chosen_w / total_w if total_w else 0.0,
                    "best_share": float(w[covered([row_of[f] for f in free if f in row_of])].sum()) / total_w
                    if total_w
                    else 0.0,
                }
            )
    # a chosen site ranked below candidates left out, not made by a rule: say why it is there
    made_by_rule = {f["site"] for f in findings if f["finding"] == "rule"}
    others = {c: covered([row_of[o] for o in chosen if o != c]) for c in chosen}
    for c in chosen:
        i = int(np.flatnonzero(cand_ids == c)[0]) if (cand_ids == c).any() else None
        r = rank[i] if rank is not None and i is not None else np.nan
        if c in made_by_rule or c in spec.fixed or not np.isfinite(r) or r <= p:
            continue
        mine = covered([row_of[c]])
        alone = float((mine & ~others[c]).sum()) / max(int(mine.sum()), 1)
        findings.append(
            {
                "finding": "low_rank",
                "flagged": True,
                "n_sites": p,
                "chosen": ";".join(chosen),
                "site": c,
                "site_rank": r,
                "chosen_incident_share": alone,
            }
        )
    for c in spec.fixed:
        if c in chosen:
            findings.append(
                {"finding": "rule", "flagged": True, "site": c, "rule": "fixed (existing or required site)"}
            )
    plan.findings = pd.DataFrame(findings, columns=FINDING_COLUMNS)
