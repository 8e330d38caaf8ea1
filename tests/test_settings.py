"""Settings: defaults from kpis.md, JSON round trip, digests that follow the values."""
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
