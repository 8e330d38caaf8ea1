"""Make core/data/us_states.geojson: simplified US state outlines for the offline Territories maps.

A dev-only, run-once script. It documents how the committed file was made; the app never runs it.
It imports `shapefile` (PyPI `pyshp`) and `_plotly_geo` (PyPI `plotly-geo`), which are NOT project
dependencies: install them into a throwaway venv and run it from the repo root:

    python3 -m venv /tmp/geo && /tmp/geo/bin/pip install plotly-geo pyshp numpy
    /tmp/geo/bin/python bench/make_state_outlines.py

Source: the US Census Bureau cartographic boundary file `cb_2016_us_state_500k` (1:500,000, NAD83
longitude/latitude), as shipped in plotly-geo at `_plotly_geo/package_data/cb_2016_us_state_500k.shp`.
Census cartographic boundary files are works of the US federal government and so in the public domain.

What is kept: the 50 states and DC (no territories), properties `name` and `abbr`. Each ring is
simplified with Douglas–Peucker (TOLERANCE degrees), rings smaller than MIN_AREA square degrees are
dropped (small islands and lakes; a state's largest polygon is always kept), coordinates are rounded
to DECIMALS places, and Alaska's Aleutian islands west of the antimeridian are dropped so no polygon
wraps the globe. Outer rings are counter-clockwise and holes clockwise (RFC 7946).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import _plotly_geo  # plotly-geo — dev-only
import numpy as np
import shapefile  # pyshp — dev-only

TOLERANCE = 0.03   # degrees (≈ 3 km)
MIN_AREA = 0.01    # square degrees (≈ 100 km² at US latitudes)
DECIMALS = 3
NOT_STATES = {"AS", "GU", "MP", "PR", "VI"}
OUT = Path(__file__).resolve().parents[1] / "core" / "data" / "us_states.geojson"


def douglas_peucker(points: np.ndarray, tolerance: float) -> np.ndarray:
    """The open polyline `points` (n×2) simplified so no dropped point is farther than `tolerance`."""
    keep = np.zeros(len(points), dtype=bool)
    keep[[0, -1]] = True
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        if last - first < 2:
            continue
        a, b = points[first], points[last]
        seg = points[first + 1:last] - a
        ab = b - a
        norm = np.hypot(*ab)
        dist = (np.abs(ab[0] * seg[:, 1] - ab[1] * seg[:, 0]) / norm if norm > 0
                else np.hypot(seg[:, 0], seg[:, 1]))
        i = int(np.argmax(dist))
        if dist[i] > tolerance:
            mid = first + 1 + i
            keep[mid] = True
            stack += [(first, mid), (mid, last)]
    return points[keep]


def signed_area(ring: np.ndarray) -> float:
    """Shoelace area in square degrees; positive for counter-clockwise rings."""
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x[:-1], y[1:]) - np.dot(x[1:], y[:-1]))


def simplify_ring(ring: list, outer: bool) -> list | None:
    """A closed ring simplified, rounded and oriented; None when it collapses to under 4 points."""
    pts = np.asarray(ring, dtype=float)[:-1]  # drop the closing point
    far = int(np.argmax(np.hypot(*(pts - pts[0]).T)))  # split a closed ring at its farthest point
    halves = [douglas_peucker(pts[:far + 1], TOLERANCE), douglas_peucker(np.vstack([pts[far:], pts[:1]]), TOLERANCE)]
    out = np.round(np.vstack([halves[0][:-1], halves[1]]), DECIMALS)
    out = out[np.r_[True, np.any(np.diff(out, axis=0) != 0, axis=1)]]  # drop repeats made by rounding
    if len(out) < 4:
        return None
    if (signed_area(out) > 0) != outer:
        out = out[::-1]
    return out.tolist()


def polygons_of(shape) -> list[list]:
    """The shape's polygons (outer ring, then holes) as pyshp organises them, in lon/lat lists."""
    geo = shape.__geo_interface__
    return [geo["coordinates"]] if geo["type"] == "Polygon" else list(geo["coordinates"])


def state_feature(shape, name: str, abbr: str) -> dict:
    polygons = [p for p in polygons_of(shape) if max(x for x, _ in p[0]) < 0]  # west of the antimeridian
    largest = max(polygons, key=lambda p: abs(signed_area(np.asarray(p[0]))))
    kept = []
    for poly in polygons:
        if poly is not largest and abs(signed_area(np.asarray(poly[0]))) < MIN_AREA:
            continue
        outer = simplify_ring(poly[0], outer=True)
        if outer is None:
            continue
        holes = [simplify_ring(h, outer=False) for h in poly[1:] if abs(signed_area(np.asarray(h))) >= MIN_AREA]
        kept.append([outer] + [h for h in holes if h is not None])
    geometry = ({"type": "Polygon", "coordinates": kept[0]} if len(kept) == 1
                else {"type": "MultiPolygon", "coordinates": kept})
    return {"type": "Feature", "properties": {"name": name, "abbr": abbr}, "geometry": geometry}


def main() -> None:
    source = os.path.join(os.path.dirname(_plotly_geo.__file__), "package_data", "cb_2016_us_state_500k")
    reader = shapefile.Reader(source)
    features = [state_feature(sr.shape, sr.record["NAME"], sr.record["STUSPS"])
                for sr in reader.iterShapeRecords() if sr.record["STUSPS"] not in NOT_STATES]
    features.sort(key=lambda f: f["properties"]["name"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":")))
    print(f"{len(features)} states → {OUT} ({OUT.stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
