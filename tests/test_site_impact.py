"""Per-site figures: attendance at the most attractive site, deaths at the nearest, hours, booths."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from siting._errors import InputError
from siting.decay import DecayCurve
from siting.site_impact import SiteSettings, site_tables


def _two_sites() -> dict:
    # incidents:     0     1     2     3      4
    minutes = np.array(
        [
            [1.0, 4.0, 9.0, np.inf, np.inf],  # site a
            [np.inf, 2.0, np.inf, 5.0, 11.0],  # site b
        ]
    )
    metres = minutes * 80.0
    return {"minutes": minutes, "metres": metres}


def test_two_sites_by_hand() -> None:
    """Linear to 10 min. Incident 1 is 4 min from a (0.6) and 2 min from b (0.8): it attends b.
    a: 0.9 + 0.1 = 1.0; b: 0.8 + 0.5 = 1.3 (incident 4, 11 min, is beyond the curve).
    Fatal 0 (80 m from a), 1 (160 m from b, its nearest) and 3 (400 m from b): a averts
    0.35 low; b 0.70 low, 2 x 0.51 central, 2 x 0.67 high."""
    m = _two_sites()
    t = site_tables(["a", "b"], **m, cutoff_min=10, fatal=[1, 1, 0, 1, 0])
    si = t["site_impact"].set_index("candidate_id")
    assert si.loc["a", "attendance"] == pytest.approx(1.0) and si.loc["b", "attendance"] == pytest.approx(1.3)
    assert si["incidents_within_cutoff"].tolist() == [3, 2]  # reachable counts overlap: incident 1 in both
    assert si.loc["a", ["deaths_low", "deaths_central", "deaths_high"]].tolist() == pytest.approx(
        [0.35, 0.51, 0.67]
    )
    assert si.loc["b", ["deaths_low", "deaths_central", "deaths_high"]].tolist() == pytest.approx(
        [0.70, 1.02, 1.34]
    )
    bands = t["deaths_bands"].set_index("band")
    assert bands.loc["total", "fatal_incidents"] == 3 and bands.loc["total", "low"] == pytest.approx(1.05)
    assert "Marshall" in bands.loc["0-500 m", "source"]
    # no hours, no visits: said so, not zero
    assert si.loc["a", "hours_text"].startswith("no time of day") and np.isnan(si.loc["a", "booths_erlang"])
    assert t["site_hours"].empty


def test_counts_not_weights_and_curves() -> None:
    m = _two_sites()
    t = site_tables(
        ["a", "b"],
        **m,
        cutoff_min=10,
        counts=[2, 1, 1, 1, 1],
        settings=SiteSettings(curve=DecayCurve.parse("step:cutoff=10")),
    )
    si = t["site_impact"].set_index("candidate_id")
    # step: incident 0 counts twice (two incidents there); incident 1 goes to a (ties: first site)
    assert si.loc["a", "attendance"] == 4.0 and si.loc["b", "attendance"] == 1.0
    assert np.isnan(si.loc["a", "deaths_low"])  # no fatal column: not estimated, not 0
    assert t["deaths_bands"].empty


def test_hours_and_booths() -> None:
    """One site, 100 incidents 1 minute away: 90 between 20:00 and 22:00, 10 at 03:00.
    500 visits a day for the layer; every incident attends at 0.9 so the site gets 450."""
    n = 100
    minutes = np.ones((1, n))
    hours = np.array([20] * 45 + [21] * 45 + [3] * 10)
    t = site_tables(
        ["a"],
        minutes=minutes,
        metres=minutes * 80,
        cutoff_min=10,
        hours=hours,
        settings=SiteSettings(demand_per_day=500.0),
    )
    row = t["site_impact"].iloc[0]
    assert (
        row["hours_window"] == "20:00-22:00"
        and row["hours_text"] == "20:00-22:00 reaches 90%; 95% needs 8 hours"
    )
    assert row["visits_per_day"] == pytest.approx(450.0)
    assert row["booths_rule"] == 12  # ceil(450 / 40)
    # the window is open 2 hours: 405 visits in 2 hours is 202.5 an hour, 91 erlangs at 27 min
    assert row["booths_erlang"] > 91 and row["peak_hour"] in (20, 21)
    assert row["peak_wait_min"] <= 5.0
    prof = t["site_hours"]
    assert prof["incidents"].sum() == 100 and prof.set_index("hour").loc[3, "incidents"] == 10


def test_bad_shapes() -> None:
    with pytest.raises(InputError):
        site_tables(["a", "b"], minutes=np.ones((1, 3)), metres=np.ones((1, 3)), cutoff_min=10)
    with pytest.raises(InputError):
        site_tables(["a"], minutes=np.ones((1, 3)), metres=np.ones((1, 3)), cutoff_min=10, fatal=[1])
    assert isinstance(
        site_tables(["a"], minutes=np.ones((1, 2)), metres=np.ones((1, 2)), cutoff_min=10)["site_impact"],
        pd.DataFrame,
    )
