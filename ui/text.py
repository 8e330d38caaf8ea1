"""Show user text as text: one escape for every place Streamlit or plotly would read it as markup.

Uploaded names (reps, accounts, regions, territories, products, competencies, files, sheets) end
up in headings, captions, labels and chart titles. Streamlit renders those as Markdown (links,
images that the browser fetches, `:red[colour]`, `$math$`, emoji shortcodes) and plotly renders a
small HTML subset (`<a href>`, `<b>`, `<br>`). Wrap every piece of user text, never the whole
sentence it sits in:

    st.subheader(f"{md(rep_name)} — {md(region)}")      # anything Streamlit renders as Markdown
    go.Bar(..., hovertemplate=f"{plot_text(stage)}: %{{y}}")     # user text written into plotly code
    frame.assign(account_name=frame["account_name"].map(html_text))  # pydeck tooltip html

`ui.charts.style(fig, title, ...)` already applies `plot_text` to its titles and to everything a
figure's traces carry (names, categories, labels, customdata, subplot titles): pass those raw
(escaping them again would show "&lt;"). Wrap only user text you write into a hovertemplate or a
layout you set yourself. Data frames (st.dataframe) and select-box options are plain text already.
"""
from __future__ import annotations

import html
import math
import re

# What CommonMark, GitHub-flavoured Markdown, KaTeX ($) and Streamlit read as markup is
# backslash-escaped (CommonMark shows an escaped ASCII punctuation character as itself):
# anywhere \ ` * [ ] < > $ ~, an underscore at a word's edge, an ampersand that starts an
# entity; at the start, where a block could begin, # + - and the dot or parenthesis of "1." / "1)".
# Everything else (. , ' ( ) - & _ inside a name) stays as typed, so ordinary names read the same
# in a page's Markdown source.
_ANYWHERE = re.compile(r"[\\`*\[\]<>$~]|(?<!\w)_|_(?!\w)|&(?=#?\w+;)")
_BLOCK_MARK = re.compile(r"^[#+\-]")
_LIST_NUMBER = re.compile(r"^(\d+)([.)])")
_LINE_BREAKS = re.compile(r"[\r\n]+")
# Streamlit draws :emoji: shortcodes, :material/icon: and :red[colour] even when escaped, and
# GitHub-flavoured Markdown links bare URLs and e-mail addresses: an invisible word joiner
# (U+2060) after a colon that touches the next character, after "www" and after "@" keeps them
# plain text.
_BREAK_AFTER = re.compile(r"(?i)(:(?=\S)|\bwww(?=\.)|@)")
_WORD_JOINER = "\u2060"
# plotly reads <…> as a tag and &…; as an entity; a lone < or & is drawn as typed.
_PLOT_SPECIAL = re.compile(r"<(?=[^<>]*>)|&(?=#?\w+;)")
_PLOT_ENTITY = {"<": "&lt;", "&": "&amp;"}


def md(text: object) -> str:
    """`text` (any value; None → "") escaped so that Streamlit Markdown shows it literally.

    Use it for user text inside st.markdown / st.caption / st.title / st.header / st.subheader /
    st.write of a string / st.info and friends / widget, metric, expander and tab labels, radio
    options and help tooltips. Line breaks become spaces and the ends are trimmed (a name never
    starts a new block).
    """
    if text is None:
        return ""
    plain = _BREAK_AFTER.sub(lambda m: m.group(0) + _WORD_JOINER, _LINE_BREAKS.sub(" ", str(text)).strip())
    escaped = _ANYWHERE.sub(lambda m: "\\" + m.group(0), plain)
    return _LIST_NUMBER.sub(r"\1\\\2", _BLOCK_MARK.sub(lambda m: "\\" + m.group(0), escaped))


def plot_text(text: object) -> str:
    """`text` escaped for plotly's titles, tick and legend labels and hover text: a `<` that would
    open a tag and an `&` that would start an entity become entities plotly draws as those
    characters, so no tag is ever interpreted ("<50%" and "R&D" stay as they are)."""
    if text is None:
        return ""
    return _PLOT_SPECIAL.sub(lambda m: _PLOT_ENTITY[m.group(0)], str(text))


def html_text(text: object) -> str:
    """`text` escaped for HTML that is not Markdown (pydeck tooltips): `&`, `<`, `>` and quotes
    become entities; None or NaN → ""."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return ""
    return html.escape(str(text))


