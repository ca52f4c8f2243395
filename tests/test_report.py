"""The printable report: sections, charts, escaping, determinism, no scripts or links."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from test_maps import XSS, make_plan

from siting import report

if TYPE_CHECKING:
    from pathlib import Path

    from siting.plan import Plan

SENS = pd.DataFrame(
    {
        "cutoff_min": [5.0] * 3 + [10.0] * 3 + [15.0] * 3,
        "n_sites": [1, 2, 3] * 3,
        "covered_demand_share": [0.2, 0.3, 0.35, 0.4, 0.6, 0.7, 0.55, 0.75, 0.85],
    }
)


@pytest.fixture(scope="module")
def plan() -> Plan:
    return make_plan()


@pytest.fixture(scope="module")
def text(plan: Plan) -> str:
    # the exact report's structure (the test plan's curve and impact are made up, so the
    # shareable report leaves them out: tests/test_release.py checks that one)
    return report.report_html(plan, sensitivity=SENS, internal=True)


def test_every_section_is_there(text: str) -> None:
    for h in (
        "What was run",
        "Chosen sites and why",
        "Ranked candidates",
        "coverage curve",
        "Sensitivity to the walking cutoff",
        "Impact",
        "When incidents happen",
        "Hotspots",
        "Privacy rule applied",
        "Assumptions",
        "Parameters",
        "Manifest",
    ):
        assert f"<h2>{h}" in text or h in text, h
    assert "ab" * 32 in text  # the input's SHA-256
    assert "Marshall et al. 2011" in text and "Rammohan" in text
    assert "fewer than 11" in text
    assert "covers the most demand" in text


def test_charts_are_inline_svg(text: str) -> None:
    svgs = re.findall(r"<svg .*?</svg>", text)
    assert len(svgs) >= 4  # coverage, sensitivity, hour, weekday
    sens = next(s for s in svgs if "Coverage by cutoff" in s)
    assert sens.count("<polyline") == 3
    for label in ("5 min", "10 min", "15 min"):
        assert label in sens


def test_self_contained_and_script_free(plan: Plan, text: str) -> None:
    shareable = report.report_html(plan)
    for page in (text, shareable):
        assert "<script" not in page.lower()
        assert not re.search(r"(src|href)=\"?https?:", page)
    assert 'content="internal"' in text and 'content="public"' in shareable


def test_user_strings_are_escaped(text: str) -> None:
    assert XSS not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_ranked_table_is_in_rank_order(text: str) -> None:
    section = text.split("Ranked candidates", 1)[1].split("</table>", 1)[0]
    ids = re.findall(r"<tr><td class=\"n\">(\d+)</td><td>([^<]*)</td>", section)
    assert [int(r) for r, _ in ids] == [1, 2, 3, 4, 5]
    assert ids[0][1] == "A-1"


def test_same_inputs_give_the_same_report(plan: Plan) -> None:
    a = report.report_html(make_plan(), sensitivity=SENS)
    b = report.report_html(make_plan(), sensitivity=SENS)  # shareable: the release is deterministic
    assert a == b


def test_small_counts_in_time_profile_are_hatched() -> None:
    plan = make_plan()
    plan.demand = plan.demand.iloc[:30]
    text = report.report_html(plan)
    assert 'fill="url(#hatch)"' in text
    assert "Hatched bars: fewer than 11" in text


def test_tiny_incident_total_is_suppressed() -> None:
    plan = make_plan()
    plan.demand = plan.demand.iloc[:7]
    text = report.report_html(plan)
    assert "<th>Incidents</th><td>fewer than 11</td>" in text


def test_missing_parts_say_so() -> None:
    plan = make_plan(with_sites=False)
    plan.coverage_curve = plan.impact = plan.hotspots = None
    plan.demand = plan.demand.drop(columns="date")
    text = report.report_html(plan)
    assert "No sites were chosen" in text
    assert "No coverage curve" in text and "No impact estimate" in text
    assert "no time profile" in text and "No cutoff sensitivity" in text


def test_internal_report_is_marked(plan: Plan) -> None:
    text = report.report_html(plan, internal=True)
    assert 'content="internal"' in text and "INTERNAL" in text


def test_ranked_table_cap(plan: Plan) -> None:
    text = report.report_html(plan, max_rows=2)
    assert "Showing the 2 best ranked of 5 candidates" in text


def test_save_report_writes_atomically(plan: Plan, tmp_path: Path) -> None:
    out = report.save_report(plan, tmp_path / "r" / "report.html", sensitivity=SENS)
    assert out.read_text(encoding="utf-8") == report.report_html(plan, sensitivity=SENS)
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]


def test_demo_report_is_identical_across_runs() -> None:
    from siting.cli.demo import demo_data_folder
    from siting.cli.run import read_scenario_file
    from siting.pipeline import prepare, score_plan

    scenario, _ = read_scenario_file(demo_data_folder() / "scenario.toml")
    a = report.report_html(score_plan(prepare(scenario)))
    b = report.report_html(score_plan(prepare(scenario)))
    assert a == b
    assert "Central Helsinki" in a
