"""A proposed realignment: move a few accounts between neighbouring territories so that every
territory's potential index falls inside the healthy band (85–115 by default).

The method is a greedy local search. Potentials are the sums of account potential (the only
potential that moves with an account); the mean, and so the band in dollars, does not change
when accounts move. One account moves at a time (each at most once): among accounts of a
territory next to the receiver (same region, among each other's nearest centroids), the move
that most reduces the total distance of all territories to the band. Near-equal moves are
decided by better overall balance, then by border position (an account near the receiving
centroid rather than deep in its own territory, to keep territories compact), then by the
trailing-12-month revenue that would change hands. A rep's top accounts by revenue move only in
a second round, when nothing else reaches the band. Finally every move that is no longer needed
is undone. The tests compare the result with an exhaustive search on small cases and with a
from-scratch re-cut.

Measured on the bundled sample (40 territories, 946 accounts, 3 planted at index 64–67): all 40
territories in band with 24 moves; the mean distance of accounts to their centroid grows ~1 %.
Filling a poor territory from its neighbours' border stretches it slightly; keeping compactness
strictly equal would need ripple moves through further territories (more accounts moved).
"""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.dataset import Dataset
from core.errors import UserError
from core.settings import Settings
from core.territory.balance import located_accounts, territory_frame
from core.territory.geo import haversine_km

NEIGHBOURS = 3          # each territory's nearest centroids (same region) it may trade with
TOP_ACCOUNTS = 10       # a rep's top accounts by trailing-12-month revenue stay put if possible
# Tie-breaks beside the reduction of band violation (in fractions of the mean territory potential):
# better balance, border position (share of the way from the receiver's centroid), revenue share.
W_BALANCE, W_BORDER, W_REVENUE = 0.01, 0.10, 0.02
MOVE_COLUMNS = ["account_id", "account_name", "from_territory", "to_territory", "potential",
                "revenue_12m", "distance_km"]
SIDE_COLUMNS = ["territory_id", "territory_name", "region", "potential", "potential_index", "accounts",
                "compactness", "in_band"]
_EPS = 1e-9


@dataclass(frozen=True)
class Proposal:
    """Moves (MOVE_COLUMNS), per-territory before/after (SIDE_COLUMNS), a summary and the method."""

    moves: pd.DataFrame
    before: pd.DataFrame
    after: pd.DataFrame
    summary: dict[str, float]
    method: str


# ---------------------------------------------------------------------------------------------
# Inputs


def revenue_12m(ds: Dataset) -> pd.Series:
    """Revenue per account over the 12 months up to the last sale in the data (empty without sales)."""
    sales = ds.table("sales").dropna(subset=["account_id"])
    if sales.empty:
        return pd.Series(dtype="float64")
    since = sales["date"].max() - pd.DateOffset(years=1)
    return sales.loc[sales["date"] > since].groupby("account_id")["revenue"].sum()


def _protected(acc: pd.DataFrame) -> np.ndarray:
    """The top TOP_ACCOUNTS accounts of each territory by trailing revenue (revenue > 0)."""
    rank = acc.groupby("territory_id")["revenue_12m"].rank(ascending=False, method="first")
    protected: np.ndarray = ((rank <= TOP_ACCOUNTS) & (acc["revenue_12m"] > 0)).to_numpy()
    return protected


def _neighbours(terr: pd.DataFrame, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """T×T boolean: territories that may trade accounts.

    Within a region, each territory's NEIGHBOURS nearest centroids (made symmetric); a territory
    without a centroid trades with its whole region; a region of one territory looks at the
    nearest centroids of all territories.
    """
    region = terr["region"].to_numpy()
    same = region[:, None] == region[None, :]
    alone = same.sum(axis=1) == 1
    pool = same | alone[:, None]
    dist = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    dist = np.where(pool, dist, np.inf)
    np.fill_diagonal(dist, np.inf)
    order = np.argsort(np.nan_to_num(dist, nan=np.inf), axis=1)[:, :NEIGHBOURS]
    near: np.ndarray = np.zeros_like(same)
    np.put_along_axis(near, order, True, axis=1)
    near &= np.isfinite(dist)
    unplaced = np.isnan(lat)
    near |= pool & (unplaced[:, None] | unplaced[None, :])
    near = near | near.T
    np.fill_diagonal(near, False)
    return near


# ---------------------------------------------------------------------------------------------
# The search


@dataclass
class _State:
    """Assignment and running sums that a move updates in O(1)."""

    assign: np.ndarray       # territory position per account
    pot: np.ndarray          # potential per account (0 where unknown)
    located: np.ndarray      # account has coordinates
    alat: np.ndarray
    alon: np.ndarray
    total: np.ndarray        # potential per territory
    sum_lat: np.ndarray
    sum_lon: np.ndarray
    n_located: np.ndarray

    def centroids(self) -> tuple[np.ndarray, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sum_lat / self.n_located, self.sum_lon / self.n_located

    def move(self, a: int, to: int) -> None:
        frm = self.assign[a]
        self.total[frm] -= self.pot[a]
        self.total[to] += self.pot[a]
        if self.located[a]:
            for t, sign in ((frm, -1), (to, 1)):
                self.sum_lat[t] += sign * self.alat[a]
                self.sum_lon[t] += sign * self.alon[a]
                self.n_located[t] += sign
        self.assign[a] = to


def _violation(p: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.maximum(0.0, low - p) + np.maximum(0.0, p - high)


def _pick(state: _State, ca: np.ndarray, cr: np.ndarray, rev_share: np.ndarray, eligible: np.ndarray,
          low: float, high: float, mean: float) -> int | None:
    """Index of the best candidate pair (account ca[i] → territory cr[i]), or None."""
    frm = state.assign[ca]
    p = state.pot[ca]
    gain = (_violation(state.total[frm], low, high) + _violation(state.total[cr], low, high)
            - _violation(state.total[frm] - p, low, high) - _violation(state.total[cr] + p, low, high))
    ok = eligible & (frm != cr) & (gain > _EPS * max(mean, 1.0))
    if not ok.any():
        return None
    clat, clon = state.centroids()
    d_to = haversine_km(state.alat[ca], state.alon[ca], clat[cr], clon[cr])
    d_own = haversine_km(state.alat[ca], state.alon[ca], clat[frm], clon[frm])
    # 0 = at the receiving centroid, ½ = midway, 1 = at its own centroid (½ when unknown)
    border = np.where(np.isnan(d_to) | np.isnan(d_own), 0.5, d_to / np.maximum(d_to + d_own, 1e-6))
    dev = (np.abs(state.total[frm] - mean) + np.abs(state.total[cr] - mean)
           - np.abs(state.total[frm] - p - mean) - np.abs(state.total[cr] + p - mean))
    score = (gain + W_BALANCE * dev) / mean - W_BORDER * border - W_REVENUE * rev_share[ca]
    return int(np.argmax(np.where(ok, score, -np.inf)))


def _search(state: _State, ca: np.ndarray, cr: np.ndarray, protected: np.ndarray, rev_share: np.ndarray,
            low: float, high: float, mean: float, max_moves: float) -> list[int]:
    """Greedy moves until every territory is in band (top accounts only in a second round);
    each account moves at most once. Returns the moved accounts."""
    moved: list[int] = []
    is_moved = np.zeros(len(state.assign), dtype=bool)
    for allow_protected in (False, True):
        while len(moved) < max_moves and _violation(state.total, low, high).sum() > _EPS * mean:
            eligible = ~is_moved[ca] & (allow_protected | ~protected[ca])
            i = _pick(state, ca, cr, rev_share, eligible, low, high, mean)
            if i is None:
                break
            state.move(ca[i], cr[i])
            is_moved[ca[i]] = True
            moved.append(int(ca[i]))
    return moved


def _undo_unneeded(state: _State, moved: list[int], origin: np.ndarray, revenue: np.ndarray,
                   low: float, high: float) -> list[int]:
    """Undo moves whose reversal does not add violation, highest-revenue and smallest first."""
    keep = list(moved)
    for a in sorted(moved, key=lambda a: (-revenue[a], state.pot[a])):
        before = _violation(state.total, low, high).sum()
        dest = state.assign[a]
        state.move(a, origin[a])
        if _violation(state.total, low, high).sum() > before + 1e-9:
            state.move(a, dest)
        else:
            keep.remove(a)
    return keep


# ---------------------------------------------------------------------------------------------
# Reporting


def _side(acc: pd.DataFrame, terr: pd.DataFrame, column: str, low: float, high: float) -> pd.DataFrame:
    """Per-territory potential, index, accounts and compactness for the alignment in `column`."""
    ids = terr.index
    potential = acc.groupby(column)["potential"].sum().reindex(ids).fillna(0.0)
    out = pd.DataFrame({"territory_id": ids, "territory_name": terr["territory_name"].to_numpy(),
                        "region": terr["region"].to_numpy()}, index=ids)
    out["potential"] = potential
    out["potential_index"] = potential / potential.mean() * 100.0
    out["accounts"] = acc.groupby(column).size().reindex(ids).fillna(0).astype("int64")
    dist = _distance_to_centroid(acc, column)
    out["compactness"] = dist.groupby(acc[column]).mean().reindex(ids)
    out["in_band"] = out["potential_index"].between(low, high)
    return out.reset_index(drop=True)[SIDE_COLUMNS]


def _distance_to_centroid(acc: pd.DataFrame, column: str) -> pd.Series:
    """km from each located account to the centroid of its territory under alignment `column`."""
    cent = acc.groupby(column)[["latitude", "longitude"]].mean()
    return pd.Series(haversine_km(acc["latitude"], acc["longitude"], acc[column].map(cent["latitude"]),
                                  acc[column].map(cent["longitude"])), index=acc.index)


def _cv(p: pd.Series) -> float:
    return float(p.std(ddof=0) / p.mean()) if len(p) > 1 and p.mean() > 0 else np.nan


# ---------------------------------------------------------------------------------------------
# Public API


def propose_realignment(ds: Dataset, settings: Settings, max_moves: int | None = None) -> Proposal:
    """Move as few accounts (and as little revenue) as possible so potential indexes reach the band."""
    acc = located_accounts(ds)
    if acc.empty or acc["potential"].notna().sum() == 0:
        raise UserError("A realignment needs the accounts table with each account's territory and "
                        "potential (annual $). Upload accounts with a potential column to enable it.")
    terr = territory_frame(ds)
    t_pos = pd.Series(np.arange(len(terr)), index=terr.index)
    acc = acc.reset_index(drop=True)
    rev = revenue_12m(ds)
    acc["revenue_12m"] = acc["account_id"].map(rev).fillna(0.0) if ds.has("sales") else np.nan
    acc["potential"] = acc["potential"].fillna(0.0)  # unknown potential: never worth moving

    low_pct, high_pct = settings.targets.potential_index_low, settings.targets.potential_index_high
    pot = acc["potential"].to_numpy(dtype="float64")
    origin = t_pos.reindex(acc["territory_id"]).to_numpy()
    located = acc["latitude"].notna().to_numpy() & acc["longitude"].notna().to_numpy()
    alat = acc["latitude"].to_numpy(dtype="float64")
    alon = acc["longitude"].to_numpy(dtype="float64")
    T = len(terr)
    state = _State(assign=origin.copy(), pot=pot, located=located, alat=alat, alon=alon,
                   total=np.bincount(origin, weights=pot, minlength=T),
                   sum_lat=np.bincount(origin, weights=np.where(located, alat, 0.0), minlength=T),
                   sum_lon=np.bincount(origin, weights=np.where(located, alon, 0.0), minlength=T),
                   n_located=np.bincount(origin, weights=located.astype(float), minlength=T))
    mean = float(state.total.mean())
    low, high = low_pct / 100 * mean, high_pct / 100 * mean

    clat, clon = state.centroids()
    near = _neighbours(terr, clat, clon)
    pair_a, pair_r = np.nonzero(near[origin] & (pot > 0)[:, None])
    revenue = acc["revenue_12m"].fillna(0.0).to_numpy(dtype="float64")
    rev_share = revenue / revenue.max() if revenue.max() > 0 else np.zeros_like(revenue)

    moved = _search(state, pair_a, pair_r, _protected(acc), rev_share, low, high, mean,
                    np.inf if max_moves is None else max_moves)
    moved = _undo_unneeded(state, moved, origin, revenue, low, high)

    acc["after"] = terr.index.to_numpy()[state.assign]
    return _proposal(acc, terr, moved, low_pct, high_pct)


def _proposal(acc: pd.DataFrame, terr: pd.DataFrame, moved: list[int], low: float, high: float) -> Proposal:
    before = _side(acc, terr, "territory_id", low, high)
    after = _side(acc, terr, "after", low, high)
    m = acc.loc[sorted(moved)]
    cent = acc.groupby("after")[["latitude", "longitude"]].mean()
    moves = pd.DataFrame({
        "account_id": m["account_id"], "account_name": m["account_name"],
        "from_territory": m["territory_id"], "to_territory": m["after"],
        "potential": m["potential"], "revenue_12m": m["revenue_12m"],
        "distance_km": haversine_km(m["latitude"], m["longitude"], m["after"].map(cent["latitude"]),
                                    m["after"].map(cent["longitude"])),
    }).sort_values(["to_territory", "potential"], ascending=[True, False]).reset_index(drop=True)
    summary = {
        "cv_before": _cv(before["potential"]), "cv_after": _cv(after["potential"]),
        "in_band_before": int(before["in_band"].sum()), "in_band_after": int(after["in_band"].sum()),
        "territories": len(terr),
        "accounts_moved": len(moves),
        "revenue_moved": float(moves["revenue_12m"].sum(min_count=0)) if acc["revenue_12m"].notna().any()
        else np.nan,
        "compactness_before": float(_distance_to_centroid(acc, "territory_id").mean()),
        "compactness_after": float(_distance_to_centroid(acc, "after").mean()),
    }
    return Proposal(moves=moves, before=before, after=after, summary=summary,
                    method=METHOD.format(low=low, high=high, k=NEIGHBOURS, top=TOP_ACCOUNTS))


METHOD = ("Greedy local search on account potential: one account moves at a time to a neighbouring "
          "territory (same region, {k} nearest centroids), the move that most reduces the distance of "
          "all potential indexes to the {low:.0f}–{high:.0f} band; among near-equal moves, the one that "
          "balances best, then the account nearest the receiving territory (compactness), then the one "
          "with less trailing-12-month revenue. Each rep's top {top} accounts by revenue move only if "
          "nothing else reaches the band, and moves that turn out unneeded are undone.")


def moves_workbook(proposal: Proposal) -> bytes:
    """The proposal as an .xlsx: Moves, Territories (before → after), Summary and Method sheets."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from core.report.workbook import safe_row

    wb = Workbook()
    sheets = {
        "Moves": proposal.moves.rename(columns=lambda c: c.replace("_", " ").capitalize()),
        "Territories": proposal.before.merge(
            proposal.after[["territory_id", "potential", "potential_index", "accounts", "compactness",
                            "in_band"]], on="territory_id", suffixes=(" before", " after")),
        "Summary": pd.DataFrame({"Measure": list(proposal.summary), "Value": list(proposal.summary.values())}),
    }
    wb.remove(wb.active)
    for name, df in sheets.items():
        ws = wb.create_sheet(name)
        ws.append([str(c) for c in df.columns])
        for row in df.astype(object).where(df.notna(), None).itertuples(index=False):
            ws.append(safe_row(ws, [v.item() if hasattr(v, "item") else v for v in row]))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
    method = wb.create_sheet("Method")
    method.append(safe_row(method, [proposal.method]))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
