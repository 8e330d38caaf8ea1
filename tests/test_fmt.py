"""Formatting: money, percent and n/a for anything missing — never 0."""
import math

import pandas as pd
import pytest

from core.fmt import fmt_money, fmt_num, fmt_pct


@pytest.mark.parametrize("value, text", [(1_234_567, "$1.23M"), (845_000, "$845k"), (950, "$950"),
                                         (-12_000, "-$12k"), (None, "n/a"), (math.nan, "n/a"),
                                         (pd.NA, "n/a")])
def test_fmt_money(value, text):
    assert fmt_money(value) == text


def test_fmt_pct_and_num():
    assert fmt_pct(0.873) == "87%" and fmt_pct(0.873, 1) == "87.3%" and fmt_pct(float("nan")) == "n/a"
    assert fmt_num(2.345, 1) == "2.3" and fmt_num(None) == "n/a"
    assert fmt_money(1_234_567, compact=False) == "$1,234,567"


@pytest.mark.parametrize("value, unit, text", [(0.58, "pct", "58%"), (1.4, "ratio", "1.4×"), (29.46, "ratio", "29.46×"),
                                               (12, "days", "12 days"), (-0.46, "rating", "-0.5"),
                                               (5.62, "per_week", "5.6"), (float("nan"), "days", "n/a")])
def test_fmt_unit(value, unit, text):
    """Every KPI and signal unit reads the same wherever it is shown."""
    from core.fmt import fmt_unit
    assert fmt_unit(value, unit) == text
