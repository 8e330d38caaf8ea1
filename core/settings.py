"""One editable settings object: KPI targets (kpis.md), diagnostic thresholds and the points scheme.

Settings are immutable and serialisable: the app edits them by replacing fields, sessions save them
as JSON, and `digest()` keys caches so that results follow the settings that produced them.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from core.errors import UserError


@dataclass(frozen=True)
class Targets:
    """Default targets from kpis.md (ratios as fractions)."""

    attainment: float = 1.0
    pipeline_coverage: float = 3.0
    meetings_per_week: float = 5.0
    presentations_per_quarter: float = 1.0
    workshops_per_quarter: float = 1.0
    call_plan_adherence: float = 0.80
    on_time_follow_up_rate: float = 1.0
    days_late: float = 0.0
    overdue_open_follow_ups: float = 0.0
    knowledge_quotient: float = 80.0
    competency_gap: float = 0.0
    competency_trend: float = 0.0
    pay_for_performance: float = 0.7
    potential_index_low: float = 85.0
    potential_index_high: float = 115.0
    balance_cv: float = 0.15
    quota_fairness_cv: float = 0.15
    coverage: float = 0.90
    overlap: float = 0.05


@dataclass(frozen=True)
class Thresholds:
    """When a rep-level signal counts as a problem (diagnostics.md; all editable)."""

    ramp_months: int = 9
    potential_index_low: float = 85.0
    quota_per_potential_excess: float = 0.20   # quota/potential this much above the team's
    on_time_follow_up_min: float = 0.90
    days_late_max: float = 3.0
    knowledge_min: float = 80.0
    competency_gap_min: float = -0.5           # below expected by more than this
    self_minus_manager_max: float = 1.0
    meetings_shortfall: float = 0.80           # below 80 % of the meetings target
    plan_adherence_min: float = 0.80
    buyer_admin_share_min: float = 0.15
    pipeline_coverage_min: float = 3.0
    win_rate_gap: float = 0.10                 # this far below the team's win rate
    churn_excess: float = 0.10                 # churn this far above the team's
    quarter_end_share_max: float = 0.50        # share of a quarter's revenue in its last 3 weeks
    pay_for_performance_min: float = 0.50
    reps_at_goal_min: float = 0.50
    false_discovery_rate: float = 0.10         # Benjamini-Hochberg level when flagging many reps


@dataclass(frozen=True)
class Points:
    """The leaderboard scheme (kpis.md): points per action, and per training score point."""

    meeting: float = 10.0
    presentation: float = 20.0
    workshop: float = 50.0
    follow_up_on_time: float = 10.0
    training_per_score_point: float = 0.1


QuotaRow = tuple[str, str, float, str]   # rep_id, period label, quota, product ("" = all products)


@dataclass(frozen=True)
class Settings:
    targets: Targets = field(default_factory=Targets)
    thresholds: Thresholds = field(default_factory=Thresholds)
    points: Points = field(default_factory=Points)
    # Calendar, currency and quotas (issue 18). fiscal_start_month: 1 = calendar year; FY named by
    # the year it ends in (core.periods). currency_rates: units of the reporting currency per unit
    # of each currency, used before the ECB's rates. quotas: set in the app; they replace the
    # uploaded quotas table (core.quota_rules.with_quotas). quota_seasonality: twelve monthly
    # weights (January first) that spread a yearly quota over its months; empty = evenly.
    fiscal_start_month: int = 1
    reporting_currency: str = "USD"
    currency_rates: tuple[tuple[str, float], ...] = ()
    quotas: tuple[QuotaRow, ...] = ()
    quota_seasonality: tuple[float, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def digest(self) -> str:
        """A short content hash, for cache keys."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Settings":
        """Rebuild settings, ignoring unknown keys and keeping defaults for missing ones."""
        parts = {}
        for f, typ in (("targets", Targets), ("thresholds", Thresholds), ("points", Points)):
            given = data.get(f) or {}
            known = {x.name for x in fields(typ)}
            parts[f] = typ(**{k: type(getattr(typ(), k))(v) for k, v in given.items() if k in known})
        return cls(**parts, **_calendar_currency_quotas(data))

    @classmethod
    def from_json(cls, text: str) -> "Settings":
        """Settings from a file `to_json` wrote (the Settings page's download), via `from_dict`.

        Anything else raises UserError in plain words: text that is not JSON, JSON that is not an
        object holding targets, thresholds or points, or a known setting whose value is not a number.
        """
        not_ours = "This is not a GoalGap settings file"
        try:
            data = json.loads(text)
        except ValueError as err:
            raise UserError(f"{not_ours}: it is not valid JSON.") from err
        if not isinstance(data, dict) or not data.keys() & SECTIONS:
            raise UserError(f"{not_ours}: it holds no targets, thresholds or points.")
        for section, typ in SECTIONS.items():
            given = data.get(section) or {}
            if not isinstance(given, dict):
                raise UserError(f"{not_ours}: its {section} are not a list of names and values.")
            known = {f.name for f in fields(typ)}
            bad = sorted(k for k, v in given.items() if k in known and not _is_number(v))
            if bad:
                raise UserError(f"The settings file gives {section} that are not numbers: "
                                f"{', '.join(bad)}. Use plain numbers such as 5 or 0.8.")
        return cls.from_dict(data)

    def rates(self) -> dict[str, float]:
        """The user's currency rates as {ISO code: units of the reporting currency}."""
        return dict(self.currency_rates)

    def ingest_options(self) -> dict[str, Any]:
        """What ingest needs from the settings (fiscal calendar, currency), merged into its
        overrides; empty for the defaults, so caches of files read with defaults stay valid."""
        out: dict[str, Any] = {}
        if self.fiscal_start_month != 1:
            out["fiscal_start"] = self.fiscal_start_month
        if self.reporting_currency != "USD" or self.currency_rates:
            out["currency"] = {"reporting": self.reporting_currency, "rates": self.rates()}
        if self.quota_seasonality:
            out["seasonality"] = list(self.quota_seasonality)
        return out

    def with_target(self, name: str, value: float) -> "Settings":
        return replace(self, targets=replace(self.targets, **{name: value}))


def _calendar_currency_quotas(data: dict[str, Any]) -> dict[str, Any]:
    """The fiscal start, currency and quota fields of a settings dict, checked; defaults if absent."""
    out: dict[str, Any] = {}
    if "fiscal_start_month" in data:
        month = data["fiscal_start_month"]
        if not _is_number(month) or int(month) != month or not 1 <= month <= 12:
            raise UserError("The fiscal year's start month must be a month number from 1 to 12.")
        out["fiscal_start_month"] = int(month)
    if "reporting_currency" in data:
        code = str(data["reporting_currency"]).strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise UserError(f"'{data['reporting_currency']}' is not a currency code: use three letters "
                            "such as USD or EUR.")
        out["reporting_currency"] = code
    rates = data.get("currency_rates") or []
    rates = list(rates.items()) if isinstance(rates, dict) else rates
    try:
        out["currency_rates"] = tuple(sorted((str(c).strip().upper(), float(r)) for c, r in rates))
        out["quotas"] = tuple((str(r), str(p), float(q), "" if d is None else str(d))
                              for r, p, q, d in (data.get("quotas") or []))
    except (TypeError, ValueError) as err:
        raise UserError("The settings file's currency rates or quotas are not readable: rates are a "
                        "currency code and a number, quotas a rep, a period, a number and a product.") from err
    if any(not math.isfinite(r) or r <= 0 for _, r in out["currency_rates"]):
        raise UserError("Currency rates must be numbers greater than 0.")
    weights = data.get("quota_seasonality") or []
    if weights and (len(weights) != 12 or not all(_is_number(w) and w >= 0 for w in weights)
                    or sum(weights) <= 0):
        raise UserError("The quota seasonality must be twelve monthly weights (0 or more, not all 0).")
    out["quota_seasonality"] = tuple(float(w) for w in weights)
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


SECTIONS: dict[str, type] = {"targets": Targets, "thresholds": Thresholds, "points": Points}
DEFAULT_SETTINGS = Settings()
