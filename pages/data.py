"""Data: upload files, see what each sheet became, correct table and column matches, read and
download the validation report, and get the template. Every number comes from core."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.dataset import Dataset
from core.errors import UserError
from core.fmt import NA, column_label, readable_frame, table_label
from core.ingest.pipeline import issues_workbook, template_workbook
from core.ingest.template import issue_counts
from core.schema import TABLE_ORDER, TABLES
from ui.sidebar import MINE
from ui.source import default_data, show_notice
from ui.state import (
    OVERRIDES_KEY,
    UPLOAD_KEY,
    cached_call,
    settings,
    uploaded_dataset,
)
from ui.text import md

FILE_TYPES = ["xlsx", "xlsm", "xls", "xlsb", "csv", "tsv", "txt"]
NOT_USED = "(not used)"
KIND_ORDER = ["rejected", "orphan", "duplicate", "ambiguous", "warning", "info"]
ISSUE_COLUMNS = ["Kind", "Table", "Column", "Problem", "Value", "Source", "Row"]
PROBLEM_WIDTH = 360      # px: with the other columns, the table fits the 900 px of the page at 1366 px
PROBLEM_FITS = 50        # characters that fit PROBLEM_WIDTH on one line
WRAPPED_ROW = 72         # px: three lines of a longer problem


def _store_upload() -> None:
    """Keep the uploaded bytes in this session and switch the sidebar to them."""
    uploaded = st.session_state.get("data_upload") or []
    st.session_state[UPLOAD_KEY] = [(f.name, f.getvalue()) for f in uploaded]
    st.session_state[OVERRIDES_KEY] = None
    st.session_state["source"] = MINE if uploaded else st.session_state.get("source")


def _clear_upload() -> None:
    st.session_state[UPLOAD_KEY] = []
    st.session_state[OVERRIDES_KEY] = None
    st.session_state.pop("source", None)


def _current() -> tuple[Dataset | None, str, str | None]:
    """The dataset the sidebar shows (re-read here so an upload that fails can still be fixed)."""
    files = st.session_state.get(UPLOAD_KEY)
    if st.session_state.get("source") == MINE and files:
        label = ", ".join(name for name, _ in files)
        try:
            return uploaded_dataset(files, st.session_state.get(OVERRIDES_KEY)), label, None
        except UserError as err:
            return None, label, str(err)
    opened = default_data(settings())      # the administrator's source, else the bundled sample
    show_notice(opened)
    return opened.ds, opened.label, None


def _template() -> bytes:
    return cached_call(template_workbook)


def _page() -> None:
    """The page in a function, so the loaded data lives in its frame and not in the page's module
    namespace, which the uploader's callback keeps alive until Streamlit drops the session: a
    closed tab's data is then released at once (ui.state.release_when_closed)."""
    st.title("Data")
    ds, label, error = _current()
    st.caption(f"Showing {md(label)}")

    # ------------------------------------------------------------------ upload
    left, right = st.columns([3, 1])
    with left:
        st.file_uploader("Upload your workbook(s) or CSV exports (CRM, ERP, spreadsheets)", type=FILE_TYPES,
                         accept_multiple_files=True, key="data_upload", on_change=_store_upload,
                         help="One multi-sheet workbook or several files. Sheets are matched to tables by name, "
                              "else by their columns; you can correct every match below.")
    with right:
        st.download_button("Download the template", data=_template, file_name="goalgap_template.xlsx",
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           on_click="ignore", help="One sheet per table, with example rows and a README sheet.")
        if st.session_state.get(UPLOAD_KEY):
            st.button("Forget my files", on_click=_clear_upload)

    if error:
        st.error(md(error))
        st.stop()

    # ------------------------------------------------------------------ what was loaded
    st.subheader("What was loaded")
    counts = issue_counts(ds)
    # One row a table (at most 14): every row in view, no scroll bar inside the page.
    st.dataframe(counts.assign(Table=counts["Table"].map(table_label)), hide_index=True, width="stretch",
                 height=35 * (len(counts) + 1) + 3,
                 column_config={c: st.column_config.NumberColumn(format="localized")
                                for c in counts.columns if c != "Table"}, placeholder=NA)
    missing = [t for t in TABLE_ORDER if t != "products" and not ds.has(t)]
    if missing:
        st.caption("Not uploaded: " + ", ".join(map(table_label, missing)) + ". Measures that need them show "
                   "\"not available\" instead of zero.")

    # ------------------------------------------------------------------ sources and corrections
    st.subheader("Your files and how they were read")
    editable = st.session_state.get("source") == MINE and bool(st.session_state.get(UPLOAD_KEY))
    overrides = st.session_state.get(OVERRIDES_KEY) or {"tables": {}, "columns": {}}
    new_overrides: dict = {"tables": dict(overrides.get("tables", {})), "columns": dict(overrides.get("columns", {}))}
    for i, src in enumerate(ds.sources):
        title = f"{md(src.source)} → {table_label(src.table) if src.table else 'not used'} ({src.rows:,} rows)"
        with st.expander(title, expanded=src.table is None and not src.source.startswith("derived")):
            st.write(md(src.note or ""))
            if src.source.startswith("derived") or not src.matches:
                continue  # derived tables and files that could not be read have no columns to match
            if src.matches:
                st.caption(f"Header found on row {src.header_row}.")
            if not editable:
                st.dataframe(pd.DataFrame([{"Column in the file": m.source_column,
                                            "Used as": column_label(m.canonical) if m.canonical else NOT_USED,
                                            "How": m.how} for m in src.matches]),
                             hide_index=True, width="stretch", placeholder=NA)
                continue
            options = [NOT_USED, *TABLE_ORDER]
            table = st.selectbox("Table", options, index=options.index(src.table or NOT_USED), key=f"tbl_{i}")
            columns = TABLES[table].column_names if table in TABLES else []
            grid = pd.DataFrame([{"Column in the file": m.source_column,
                                  "Used as": m.canonical if m.canonical in columns else NOT_USED,
                                  "How": m.how} for m in src.matches])
            edited = st.data_editor(grid, hide_index=True, width="stretch", key=f"cols_{i}",
                                    disabled=["Column in the file", "How"],
                                    column_config={"Used as": st.column_config.SelectboxColumn(
                                        options=[NOT_USED, *columns], required=True)}, placeholder=NA)
            if table != (src.table or NOT_USED):
                new_overrides["tables"][src.source] = None if table == NOT_USED else table
            changed = (edited["Used as"] != grid["Used as"]).any()
            if changed or src.source in new_overrides["tables"]:
                chosen = {r["Column in the file"]: (None if r["Used as"] == NOT_USED else r["Used as"])
                          for r in edited.to_dict("records")}
                new_overrides["columns"][src.source] = chosen
    if editable and new_overrides != overrides and st.button("Apply my corrections", type="primary"):
        st.session_state[OVERRIDES_KEY] = new_overrides
        st.rerun()

    # ------------------------------------------------------------------ issues
    st.subheader("Validation report")
    issues = ds.issues
    if issues.empty:
        st.success("Every row was read and loaded; nothing to report.")
    else:
        kinds = [k for k in KIND_ORDER if k in set(issues["Kind"])]
        # keyed by the data, so a new upload starts from the defaults, not the sample's choice
        picked = st.multiselect("Show", kinds, default=[k for k in kinds if k != "info"] or kinds,
                                key=f"issue_kinds_{ds.fingerprint}",
                                help="rejected = row not used · orphan = refers to an unknown rep/account (kept) · "
                                     "duplicate = set apart · ambiguous = read one way, check it · "
                                     "warning = value left blank or defaulted · info = for your records")
        shown = issues[issues["Kind"].isin(picked)]
        st.caption(f"{len(shown):,} of {len(issues):,} issues")
        top = shown.head(5000)
        # The problem is what a person reads: it comes right after what it is about, wide, and wraps
        # (Streamlit wraps cell text only in rows taller than 4rem) when one would not fit its width.
        long_text = bool(top["Problem"].astype("str").str.len().gt(PROBLEM_FITS).any())
        st.dataframe(top.assign(Table=top["Table"].map(table_label, na_action="ignore"),
                                Column=top["Column"].map(column_label, na_action="ignore"))[ISSUE_COLUMNS],
                     hide_index=True, width="stretch", placeholder=NA, row_height=WRAPPED_ROW if long_text else None,
                     column_config={"Kind": st.column_config.TextColumn("Kind", width=70),
                                    "Table": st.column_config.TextColumn("Table", width=100),
                                    "Column": st.column_config.TextColumn("Column", width=95),
                                    "Problem": st.column_config.TextColumn("Problem", width=PROBLEM_WIDTH),
                                    "Value": st.column_config.TextColumn("Value", width=70),
                                    "Source": st.column_config.TextColumn("Source", width=150),
                                    "Row": st.column_config.NumberColumn("Row", width=50, format="%d")})
    st.download_button("Download the validation report (.xlsx)", data=lambda: issues_workbook(ds),
                       file_name="goalgap_validation_report.xlsx", on_click="ignore",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    # ------------------------------------------------------------------ preview
    st.subheader("Preview a table")
    present = [t for t in TABLE_ORDER if ds.has(t)]
    if present:
        name = st.selectbox("Table", present, key="preview_table", format_func=table_label)
        table = ds.table(name)
        st.caption(f"{len(table):,} rows · first 200 shown")
        st.dataframe(readable_frame(table.head(200)), hide_index=True, width="stretch", placeholder=NA)


_page()
