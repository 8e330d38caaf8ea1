"""Settings: defaults from kpis.md, JSON round trip, digests that follow the values."""
from dataclasses import fields

import pytest

from core.errors import UserError
from core.settings import GROUPS, SECTIONS, Settings, Targets, Thresholds, infos, percent_fields


def test_defaults_match_kpis_md():
    """The default targets are the ones kpis.md lists."""
    t = Settings().targets
    assert (t.attainment, t.pipeline_coverage, t.meetings_per_week, t.call_plan_adherence,
            t.on_time_follow_up_rate, t.knowledge_quotient, t.pay_for_performance) \
        == (1.0, 3.0, 5.0, 0.8, 1.0, 80.0, 0.7)
    p = Settings().points
    assert (p.meeting, p.presentation, p.workshop, p.follow_up_on_time, p.training_per_score_point) \
        == (10, 20, 50, 10, 0.1)


def test_round_trip_and_digest():
    """Settings survive JSON; a changed target changes the digest; unknown keys are ignored."""
    s = Settings().with_target("meetings_per_week", 6.0)
    data = s.to_dict()
    data["targets"]["no_such_target"] = 1
    assert Settings.from_dict(data) == s
    assert s.digest() != Settings().digest()
    assert Settings.from_dict({}) == Settings()


def test_from_json_reads_what_to_json_writes():
    """The Settings page's download opens again as the same settings; a partial file keeps the
    defaults for what it leaves out and ignores names it does not know."""
    s = Settings().with_target("meetings_per_week", 6.0)
    assert Settings.from_json(s.to_json()) == s
    partial = Settings.from_json('{"targets": {"meetings_per_week": 6, "no_such_target": "x"}}')
    assert partial == s and isinstance(partial.targets.meetings_per_week, float)


@pytest.mark.parametrize("text, words", [
    ("meetings: 6", "not valid JSON"),
    ("", "not valid JSON"),
    ("[5, 3]", "holds no targets"),
    ('{"name": "a package.json"}', "holds no targets"),
    ('{"targets": [6]}', "targets are not"),
    ('{"targets": {"meetings_per_week": "six", "coverage": 0.9}}', "not numbers: meetings_per_week."),
    ('{"points": {"meeting": true}}', "points that are not numbers: meeting."),
    ('{"thresholds": {"ramp_months": null}}', "not numbers: ramp_months."),
    ('{"targets": {"coverage": NaN}}', "not numbers: coverage."),
])
def test_from_json_refuses_other_text_in_plain_words(text, words):
    with pytest.raises(UserError) as err:
        Settings.from_json(text)
    assert words in str(err.value)


def test_fiscal_year_currency_and_quotas_travel_in_the_settings_file():
    """The fields the Quotas page sets survive the download / upload round trip and reach ingest."""
    s = Settings(fiscal_start_month=7, reporting_currency="EUR", currency_rates=(("GBP", 1.17),),
          quotas=(("R1", "FY2026-Q1", 1000.0, ""),), quota_seasonality=tuple([1.0] * 11 + [2.0]))
    back = Settings.from_json(s.to_json())
    assert back == s and back.digest() == s.digest()
    assert back.ingest_options() == {"fiscal_start": 7, "currency": {"reporting": "EUR", "rates": {"GBP": 1.17}},
                                     "seasonality": [1.0] * 11 + [2.0]}
    assert Settings().ingest_options() == {}


@pytest.mark.parametrize("bad, words", [
    ({"fiscal_start_month": 13}, "month number"), ({"reporting_currency": "euros"}, "currency code"),
    ({"currency_rates": [["EUR", -1]]}, "greater than 0"), ({"quota_seasonality": [1, 2]}, "twelve"),
    ({"quotas": [["R1", "2025-Q3", "lots", ""]]}, "not readable"),
])
def test_bad_calendar_currency_or_quota_fields_are_refused_in_words(bad, words):
    import json

    with pytest.raises(UserError, match=words):
        Settings.from_json(json.dumps({"targets": {}, **bad}))


@pytest.mark.parametrize("section", [*SECTIONS.values(), Settings], ids=lambda t: t.__name__)
def test_every_setting_is_documented(section):
    """Each field says what it is in words, its unit, its group and a help text (the Settings page
    builds its inputs from these); the sections themselves are the only fields without."""
    documented = infos(section)
    undocumented = [f.name for f in fields(section) if f.name not in documented and f.name not in SECTIONS]
    assert not undocumented, f"settings without label/unit/help: {undocumented}"
    for name, info in documented.items():
        assert info.label and info.unit and info.help.endswith(".") and info.group in GROUPS, name
        assert "_" not in info.label, f"{name}: the label is a field name"


def test_percent_fields_are_those_with_a_percent_unit():
    """Fractions shown as percentages come from the fields' units: the ones that hold fractions."""
    pct = percent_fields()
    assert {"attainment", "coverage", "false_discovery_rate", "win_rate_gap"} <= pct
    assert not pct & {"meetings_per_week", "pipeline_coverage", "ramp_months", "potential_index_low"}
    assert all(0 <= getattr(Settings().targets, n, 0) <= 1 and 0 <= getattr(Settings().thresholds, n, 0) <= 1
               for n in pct)


def test_potential_index_low_is_one_setting_read_from_either_place_in_old_files():
    """Older files carry potential_index_low under thresholds too; it lands in the targets, and the
    targets' value wins when both are given."""
    assert "potential_index_low" not in {f.name for f in fields(Thresholds)}
    assert "potential_index_low" in {f.name for f in fields(Targets)}
    old = Settings.from_json('{"thresholds": {"potential_index_low": 70, "ramp_months": 6}}')
    assert old.targets.potential_index_low == 70.0 and old.thresholds.ramp_months == 6
    both = Settings.from_dict({"targets": {"potential_index_low": 80}, "thresholds": {"potential_index_low": 70}})
    assert both.targets.potential_index_low == 80.0
    with pytest.raises(UserError, match="potential_index_low"):
        Settings.from_json('{"thresholds": {"potential_index_low": "low"}}')
