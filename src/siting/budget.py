"""A time limit shared out over the steps of one command, and a record of how it was used.

``siting select --time-limit S`` bounds the whole choice: the main solve (its greedy start
and model building included), the coverage curve, the sensitivity re-solves and the
re-solves that explain the choice. Each step gets a share of what is left when it starts,
so time a step does not use passes on to the next; within a step of several solves each
solve gets an equal part of what the step has left. Work between the steps (isochrones,
impact tables) is not solving and is not charged to the limit; the report gives it apart.

Examples
--------
>>> b = TimeBudget(60.0, {"choice": 0.6, "curve": 0.4})
>>> with b.step("choice") as s:
...     round(s.allot())
36
>>> b.report()["limit_s"], sorted(b.report()["steps"])
(60.0, ['choice'])
>>> b.report()["used_s"] <= b.report()["elapsed_s"]
True
>>> TimeBudget(None, {"choice": 1.0}).allot("choice") is None
True
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

#: Shares of a selection's time limit: the choice itself, the coverage curve, the
#: sensitivity re-solves and the re-solves that explain the choice.
SELECTION_SHARES: dict[str, float] = {"choice": 0.55, "curve": 0.25, "sensitivity": 0.15, "explain": 0.05}
#: The least time a solve is given when the budget is spent (it then returns its greedy start).
MIN_SOLVE_S = 0.01


class Step:
    """One step of a :class:`TimeBudget`: its allotment, shared by its solves."""

    def __init__(self, limit: float | None, t0: float | None = None) -> None:
        self.limit = limit
        self.t0 = time.perf_counter() if t0 is None else t0

    def allot(self, solves_left: int = 1) -> float | None:
        """Seconds the next solve of this step may take (``None``: no limit)."""
        if self.limit is None:
            return None
        left = self.limit - (time.perf_counter() - self.t0)
        return max(MIN_SOLVE_S, left / max(1, solves_left))


class TimeBudget:
    """A time limit (``None``: none) shared out over named steps by ``shares``."""

    def __init__(self, limit: float | None, shares: Mapping[str, float]) -> None:
        if limit is not None and not limit > 0:
            msg = f"a time limit must be positive, got {limit}"
            raise ValueError(msg)
        self.limit = limit
        self.t0 = time.perf_counter()
        self.shares = {k: float(v) for k, v in shares.items() if v > 0}
        self.used: dict[str, float] = {}
        self._running: float | None = None  # start of the step under way

    @classmethod
    def for_selection(
        cls, limit: float | None, *, steps: tuple[str, ...] = tuple(SELECTION_SHARES)
    ) -> TimeBudget:
        """The budget of a selection that runs ``steps`` (a subset of :data:`SELECTION_SHARES`)."""
        return cls(limit, {k: SELECTION_SHARES[k] for k in steps})

    def remaining(self, now: float | None = None) -> float | None:
        """Seconds left of the limit: what the finished steps and the one running (since its
        start, up to ``now``, a ``time.perf_counter()`` value) have not used."""
        if self.limit is None:
            return None
        spent = sum(self.used.values())
        if self._running is not None:
            spent += (time.perf_counter() if now is None else now) - self._running
        return self.limit - spent

    def allot(self, name: str, now: float | None = None) -> float | None:
        """Seconds step ``name`` may take if it starts now: its share of what is left."""
        left = self.remaining(now)
        if left is None:
            return None
        pending = sum(v for k, v in self.shares.items() if k not in self.used or k == name)
        share = self.shares.get(name, 0.0) / pending if pending > 0 else 1.0
        return max(MIN_SOLVE_S, left * share)

    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        """Run step ``name``: yields its :class:`Step`, records the time it took."""
        now = time.perf_counter()
        s = Step(self.allot(name, now), t0=now)
        outer = self._running
        if outer is None:
            self._running = now
        try:
            yield s
        finally:
            if outer is None:  # a step inside a step is charged once, by the outer one
                self._running = None
                self.used[name] = self.used.get(name, 0.0) + (time.perf_counter() - s.t0)

    def report(self) -> dict[str, Any]:
        """The limit, the time the steps used in all and each (seconds), and the time since the
        budget began (``elapsed_s``: the steps plus the work between them), for the summary."""
        return {
            "limit_s": self.limit,
            "used_s": round(sum(self.used.values()), 3),
            "steps": {k: round(v, 3) for k, v in self.used.items()},
            "elapsed_s": round(time.perf_counter() - self.t0, 3),
        }



def describe(report: Mapping[str, Any]) -> str:
    """A :meth:`TimeBudget.report` in words.

    >>> describe({"limit_s": 60.0, "used_s": 12.4, "steps": {"choice": 8.04, "curve": 3.1}})
    '12.4 s of the 60 s time limit (choice 8.0 s, curve 3.1 s)'
    >>> describe({"limit_s": None, "used_s": 2.0, "steps": {"choice": 2.0}})
    '2.0 s, no time limit (choice 2.0 s)'
    >>> describe({"limit_s": 5.0, "used_s": 4.96, "steps": {"choice": 4.96}, "elapsed_s": 8.3})
    '5.0 s of the 5 s time limit (choice 5.0 s); 3.3 s more for isochrones and tables'
    """
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in report.get("steps", {}).items())
    limit = report.get("limit_s")
    used = float(report.get("used_s", 0.0))
    head = f"{used:.1f} s" + (f" of the {limit:g} s time limit" if limit is not None else ", no time limit")
    text = f"{head} ({steps})" if steps else head
    other = float(report.get("elapsed_s", used)) - used
    if other >= 0.05:
        text += f"; {other:.1f} s more for isochrones and tables"
    return text
