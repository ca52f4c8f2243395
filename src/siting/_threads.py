"""How many threads this process may use: CPU affinity and the cgroup CPU quota.

``os.cpu_count()`` counts the machine's processors, not the ones this process may run
on: a container limited to 2 CPUs (cgroup ``cpu.max``) or a job pinned with ``taskset``
would start more threads than it can run, and they would only take turns.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

_CGROUP_ROOT = Path("/sys/fs/cgroup")


def _quota_v2(root: Path, rel: str) -> float | None:
    """CPUs allowed by ``cpu.max`` (cgroup v2) along the path from ``rel`` up to the root."""
    best: float | None = None
    path = root / rel.lstrip("/")
    while True:
        f = path / "cpu.max"
        if f.is_file():
            parts = f.read_text().split()
            if len(parts) == 2 and parts[0] != "max":
                cpus = int(parts[0]) / int(parts[1])
                best = cpus if best is None else min(best, cpus)
        if path == root or root not in path.parents:
            return best
        path = path.parent


def _quota_v1(root: Path, rel: str) -> float | None:
    """CPUs allowed by ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us`` (cgroup v1)."""
    for base in (root / "cpu" / rel.lstrip("/"), root / "cpu"):
        q, p = base / "cpu.cfs_quota_us", base / "cpu.cfs_period_us"
        if q.is_file() and p.is_file():
            quota, period = int(q.read_text()), int(p.read_text())
            return quota / period if quota > 0 and period > 0 else None
    return None


def cgroup_cpu_limit(
    root: Path = _CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")
) -> float | None:
    """CPUs this process's cgroup may use (a fraction is possible); ``None``: no limit found.

    >>> cgroup_cpu_limit(Path("/nonexistent"), Path("/nonexistent")) is None
    True
    """
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        hier, _, rest = line.partition(":")
        controllers, _, rel = rest.partition(":")
        try:
            if hier == "0" and controllers == "":
                limit = _quota_v2(root, rel)
            elif "cpu" in controllers.split(","):
                limit = _quota_v1(root, rel)
            else:
                continue
        except (OSError, ValueError):
            continue
        if limit is not None:
            limits.append(limit)
    return min(limits) if limits else None


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by the cgroup quota (at least 1).

    >>> available_cores() >= 1
    True
    """
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        n = os.cpu_count() or 1
    limit = cgroup_cpu_limit()
    if limit is not None:
        n = min(n, max(1, math.ceil(limit)))
    return max(1, n)
