"""Adding a KPI is one declaration: a toy KPI registered through the public API is computed per
rep, rolled up from summed parts, and formatted by its unit, with no change elsewhere."""
from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from core.dataset import Dataset, Scope
from core.kpis import registry
from core.kpis.arrays import rows_of
from core.kpis.grouping import per_rep, ratio
from core.kpis.inputs import has_sales, within
from core.kpis.registry import Kpi, Totals, register
from core.kpis.rollup import rep_kpis, rollup, team_kpis
from core.periods import Period
from core.report.summary import column_units
from core.report.workbook import UNIT_FORMATS
from tests.test_metrics import ALL, Q1, S


def _sales_lines(ds: Dataset, period: Period, n_reps: int) -> np.ndarray | None:
    """Sales lines per rep in the period (None without sales: the KPI is n/a)."""
    if not has_sales(ds):
        return None
    a = rows_of(ds, "sales")
    inside = (a["r"] >= 0) & within(a["date"], period.start, period.end)
    return per_rep(a["r"], inside, n_reps)


def _revenue_per_line(t: Totals) -> np.ndarray:
    return ratio(t.kpi("revenue"), t.sum("sales_lines"))


TOY = Kpi("revenue_per_line", "Revenue per sales line", "money", True, needs=("sales",),
          parts=(("sales_lines", _sales_lines),), formula=_revenue_per_line)


@pytest.fixture
def toy() -> Iterator[Kpi]:
    register(TOY)
    yield TOY
    registry.KPIS.pop(TOY.name)


def test_a_registered_kpi_is_computed_per_rep(toy):
    reps = rep_kpis(Dataset(dict(ALL)), Q1, S).set_index("rep_id")
    # Q1 sales lines: R1 100, -20, 50 (3 lines, 130); R2 200 (1); R3 60 (1)
    assert reps.loc["R1", toy.name] == pytest.approx(130 / 3)
    assert reps.loc["R2", toy.name] == 200.0
    assert reps.loc["R3", toy.name] == 60.0
    assert list(reps.columns[-1:]) == [toy.name]


def test_a_registered_kpi_rolls_up_from_sums(toy):
    ds = Dataset(dict(ALL))
    regions = rollup(ds, Q1, S, "region").set_index("region")
    assert regions.loc["East", toy.name] == pytest.approx((130 + 200) / 4)   # not the mean of 43.3 and 200
    assert regions.loc["West", toy.name] == 60.0
    assert team_kpis(ds, Q1, S)[toy.name] == pytest.approx(390 / 5)
    assert team_kpis(ds, Q1, S, Scope(region="East"))[toy.name] == pytest.approx(330 / 4)


def test_a_registered_kpi_is_na_without_its_table(toy):
    no_sales = {k: v for k, v in ALL.items() if k not in ("sales", "opportunities")}
    reps = rep_kpis(Dataset(no_sales), Q1, S)
    assert reps[toy.name].isna().all()


def test_a_registered_kpi_is_formatted_by_its_unit(toy):
    units = column_units("Rep scorecard", {"Revenue per line": toy.name})
    assert UNIT_FORMATS[units["Revenue per line"]] == UNIT_FORMATS["money"]


def test_every_unit_has_an_excel_format():
    assert set(registry.UNITS) == set(UNIT_FORMATS)


@pytest.mark.parametrize("bad, message", [
    (Kpi("revenue", "Revenue again", "money", True, formula=_revenue_per_line), "already declared"),
    (Kpi("toy_bad_unit", "Toy", "furlongs", True, formula=_revenue_per_line), "unit must be one of"),
    (Kpi("toy_no_formula", "Toy", "money", True), "needs a formula"),
])
def test_register_refuses_a_bad_declaration(bad, message):
    with pytest.raises(ValueError, match=message):
        register(bad)
    assert bad.name == "revenue" or bad.name not in registry.KPIS


def test_parts_of_two_kpis_cannot_clash(toy):
    twin = Kpi("toy_twin", "Twin", "count", True, parts=(("sales_lines", _sales_lines),),
               formula=lambda t: t.sum("sales_lines"))
    with pytest.raises(ValueError, match="already declared by another KPI"):
        register(twin)
