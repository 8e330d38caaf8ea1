"""A cause is one module: registered in core.diagnostic.causes, it is read, flagged, priced and reported
by the diagnostic with no other change (issue 17)."""
from collections.abc import Iterator

import pandas as pd
import pytest

from core.diagnostic import causes, whatif
from core.diagnostic.cause import Cause, Context, Inputs, Measure, Reading, column
from core.diagnostic.findings import diagnose, rep_columns
from core.diagnostic.signals import signals
from core.fmt import fmt_pct
from core.settings import Settings, Targets
from tests.test_signals import Q3, small_team

# A toy cause, written the way a cause module is: discounts the rep gives off list price. R5 gives
# a 30 % discount (a tested, significant excess); the others about 2 %.
DISCOUNT = {"R1": 0.02, "R2": 0.03, "R3": 0.02, "R4": 0.02, "R5": 0.30, "R6": 0.02}
P_VALUE = {"R5": 1e-6}


def read(ctx: Context) -> list[Reading]:
    value = pd.Series(DISCOUNT).reindex(ctx.rep_ids)
    p = pd.Series(P_VALUE).reindex(ctx.rep_ids).fillna(0.9)
    return [Reading("discount", value, 0.02, 0.10, p.to_numpy())]


def actions(v: pd.DataFrame, k: pd.DataFrame, inp: Inputs, t: Targets) -> list[str]:
    return [f"bring discounts from {fmt_pct(d)} back to list-price policy" for d in column(v, "discount")]


TOY = Cause("price_discounting", "Price discounting", "Does the rep give the margin away?", ("sales",),
            measures=(Measure("discount", "Average discount", "pct", False, driver=True, test="z-test"),),
            read=read, actions=actions)


@pytest.fixture
def registered() -> Iterator[Cause]:
    causes.register(TOY)
    try:
        yield TOY
    finally:
        causes.unregister(TOY.key)


def test_a_registered_cause_is_flagged_priced_and_explained(registered):
    d = diagnose(small_team(), Q3, Settings())
    assert "price_discounting" in rep_columns() and list(d.reps.columns) == rep_columns()
    r5 = d.reps.set_index("rep_id").loc["R5"]
    assert "price_discounting" in r5["causes"].split(", ")
    assert r5["price_discounting"] > 0
    assert r5[[*causes.blamed()]].sum() + r5["unexplained"] == pytest.approx(r5["gap"])
    row = d.findings[(d.findings["cause"] == "price_discounting") & (d.findings["who"] == "R5")].iloc[0]
    assert row["evidence"].startswith("Average discount 30")
    assert "z-test, p=1e-06" in row["evidence"]
    assert row["actions"] == "bring discounts from 30% back to list-price policy"
    assert "Price discounting" in d.waterfall["step"].tolist()
    assert "price_discounting" in whatif.what_if(d)["cause"].tolist()
    # Only R5 is past the threshold: no other rep is given the cause.
    others = d.reps[d.reps["rep_id"] != "R5"]
    assert not others["causes"].str.contains("price_discounting").any()


def test_its_signal_is_in_the_signal_table_with_its_test(registered):
    t = signals(small_team(), Q3, Settings()).set_index(["rep_id", "signal"])
    row = t.loc[("R5", "discount")]
    assert row["cause"] == "price_discounting" and row["test"] == "z-test" and row["flagged"]
    assert row["benchmark"] == pytest.approx(0.02)                        # median of R1–R3, at goal
    assert not t.loc[("R4", "discount"), "flagged"]


def test_unregistered_it_is_gone_and_the_built_ins_are_unchanged(registered):
    causes.unregister(TOY.key)
    try:
        d = diagnose(small_team(), Q3, Settings())
        assert "price_discounting" not in d.reps.columns
        assert list(causes.CAUSES)[-1] == "ramping" and "ramping" not in causes.blamed()
    finally:
        causes.register(TOY)


def test_a_cause_or_measure_key_cannot_be_registered_twice(registered):
    with pytest.raises(ValueError, match="already registered"):
        causes.register(TOY)
    with pytest.raises(ValueError, match="belong to another cause"):
        causes.register(Cause("other", "Other", "?", (), measures=(Measure("discount", "x", "pct", False),)))
    with pytest.raises(ValueError, match="reserved"):
        causes.register(Cause("unexplained", "Unexplained", "?", ()))
