"""GoalGap's server: `streamlit run serve.py` serves app.py as `streamlit run app.py` does, and reads the
bundled sample team (and starts its whole-team work) as soon as the server starts, so the first
visitor's Overview does not wait for that read (issue 16). Streamlit's st.App runs the lifespan
hook below once, at start-up."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import streamlit as st


@asynccontextmanager
async def lifespan(_app: st.App) -> AsyncIterator[None]:
    from ui.state import preload_sample

    preload_sample()            # in a background thread: the server answers at once
    yield


app = st.App(Path(__file__).with_name("app.py"), lifespan=lifespan)
