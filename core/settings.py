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

# Every field carries its metadata (SettingInfo): the Settings page builds its inputs from it, and a
# test fails when a field has none. Percent units hold fractions (0.8) shown as 80 %.
PERCENT, PERCENT_POINTS = "%", "percentage points"
PERCENT_UNITS = frozenset({PERCENT, PERCENT_POINTS})
GROUPS = ("Goals & attainment", "Activity & follow-up", "Pipeline & customers", "Territories",
          "Coaching & competencies", "Incentives", "Diagnostic sensitivity", "Leaderboard points",
          "Calendar, currency & quotas")


@dataclass(frozen=True)
class SettingInfo:
    """What a sales director reads about one setting: its label, unit, group and help text."""

    label: str
    unit: str
    group: str
    help: str

    @property
    def is_percent(self) -> bool:
        return self.unit in PERCENT_UNITS


def _s(default: Any, label: str, unit: str, group: str, help: str) -> Any:
    """A settings field with its metadata (see SettingInfo)."""
    if group not in GROUPS:
        raise ValueError(f"unknown settings group {group!r}")
    return field(default=default, metadata={"info": SettingInfo(label, unit, group, help)})


_GOALS, _ACT, _PIPE, _TERR, _COACH, _PAY, _SENS, _PTS, _CAL = GROUPS


@dataclass(frozen=True)
class Targets:
    """Default targets from kpis.md (ratios as fractions)."""

    attainment: float = _s(1.0, "Attainment target", PERCENT, _GOALS,
                           "Revenue as a share of quota that counts as reaching the goal.")
    pipeline_coverage: float = _s(3.0, "Pipeline coverage target", "×", _PIPE,
                                  "Open pipeline divided by the quota still to win in the period.")
    meetings_per_week: float = _s(5.0, "Meetings per week", "per week", _ACT,
                                  "Customer meetings a rep should hold each week.")
    presentations_per_quarter: float = _s(1.0, "Presentations per quarter", "per quarter", _ACT,
                                          "Presentations to customers a rep should give each quarter.")
    workshops_per_quarter: float = _s(1.0, "Workshops per quarter", "per quarter", _ACT,
                                      "Workshops (hands-on training for customers) each quarter.")
    call_plan_adherence: float = _s(0.80, "Call plan adherence target", PERCENT, _ACT,
                                    "Share of planned visits that took place.")
    on_time_follow_up_rate: float = _s(1.0, "Follow-ups on time target", PERCENT, _ACT,
                                       "Share of follow-ups done by their due date.")
    days_late: float = _s(0.0, "Days late on follow-ups target", "days", _ACT,
                          "Average days a follow-up is done after its due date.")
    overdue_open_follow_ups: float = _s(0.0, "Overdue open follow-ups target", "count", _ACT,
                                        "Follow-ups past their due date and still open.")
    knowledge_quotient: float = _s(80.0, "Knowledge quotient target", "score 0–100", _COACH,
                                   "Mean training score a rep should reach.")
    competency_gap: float = _s(0.0, "Competency gap target", "rating points", _COACH,
                               "A rep's rating minus the level expected for the role (ratings 1–5); "
                               "0 means at the expected level.")
    competency_trend: float = _s(0.0, "Competency trend target", "rating points per 90 days", _COACH,
                                 "How fast ratings should move; above 0 means improving.")
    pay_for_performance: float = _s(0.7, "Pay-for-performance target", "correlation −1 to 1", _PAY,
                                    "How closely payouts follow attainment across reps (rank "
                                    "correlation): 1 = the best performers are paid the most.")
    potential_index_low: float = _s(85.0, "Territory potential, lowest fair index", "index, 100 = average",
                                    _TERR, "A territory below this share of the average potential "
                                    "gives its rep too little opportunity; the diagnostic flags it.")
    potential_index_high: float = _s(115.0, "Territory potential, highest fair index", "index, 100 = average",
                                     _TERR, "A territory above this share of the average potential "
                                     "holds more than one rep can cover.")
    balance_cv: float = _s(0.15, "Territory balance, highest spread", "coefficient of variation", _TERR,
                           "How unequal territory potentials may be: standard deviation divided by "
                           "the mean (0.15 = potentials within about 15 % of each other).")
    quota_fairness_cv: float = _s(0.15, "Quota fairness, highest spread", "coefficient of variation", _TERR,
                                  "How unequal quota per unit of potential may be across territories.")
    coverage: float = _s(0.90, "Coverage of top accounts target", PERCENT, _TERR,
                         "Share of each territory's highest-potential accounts visited in the last "
                         "90 days.")
    overlap: float = _s(0.05, "Territory overlap, most allowed", PERCENT, _TERR,
                        "Share of a rep's activities spent on accounts of another rep's territory.")


@dataclass(frozen=True)
class Thresholds:
    """When a rep-level signal counts as a problem (diagnostics.md; all editable)."""

    ramp_months: int = _s(9, "Ramp-up period of a new rep", "months", _GOALS,
                          "Reps hired less than this long ago are judged against a ramp, not blamed.")
    quota_per_potential_excess: float = _s(0.10, "Quota per potential above the team's", PERCENT, _TERR,
                                           "Flag a rep whose quota, for the potential of the territory, "
                                           "is this much above the team's.")
    on_time_follow_up_min: float = _s(0.90, "Follow-ups on time, lowest", PERCENT, _ACT,
                                      "Flag a rep who does fewer follow-ups on time than this.")
    days_late_max: float = _s(3.0, "Days late on follow-ups, most", "days", _ACT,
                              "Flag a rep whose follow-ups are on average later than this.")
    knowledge_min: float = _s(80.0, "Knowledge quotient, lowest", "score 0–100", _COACH,
                              "Flag a rep whose mean training score is below this.")
    competency_gap_min: float = _s(-0.5, "Competency gap, lowest", "rating points", _COACH,
                                   "Flag a rep rated further below the role's expected level than "
                                   "this (−0.5 = half a point on the 1–5 scale).")
    self_minus_manager_max: float = _s(1.0, "Self-rating above the manager's, most", "rating points", _COACH,
                                       "Flag a rep who rates themselves this much higher than their "
                                       "manager does.")
    meetings_shortfall: float = _s(0.80, "Meetings, lowest share of target", PERCENT, _ACT,
                                   "Flag a rep who holds fewer meetings than this share of the "
                                   "meetings target.")
    plan_adherence_min: float = _s(0.80, "Call plan adherence, lowest", PERCENT, _ACT,
                                   "Flag a rep who keeps fewer planned visits than this.")
    buyer_admin_share_min: float = _s(0.15, "Contacts with buyers and administrators, lowest", PERCENT, _ACT,
                                      "Flag a rep who spends less of their activities on buyers and "
                                      "hospital administrators than this.")
    pipeline_coverage_min: float = _s(3.0, "Pipeline coverage, lowest", "×", _PIPE,
                                      "Flag a rep whose open pipeline covers the quota still to win "
                                      "fewer times than this.")
    win_rate_gap: float = _s(0.10, "Win rate below the team's, most", PERCENT_POINTS, _PIPE,
                             "Flag a rep whose win rate is this many points below the team's.")
    churn_excess: float = _s(0.10, "Customer churn above the team's, most", PERCENT_POINTS, _PIPE,
                             "Flag a rep who loses this many points more of their customers than "
                             "the team.")
    quarter_end_share_max: float = _s(0.50, "Revenue in a quarter's last 3 weeks, most", PERCENT, _PIPE,
                                      "Flag a rep who books more than this share of a quarter's "
                                      "revenue in its last three weeks.")
    pay_for_performance_min: float = _s(0.50, "Pay-for-performance, lowest", "correlation −1 to 1", _PAY,
                                        "Report a team finding when payouts follow attainment less "
                                        "closely than this.")
    reps_at_goal_min: float = _s(0.50, "Reps at goal, lowest share", PERCENT, _GOALS,
                                 "Report that goals may be unrealistic for the market when fewer "
                                 "reps than this reach their goal.")
    false_discovery_rate: float = _s(0.10, "Share of false alarms accepted", PERCENT, _SENS,
                                     "When many reps are tested at once, at most this share of the "
                                     "flags may be chance (Benjamini-Hochberg). Lower flags fewer reps.")


@dataclass(frozen=True)
class Points:
    """The leaderboard scheme (kpis.md): points per action, and per training score point."""

    meeting: float = _s(10.0, "Meeting", "points", _PTS, "Points for each customer meeting.")
    presentation: float = _s(20.0, "Presentation", "points", _PTS, "Points for each presentation.")
    workshop: float = _s(50.0, "Workshop", "points", _PTS, "Points for each workshop.")
    follow_up_on_time: float = _s(10.0, "Follow-up done on time", "points", _PTS,
                                  "Points for each follow-up done by its due date.")
    training_per_score_point: float = _s(0.1, "Training, per score point", "points", _PTS,
                                         "Points per point of training score (a score of 80 earns 8).")


QuotaRow = tuple[str, str, float, str]   # rep_id, period label, quota, product ("" = all products)


@dataclass(frozen=True)
class Settings:
    targets: Targets = field(default_factory=Targets)
    thresholds: Thresholds = field(default_factory=Thresholds)
    points: Points = field(default_factory=Points)
    # Calendar, currency and quotas (issue 18), edited on the Quotas page. The FY is named by the
    # year it ends in (core.periods); quotas set in the app replace the uploaded quotas table
    # (core.ingest.quota_rules.with_quotas).
    fiscal_start_month: int = _s(1, "Fiscal year starts in", "month 1–12", _CAL,
                                 "The month the fiscal year starts in; 1 = the calendar year.")
    reporting_currency: str = _s("USD", "Reporting currency", "currency code", _CAL,
                                 "The currency every amount is shown in, as three letters (USD, EUR).")
    currency_rates: tuple[tuple[str, float], ...] = _s((), "Currency rates", "reporting currency per unit",
                                                       _CAL, "Your own rates, used before the ECB's: how "
                                                       "much of the reporting currency one unit of each "
                                                       "currency is worth.")
    quotas: tuple[QuotaRow, ...] = _s((), "Quotas set in the app", "money", _CAL,
                                      "Quotas per rep and period (and product); they replace the "
                                      "uploaded quotas.")
    quota_seasonality: tuple[float, ...] = _s((), "Quota seasonality", "monthly weights", _CAL,
                                              "Twelve weights, January first, that spread a yearly "
                                              "quota over its months; empty = evenly.")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def digest(self) -> str:
        """A short content hash, for cache keys."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Settings:
        """Rebuild settings, ignoring unknown keys and keeping defaults for missing ones."""
        data = _moved_fields(data)
        parts: dict[str, Any] = {}
        for f, typ in (("targets", Targets), ("thresholds", Thresholds), ("points", Points)):
            given = data.get(f) or {}
            known = {x.name for x in fields(typ)}
            parts[f] = typ(**{k: type(getattr(typ(), k))(v) for k, v in given.items() if k in known})
        return cls(**parts, **_calendar_currency_quotas(data))

    @classmethod
    def from_json(cls, text: str) -> Settings:
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
        data = _moved_fields(data)
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

    def with_target(self, name: str, value: float) -> Settings:
        return replace(self, targets=replace(self.targets, **{name: value}))


# Fields that moved to another section: (old section, name) -> new section. Older settings files
# carry potential_index_low in thresholds as well as in targets; the targets' value wins.
_MOVED = {("thresholds", "potential_index_low"): "targets"}


def _moved_fields(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with fields of older settings files moved to their section today."""
    out = dict(data)
    for (old, name), new in _MOVED.items():
        given = out.get(old)
        if isinstance(given, dict) and name in given:
            out[old] = {k: v for k, v in given.items() if k != name}
            current = out.get(new)
            out[new] = {name: given[name], **(current if isinstance(current, dict) else {})}
    return out


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


def setting_info(section: type, name: str) -> SettingInfo:
    """The metadata of one field of Targets, Thresholds, Points or Settings."""
    info: SettingInfo = next(f.metadata["info"] for f in fields(section) if f.name == name)
    return info


def infos(section: type) -> dict[str, SettingInfo]:
    """{field name: metadata} of a section's fields that carry metadata, in declaration order."""
    return {f.name: f.metadata["info"] for f in fields(section) if "info" in f.metadata}


def percent_fields() -> frozenset[str]:
    """Names of the targets and thresholds held as fractions and shown as percentages."""
    return frozenset(n for typ in SECTIONS.values() for n, i in infos(typ).items() if i.is_percent)
DEFAULT_SETTINGS = Settings()
