"""Booths and waiting: how many booths keep the expected wait under a target (Erlang C).

Long waits deter clients: a cap on Insite's capacity "results in significant wait times to
enter the injecting room", and people then inject in the alleys (Small W et al.
Injection drug users' access to a supervised injection facility in Vancouver, Canada.
Qual Health Res 2011;21:743-56). A site is sized here as an M/M/c queue, each booth a
server: visits arrive at random (Poisson) at the hourly rate expected at the site, and
each occupies a booth for an exponentially distributed time with mean ``service_min``.
Erlang's C formula gives the chance a visitor has to wait, and from it the mean wait
``C x service / (c - A)`` for ``c`` booths and offered load ``A = arrivals x service``
(erlangs). The booths a site needs are the fewest that keep the mean wait at or under
``target_wait_min`` in its busiest open hour.

Defaults and where they come from
---------------------------------
``service_min`` = 27 minutes
    Insite's figures: about 40 supervised uses per booth a day
    (:data:`siting.settings.uses_per_booth_per_day`; about 500 a day on 12-13 booths) over
    its 18 open hours (09:00-03:00) is one use every 18 x 60 / 40 = 27 minutes per booth.
    Using that as the mean time in the booth makes the 40-uses rule and the queue agree on
    a booth's capacity, so the two can be compared: the queue adds what the rule of thumb
    leaves out (peak hours, random arrivals, the wait target).
``target_wait_min`` = 5 minutes
    A planning choice, not a published figure: the studies above say long waits turn
    people away but give no threshold. Set it to the service's own standard.

The 40-uses rule is kept as a cross-check: ``ceil(visits per day / 40)``.

Erlang C is checked against a published table (Dunlop J, Girma D, Irvine J. Digital
Mobile Communications and the TETRA System. Wiley 1999, Appendix A.4 "Erlang C table":
8 channels carry 3.87 erlangs at a 5% probability of queueing; 10 channels carry 4.08
erlangs at 1%).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from . import settings
from ._errors import InputError

F64 = npt.NDArray[np.float64]

#: Insite's open hours a day (closed 03:00-09:00) behind the default booth time.
INSITE_HOURS_OPEN = 18.0
#: Mean minutes a visit occupies a booth (see the module doc).
DEFAULT_SERVICE_MIN = INSITE_HOURS_OPEN * 60.0 / settings.uses_per_booth_per_day
#: Mean wait to stay under, minutes (a planning choice; see the module doc).
DEFAULT_TARGET_WAIT_MIN = 5.0
#: No site is sized beyond this many booths (a larger answer means bad input).
MAX_BOOTHS = 10_000

SOURCE_ERLANG = (
    "Erlang C (M/M/c): Poisson arrivals at the hourly rate, mean booth time "
    f"{DEFAULT_SERVICE_MIN:g} min (Insite: 40 uses per booth over 18 open hours)"
)
SOURCE_RULE = "40 supervised uses per booth a day (Insite: about 500 a day on 12-13 booths)"


def erlang_b(servers: int, traffic: float) -> float:
    """Erlang's B formula: the blocking probability of ``servers`` with ``traffic`` erlangs.

    Computed by the stable recursion ``B(0) = 1, B(n) = A B(n-1) / (n + A B(n-1))``.

    >>> round(erlang_b(1, 1.0), 6)
    0.5
    >>> round(erlang_b(10, 4.46), 3)  # the classic Erlang B table: 10 lines, 1% at 4.46 E
    0.01
    """
    n = _servers(servers)
    a = _traffic(traffic)
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(servers: int, traffic: float) -> float:
    """Erlang's C formula: the probability an arrival has to wait (1 when ``traffic >= servers``).

    ``C = n B / (n - A (1 - B))`` with ``B`` Erlang's B formula.

    Examples
    --------
    >>> round(erlang_c(3, 2.0), 6)  # 4/9 by hand
    0.444444
    >>> round(erlang_c(8, 3.87), 3), round(erlang_c(10, 4.08), 3)  # the published table
    (0.05, 0.01)
    >>> erlang_c(2, 2.0), erlang_c(0, 0.0)
    (1.0, 1.0)
    """
    n = _servers(servers)
    a = _traffic(traffic)
    if a == 0:
        return 0.0 if n > 0 else 1.0
    if a >= n:
        return 1.0
    b = erlang_b(n, a)
    return n * b / (n - a * (1.0 - b))


def mean_wait_min(servers: int, arrivals_per_hour: float, service_min: float) -> float:
    """Mean wait in the queue (minutes) for all arrivals; ``inf`` when the queue is unstable.

    >>> round(mean_wait_min(3, 4.0, 30.0), 4)  # A = 2 erlangs: (4/9) x 30 / (3 - 2)
    13.3333
    >>> mean_wait_min(2, 4.0, 30.0)
    inf
    >>> mean_wait_min(1, 0.0, 30.0)
    0.0
    """
    s = _service(service_min)
    a = _traffic(arrivals_per_hour * s / 60.0)
    n = _servers(servers)
    if a == 0:
        return 0.0
    if a >= n:
        return math.inf
    return erlang_c(n, a) * s / (n - a)


def wait_longer_than(servers: int, traffic: float, service_min: float, minutes: float) -> float:
    """Probability an arrival waits longer than ``minutes``: ``C exp(-(n - A) t / service)``.

    >>> round(wait_longer_than(8, 3.87, 1.0, 1.0) / erlang_c(8, 3.87), 3)  # the table's 0.016
    0.016
    """
    n = _servers(servers)
    a = _traffic(traffic)
    s = _service(service_min)
    if a >= n:
        return 1.0
    return erlang_c(n, a) * math.exp(-(n - a) * float(minutes) / s)


def booths_for_wait(
    arrivals_per_hour: float,
    *,
    service_min: float = DEFAULT_SERVICE_MIN,
    target_wait_min: float = DEFAULT_TARGET_WAIT_MIN,
) -> int:
    """The fewest booths keeping the mean wait at or under the target (0 with no arrivals).

    Examples
    --------
    A hand check: 4 visits an hour of 30 minutes is 2 erlangs. Three booths wait
    13.3 minutes on average, four 0.174 x 30 / 2 = 2.6 minutes.

    >>> booths_for_wait(4.0, service_min=30.0, target_wait_min=5.0)
    4
    >>> booths_for_wait(0.0)
    0
    """
    s = _service(service_min)
    if not (math.isfinite(target_wait_min) and target_wait_min >= 0):
        msg = f"`target_wait_min` must be a number of minutes >= 0, got {target_wait_min}"
        raise InputError(msg)
    lam = float(arrivals_per_hour)
    if not (math.isfinite(lam) and lam >= 0):
        msg = f"arrivals per hour must be a number >= 0, got {arrivals_per_hour}"
        raise InputError(msg)
    if lam == 0:
        return 0
    a = lam * s / 60.0
    n = max(1, math.floor(a) + 1)
    while mean_wait_min(n, lam, s) > target_wait_min + 1e-12:
        n += 1
        if n > MAX_BOOTHS:
            msg = f"more than {MAX_BOOTHS} booths needed for {lam:g} visits an hour; check the visits"
            raise InputError(msg)
    return n


def booths_by_rule(visits_per_day: float, uses_per_booth_per_day: float | None = None) -> int:
    """The cross-check: ``ceil(visits per day / uses per booth a day)`` (default 40).

    >>> booths_by_rule(500), booths_by_rule(0)
    (13, 0)
    """
    u = settings.uses_per_booth_per_day if uses_per_booth_per_day is None else float(uses_per_booth_per_day)
    if not (math.isfinite(u) and u > 0):
        msg = "`uses_per_booth_per_day` must be a positive number"
        raise InputError(msg)
    v = float(visits_per_day)
    if not (math.isfinite(v) and v >= 0):
        msg = f"visits per day must be a number >= 0, got {visits_per_day}"
        raise InputError(msg)
    return math.ceil(v / u - 1e-9) if v > 0 else 0


def booth_plan(
    visits_by_hour: npt.ArrayLike,
    *,
    open_hours: npt.ArrayLike | None = None,
    service_min: float = DEFAULT_SERVICE_MIN,
    target_wait_min: float = DEFAULT_TARGET_WAIT_MIN,
) -> pd.DataFrame:
    """Hour by hour: expected visits, offered load, booths needed and the wait they give.

    Parameters
    ----------
    visits_by_hour
        24 expected visits, one per hour of the day (00:00-01:00 first).
    open_hours
        24 booleans; closed hours need no booths (their visits are not served). Default:
        open all day.
    service_min, target_wait_min
        Mean booth time and the mean wait to stay under (see the module doc).

    Returns
    -------
    DataFrame indexed by ``hour`` (0..23): ``open``, ``visits``, ``erlangs``, ``booths``
    (needed that hour), ``p_wait`` and ``mean_wait_min`` at the site's booth count (the
    busiest open hour's), so every hour shows the wait the site would really give.

    Examples
    --------
    >>> v = [0.0] * 24
    >>> v[20], v[21] = 4.0, 2.0
    >>> plan = booth_plan(v, service_min=30.0, target_wait_min=5.0)
    >>> at8pm = plan.loc[20]
    >>> int(plan["booths"].max()), float(at8pm["erlangs"]), round(float(at8pm["mean_wait_min"]), 2)
    (4, 2.0, 2.61)
    """
    v = np.asarray(visits_by_hour, dtype=np.float64).ravel()
    if len(v) != 24 or not np.all(np.isfinite(v)) or np.any(v < 0):
        msg = "`visits_by_hour` needs 24 finite values >= 0 (hours 0..23)"
        raise InputError(msg)
    is_open = np.ones(24, bool) if open_hours is None else np.asarray(open_hours, bool).ravel()
    if len(is_open) != 24:
        msg = "`open_hours` needs 24 booleans (hours 0..23)"
        raise InputError(msg)
    s = _service(service_min)
    need = [
        booths_for_wait(float(x), service_min=s, target_wait_min=target_wait_min) if o else 0
        for x, o in zip(v, is_open, strict=True)
    ]
    site = max(need) if need else 0
    erl = np.where(is_open, v * s / 60.0, 0.0)
    p_wait = [erlang_c(site, a) if (o and site) else 0.0 for a, o in zip(erl, is_open, strict=True)]
    wait = [mean_wait_min(site, x, s) if (o and site) else 0.0 for x, o in zip(v, is_open, strict=True)]
    return pd.DataFrame(
        {
            "open": is_open,
            "visits": np.where(is_open, v, 0.0),
            "erlangs": erl,
            "booths": need,
            "p_wait": p_wait,
            "mean_wait_min": wait,
        },
        index=pd.RangeIndex(24, name="hour"),
    )


def arrivals_within_wait(
    booths: int,
    *,
    service_min: float = DEFAULT_SERVICE_MIN,
    target_wait_min: float = DEFAULT_TARGET_WAIT_MIN,
) -> float:
    """The most visits an hour ``booths`` take with the mean wait at or under the target.

    The inverse of :func:`booths_for_wait` (bisection to 1e-9 visits an hour; the mean wait
    grows with the arrivals).

    A hand check: one booth is an M/M/1 queue, whose mean wait is ``rho x service / (1 - rho)``;
    5 minutes at 27-minute visits needs ``rho = 5/32``, 0.347 visits an hour.

    >>> round(arrivals_within_wait(1), 4), round(5 / 32 * 60 / 27, 4)
    (0.3472, 0.3472)
    >>> arrivals_within_wait(0)
    0.0
    """
    n = _servers(booths)
    s = _service(service_min)
    if not (math.isfinite(target_wait_min) and target_wait_min >= 0):
        msg = f"`target_wait_min` must be a number of minutes >= 0, got {target_wait_min}"
        raise InputError(msg)
    if n == 0:
        return 0.0
    lo, hi = 0.0, n * 60.0 / s  # at hi the queue is unstable
    while hi - lo > 1e-9:
        mid = (lo + hi) / 2
        if mean_wait_min(n, mid, s) <= target_wait_min:
            lo = mid
        else:
            hi = mid
    return lo


def visits_within_wait(
    booths: int,
    profile: npt.ArrayLike,
    *,
    open_hours: npt.ArrayLike | None = None,
    service_min: float = DEFAULT_SERVICE_MIN,
    target_wait_min: float = DEFAULT_TARGET_WAIT_MIN,
) -> float:
    """A site's capacity in visits a day by the queue: the most visits ``booths`` take in a
    day, visits spread over the hours like ``profile`` (24 values), with the mean wait at or
    under the target in every open hour.

    The busiest open hour decides: capacity is :func:`arrivals_within_wait` divided by that
    hour's share of the day's visits. This is the figure a capacitated selection uses with
    ``--capacity-rule erlang``, in place of booths x 40 uses a day; it agrees with
    :func:`booth_plan`, which asks for at most ``booths`` booths for up to this many visits.

    A hand check: one booth, visits spread evenly over 18 open hours, 27-minute visits and a
    5-minute mean wait: 0.347 an hour, 6.25 a day (the 40-uses rule would say 40).

    >>> prof = [1.0] * 18 + [0.0] * 6
    >>> round(visits_within_wait(1, prof), 2)
    6.25
    >>> visits_within_wait(3, [0.0] * 24)
    0.0
    """
    v = np.asarray(profile, dtype=np.float64).ravel()
    if len(v) != 24 or not np.all(np.isfinite(v)) or np.any(v < 0):
        msg = "`profile` needs 24 finite values >= 0 (hours 0..23)"
        raise InputError(msg)
    is_open = np.ones(24, bool) if open_hours is None else np.asarray(open_hours, bool).ravel()
    if len(is_open) != 24:
        msg = "`open_hours` needs 24 booleans (hours 0..23)"
        raise InputError(msg)
    total = float(v.sum())
    peak = float(v[is_open].max()) / total if total > 0 and is_open.any() else 0.0
    if peak <= 0:
        return 0.0
    return arrivals_within_wait(booths, service_min=service_min, target_wait_min=target_wait_min) / peak


def traffic_for(servers: int, p_wait: float) -> float:
    """The offered load (erlangs) at which ``servers`` give a probability of waiting ``p_wait``.

    The inverse used by printed Erlang C tables (bisection to 1e-10 erlangs).

    >>> round(traffic_for(8, 0.05), 2), round(traffic_for(10, 0.01), 2)
    (3.87, 4.08)
    """
    n = _servers(servers)
    if not 0 < p_wait < 1:
        msg = f"`p_wait` must be strictly between 0 and 1, got {p_wait}"
        raise InputError(msg)
    lo, hi = 0.0, float(n)
    while hi - lo > 1e-10:
        mid = (lo + hi) / 2
        if erlang_c(n, mid) < p_wait:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _servers(n: int) -> int:
    if int(n) != n or n < 0:
        msg = f"the number of booths must be a whole number >= 0, got {n!r}"
        raise InputError(msg)
    return int(n)


def _traffic(a: float) -> float:
    a = float(a)
    if not (math.isfinite(a) and a >= 0):
        msg = f"offered load must be a number of erlangs >= 0, got {a}"
        raise InputError(msg)
    return a


def _service(s: float) -> float:
    s = float(s)
    if not (math.isfinite(s) and s > 0):
        msg = f"`service_min` must be a positive number of minutes, got {s}"
        raise InputError(msg)
    return s
