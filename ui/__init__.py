"""Streamlit-side helpers shared by app.py and the pages (core/ stays free of Streamlit)."""
