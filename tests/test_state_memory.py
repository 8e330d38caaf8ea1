"""ui/state's hold on uploaded data: shared while a session holds it, released after; a file that
cannot be read is not read again (unless it only ran out of time)."""
from __future__ import annotations

import gc
import weakref

import pytest

import ui.state as state
from core.errors import UserError
from core.ingest.sandbox import OutOfTime

SALES = b"date,rep_id,product,revenue\n2025-07-03,R1,Stent,1000\n2025-08-15,R2,Stent,700\n"


def test_a_dataset_nobody_holds_is_released(session_state):
    ds = state.uploaded_dataset([("sales.csv", SALES)], None)
    assert session_state[state.DATASET_KEY] is ds                         # the session holds it
    assert state.uploaded_dataset([("sales.csv", SALES)], None) is ds      # shared while held
    held = weakref.ref(ds)
    del ds
    session_state.clear()                                                 # the session closes
    gc.collect()
    assert held() is None


def test_an_unreadable_upload_is_not_read_again(monkeypatch, session_state):
    calls = []

    def refuse(files, overrides):
        calls.append(files)
        raise UserError("notes.csv is not a text (CSV) file.")

    monkeypatch.setattr(state, "ingest_isolated", refuse)
    files = [("notes.csv", b"\x00\x01 never seen before")]
    for _ in range(2):
        with pytest.raises(UserError, match="not a text"):
            state.uploaded_dataset(files, None)
    assert len(calls) == 1


def test_an_upload_that_ran_out_of_time_may_be_tried_again(monkeypatch, session_state):
    calls = []

    def too_slow(files, overrides):
        calls.append(files)
        raise OutOfTime("reading took longer than 30 seconds")

    monkeypatch.setattr(state, "ingest_isolated", too_slow)
    files = [("big.csv", b"a,b\n1,2\n slow this time")]
    for _ in range(2):
        with pytest.raises(OutOfTime):
            state.uploaded_dataset(files, None)
    assert len(calls) == 2
