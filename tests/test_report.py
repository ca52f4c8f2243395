"""The printable report: the recommendation first, released figures, print layout, manifest.

Hand-made plans check sections, escaping and determinism; the demo run (sites chosen,
findings computed) checks the first page; a browser prints it to PDF (page count, and
page 1 holds the recommendation, the chosen sites and the map figure).
"""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import pandas as pd
import pytest
from test_maps import XSS, make_plan

from siting import privacy, report

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
    p = make_plan()
    p.manifest["inputs"] = [
        {"path": "/home/analyst/secret-project/incidents.csv", "sha256": "ab" * 32, "role": "demand"}
    ]
    p.manifest["network"] = {"source": "/home/analyst/secret-project/streets.gpkg", "nodes": 36}
    p.parameters["layers"] = {"pharmacies": {"role": "amenity", "weight": 0.5, "path": "/home/analyst/p.csv"}}
    sets = ["A-1", "B-2", "D&4", XSS, "E-5"]
    p.coverage_curve["chosen"] = [";".join(sets[: k + 1]) for k in range(5)]
    return p


@pytest.fixture(scope="module")
def text(plan: Plan) -> str:
    # the exact report's structure (the test plan's curve and impact are made up, so the
    # shareable report leaves them out: tests/test_release.py checks that one)
    return report.report_html(plan, sensitivity=SENS, internal=True)


@pytest.fixture(scope="module")
def demo() -> tuple[Any, Any]:
    """The demo run with sites chosen (findings, reasons), and its release."""
    from siting.cli.demo import demo_data_folder
    from siting.cli.run import read_scenario_file
    from siting.pipeline import prepare, score_plan
    from siting.selection import SelectionSpec, choose_sites

    sc, _ = read_scenario_file(demo_data_folder() / "scenario.toml")
    prep = prepare(sc, wide=True)
    p = score_plan(prep)
    choose_sites(prep, p, SelectionSpec.from_mapping(sc.selection))
    return p, privacy.release_plan(p)


@pytest.fixture(scope="module")
def demo_text(demo: tuple[Any, Any]) -> str:
    p, rel = demo
    return report.report_html(p, released=rel)


def test_every_section_is_there(text: str) -> None:
    for h in (
        "Why not the higher-ranked candidates",
        "Ranked candidates",
        "coverage curve",
        "Sensitivity to the walking cutoff",
        "Impact",
        "When incidents happen",
        "Hotspots",
        "Terms used",
        "Privacy rule applied",
        "What was run",
        "Assumptions",
        "Parameters",
        "Manifest",
    ):
        assert f"<h2>{h}" in text or h in text, h
    assert "ab" * 32 in text  # the input's SHA-256
    assert "Marshall et al." in text and "Rammohan" in text
    assert "fewer than 11" in text


def test_manifest_and_parameters_hold_file_names_not_local_paths(text: str) -> None:
    assert "incidents.csv" in text and "streets.gpkg" in text
    assert "/home/" not in text and "secret-project" not in text


def test_labels_are_defined(text: str) -> None:
    terms = text.split("<h2>Terms used</h2>", 1)[1].split("</table>", 1)[0]
    for term in ("Incidents", "Demand weight", "Reaches", "Reaches alone", "Nearest site for"):
        assert f"<th>{term}</th>" in terms, term


def test_charts_are_inline_svg_and_sit_with_their_tables(text: str) -> None:
    svgs = re.findall(r"<svg .*?</svg>", text)
    assert len(svgs) >= 4  # map figure, coverage, sensitivity, hour, weekday
    sens = next(s for s in svgs if "Coverage by cutoff" in s)
    assert sens.count("<polyline") == 3
    for label in ("5 min", "10 min", "15 min"):
        assert label in sens
    # each chart and its table share one block that printing keeps together
    for title in ("reached by the best set of n sites", "Coverage by cutoff"):
        assert re.search(rf'<div class="pair"><svg [^>]*>(?:(?!</svg>).)*{title}.*?</svg><table', text), title
    assert ".pair" in text and "break-inside:avoid" in text


def test_self_contained_and_script_free(plan: Plan, text: str) -> None:
    shareable = report.report_html(plan)
    for page in (text, shareable):
        assert "<script" not in page.lower()
        assert not re.search(r"(src|href)=\"?https?:", page)
    assert 'content="internal"' in text and 'content="public"' in shareable


def test_user_strings_are_escaped(text: str) -> None:
    assert XSS not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_ranked_table_highlights_chosen_sites_in_rank_order(text: str) -> None:
    section = text.split("Ranked candidates", 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr class="([^"]*)"><td class="n">(\d*)</td><td>([^<]*)', section)
    assert [int(r) for _, r, _ in rows] == [1, 2, 3, 4, 5]
    assert rows[0][2] == "A-1" and rows[0][0] == "chosen" and rows[1][0] == "chosen"
    assert rows[2][0] == ""


def test_exclusion_reasons_are_footnotes_not_long_cells(text: str) -> None:
    section = text.split("Ranked candidates", 1)[1].split("</section>", 1)[0]
    assert section.count("within 200 m of a school &lt;script&gt;") == 1  # once, as a footnote
    assert "excluded <sup>a</sup>" in section


def test_incident_figures_are_released(plan: Plan) -> None:
    rel = privacy.release_plan(plan)
    text = report.report_html(plan, released=rel)
    section = text.split("Ranked candidates", 1)[1].split("</table>", 1)[0]
    cells = re.findall(r'<tr class="[^"]*"><td class="n">\d*</td><td>[^<]*</td><td class="n">[^<]*</td>'
                       r'<td class="n">([^<]*)</td>', section)  # fmt: skip
    assert cells and set(cells) <= set(rel.candidates["covered_incidents_label"])
    exact = {str(v) for v in plan.candidates["covered_incidents"]}
    assert not (set(cells) & exact - {"fewer than 11"})


def test_same_inputs_give_the_same_report() -> None:
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


# ------------------------------------------------------------------ the demo's first page
def test_first_page_leads_with_the_recommendation(demo_text: str) -> None:
    first = demo_text.split('<section class="first">', 1)[1].split("</section>", 1)[0]
    assert "Recommended: C001 &middot; Luckan and C057" in first
    assert re.search(
        r"Together they reach <b>\d+% of incidents</b> \([\d,]+ of [\d,]+\) within a 10-minute walk", first
    )
    assert "C001 ranks 3 of" in first
    assert "ranking of candidates and the choice of sites were made on the exact data" in first
    svg = re.search(r'<svg [^>]*class="siting-figure".*?</svg>', first)
    assert svg is not None and "C001 Luckan" in svg.group(0) and "Kaivokatu" in svg.group(0)
    assert first.count('<tr class="chosen">') == 2
    assert "204 m from Ressun lukio; rule 200 m" in first


def test_first_page_flags_what_the_planner_must_see(demo_text: str) -> None:
    first = demo_text.split('<section class="first">', 1)[1].split("</section>", 1)[0]
    flags = first.split("Check before deciding", 1)[1]
    assert re.search(r"The best set of 3 sites \(.*\) drops C001 &middot; Luckan and C057", flags)
    assert "&ldquo;open 2 now, add 1 later&rdquo; does not hold" in flags
    assert re.search(
        r"At 5 minutes the chosen sites reach \d+% of incidents against \d+% for the best set", flags
    )
    assert "is chosen because of the rule &ldquo;West (Kamppi) &gt;= 1&rdquo;" in flags
    assert "C057 &middot; Vacant storefront 10 (synthetic) ranks 17 by score" in flags


def test_why_not_table_gives_a_reason_for_every_higher_ranked_candidate(demo_text: str) -> None:
    section = demo_text.split("Why not the higher-ranked candidates", 1)[1].split("</table>", 1)[0]
    reasons = re.findall(r"<td>([^<]*(?:<[^/][^>]*>[^<]*)*)</td></tr>", section)
    assert len(reasons) >= 10
    assert any(r.startswith("Overlap:") for r in reasons) and any(r.startswith("Excluded:") for r in reasons)
    assert any("kept it out" in r for r in reasons)


def test_report_prints_with_the_recommendation_on_page_one(
    browser: Any, demo_text: str, tmp_path: Path
) -> None:
    """Chromium's print to PDF: a few pages, and page 1 holds the summary, the sites and the map."""
    from pypdf import PdfReader

    path = tmp_path / "report.html"
    path.write_text(demo_text, encoding="utf-8")
    ctx = browser.new_context()
    try:
        page = ctx.new_page()
        page.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
        )
        page.goto(path.as_uri())
        page.emulate_media(media="print")
        # no table cell wraps over eight lines in print (exclusion reasons are footnotes)
        lines = page.evaluate(
            "() => Math.max(...[...document.querySelectorAll('td')].map(td => {"
            " const s = getComputedStyle(td);"
            " const lh = parseFloat(s.lineHeight) || 1.3 * parseFloat(s.fontSize);"
            " return (td.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom)) / lh; }))"
        )
        assert 1 <= lines <= 8, lines
        pdf = page.pdf(format="A4", print_background=True)
    finally:
        ctx.close()
    reader = PdfReader(io.BytesIO(pdf))
    assert 3 <= len(reader.pages) <= 14, len(reader.pages)
    first = reader.pages[0].extract_text()
    assert "Recommended: C001" in first and "C057" in first
    assert "Together they reach" in first
    assert "Figure 1" in first and "Kaivokatu" in first  # the map figure, its street names drawn as text
    assert "204 m from Ressun lukio" in first  # the chosen sites' table
    # the flagged findings print on page 1 too, not alone on a page of their own
    flags = " ".join(first.split("Check before deciding", 1)[1].split())
    assert "The best set of 3 sites" in flags and "does not hold" in flags
    assert "At 5 minutes the chosen sites reach" in flags and "because of the rule" in flags
    assert "Why not the higher-ranked candidates" not in first  # page 1 is the recommendation only


def test_impact_table_shows_each_figure_once_as_text(demo_text: str) -> None:
    # one value per measure, as the release words it: a share reads "84%", never "0.8"
    sec = demo_text.split("<h2>Impact, with its range and sources</h2>", 1)[1].split("</section>", 1)[0]
    head = re.findall(r"<th>([^<]*)</th>", sec.split("</thead>", 1)[0])
    assert head == ["measure", "value", "unit", "source"], head
    rows = dict(re.findall(r"<tr><td>([^<]*)</td><td[^>]*>([^<]*)</td>", sec))
    assert re.fullmatch(r"(?:under |over )?\d{1,3}%", rows["incident share within cutoff"]), rows
    assert "deaths averted" in rows and "_" not in "".join(rows)


def test_assumptions_say_which_capacity_rule_chose_the_sites(demo: tuple[Any, Any]) -> None:
    import copy
    import html

    def capacity_row(page: str) -> str:
        return html.unescape(re.search(r"<th>Capacity</th><td>(.*?)</td>", page).group(1))

    p, rel = demo
    assert capacity_row(report.report_html(p, released=rel)).startswith("40 supervised uses per booth")
    for rule, words in (("erlang", "by the queue (Erlang C)"), ("uses", "its booths x 40 supervised uses")):
        q = copy.deepcopy(p)
        q.parameters["selection"].update(capacity_rule=rule, demand_per_day=300, uses_per_booth_per_day=40)
        row = capacity_row(report.report_html(q, released=privacy.release_plan(q)))
        assert words in row and "chosen within each candidate's capacity" in row, row
