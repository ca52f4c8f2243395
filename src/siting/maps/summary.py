"""The recommendation first: which sites, what they reach, why not the others, what to watch.

The panel at the top of the map (and the report's first paragraph) reads its sets from
the selection's tables (:mod:`siting.choice`) and its numbers from the page's
:class:`~siting.maps.release.Figures`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from .popups import present, site_name, why_not_text
from .text import esc, fmt

if TYPE_CHECKING:
    from ..plan import Plan
    from .popups import Context


def _ids(text: Any) -> list[str]:
    return [s for s in str(text).split(";") if s] if isinstance(text, str) else []


def _names(ids: list[str], ctx: Context) -> str:
    out = [site_name(c, ctx.names.get(c)) for c in ids]
    return " and ".join([", ".join(out[:-1]), out[-1]]) if len(out) > 1 else (out[0] if out else "")


def headline(plan: Plan, ctx: Context) -> str:
    """``Recommended: C001 · Luckan and C057 · …`` (escaped), or the scores-only line."""
    if plan.sites is None or not len(plan.sites):
        return "Candidates ranked by score (no sites chosen in this run)"
    ids = [str(c) for c in plan.sites["candidate_id"]]
    return "Recommended: " + _names(ids, ctx)


def reach_sentence(plan: Plan, ctx: Context) -> str:
    """``Together they reach 84% of incidents (about 1,510) within a 10-minute walk.``"""
    if plan.sites is None or not len(plan.sites):
        return ""
    ids = [str(c) for c in plan.sites["candidate_id"]]
    c = ctx.fig.cover(ids, ctx.cutoff_min)
    who = "Together they reach" if len(ids) > 1 else "It reaches"
    if not c.get("share"):
        return ""
    count = f" ({esc(c['count'])} of {esc(ctx.fig.total())})" if c.get("count") else ""
    return (
        f"{who} <b>{esc(c['share'])} of incidents</b>{count} within a "
        f"{fmt(round(ctx.cutoff_min, 1))}-minute walk"
        + (f" ({esc(c['weight_share'])} of demand weight)." if c.get("weight_share") else ".")
    )


def _finding(rec: dict[str, Any], ctx: Context) -> str:
    """One flagged finding as a sentence (escaped); '' when there is nothing to say."""
    kind = rec["finding"]
    site = str(rec.get("site") or "")
    if kind == "next_site":
        dropped, best = _ids(rec.get("dropped")), _ids(rec.get("best"))
        n = int(rec["n_sites"])
        c = ctx.fig.cover(best, ctx.cutoff_min)
        reach = f", {esc(c['share'])} of incidents" if c.get("share") else ""
        return (
            f"The best set of {n} sites ({_names(best, ctx)}{reach}) drops {_names(dropped, ctx)}: "
            f"&ldquo;open {n - 1} now, add 1 later&rdquo; does not hold."
        )
    if kind == "cutoff":
        m = float(rec["minutes"])
        best_ids = _ids(rec.get("best"))
        chosen, best = ctx.fig.cover(_ids(rec.get("chosen")), m), ctx.fig.cover(best_ids, m)
        if not (chosen.get("share") and best.get("share")):
            return ""
        return (
            f"At {fmt(round(m, 1))} minutes the chosen sites reach {esc(chosen['share'])} of incidents "
            f"against {esc(best['share'])} for the best set then ({_names(best_ids, ctx)})."
        )
    if kind == "rule":
        rank = rec.get("site_rank")
        rank_text = f" (rank {fmt(int(rank))})" if present(rank) else ""
        best = _ids(rec.get("best"))
        tail = f"; without it the best set is {_names(best, ctx)}" if best else ""
        return (
            f"{site_name(site, ctx.names.get(site))}{rank_text} is chosen because of the rule "
            f"&ldquo;{esc(rec.get('rule'))}&rdquo;{tail}."
        )
    if kind == "low_rank":
        return (
            f"{site_name(site, ctx.names.get(site))} ranks {fmt(int(rec['site_rank']))} by score but is "
            f"chosen for what it adds: {ctx.fig.adds(rec, ctx.cutoff_min)} of the "
            "incidents it reaches no other chosen site reaches (the score also weighs services and "
            "walking time)."
        )
    return ""


FINDING_ORDER = {"next_site": 0, "cutoff": 1, "rule": 2, "low_rank": 3}


def findings(plan: Plan, ctx: Context) -> list[str]:
    """The flagged findings as sentences (escaped), most important first."""
    f = plan.findings
    if f is None or not len(f):
        return []
    recs = f[f["flagged"].fillna(False).astype(bool)].to_dict("records")
    recs.sort(key=lambda r: FINDING_ORDER.get(r["finding"], 9))
    return [s for s in (_finding(r, ctx) for r in recs) if s]


def why_not_items(plan: Plan, ctx: Context, limit: int = 12) -> list[str]:
    nc = plan.not_chosen
    if nc is None or not len(nc):
        return []
    items = []
    for rec in nc.head(limit).to_dict("records"):
        cid = str(rec["candidate_id"])
        rank = rec.get("rank")
        rank_text = f"rank {fmt(int(rank))}" if present(rank) else "excluded"
        items.append(
            f'<button type="button" data-site="{esc(cid)}">{site_name(cid, ctx.names.get(cid))}</button> '
            f"({rank_text}): {why_not_text(rec, ctx)}"
        )
    if len(nc) > limit:
        items.append(f"and {fmt(len(nc) - limit)} more (see the report)")
    return items


def summary_html(plan: Plan, ctx: Context, *, title: str, date: str, notes: list[str]) -> str:
    """The summary panel's HTML (a foldable details element; open on desktop, folded on phones)."""
    fig = ctx.fig
    head = headline(plan, ctx)
    parts = [f'<p class="siting-title"><b>{esc(title)}</b></p>']
    if fig.internal:
        parts.append(f'<p class="siting-internal">{esc(fig.statement)}</p>')
    sentence = reach_sentence(plan, ctx)
    if sentence:
        parts.append(f"<p>{sentence}</p>")
    if plan.sites is not None and len(plan.sites):
        buttons = []
        for k, row in enumerate(plan.sites.to_dict("records"), start=1):
            cid = str(row["candidate_id"])
            rank = (
                ctx.fig.candidates.set_index("candidate_id")["rank"].get(cid)
                if "rank" in ctx.fig.candidates
                else None
            )
            region = row.get("region")
            extra = ", ".join(
                x
                for x in (
                    f"rank {fmt(int(rank))}" if present(rank) else "",
                    esc(region) if present(region) else "",
                )
                if x
            )
            buttons.append(
                f'<li><button type="button" class="siting-site" data-site="{esc(cid)}">{k}. '
                f"{site_name(cid, ctx.names.get(cid))}</button>{' (' + extra + ')' if extra else ''}</li>"
            )
        parts.append(f'<ul class="siting-sites">{"".join(buttons)}</ul>')
    flags = findings(plan, ctx)
    if flags:
        parts.append("<p><b>Check before deciding</b></p>")
        parts.extend(f'<p class="siting-flag">{s}</p>' for s in flags)
    why = why_not_items(plan, ctx)
    if why:
        items = "".join(f"<li>{s}</li>" for s in why)
        parts.append(
            f"<details><summary>Why not the higher-ranked candidates? ({fmt(len(plan.not_chosen))})</summary>"
            f"<ul>{items}</ul></details>"
        )
    if fig.note:
        parts.append(f'<p class="siting-privacy">{esc(fig.note)}</p>')
    kmh = float((plan.parameters or {}).get("walking_speed_m_per_min", 80)) * 0.06
    parts.append(
        f'<p class="siting-privacy">{esc(date)} &middot; walking cutoff {fmt(round(ctx.cutoff_min, 1))} min '
        f"at {fmt(round(kmh, 1))} km/h</p>"
    )
    if not fig.internal:
        parts.append(
            f'<details><summary>Privacy</summary><p class="siting-privacy">{esc(fig.statement)}</p></details>'
        )
    if notes:
        parts.append("".join(f'<p class="siting-notes">{esc(n)}</p>' for n in notes))
    body = "".join(parts)
    return (
        f'<details class="siting-fold" data-desktop-open><summary class="siting-headline">{head}</summary>'
        f'<div class="siting-body">{body}</div></details>'
    )


def sites_order(plan: Plan) -> dict[str, int]:
    """Chosen site number (1, 2, ...) by candidate id."""
    if plan.sites is None:
        return {}
    return {str(c): k for k, c in enumerate(plan.sites["candidate_id"], start=1)}


def names_of(plan: Plan) -> dict[str, str]:
    c = plan.candidates
    if c is None or "name" not in c.columns:
        return {}
    return {str(i): str(n) for i, n in zip(c["candidate_id"], c["name"], strict=True) if isinstance(n, str)}


def not_chosen_of(plan: Plan) -> dict[str, dict[str, Any]]:
    nc = plan.not_chosen
    if nc is None or not len(nc):
        return {}
    return {str(r["candidate_id"]): r for r in pd.DataFrame(nc).to_dict("records")}


def sites_table(plan: Plan) -> pd.DataFrame:
    """The chosen sites with their candidate's name, rank and score, reason first.

    Columns in order: ``candidate_id``, ``name``, ``rank``, ``score``, ``region``,
    ``reason`` (those present), then the site's other columns; no geometry.
    """
    s = plan.sites
    if s is None or len(s) == 0:
        return pd.DataFrame()
    t = pd.DataFrame(s.drop(columns=s.geometry.name) if hasattr(s, "geometry") else s).copy()
    c = plan.candidates
    if c is not None and "candidate_id" in t.columns and "candidate_id" in c.columns:
        extra = [
            col for col in ("name", "rank", "score", "region") if col in c.columns and col not in t.columns
        ]
        if extra:
            look = pd.DataFrame(c[["candidate_id", *extra]]).drop_duplicates("candidate_id")
            look["candidate_id"] = look["candidate_id"].astype(str)
            t["candidate_id"] = t["candidate_id"].astype(str)
            t = t.merge(look, on="candidate_id", how="left")
    first = [col for col in ("candidate_id", "name", "rank", "score", "region", "reason") if col in t.columns]
    return t[first + [col for col in t.columns if col not in first]]


def plan_context(plan: Plan, fig: Any) -> Context:
    """The :class:`~.popups.Context` of a plan and its figures, shared by the map and the report."""
    from .. import settings
    from .popups import Context

    params = plan.parameters or {}
    c = plan.candidates
    return Context(
        fig=fig,
        cutoff_min=float(params.get("cutoff_min", settings.cutoff_min)),
        n_ranked=int(pd.to_numeric(c["rank"], errors="coerce").notna().sum())
        if c is not None and "rank" in c.columns
        else 0,
        weights={str(k): float(v) for k, v in (params.get("weights") or {}).items()},
        layer_roles={
            k: str(v.get("role")) for k, v in (params.get("layers") or {}).items() if isinstance(v, dict)
        },
        chosen=sites_order(plan),
        names=names_of(plan),
        not_chosen=not_chosen_of(plan),
        services_label=str(params.get("services_label") or "Homeless services"),
    )
