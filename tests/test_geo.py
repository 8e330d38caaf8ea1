"""Offline ZIP → coordinates: normalisation of what spreadsheets do to ZIPs, unknown ZIPs, distances."""
import math

import numpy as np
import pandas as pd
import pytest

from core.territory.geo import (
    STATE_OUTLINES,
    geocode,
    geocode_report,
    haversine_km,
    normalise_zip,
    state_outlines,
    zip_table,
)

CAMBRIDGE = (42.377, -71.1256)     # 02138 in the zipcodes package
HOLTSVILLE = (40.8154, -73.0451)   # 00501


@pytest.mark.parametrize("raw, expected", [
    ("02138", "02138"), ("2138", "02138"), ("02138-1234", "02138"), (" 02138 1234 ", "02138"),
    ("021381234", "02138"), ("2138.0", "02138"), ("501", "00501"),
    ("5011234", "00501"), ("abc", None), ("", None), ("12345678901", None), ("12", None), (None, None),
])
def test_normalise_zip_text(raw, expected):
    out = normalise_zip(pd.Series([raw], dtype="str"))[0]
    assert (pd.isna(out) and expected is None) or out == expected


def test_normalise_zip_from_numbers():
    """A ZIP column Excel read as numbers: 2138.0 and 501 regain their leading zeros."""
    assert normalise_zip(pd.Series([2138.0, 501.0, np.nan])).tolist()[:2] == ["02138", "00501"]


def test_geocode_fills_only_missing_coordinates():
    acc = pd.DataFrame({
        "account_id": ["four", "plus4", "float", "given", "bad", "none", "zero"],
        "zip": pd.Series(["2138", "02138-1234", "2138.0", "2138", "99999", None, "501"], dtype="str"),
        "latitude": [np.nan, np.nan, np.nan, 10.0, np.nan, np.nan, 0.0],
        "longitude": [np.nan, np.nan, np.nan, 20.0, np.nan, np.nan, 0.0],
    })
    out = geocode(acc).set_index("account_id")
    for a in ("four", "plus4", "float"):
        assert tuple(out.loc[a, ["latitude", "longitude"]]) == pytest.approx(CAMBRIDGE)
    assert tuple(out.loc["given", ["latitude", "longitude"]]) == (10.0, 20.0)
    assert out.loc[["bad", "none"], "latitude"].isna().all()
    assert tuple(out.loc["zero", ["latitude", "longitude"]]) == pytest.approx(HOLTSVILLE)  # (0, 0) = blank
    assert list(acc["latitude"].isna()) == [True, True, True, False, True, True, False]  # input untouched


def test_geocode_reads_no_zip_table_when_every_account_has_coordinates(monkeypatch):
    """The ZIP table costs a second to build: accounts that all carry coordinates never need it."""
    import core.territory.geo as geo

    monkeypatch.setattr(geo, "zip_table", lambda: pytest.fail("the ZIP table was read"))
    acc = pd.DataFrame({"zip": pd.Series(["2138", "99999"], dtype="str"),
                        "latitude": [10.0, 11.0], "longitude": [20.0, 21.0]})
    out = geocode(acc)
    assert out["latitude"].tolist() == [10.0, 11.0] and out["longitude"].tolist() == [20.0, 21.0]


def test_geocode_without_coordinate_columns():
    out = geocode(pd.DataFrame({"zip": pd.Series(["02138"], dtype="str")}))
    assert out["latitude"].dtype == "float64" and out.loc[0, "latitude"] == pytest.approx(CAMBRIDGE[0])


def test_geocode_report_counts():
    acc = pd.DataFrame({"zip": pd.Series(["2138", "99999", None], dtype="str"),
                        "latitude": [np.nan, np.nan, 5.0], "longitude": [np.nan, np.nan, 6.0]})
    assert geocode_report(acc) == {"accounts": 3, "given": 1, "from_zip": 1, "unplaced": 1}


def test_zip_table_is_built_once_and_complete():
    t = zip_table()
    assert t is zip_table()
    assert len(t) > 40_000 and t["zip"].is_unique and t["zip"].str.len().eq(5).all()


def test_haversine_one_degree_of_latitude():
    assert haversine_km(40.0, -100.0, 41.0, -100.0) == pytest.approx(6371.0088 * math.pi / 180)
    d = haversine_km(np.array([0.0, np.nan]), np.array([0.0, 0.0]), np.array([0.0, 1.0]), np.array([90.0, 0.0]))
    assert d[0] == pytest.approx(6371.0088 * math.pi / 2) and np.isnan(d[1])


def _inside(lon: float, lat: float, polygon: list) -> bool:
    """Even-odd ray casting over every ring of one GeoJSON polygon (so holes count as outside)."""
    inside = False
    for ring in polygon:
        for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
            if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
    return inside


def _states_containing(lat: float, lon: float) -> set[str]:
    found = set()
    for feature in state_outlines()["features"]:
        geom = feature["geometry"]
        polygons = [geom["coordinates"]] if geom["type"] == "Polygon" else geom["coordinates"]
        if any(_inside(lon, lat, p) for p in polygons):
            found.add(feature["properties"]["name"])
    return found


def test_state_outlines_are_the_50_states_and_dc_in_a_small_file():
    outlines = state_outlines()
    assert outlines is state_outlines()  # read once per process
    props = [f["properties"] for f in outlines["features"]]
    assert len(props) == 51 and len({p["abbr"] for p in props}) == 51
    assert {"Massachusetts", "District of Columbia", "Alaska", "Hawaii"} <= {p["name"] for p in props}
    assert "Puerto Rico" not in {p["name"] for p in props}
    assert STATE_OUTLINES.stat().st_size < 300 * 1024


@pytest.mark.parametrize("lat, lon, state", [
    (42.36, -71.06, "Massachusetts"),   # Boston
    (42.65, -73.75, "New York"),        # Albany, 40 km from the Massachusetts line
    (39.74, -104.99, "Colorado"),       # Denver
    (38.90, -77.04, "District of Columbia"),
    (21.31, -157.86, "Hawaii"),         # Honolulu
])
def test_a_known_point_falls_in_exactly_its_state(lat, lon, state):
    assert _states_containing(lat, lon) == {state}
