"""Dataset: absent tables, fingerprints over every row, scope filtering."""
import dataclasses
import threading

import pandas as pd
import pytest

from core.dataset import Dataset, Memo, Scope, SourceInfo, empty_issues
from core.schema import empty_table


def _sales(revenues):
    n = len(revenues)
    return pd.DataFrame({"date": pd.to_datetime(["2025-01-05"] * n), "rep_id": ["R1"] * n,
                         "account_id": ["A1"] * n, "product": ["P"] * n,
                         "revenue": [float(r) for r in revenues], "units": [1.0] * n})


def test_absent_table_is_empty_canonical_frame():
    ds = Dataset({"sales": _sales([1])})
    assert not ds.has("reps") and list(ds.table("reps").columns) == list(empty_table("reps").columns)
    assert ds.missing("sales", "quotas") == ["quotas"]


def test_fingerprint_sees_every_row():
    """Two large tables differing in one late row get different fingerprints (no sampling)."""
    a = _sales(range(60_000))
    b = a.copy()
    b.loc[59_999, "revenue"] = -1.0
    assert Dataset({"sales": a}).fingerprint != Dataset({"sales": b}).fingerprint
    assert Dataset({"sales": a}).fingerprint == Dataset({"sales": a.copy()}).fingerprint


def test_scope_filters_reps():
    reps = pd.DataFrame({"rep_id": ["R1", "R2", "R3"], "rep_name": ["a", "b", "c"],
                         "region": ["East", "East", "West"], "territory_id": ["T1", "T2", "T3"]})
    assert Scope().rep_ids(reps) == ["R1", "R2", "R3"]
    assert Scope(region="East").rep_ids(reps) == ["R1", "R2"]
    assert Scope(region="East", territory_id="T2").rep_ids(reps) == ["R2"]
    assert Scope(rep_id="R3").label == "R3"


def test_date_span_prefers_sales():
    ds = Dataset({"sales": _sales([1, 2])})
    assert ds.date_span()[0].isoformat() == "2025-01-05"
    assert Dataset({}).date_span() is None


def test_memo_computes_once_per_key():
    ds = Dataset({"sales": _sales([1, 2])})
    calls = []

    def compute(x):
        calls.append(x)
        return [x]

    first = ds.memo(("double", 1), lambda: compute(1))
    assert ds.memo(("double", 1), lambda: compute(99)) is first      # same object, not recomputed
    assert ds.memo(("double", 2), lambda: compute(2)) == [2]
    assert calls == [1, 2]
    other = Dataset({"sales": _sales([1, 2])})                           # memo is per Dataset
    assert other.memo(("double", 1), lambda: compute(3)) == [3]


def test_memo_a_key_being_computed_is_waited_for_not_computed_twice():
    """Two threads asking for one key at once (a page and the background work on loading): one
    computes, the other waits and gets the same object; a failed computation leaves the key free
    for the next caller; another key never waits."""

    ds = Dataset({"sales": _sales([1, 2])})
    started, release, calls = threading.Event(), threading.Event(), []

    def slow():
        calls.append("slow")
        started.set()
        release.wait(10)
        return ["parts"]

    got = []
    first = threading.Thread(target=lambda: got.append(ds.memo(("parts", 1), slow)))
    first.start()
    started.wait(10)
    second = threading.Thread(target=lambda: got.append(ds.memo(("parts", 1), lambda: calls.append("again"))))
    second.start()
    assert ds.memo(("parts", 2), lambda: "other key") == "other key"     # not held up by key 1
    release.set()
    first.join(10)
    second.join(10)
    assert calls == ["slow"] and len(got) == 2 and got[0] is got[1]

    def fail():
        raise ValueError("no data")

    with pytest.raises(ValueError):
        ds.memo(("broken",), fail)
    assert ds.memo(("broken",), lambda: "fixed") == "fixed"


def test_tables_cannot_be_changed_in_place():
    tables = {"sales": _sales([1, 2])}
    ds = Dataset(tables)
    with pytest.raises(TypeError):
        ds.tables["sales"] = _sales([5])                                  # read-only mapping
    with pytest.raises(dataclasses.FrozenInstanceError):
        ds.issues = empty_issues()                                       # type: ignore[misc]
    tables["quotas"] = empty_table("quotas")                             # the caller's dict is not the Dataset's
    assert not ds.has("quotas") and list(ds.tables) == ["sales"]


def test_with_table_gives_a_new_dataset_with_its_own_fingerprint_and_memo():
    ds = Dataset({"sales": _sales([1, 2])})
    total = lambda d: d.table("sales")["revenue"].sum()                   # noqa: E731
    assert ds.memo(("total",), lambda: total(ds)) == 3
    changed = ds.with_table("sales", _sales([5]))
    assert changed.memo(("total",), lambda: total(changed)) == 5
    assert ds.memo(("total",), lambda: total(ds)) == 3 and ds.table("sales")["revenue"].sum() == 3
    assert changed.fingerprint != ds.fingerprint
    assert changed.issues is ds.issues and changed.sources == ds.sources
    with_quotas = ds.with_table("quotas", empty_table("quotas"))
    assert set(with_quotas.tables) == {"sales", "quotas"} and set(ds.tables) == {"sales"}
    assert set(with_quotas.without("quotas").tables) == {"sales"}


def test_equality_and_hash_follow_the_content_not_the_cache():
    a, b = Dataset({"sales": _sales([1, 2])}), Dataset({"sales": _sales([1, 2])})
    a.memo(("x",), lambda: "only on a")
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != a.with_table("sales", _sales([1, 3]))
    source = SourceInfo("f.csv", "sales", 2)
    assert a != a.replace(sources=[source])
    assert a.replace(sources=[source]).sources == (source,)


def test_clear_memo_by_name_and_all():
    ds = Dataset({})
    ds.memo(("a", 1), lambda: 1)
    ds.memo(("b", 1), lambda: 2)
    ds.clear_memo("a")
    assert ds.memo(("a", 1), lambda: 10) == 10 and ds.memo(("b", 1), lambda: 20) == 2
    ds.clear_memo()
    assert ds.memo(("b", 1), lambda: 20) == 20


def test_memo_keeps_a_bounded_number_of_results_per_name():
    """Browsing many periods keeps the most recently used MEMO_PER_NAME results of a name."""
    from core.dataset import MEMO_PER_NAME

    ds = Dataset({})
    ds.memo(("other",), lambda: "kept")
    for i in range(MEMO_PER_NAME):
        ds.memo(("period", i), lambda i=i: i)
    ds.memo(("period", 0), lambda: "recomputed")                         # used again: now the newest
    ds.memo(("period", MEMO_PER_NAME), lambda: MEMO_PER_NAME)             # one too many: evicts 1
    assert ds.memo(("period", 0), lambda: "recomputed") == 0
    assert ds.memo(("period", 1), lambda: "recomputed") == "recomputed"
    assert ds.memo(("other",), lambda: "lost") == "kept"


def test_memo_peek_reads_a_kept_result_without_computing_and_counts_as_a_use():
    from core.dataset import MEMO_PER_NAME

    ds = Dataset({})
    assert ds.cache.peek(("period", 0)) == (False, None)
    for i in range(MEMO_PER_NAME):
        ds.memo(("period", i), lambda i=i: i)
    assert ds.cache.peek(("period", 0)) == (True, 0)                     # used: now the newest
    ds.memo(("period", MEMO_PER_NAME), lambda: MEMO_PER_NAME)             # evicts 1, not 0
    assert ds.cache.peek(("period", 0)) == (True, 0) and ds.cache.peek(("period", 1)) == (False, None)


def test_pickle_carries_the_tables_not_the_memo():
    import pickle

    ds = Dataset({"sales": _sales([1, 2])})
    ds.memo(("x",), lambda: "cached")
    again = pickle.loads(pickle.dumps(ds))
    assert again.memo(("x",), lambda: "fresh") == "fresh"
    assert again.fingerprint == ds.fingerprint and again == ds
    with pytest.raises(TypeError):
        again.tables["sales"] = _sales([5])                               # still read-only


def test_a_promised_result_is_waited_for_not_computed():
    memo = Memo()
    promise = memo.promise([("x",), ("y",)])
    got: list[object] = []
    reader = threading.Thread(target=lambda: got.append(memo.get(("x",), lambda: "computed")))
    reader.start()
    reader.join(0.2)
    assert reader.is_alive() and promise.open == [("x",), ("y",)]     # waiting for the promise
    promise.keep(("x",), "kept")
    reader.join(5)
    assert got == ["kept"] and promise.open == [("y",)]
    promise.give_up()
    assert memo.get(("y",), lambda: "computed") == "computed" and promise.open == []


def test_a_promise_leaves_results_already_kept_alone():
    memo = Memo()
    memo.get(("x",), lambda: 1)
    promise = memo.promise([("x",)])
    assert promise.open == []
    promise.keep(("x",), 2)
    assert memo.get(("x",), lambda: 3) == 1


@pytest.mark.parametrize("dtype", ["str", object, "category"])
def test_members_is_isin(dtype):
    """members() gives what Series.isin gives, for text, objects and categories, whatever holds
    the ids (a set, a list, a Series, an Index), with or without a missing id."""
    from core.dataset import members

    ids = [f"R{i:03d}" for i in range(40)]
    values = pd.Series([*ids, "X1", None] * 3, dtype=dtype)
    for wanted in (set(ids[::3]), ids[:5], pd.Series(ids[10:20], dtype="str"), pd.Index(ids[:1]), set(),
                   {None, "R001"}, ["X1", "X1"]):
        assert members(values, wanted).tolist() == values.isin(wanted).tolist()
