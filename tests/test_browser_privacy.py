"""Every string a reader can see in a shareable map and report holds no count of 1 to 10.

The demo and its 150-incident sparse version (where most hexagons, hour bars and
candidate catchments hold 1 to 10 incidents) are drawn as shareable maps and reports,
opened in headless Chromium with the network blocked, and every visible string is read:
popups and tooltips of every layer (shown or not), the title panel, legend and layer
control; the report's tables with their headers, paragraphs, notes and chart labels.

What is a count. A whole number from 1 to 10 shown as the value of a figure about
incidents: a table cell or popup row whose label names incidents, demand, fatal
incidents, deaths, coverage, attendance, visits or a count; or a bare number in running
text. These are not counts: numbers with a unit (minutes, %, m, km, km/h), decimals,
dates, times and years, ranks ("rank 3", the Rank column, "3 of 43", list numbers "1."),
score points ("7 of 15 points"), numbers of sites ("open 2 now, add 1 later", "site 1"),
quota rules (">= 1"), multipliers ("5 times"), ids and names from the input
files, booths, hours of the day, numbers of sites, chart axis ticks and bin labels, the
rule's own wording ("0 to 10"), and the assumptions (sources and settings). The same
reader run on the INTERNAL pages finds counts, so it can fail.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from test_attacks import DEMO, _sparse
from test_browser import Page

pytestmark = pytest.mark.browser

#: Labels of figures about incidents (a bare 1..10 beside one is a count).
INCIDENT_LABEL = re.compile(
    r"incident|demand|fatal|death|cover|alone|assigned|attendance|visit|count|per hexagon", re.I
)
#: Numbers that are not counts, removed from running text before it is read.
NOT_COUNTS = [
    r"\b[0-9a-f]{64}\b",  # SHA-256 of an input file (the incident file's is withheld)
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?",  # dates and timestamps
    r"\b\d+\s+of\s+\d+\s+points?\b",  # score points
    r"\b\d{1,2}:\d{2}\b",  # times of day
    r"\b(?:19|20)\d{2}\b",  # years
    r"\d+(?:[.,]\d+)+",  # decimals, thousands, versions
    r"\b\d+\s*-?\s*(?:%|(?:min(?:ute)?s?|m|km|km/h|h|x|times|points?)\b)",  # with a unit ("10-minute")
    r"\b\d+\s*[-\u2013]\s*\d+\s*(?:min(?:ute)?s?|%|m|km)",  # ranges with a unit
    r"\brank\s+\d+|\bsites?\s+\d+\b|(?:^|\n)\s*\d+\.\s",  # ranks, the n-th chosen site, list numbers
    r"\b(?:open|add|of)\s+\d+\s+(?:now|later|sites?)\b|\bopen \d+ now, add \d+ later",  # numbers of sites
    r"[<>=]=?\s*\d+",  # quota rules (">= 1")
    r"\bp:\s*\d+",  # the number of sites in the selection's parameters
    r"\b\d+\s+booths?\b|\bbooths?\b[^.;]*?\d+",  # booths
    r"\b\d+\s+(?:sites?|candidates?|services?|street|nodes?|pieces|lines?)\b",  # not incidents
    r"[A-Za-z_]+[-_]?\d+|\d+[A-Za-z_]+",  # ids (C001, OSM-N475..., 3rd)
    r"fewer than \d+|0 to \d+|1 to \d+|\d+ or more",  # the rule's own wording
    r"\b1\s*[-\u2212]\s*t\b",  # the decay curve's formula ("1 - t / 10 min")
]
#: Sections of settings and sources only (the parameters and the manifest are read: a
#: shareable report shows the release's, and a run's record holds exact figures).
SKIP_SECTIONS = ("Assumptions", "Privacy rule applied")

MAP_JS = """() => {
  const out = [], seen = new Set();
  const add = (ctx, html) => {
    if (!html) return;
    const div = document.createElement('div');
    div.innerHTML = typeof html === 'string' ? html : (html.outerHTML || String(html));
    const rows = div.querySelectorAll('tr');
    if (rows.length) {
      rows.forEach(tr => {
        const th = tr.querySelector('th');
        tr.querySelectorAll('td').forEach(td => out.push([ctx, th ? th.textContent : '', td.textContent]));
      });
      div.querySelectorAll('table').forEach(t => t.remove());
    }
    out.push([ctx, '', div.textContent]);
  };
  const visit = (l) => {
    if (!l || seen.has(l)) return;
    seen.add(l);
    const text = (c) => (typeof c === 'function' ? c(l) : c);  // popups built on opening
    if (l.getPopup && l.getPopup()) add('popup', text(l.getPopup().getContent()));
    if (l.getTooltip && l.getTooltip()) add('tooltip', text(l.getTooltip().getContent()));
    if (l.eachLayer) l.eachLayer(visit);
  };
  for (const k of Object.keys(window)) {
    let v; try { v = window[k]; } catch (e) { continue; }
    if (v && typeof L !== 'undefined' && v instanceof L.Layer) visit(v);
  }
  document.querySelectorAll('.leaflet-control').forEach(c => out.push(['panel', '', c.innerText]));
  return out;
}"""

REPORT_JS = """() => {
  const out = [];
  document.querySelectorAll('section').forEach(sec => {
    const h = sec.querySelector('h2') ? sec.querySelector('h2').textContent : '';
    sec.querySelectorAll('table').forEach(t => {
      const head = Array.from(t.querySelectorAll('thead th')).map(th => th.textContent);
      t.querySelectorAll('tbody tr, tr').forEach(tr => {
        if (tr.parentElement.tagName === 'THEAD') return;
        const th = tr.querySelector('th');
        Array.from(tr.querySelectorAll('td')).forEach((td, i) => {
          const label = th ? th.textContent : (head.length ? head[i + (head.length > tr.children.length ? 1 : 0)] || '' : '');
          out.push([h, head.length && !th ? head[i] || '' : label, td.textContent]);
        });
      });
    });
    sec.querySelectorAll('p, h3, li').forEach(p => out.push([h, '', p.innerText]));
    sec.querySelectorAll('svg text').forEach(t => out.push([h, t.classList.contains('tick') ? 'tick' : '', t.textContent]));
  });
  out.push(['', '', document.querySelector('h1').textContent]);
  document.querySelectorAll('body > p').forEach(p => out.push(['', '', p.innerText]));
  return out;
}"""


def counts_shown(strings: list[list[str]], *, names: set[str], statement: str) -> list[str]:
    """Every count of 1..10 among the visible strings (see the module docstring)."""
    found = []
    for section, label, text in strings:
        if section.startswith(SKIP_SECTIONS) or label in ("tick", "source"):  # settings, axes, citations
            continue
        about_incidents = bool(INCIDENT_LABEL.search(label or ""))
        t = "\n".join(" ".join(line.split()) for line in str(text).splitlines())
        for s in sorted((n for n in names | {statement} if n), key=len, reverse=True):
            t = t.replace(s, " ")
        bare = re.fullmatch(r"\s*(\d+)\s*", t)
        if bare:  # a number alone is a count only as the value of a figure about incidents
            if about_incidents and 1 <= int(bare.group(1)) <= 10:
                found.append(f"{section}/{label}: {text!r}")
            continue
        for pattern in NOT_COUNTS:
            t = re.sub(pattern, " ", t, flags=re.I)
        if not about_incidents:  # "3 of 43" beside a rank or a score component
            t = re.sub(r"\b\d+\s+of\s+\d+\b", " ", t)
        if any(1 <= int(n) <= 10 for n in re.findall(r"\b\d+\b", t)):
            found.append(f"{section}/{label}: {text!r}")
    return found


def _names(folder: Path) -> set[str]:
    """Names and ids in the input files (a number inside one is not a count)."""
    out: set[str] = set()
    for f in ("candidates.csv", "services.csv"):
        t = pd.read_csv(folder / f, dtype=str, keep_default_na=False)
        for col in t.columns:
            if col not in ("lat", "lon"):
                out |= set(t[col])
    import geopandas as gpd

    out |= set(gpd.read_file(folder / "regions.geojson")["name"].astype(str))
    return out


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from siting.cli.run import read_scenario_file
    from siting.cli.score import build_plan
    from siting.maps import plan_map, save_map
    from siting.privacy import release_plan
    from siting.report import save_report

    root = tmp_path_factory.mktemp("pages")
    out = {}
    for name, folder in (("demo", DEMO), ("sparse", _sparse(root / "sparse"))):
        scenario, _ = read_scenario_file(folder / "scenario.toml")
        plan = build_plan(scenario)
        rel = release_plan(plan)
        paths = {}
        for kind, internal in (("shareable", False), ("internal", True)):
            m = root / f"{name}-{kind}.html"
            r = root / f"{name}-{kind}-report.html"
            save_map(plan_map(plan, released=None if internal else rel, internal=internal), m)
            save_report(plan, r, released=None if internal else rel, internal=internal)
            paths[kind] = (m, r)
        out[name] = {"paths": paths, "names": _names(folder), "statement": rel.statement}
    return out


def _read(browser: Any, path: Path, js: str) -> list[list[str]]:
    p = Page(browser, path)
    try:
        return p.page.evaluate(js)
    finally:
        p.close()


@pytest.mark.parametrize("name", ["demo", "sparse"])
def test_no_count_of_1_to_10_in_what_a_reader_sees(browser: Any, pages: dict[str, Any], name: str) -> None:
    info = pages[name]
    m, r = info["paths"]["shareable"]
    strings = _read(browser, m, MAP_JS) + _read(browser, r, REPORT_JS)
    assert len(strings) > 200  # popups of every candidate and hexagon, every table row
    assert any("fewer than 11" in s[2] for s in strings)
    found = counts_shown(strings, names=info["names"], statement=info["statement"])
    assert found == [], "\n".join(found[:40])


def test_the_reader_finds_counts_on_internal_pages(browser: Any, pages: dict[str, Any]) -> None:
    info = pages["sparse"]
    m, r = info["paths"]["internal"]
    strings = _read(browser, m, MAP_JS) + _read(browser, r, REPORT_JS)
    assert counts_shown(strings, names=info["names"], statement=info["statement"])
