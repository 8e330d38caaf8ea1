"""Offline geography: US ZIP → latitude/longitude, distances between points, and state outlines.

The ZIP table comes from the `zipcodes` package (no network). It is built once per process and
joined to the accounts with a merge, never looked up row by row. The state outlines are a small
GeoJSON shipped in core/data (made once by bench/make_state_outlines.py from Census boundaries), so
the maps have geographic context without map tiles.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

EARTH_RADIUS_KM = 6371.0088
STATE_OUTLINES = Path(__file__).resolve().parents[1] / "data" / "us_states.geojson"
# Coordinates in degrees: one point, an array or a Series of them (distances come back the same kind).
Coords = TypeVar("Coords", float, np.ndarray, pd.Series)

# 3 to 5 leading digits (Excel drops leading zeros: 2138 → 02138, 501 → 00501), then an optional
# +4 part ("02138-1234", "02138 1234", "021381234"). A trailing ".0" from a float column is removed first.
_ZIP = r"^(\d{3,5})(?:[-\s]*\d{4})?$"


@lru_cache(maxsize=1)
def zip_table() -> pd.DataFrame:
    """Every US ZIP the `zipcodes` package knows, with its latitude and longitude (built once)."""
    from zipcodes import _zipcodes  # the compiled table; the public API only offers per-ZIP calls

    rows = _zipcodes.list_all()
    table = pd.DataFrame({
        "zip": [r["zip_code"] for r in rows],
        "zip_latitude": [r["lat"] for r in rows],
        "zip_longitude": [r["long"] for r in rows],
    })
    table["zip_latitude"] = pd.to_numeric(table["zip_latitude"], errors="coerce")
    table["zip_longitude"] = pd.to_numeric(table["zip_longitude"], errors="coerce")
    return table.dropna().drop_duplicates("zip").reset_index(drop=True)


@lru_cache(maxsize=1)
def state_outlines() -> dict[str, Any]:
    """Simplified outlines of the 50 states and DC as a GeoJSON FeatureCollection (read once).

    Each feature has properties `name` ("Massachusetts") and `abbr` ("MA"). Callers must not mutate it.
    """
    outlines: dict[str, Any] = json.loads(STATE_OUTLINES.read_text(encoding="utf-8"))
    return outlines


def normalise_zip(values: pd.Series) -> pd.Series:
    """Five-digit ZIP text: "2138" → "02138", "02138-1234" → "02138", 2138.0 → "02138"; else NA."""
    text = values.astype("str").str.strip().str.replace(r"\.0+$", "", regex=True)
    return text.str.extract(_ZIP, expand=False).str.zfill(5)


def _valid_coordinates(lat: pd.Series, lon: pd.Series) -> pd.Series:
    """Coordinates that can be placed: both present, in range, and not the (0, 0) of a blank export."""
    ok = lat.between(-90, 90) & lon.between(-180, 180)
    return ok & ~((lat == 0) & (lon == 0))


def geocode(accounts: pd.DataFrame) -> pd.DataFrame:
    """A copy of `accounts` with latitude/longitude filled from `zip` where they are missing.

    Given coordinates are kept; unknown or malformed ZIPs stay NaN (see `geocode_report`).
    """
    out = accounts.copy()
    lat = pd.to_numeric(out.get("latitude", pd.Series(np.nan, index=out.index)), errors="coerce")
    lon = pd.to_numeric(out.get("longitude", pd.Series(np.nan, index=out.index)), errors="coerce")
    keep = _valid_coordinates(lat, lon)
    lat, lon = lat.where(keep).astype("float64"), lon.where(keep).astype("float64")
    unplaced = lat.isna() | lon.isna()
    if "zip" in out.columns and unplaced.any():
        # only accounts without coordinates are looked up: the ZIP table costs a second to build
        zips = normalise_zip(out.loc[unplaced, "zip"]).rename("zip")
        found = zips.to_frame().merge(zip_table(), on="zip", how="left").set_axis(zips.index)
        lat = lat.fillna(found["zip_latitude"])
        lon = lon.fillna(found["zip_longitude"])
    out["latitude"], out["longitude"] = lat, lon
    return out


def geocode_report(accounts: pd.DataFrame) -> dict[str, int]:
    """How many accounts had coordinates, got them from their ZIP, or could not be placed."""
    placed = geocode(accounts)
    had = _valid_coordinates(
        pd.to_numeric(accounts.get("latitude", pd.Series(np.nan, index=accounts.index)), errors="coerce"),
        pd.to_numeric(accounts.get("longitude", pd.Series(np.nan, index=accounts.index)), errors="coerce"))
    located = placed["latitude"].notna() & placed["longitude"].notna()
    return {
        "accounts": int(len(accounts)),
        "given": int(had.sum()),
        "from_zip": int((located & ~had).sum()),
        "unplaced": int((~located).sum()),
    }


def haversine_km(lat1: Coords, lon1: Coords, lat2: Coords, lon2: Coords) -> Coords:
    """Great-circle distance in km; works element-wise on scalars, arrays and Series (NaN in → NaN out)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(lon2) - np.radians(lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    # numpy's ufuncs keep the kind of their input (a float, an array, a Series), which its stubs cannot say
    return cast(Coords, 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0))))
