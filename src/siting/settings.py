"""Typed, documented defaults in one place, with their sources (see DESIGN.md)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

#: Walking speed in metres per minute (4.8 km/h, a common pedestrian planning speed).
walking_speed_m_per_min: float = 80.0
#: Coverage cutoff in minutes; 5 and 15 are the sensitivity cases (Bórquez et al., NYC OPCs).
cutoff_min: float = 10.0
sensitivity_cutoffs_min: tuple[float, ...] = (5.0, 10.0, 15.0)
#: Points farther than this from any street are reported and left out, never moved.
max_snap_m: float = 250.0
#: Effect zone for impact estimates, metres on the street network (Marshall et al. 2011).
effect_zone_m: float = 500.0
#: Number of sites to choose (King County approved two).
n_sites: int = 2
#: Supervised uses per booth per day (Insite: about 500 a day on 12-13 booths).
uses_per_booth_per_day: float = 40.0
#: Public outputs show counts 1..threshold as "fewer than threshold+1" (CMS cell-size rule).
suppression_threshold: int = 10
#: Random seed for every stochastic step.
seed: int = 0
#: Demand rows at the same place within this many minutes of a kept row are duplicate calls
#: (several units dispatched, or a caller phoning again, for one overdose); 0 keeps them all.
duplicate_minutes: float = 30.0
#: Points closer than this (metres) are "the same place" when looking for duplicate calls:
#: geocoding one address twice gives the same point.
duplicate_place_m: float = 1.0
#: Tolerance in metres for joining near-coincident line ends in street-centreline layers.
snap_ends_tolerance_m: float = 1.0
#: Where built networks are cached.
cache_folder: Path = Path(os.environ.get("SITING_CACHE", Path.home() / ".cache" / "siting"))
#: Use the on-disk network cache.
use_cache: bool = True
#: Level of the ``siting`` logger.
log_level: int = logging.WARNING

logger = logging.getLogger("siting")
