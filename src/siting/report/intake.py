"""The report's "What was read" section: every layer's rows read, left out (and why), used.

Drawn from the Intake records the pipeline keeps in ``plan.manifest["inputs"][name]
["intake"]`` and the network's ``manifest["network"]["lines"]``: each filter with the
rows it removed, rows without coordinates (failed geocodes), duplicate calls, points far
from every street, the date range and a disposition column's values. Figures about
incidents follow the privacy rule in a shareable report (:class:`siting.privacy.Rule`:
0 to the threshold as "fewer than N", other counts rounded to its base) and never list
incident ids; candidates and services are listed by their ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import privacy
from ..maps import esc

if TYPE_CHECKING:
    from ..plan import Plan

#: Ids of left-out candidates or services listed before "and N more".
_SHOWN = 10


def _count(n: int | str, *, incidents: bool, rule: privacy.Rule | None) -> str:
    """A count as the report shows it: exact, or released by the rule when it is about incidents."""
    if isinstance(n, str):  # already released (siting.privacy.metadata.release_intake)
        return esc(n)
    if not incidents or rule is None:
        return f"{n:,}"
    return esc(rule.label(n))


def _who(who: list[str]) -> str:
    shown = ", ".join(who[:_SHOWN])
    more = f" and {len(who) - _SHOWN:,} more" if len(who) > _SHOWN else ""
    return esc(shown + more)


def _layer(name: str, info: dict[str, Any], *, rule: privacy.Rule | None) -> str:
    intake = info.get("intake") or {}
    incidents = intake.get("role") == "demand"
    internal = rule is None

    def c(n: int | str) -> str:
        return _count(n if isinstance(n, str) else int(n), incidents=incidents, rule=rule)

    file = Path(str(intake.get("path") or info.get("path", ""))).name
    head = f'<h3>{esc(name)} <span class="note">({esc(file)}, {esc(intake.get("format", ""))})</span></h3>'
    rows = []
    if "rows_read" in intake:  # a released intake shows what was left out and what was used
        rows.append(f'<tr><th>rows read</th><td class="n">{c(intake["rows_read"])}</td><td></td></tr>')
    for step in intake.get("steps", []):
        verb = "excluded" if step.get("excluded_only") else "left out"
        listed = "" if incidents else _who(list(step.get("who") or []))
        rows.append(
            f"<tr><th>{verb}: {esc(step.get('text') or step.get('words', ''))}</th>"
            f'<td class="n">{c(step.get("removed", 0))}</td><td>{listed}</td></tr>'
        )
    if "rows_used" in intake:
        rows.append(f'<tr><th>rows used</th><td class="n">{c(intake["rows_used"])}</td><td></td></tr>')
    if "incidents_used" in intake:
        used = c(intake["incidents_used"])
        rows.append(f'<tr><th>incidents used</th><td class="n">{used}</td><td></td></tr>')
    parts = [head, f"<table>{''.join(rows)}</table>"]
    notes = []
    if intake.get("released"):
        notes.append(
            "Shareable report: the rows read, the status counts and any count in the notes are left "
            "out, so no hidden count can be subtracted out (siting inspect and an --internal report "
            "show them)."
        )
    if intake.get("geometry"):
        notes.append(f"Points from {esc(intake['geometry'])}.")
    if intake.get("date_first"):
        first, last = str(intake["date_first"]), str(intake["date_last"])
        # days only: a timestamp singles out a call (a released intake already says months)
        if incidents and not internal and not intake.get("released"):
            first, last = first[:10], last[:10]
        notes.append(f"Dated {esc(first)} to {esc(last)} (column {esc(intake.get('date_column'))}).")
    notes.extend(esc(n) + "." for n in intake.get("notes", []))
    if notes:
        parts.append(f'<p class="note">{" ".join(notes)}</p>')
    status = intake.get("status_read") or {}
    if status:
        used = intake.get("status_used") or {}
        body = "".join(
            f'<tr><td>{esc(v)}</td><td class="n">{c(n)}</td><td class="n">{c(used.get(v, 0))}</td></tr>'
            for v, n in status.items()
        )
        parts.append(
            f"<table><thead><tr><th>{esc(intake.get('status_column'))}</th><th>rows read</th>"
            f"<th>rows used</th></tr></thead><tbody>{body}</tbody></table>"
        )
    return "".join(parts)


def _network(lines: dict[str, Any]) -> str:
    rows = []
    if "lines_read" in lines:
        rows.append(("street lines read", f"{int(lines['lines_read']):,}"))
    if lines.get("where"):
        rows.append(
            (f"left out by the filter {lines['where']}", f"{int(lines.get('left_out_by_where', 0)):,}")
        )
    for cls, n in (lines.get("not_walkable") or {}).items():
        rows.append((f"left out, not walkable: {cls}", f"{int(n):,}"))
    if lines.get("no_line_geometry"):
        rows.append(("left out, no line geometry", f"{int(lines['no_line_geometry']):,}"))
    lcc = lines.get("largest_component") or {}
    if lcc.get("nodes_dropped"):
        rows.append(
            (
                f"street nodes outside the largest connected part ({lcc.get('other_components', 0):,} pieces)",
                f"{int(lcc['nodes_dropped']):,}",
            )
        )
    if not rows:
        return ""
    body = "".join(f'<tr><th>{esc(k)}</th><td class="n">{esc(v)}</td></tr>' for k, v in rows)
    return f"<h3>street network</h3><table>{body}</table>"


def intake_section(
    plan: Plan,
    *,
    internal: bool = False,
    rule: privacy.Rule | None = None,
    manifest: dict[str, Any] | None = None,
) -> str:
    """HTML of "What was read": one table per layer (and the street network).

    Incident counts follow ``rule`` (default: the run's, :func:`siting.privacy.rule_for`)
    unless the report is ``internal``. ``manifest`` is the one to show (a shareable
    report passes the released one, ``ReleasedPlan.manifest``; default: the plan's).
    """
    man = manifest if manifest is not None else (plan.manifest or {})
    inputs = man.get("inputs") if isinstance(man.get("inputs"), dict) else {}
    shown_rule = None if internal else privacy.rule_for(plan, rule)
    parts = [
        _layer(str(name), info, rule=shown_rule)
        for name, info in inputs.items()
        if isinstance(info, dict) and info.get("intake")
    ]
    net = man.get("network") if isinstance(man.get("network"), dict) else {}
    if isinstance(net.get("lines"), dict):
        parts.append(_network(net["lines"]))
    parts = [p for p in parts if p]
    if not parts:
        return '<p class="note">No record of what was read in this run.</p>'
    return "".join(parts)
