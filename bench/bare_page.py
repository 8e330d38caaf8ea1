"""The reference for bench/load.py: a bare Streamlit page with the same period widget as GoalGap's
sidebar and nothing to compute, so its latency is what the server itself costs per rerun."""
import streamlit as st

QUARTERS = [f"{y}-Q{q}" for y in range(2026, 2020, -1) for q in (4, 3, 2, 1)]

with st.sidebar:
    which = st.selectbox("Which", QUARTERS, key="period_quarter")
st.title("Bare page")
st.write(f"Period: {which}")
