"""core.ingest.matching and core.ingest.linking on small hand-built tables: names to ids through
the one person normaliser, a name two people share never merged, every row kept or reported."""
import pandas as pd

from core.ingest import cleaning
from core.ingest.linking import DERIVED_REPS_SOURCE, DERIVED_SALES_SOURCE, link
from core.ingest.matching import map_names_to_ids
from core.schema import UNASSIGNED, empty_table


def _frame(rows: list[dict], table: str = "sales", source: str = "f.csv") -> pd.DataFrame:
    """Loaded rows as ingest holds them: every canonical column, plus their source and row."""
    f = pd.concat([empty_table(table), pd.DataFrame(rows)], ignore_index=True).astype({"rep_id": "str"})
    return f.assign(_source=source, _row=range(2, len(f) + 2))


ROSTER = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "rep_name": ["José Müller", "John Smith", "John Smith"],
                       "region": ["East", "East", "West"], "territory_id": ["T1", "T2", "T3"]})


def test_names_written_any_way_become_the_roster_id_and_a_shared_name_is_given_to_no_one():
    sales = _frame([{"rep_id": "Müller, José"}, {"rep_id": "JOSE MULLER"}, {"rep_id": "John Smith"},
                    {"rep_id": "R2"}, {"rep_id": "Nobody Known"}])
    tables = {"sales": sales}
    issues, ambiguous = map_names_to_ids(tables, ROSTER, "rep_id", "rep_name", ("sales",), "rep",
                                         cleaning.person_key, "region")
    assert tables["sales"]["rep_id"].tolist() == ["R1", "R1", "John Smith", "R2", "Nobody Known"]
    assert ambiguous == {"John Smith"}
    found = pd.concat(issues, ignore_index=True)
    unclear = found[found["Kind"] == "ambiguous"]
    assert unclear["Row"].tolist() == [4] and unclear["Value"].tolist() == ["John Smith"]
    assert "R2 (East)" in unclear["Problem"].iat[0] and "R3 (West)" in unclear["Problem"].iat[0]
    assert "2 rows name the rep" in found.loc[found["Kind"] == "info", "Problem"].iat[0]


def test_link_reports_orphans_but_not_the_ambiguous_name_again():
    tables = {"reps": _frame(ROSTER.to_dict("records"), "reps", "reps.csv"),
              "sales": _frame([{"rep_id": "John Smith", "revenue": 1.0}, {"rep_id": "Zoe Orphan", "revenue": 2.0},
                               {"rep_id": "R1", "revenue": 3.0}])}
    issues: list[pd.DataFrame] = []
    extra = link(tables, issues)
    found = pd.concat(issues, ignore_index=True)
    assert extra == []
    assert len(tables["sales"]) == 3                                      # nothing dropped
    orphans = found[found["Kind"] == "orphan"]
    assert orphans["Value"].tolist() == ["Zoe Orphan"] and orphans["Row"].tolist() == [3]
    assert found.loc[found["Kind"] == "ambiguous", "Value"].tolist() == ["John Smith"]


def test_without_roster_or_sales_the_derived_tables_say_where_they_came_from():
    opps = _frame([{"rep_id": "Ann Lee", "account_id": "A1", "product": "P", "status": "won", "amount": 10.0,
                    "close_date": pd.Timestamp("2025-03-01"), "opportunity_id": "O1"},
                   {"rep_id": "ann  lee", "account_id": "A1", "product": "P", "status": "won", "amount": None,
                    "close_date": pd.Timestamp("2025-03-02"), "opportunity_id": "O2"},
                   {"rep_id": "Bo Ray", "account_id": "A2", "product": "P", "status": "open", "amount": 5.0,
                    "close_date": pd.NaT, "opportunity_id": "O3"}], "opportunities")
    tables = {"opportunities": opps}
    issues: list[pd.DataFrame] = []
    extra = link(tables, issues)
    assert [s.source for s in extra] == [DERIVED_SALES_SOURCE, DERIVED_REPS_SOURCE]
    assert tables["sales"]["revenue"].tolist() == [10.0]                  # the won deal with an amount
    found = pd.concat(issues, ignore_index=True)
    assert found.loc[found["Table"] == "sales", "Value"].tolist() == ["O2"]   # the other one, reported
    assert sorted(tables["reps"]["rep_id"]) == ["Ann Lee", "Bo Ray"]       # one spelling per person
    assert set(tables["reps"]["region"]) == {UNASSIGNED}
