"""Formatting: money, percent and n/a for anything missing — never 0."""
import math

import pandas as pd
import pytest

from core.fmt import count_of, fmt_chance, fmt_money, fmt_num, fmt_pct


@pytest.mark.parametrize("value, text", [(1_234_567, "$1.23M"), (845_000, "$845k"), (950, "$950"),
                                         (-12_000, "-$12k"), (None, "n/a"), (math.nan, "n/a"),
                                         (pd.NA, "n/a")])
def test_fmt_money(value, text):
    assert fmt_money(value) == text


def test_fmt_pct_and_num():
    assert fmt_pct(0.873) == "87%" and fmt_pct(0.873, 1) == "87.3%" and fmt_pct(float("nan")) == "n/a"
    assert fmt_num(2.345, 1) == "2.3" and fmt_num(None) == "n/a"
    assert fmt_money(1_234_567, compact=False) == "$1,234,567"


@pytest.mark.parametrize("p, text", [(0.0, "<1%"), (0.004, "<1%"), (0.005, "<1%"), (0.01, "1%"), (0.42, "42%"),
                                     (0.99, "99%"), (0.996, ">99%"),
                                     (1.0, ">99%"), (None, "n/a")])
def test_a_chance_is_never_shown_as_certainty(p, text):
    assert fmt_chance(p) == text


@pytest.mark.parametrize("value, unit, text", [(0.58, "pct", "58%"), (1.4, "ratio", "1.4×"), (29.46, "ratio", "29.46×"),
                                               (12, "days", "12 days"), (-0.46, "rating", "-0.5"),
                                               (5.62, "per_week", "5.6"), (float("nan"), "days", "n/a")])
def test_fmt_unit(value, unit, text):
    """Every KPI and signal unit reads the same wherever it is shown."""
    from core.fmt import fmt_unit
    assert fmt_unit(value, unit) == text


def test_program_keys_in_words():
    """Tables, columns and causes as people read them (issue 16: no snake_case on screen)."""
    from core.fmt import cause_label, cause_labels, column_label, table_label

    assert table_label("follow_ups") == "follow-ups" and table_label("expected_levels") == "expected levels"
    assert column_label("rep_id") == "Rep ID" and column_label("hire_date") == "Hire date"
    assert cause_labels("customer_retention, pipeline") == (f"{cause_label('customer_retention')}, "
                                                             f"{cause_label('pipeline')}")
    assert "_" not in cause_label("customer_retention") and cause_label("none") == "At goal"
    assert cause_labels(float("nan")) == "n/a" and cause_labels("") == ""


def test_readable_frame_names_columns_and_drops_midnight_times():
    import pandas as pd

    from core.fmt import readable_frame

    frame = pd.DataFrame({"hire_date": pd.to_datetime(["2016-01-10", None]),
                          "stamp": pd.to_datetime(["2016-01-10 09:30", "2016-01-11 00:00"]), "rep_id": ["R1", "R2"]})
    out = readable_frame(frame)
    assert list(out.columns) == ["Hire date", "Stamp", "Rep ID"]
    assert out["Hire date"].tolist() == ["2016-01-10", ""]
    assert pd.api.types.is_datetime64_any_dtype(out["Stamp"])     # a real time of day is kept
    assert list(frame.columns) == ["hire_date", "stamp", "rep_id"]  # the input is not changed


def test_count_of_reads_singular_and_plural():
    assert count_of(1, "rep") == "1 rep"
    assert count_of(0, "rep") == "0 reps"
    assert count_of(1200, "rep") == "1,200 reps"
