"""Settings: defaults from kpis.md, JSON round trip, digests that follow the values."""
import pytest

from core.errors import UserError
from core.settings import Settings


def test_defaults_match_kpis_md():
    """The default targets are the ones kpis.md lists."""
    t = Settings().targets
    assert (t.attainment, t.pipeline_coverage, t.meetings_per_week, t.call_plan_adherence,
            t.on_time_follow_up_rate, t.knowledge_quotient, t.pay_for_performance) == (1.0, 3.0, 5.0, 0.8, 1.0, 80.0, 0.7)
    p = Settings().points
    assert (p.meeting, p.presentation, p.workshop, p.follow_up_on_time, p.training_per_score_point) == (10, 20, 50, 10, 0.1)


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
