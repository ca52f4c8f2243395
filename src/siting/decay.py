"""How the chance of attending a site falls with walking time: four documented curves.

An attendance curve ``a(t)`` gives, for a walk of ``t`` minutes, the share of an incident's
demand expected to attend the site (1 at the door, falling with distance). The
"maximise attendance" model (:class:`siting.locate.MaximizeAttendance`) sends each
incident to its most attractive open site and counts ``w x a(t)``, as ArcGIS's Maximize
Attendance does.

The curves, with their defaults and where the defaults come from
-----------------------------------------------------------------
Two published facts anchor the defaults:

* the **10-minute walk** used for coverage (5- and 10-minute walks were used to
  evaluate New York's overdose prevention centres, Bórquez et al.; people who inject drugs
  living within a ten-minute walk of a syringe exchange used it more often, 81% against
  59%: Rockwell R, Des Jarlais DC, Friedman SR, Perlis TE, Paone D. Geographic proximity,
  policy and utilization of syringe exchange programmes. AIDS Care 1999;11:437-42);
* **over 70% of Insite's frequent users lived within four blocks** (Marshall BDL et al.,
  Lancet 2011;377:1429-37). Four blocks are taken as about 400 m, 5 minutes at 80 m/min.

``step`` (``cutoff`` 10 min)
    1 up to the cutoff, 0 beyond: the coverage models' assumption.
``linear`` (``cutoff`` 10 min)
    ``1 - t/T`` down to 0 at ``T``: ArcGIS's default (linear) decay with the 10-minute
    cutoff. With demand spread evenly along walking time it puts 75% of attendance within
    5 minutes, in line with the "over 70% within four blocks" above.
``exponential`` (``half`` 2.88 min)
    ``2 ** (-t / half)``: the half-life is set so that 70% of attendance comes from within
    5 minutes (four blocks), demand spread evenly along walking time.
``logistic`` (``mid`` 5 min, ``scale`` 2.27 min)
    ``(1 + e^(-mid/scale)) / (1 + e^((t - mid)/scale))`` (1 at the door): an S-curve whose
    steepest fall is at four blocks, its scale set so that 70% of attendance comes from
    within them, as for the exponential. It keeps near-full attendance for the first
    couple of minutes, which the exponential does not.

The exponential and logistic curves never reach 0; they are cut at ``limit`` (default 15
minutes, the longest walk the cutoff sensitivity already computes), beyond which a site
draws nobody. Every parameter is settable (``exponential:half=4``,
``logistic:mid=6:scale=2``, ``linear:cutoff=12``, ``exponential:limit=20``).

Calibrating to "70% within four blocks" assumes demand spread evenly along walking time
around a site. Demand that crowds close to a site (sites go where the overdoses are) means
the true decay is gentler than these defaults; a planner with local survey data should
set the parameters from it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import numpy.typing as npt

from . import settings
from ._errors import InputError

F64 = npt.NDArray[np.float64]

Kind = Literal["step", "linear", "exponential", "logistic"]
KINDS: tuple[Kind, ...] = ("step", "linear", "exponential", "logistic")

#: Four blocks in minutes (about 400 m at 80 m/min) and the share of Insite's frequent
#: users who lived within them (Marshall et al., Lancet 2011: "over 70%").
FOUR_BLOCKS_MIN = 5.0
SHARE_WITHIN_FOUR_BLOCKS = 0.70
#: Where the exponential and logistic curves are cut (minutes): the widest sensitivity cutoff.
DEFAULT_LIMIT_MIN = max(settings.sensitivity_cutoffs_min)

SOURCE_CUTOFF = (
    "10-minute walk: Bórquez et al. (NYC overdose prevention centres); Rockwell et al., "
    "AIDS Care 1999 (81% vs 59% syringe-exchange use within vs beyond a 10-minute walk)"
)
SOURCE_FOUR_BLOCKS = (
    "over 70% of Insite's frequent users lived within four blocks (about 400 m, 5 min): "
    "Marshall et al., Lancet 2011"
)
SOURCE_ARCGIS = "ArcGIS Location-Allocation, Maximize Attendance, linear decay (the default)"


def _exponential_half_min() -> float:
    """Half-life putting SHARE_WITHIN_FOUR_BLOCKS of attendance within FOUR_BLOCKS_MIN."""
    # share within T of an exponential: 1 - 2^(-T/h)  =>  h = T ln2 / -ln(1 - share)
    return FOUR_BLOCKS_MIN * math.log(2.0) / -math.log(1.0 - SHARE_WITHIN_FOUR_BLOCKS)


def _logistic_scale_min() -> float:
    """Scale of a logistic centred on FOUR_BLOCKS_MIN with the same share within it."""
    # integral of 1/(1+e^((t-m)/s)) over [0, inf) is s ln(1 + e^(m/s)); over [0, m] it is
    # s ln(1 + e^(m/s)) - s ln 2, so share within m = 1 - ln2 / ln(1 + e^(m/s)).
    x = math.log(math.expm1(math.log(2.0) / (1.0 - SHARE_WITHIN_FOUR_BLOCKS)))
    return FOUR_BLOCKS_MIN / x


@dataclass(frozen=True)
class DecayCurve:
    """An attendance curve: the share of demand that attends a site ``t`` minutes away.

    Attributes
    ----------
    kind
        ``step``, ``linear``, ``exponential`` or ``logistic``.
    cutoff
        Minutes: where ``step`` drops to 0 and ``linear`` reaches 0.
    half
        Minutes: the exponential's half-life.
    mid, scale
        Minutes: the logistic's midpoint (where it falls fastest) and scale.
    limit
        Minutes: the exponential and logistic curves are 0 beyond it.

    Examples
    --------
    >>> c = DecayCurve.default("linear")
    >>> c([0, 5, 10, 12]).tolist()
    [1.0, 0.5, 0.0, 0.0]
    >>> DecayCurve.parse("exponential:half=2")([0, 2, 4]).tolist()
    [1.0, 0.5, 0.25]
    >>> DecayCurve.parse("step:cutoff=5")([5, 5.01]).tolist()
    [1.0, 0.0]
    """

    kind: Kind
    cutoff: float = settings.cutoff_min
    half: float = None  # type: ignore[assignment]  # None: the documented default
    mid: float = FOUR_BLOCKS_MIN
    scale: float = None  # type: ignore[assignment]
    limit: float = DEFAULT_LIMIT_MIN

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            msg = f"decay curve {self.kind!r} is unknown; use one of {', '.join(KINDS)}"
            raise InputError(msg)
        # the documented defaults, unless set
        if self.half is None:
            object.__setattr__(self, "half", _exponential_half_min())
        if self.scale is None:
            object.__setattr__(self, "scale", _logistic_scale_min())
        for name in ("cutoff", "half", "mid", "scale", "limit"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v > 0):
                msg = f"decay curve `{name}` must be a positive number of minutes, got {v!r}"
                raise InputError(msg)

    @classmethod
    def default(cls, kind: str = "linear") -> DecayCurve:
        """The curve of this kind with its documented, sourced defaults."""
        return cls(kind)  # type: ignore[arg-type]

    @classmethod
    def parse(cls, text: str) -> DecayCurve:
        """From ``KIND[:param=value...]``, e.g. ``logistic:mid=6:scale=2``.

        Parameters are minutes; a unit-less number or one ending in ``min`` is accepted.
        """
        parts = [p.strip() for p in str(text).split(":") if p.strip()]
        if not parts:
            msg = f"decay curve {text!r} is empty; use one of {', '.join(KINDS)}"
            raise InputError(msg)
        kind = parts[0].lower()
        if kind not in KINDS:
            msg = f"decay curve {parts[0]!r} is unknown; use one of {', '.join(KINDS)}"
            raise InputError(msg)
        allowed = {
            "step": {"cutoff"},
            "linear": {"cutoff"},
            "exponential": {"half", "limit"},
            "logistic": {"mid", "scale", "limit"},
        }[kind]
        curve = cls(kind)  # type: ignore[arg-type]
        changes: dict[str, float] = {}
        for p in parts[1:]:
            key, eq, value = p.partition("=")
            key = key.strip().lower()
            if not eq or key not in allowed:
                msg = (
                    f"decay curve {text!r}: {p!r} is not a parameter of {kind}; "
                    f"use {', '.join(sorted(allowed))} (minutes), e.g. {kind}:{sorted(allowed)[0]}=5"
                )
                raise InputError(msg)
            v = value.strip().lower().removesuffix("min").strip()
            try:
                changes[key] = float(v)
            except ValueError:
                msg = f"decay curve {text!r}: {key}={value!r} is not a number of minutes"
                raise InputError(msg) from None
        return replace(curve, **changes)

    @property
    def reach(self) -> float:
        """Minutes beyond which attendance is 0."""
        return self.cutoff if self.kind in ("step", "linear") else self.limit

    def __call__(self, minutes: npt.ArrayLike) -> F64:
        """Attendance share (0..1) for each walking time in minutes (``inf``/``NaN``: 0)."""
        t = np.asarray(minutes, dtype=np.float64)
        if np.any(t < 0):
            msg = "walking times must be >= 0 minutes"
            raise InputError(msg)
        ok = np.isfinite(t) & (t <= self.reach)
        tt = np.where(ok, t, 0.0)
        if self.kind == "step":
            a = np.ones_like(tt)
        elif self.kind == "linear":
            a = 1.0 - tt / self.cutoff
        elif self.kind == "exponential":
            a = np.exp2(-tt / self.half)
        else:
            a = (1.0 + math.exp(-self.mid / self.scale)) / (1.0 + np.exp((tt - self.mid) / self.scale))
        return np.where(ok, np.clip(a, 0.0, 1.0), 0.0)

    def describe(self) -> str:
        """The formula and parameters in words, for the report and summaries.

        >>> DecayCurve.default("exponential").describe()
        'exponential: 2^(-t / 2.88 min), 0 beyond 15 min'
        """
        if self.kind == "step":
            return f"step: 1 within {self.cutoff:g} min, 0 beyond"
        if self.kind == "linear":
            return f"linear: 1 - t / {self.cutoff:g} min, 0 beyond {self.cutoff:g} min"
        if self.kind == "exponential":
            return f"exponential: 2^(-t / {self.half:.3g} min), 0 beyond {self.limit:g} min"
        return (
            f"logistic: falls fastest at {self.mid:.3g} min, scale {self.scale:.3g} min, "
            f"0 beyond {self.limit:g} min"
        )

    def source(self) -> str:
        """Where the default parameters come from (the report prints it next to the curve)."""
        if self.kind == "step":
            return SOURCE_CUTOFF
        if self.kind == "linear":
            return f"{SOURCE_ARCGIS}; cutoff: {SOURCE_CUTOFF}"
        return f"calibrated so that 70% of attendance lies within four blocks: {SOURCE_FOUR_BLOCKS}"

    def spec(self) -> str:
        """The text :meth:`parse` reads back into this curve (for run parameters).

        >>> DecayCurve.parse(DecayCurve.parse("logistic:mid=6").spec()) == DecayCurve.parse("logistic:mid=6")
        True
        """
        if self.kind in ("step", "linear"):
            return f"{self.kind}:cutoff={self.cutoff!r}"
        if self.kind == "exponential":
            return f"exponential:half={self.half!r}:limit={self.limit!r}"
        return f"logistic:mid={self.mid!r}:scale={self.scale!r}:limit={self.limit!r}"

    def is_default(self) -> bool:
        """Whether the parameters are the documented defaults (else the planner set them)."""
        return self == DecayCurve(self.kind)

    def share_within(self, minutes: float, *, step: float = 1e-3) -> float:
        """Share of the curve's attendance within ``minutes``, demand spread evenly along
        walking time, before the ``limit`` cut (the calibration the defaults use).

        >>> round(DecayCurve.default("linear").share_within(5), 3)
        0.75
        >>> round(DecayCurve.default("exponential").share_within(FOUR_BLOCKS_MIN), 3)
        0.7
        """
        top = self.reach if self.kind in ("step", "linear") else 60.0 * max(self.half, self.scale, 1.0)
        uncut = replace(self, limit=max(top, self.limit))
        t = np.arange(0.0, uncut.reach + step, step)
        a = uncut(t)
        total = float(np.trapezoid(a, t))
        inside = float(np.trapezoid(np.where(t <= minutes, a, 0.0), t))
        return inside / total if total > 0 else 0.0
