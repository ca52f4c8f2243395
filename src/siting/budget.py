"""A time limit shared out over the steps of one command, and a record of how it was used.

``siting select --time-limit S`` bounds the whole choice: the main solve (its greedy start
included), the coverage curve, the sensitivity re-solves and the re-solves that explain
the choice. Each step gets a share of what is left when it starts, so time a step does
not use passes on to the next; within a step of several solves each solve gets an equal
part of what the step has left.

Examples
--------
>>> b = TimeBudget(60.0, {"choice": 0.6, "curve": 0.4})
>>> with b.step("choice") as s:
...     round(s.allot())
36
>>> b.report()["limit_s"], sorted(b.report()["steps"])
(60.0, ['choice'])
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

    @classmethod
    def for_selection(
        cls, limit: float | None, *, steps: tuple[str, ...] = tuple(SELECTION_SHARES)
    ) -> TimeBudget:
        """The budget of a selection that runs ``steps`` (a subset of :data:`SELECTION_SHARES`)."""
        return cls(limit, {k: SELECTION_SHARES[k] for k in steps})

    def remaining(self, now: float | None = None) -> float | None:
        """Seconds left of the whole limit (at ``now``, a ``time.perf_counter()`` value)."""
        if self.limit is None:
            return None
        return self.limit - ((time.perf_counter() if now is None else now) - self.t0)

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
        try:
            yield s
        finally:
            self.used[name] = self.used.get(name, 0.0) + (time.perf_counter() - s.t0)

    def report(self) -> dict[str, Any]:
        """The limit, the time used in all and per step (seconds), for the summary and report."""
        total = time.perf_counter() - self.t0
        return {
            "limit_s": self.limit,
            "used_s": round(total, 3),
            "steps": {k: round(v, 3) for k, v in self.used.items()},
        }



def describe(report: Mapping[str, Any]) -> str:
    """A :meth:`TimeBudget.report` in words.

    >>> describe({"limit_s": 60.0, "used_s": 12.4, "steps": {"choice": 8.04, "curve": 3.1}})
    '12.4 s of the 60 s time limit (choice 8.0 s, curve 3.1 s)'
    >>> describe({"limit_s": None, "used_s": 2.0, "steps": {"choice": 2.0}})
    '2.0 s, no time limit (choice 2.0 s)'
    """
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in report.get("steps", {}).items())
    limit = report.get("limit_s")
    head = f"{report.get('used_s', 0.0):.1f} s" + (
        f" of the {limit:g} s time limit" if limit is not None else ", no time limit"
    )
    return f"{head} ({steps})" if steps else head
