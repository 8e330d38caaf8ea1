"""Value parsers: the text and numbers people type, read into canonical values a column at a time.

Every parser takes a raw column (text from a CSV, or the typed cells of a workbook: str, float,
datetime) and returns a `Parsed`: the canonical values plus a mask of the cells that held something
but could not be read, so ingest can reject the row or blank the cell with a warning. Nothing is
guessed silently: a column whose dates could be read either day-first or month-first says so in
`note`.

Work is vectorised: pandas string methods over the column, or over its distinct values (dates and
labels repeat a lot) mapped back onto the rows.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import pandas as pd

from core.schema import ACTIVITY_TYPES

# Excel error values and spreadsheet "no value" markers read as a blank cell.
_BLANK_MARKERS = ("#N/A", "#N/A N/A", "#NULL!", "#VALUE!", "#REF!", "#DIV/0!", "#NAME?", "#NUM!")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_MAX_SERIAL = 130_000  # Excel day 130000 is in 2255; later days do not fit a datetime64[ns]
# Excel reads a two-digit year 00-29 as 20xx and 30-99 as 19xx.
_TWO_DIGIT_PIVOT = 30


@dataclass(frozen=True)
class Parsed:
    """Canonical values, the cells that held something unreadable, and a note for the user."""

    values: pd.Series
    bad: pd.Series
    note: str = ""
    no_date: pd.Series | None = None    # cells holding a system's "no date" value (9999-12-31)
    distinct: Distinct | None = None    # the values as distinct values and codes, when read so


@dataclass
class Reading:
    """How the batches read so far of a big file read one column, so the next batches read it the
    same way (None: nothing settled it yet): dates day-first or month-first, a comma as the
    decimal mark or not. Without it each batch would decide alone, and one file could hold
    4 March and 3 April for the same "03/04"."""

    day_first: bool | None = None
    decimal_comma: bool | None = None


@dataclass(frozen=True)
class Distinct:
    """A long text or typed column as its distinct values and, per row, the position of its value
    among them (missing is one of the values): computed once per raw column and shared by every
    step that reads the column value by value (parsing, the source-row key)."""

    codes: np.ndarray
    uniq: pd.Series


def distinct(s: pd.Series) -> Distinct | None:
    """The column's distinct values and codes; None for workbook cells (object columns, where 1,
    1.0 and True are one value to a hash table but not to the parsers) and for short columns,
    which are read cell by cell."""
    if s.dtype == object or len(s) < 1000:
        return None
    codes, uniq = pd.factorize(s, use_na_sentinel=False)
    small = codes.astype(np.int32) if len(uniq) < 2**31 else codes    # kept while the sheet loads
    return Distinct(small, pd.Series(uniq, dtype=s.dtype))


class DistinctParser(Protocol):
    """A parser that reads a long column once per distinct value (see `_per_distinct`)."""

    def __call__(self, s: pd.Series, known: Distinct | None = None) -> Parsed: ...


def _per_distinct(parse: Callable[[pd.Series], Parsed]) -> DistinctParser:
    """Run a text parser on the distinct values of a text column and spread the results back onto
    its rows: labels and periods repeat a lot, so a column of millions holds a few distinct values.
    `known`: the column's distinct values when the caller has them already.

    A column the parser leaves as it is (ids and names without blanks or stray spaces) is returned
    itself, not a copy of itself. Workbook cells are parsed as they are (see `distinct`).
    """
    @functools.wraps(parse)
    def wrapper(s: pd.Series, known: Distinct | None = None) -> Parsed:
        d = known or distinct(s)
        if d is None:
            return parse(s)
        parsed = parse(d.uniq)
        if _unchanged(parsed, d.uniq):
            return Parsed(s, pd.Series(False, index=s.index), parsed.note, distinct=d)
        return Parsed(parsed.values.take(d.codes).set_axis(s.index),
                      pd.Series(parsed.bad.to_numpy()[d.codes], index=s.index), parsed.note,
                      distinct=Distinct(d.codes, parsed.values))
    return wrapper


def _unchanged(parsed: Parsed, uniq: pd.Series) -> bool:
    """Did the parser give every distinct value back as it was (same type, nothing unreadable)?"""
    return (parsed.values.dtype == uniq.dtype and not parsed.bad.any() and not uniq.isna().any()
            and bool(parsed.values.notna().all()) and bool((parsed.values == uniq).all()))


# --------------------------------------------------------------------------------------- text
def _kinds(s: pd.Series) -> pd.Series:
    """The Python type of each cell of an object column (workbook cells mix str, float, datetime)."""
    return s.map(type)


def _float_text(x: pd.Series) -> pd.Series:
    """Numbers as a person reads them: 1001.0 -> "1001", 2.5 -> "2.5"."""
    f = x.astype("float64")
    integral = np.isfinite(f) & (f == np.round(f))
    out = f.astype("str")
    ints = f[integral].astype("int64").astype("str")
    return out.mask(integral, ints)


def to_text(s: pd.Series) -> pd.Series:
    """Cells as stripped text (`str` dtype); blanks and Excel errors ("#N/A") become missing."""
    if s.dtype == object:
        kinds = _kinds(s)
        num = kinds.isin((float, int, np.float64, np.int64))
        stamp = kinds.isin((dt.datetime, pd.Timestamp, dt.date))
        out = s.astype("str")
        if num.any():
            out = out.mask(num, _float_text(s[num]))
        if stamp.any():
            out = out.mask(stamp, pd.to_datetime(s[stamp]).dt.strftime("%Y-%m-%d"))
        s = out
    elif s.dtype.kind in "fi":
        s = _float_text(s).mask(s.isna())
    elif s.dtype.kind == "M":
        s = s.dt.strftime("%Y-%m-%d")
    text = s.astype("str").str.strip()
    return text.mask(text.eq("") | text.isin(_BLANK_MARKERS) | s.isna())


# Bytes a cell may start and end with and still be its own stripped text: printable ASCII but "#"
# at the start (Excel errors, "#N/A"); spaces, controls and any non-ASCII byte are left to to_text.
_PLAIN_END = np.zeros(256, dtype=bool)
_PLAIN_END[0x21:0x7F] = True
_PLAIN_START = _PLAIN_END.copy()
_PLAIN_START[ord("#")] = False


def as_written(s: pd.Series) -> bool:
    """Is `to_text(s)` the column itself: pyarrow text, no cell missing or empty, none starting or
    ending with a space (or a byte that may be one) and none starting with "#"? Read from the
    column's buffers, without a stripped copy of it."""
    arr = getattr(s.array, "_pa_array", None)
    if arr is None or arr.null_count:
        return False
    import pyarrow as pa

    for chunk in arr.chunks:
        if not pa.types.is_large_string(chunk.type):
            return False
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64)[chunk.offset:chunk.offset + len(chunk) + 1]
        if not len(chunk):
            continue
        if (np.diff(offsets) == 0).any():
            return False
        body = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
        if not (_PLAIN_START[body[offsets[:-1]]].all() and _PLAIN_END[body[offsets[1:] - 1]].all()):
            return False
    return True


def is_blank(s: pd.Series) -> pd.Series:
    """True where a cell holds nothing (empty, whitespace, #N/A)."""
    return to_text(s).isna()


# Cyrillic and Greek letters drawn like Latin ones ("Revеnue" with a Cyrillic "е" reads as "Revenue").
_LOOKALIKES = str.maketrans(
    "АВЕКМНОРСТУХаеорсухіјѕԁӏІЈЅΑΒΕΖΗΙΚΜΝΟΡΤΥΧορνι",
    "ABEKMHOPCTYXaeopcyxijsdlIJSABEZHIKMNOPTYXopvi")
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u2060\ufeff]")


def fold_lookalikes(text: str) -> str:
    """Text with look-alike letters of other alphabets made Latin, accents and invisible
    characters removed and compatibility forms unified (fullwidth "Ｒｅｐ" -> "Rep")."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKD", text).translate(_LOOKALIKES))
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def lookalike_letters(text: str) -> str:
    """The letters of a mostly Latin label that only look Latin ("е" in "Revеnue"); "" when none.
    A label written wholly in another alphabet ("Выручка") is not flagged."""
    odd = [ch for ch in text if ch.translate(_LOOKALIKES) != ch or _INVISIBLE.match(ch)]
    return "".join(dict.fromkeys(odd)) if odd and re.search("[A-Za-z]", text) else ""


def _unmangle(name: str) -> str:
    """UTF-8 text that was once read as Windows-1252 ("JosÃ© MÃ¼ller") back to what was meant."""
    if not re.search("[\u00c2-\u00f4][^\x00-\x7f]", name):   # a lead byte shown as a letter
        return name
    try:
        return name.encode("cp1252").decode("utf-8")
    except UnicodeError:
        return name


def _person_key(name: str) -> str:
    text = fold_lookalikes(_unmangle(name)).casefold()
    last_first = re.fullmatch(r"\s*([^,]+?)\s*,\s*([^,]+?)\s*", text)
    if last_first and not re.search(r"\d", text):
        text = f"{last_first.group(2)} {last_first.group(1)}"
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def person_key(s: pd.Series) -> pd.Series:
    """One key per person however the name is written: case, spacing, accents, punctuation,
    "Last, First" and text mangled by a wrong encoding all give the same key
    ("Smith,  John", "john smith", "JOHN SMITH" -> "john smith"; "José", "Jose", "JosÃ©" -> "jose").
    The one normaliser for matching people's names."""
    uniq = pd.Series(s.dropna().unique(), dtype="object")
    lookup = pd.Series([_person_key(str(v)) for v in uniq], index=uniq.values, dtype="str")
    return s.map(lookup).astype("str")


def looks_mangled(s: pd.Series) -> pd.Series:
    """True where text reads like UTF-8 shown as Windows-1252 ("JosÃ©")."""
    return s.map(lambda v: isinstance(v, str) and _unmangle(v) != v).astype(bool)


# --------------------------------------------------------------------------------------- numbers
_NUMBER_KINDS = (float, int, np.float64, np.int64)
_CURRENCY = re.compile(r"(?i)^(?:[a-z]{3}|[$€£¥])|(?:[a-z]{3}|[$€£¥])$")
_SCALE = {"k": 1e3, "m": 1e6, "mm": 1e6, "bn": 1e9}
_ONE_GROUP = r"^\d{1,3}[.,]\d{3}$"          # "1,054" / "1.054": thousands or decimals?


def _decimal_comma(body: pd.Series) -> pd.Series:
    """Per value: True = the comma is the decimal mark, False = the dot is, NA = cannot tell.

    With both marks the last one is the decimal ("1.054,00" vs "1,054.00"); a single mark followed
    by exactly three digits ("1,054", "1.054") could be either and stays NA; a lone comma with one,
    two or four+ digits after it ("12,5", "1,2k") is a decimal comma.
    """
    comma, dot = body.str.rfind(","), body.str.rfind(".")
    out = pd.Series(pd.NA, index=body.index, dtype="boolean")
    both = (comma >= 0) & (dot >= 0)
    out[both] = comma[both] > dot[both]
    one_group = body.str.match(_ONE_GROUP)
    comma_only = (comma >= 0) & (dot < 0)
    dot_only = (dot >= 0) & (comma < 0)
    many_commas, many_dots = body.str.count(",") > 1, body.str.count(r"\.") > 1
    out[comma_only & many_commas] = False
    out[dot_only & many_dots] = True
    out[comma_only & ~many_commas & ~one_group] = True
    out[dot_only & ~many_dots & ~one_group] = False
    return out


def _text_to_number(text: pd.Series, reading: Reading | None = None) -> pd.Series:
    """Money as people write it: "USD 1,054.00", "$1,054", "(1,054)", "1.054,00 €", "1,2k", "85%".

    Whether "1,054" means one thousand or one point nought five four is decided for the whole
    column by the values that are unmistakable; the US reading wins when nothing tells.
    """
    t = text.str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
    negative = t.str.match(r"^\(.*\)$") | t.str.match(r"^-") | t.str.match(r".*-$")
    t = t.str.replace(r"^\((.*)\)$", r"\1", regex=True).str.strip("+-")
    t = t.str.replace(_CURRENCY, "", regex=True).str.strip("+-").str.rstrip("%")
    suffix = t.str.extract(r"(?i)(k|mm|m|bn)$", expand=False).str.lower()
    scale = suffix.map(_SCALE).astype("float64").fillna(1.0)
    body = t.str.replace(r"(?i)(k|mm|m|bn)$", "", regex=True)
    decimal_comma = _decimal_comma(body)
    if reading is not None and reading.decimal_comma is not None:
        column_comma = reading.decimal_comma
    else:
        column_comma = bool(decimal_comma.sum() > (~decimal_comma).sum())
        if reading is not None and decimal_comma.notna().any():
            reading.decimal_comma = column_comma
    decimal_comma = decimal_comma.fillna(column_comma).astype(bool)
    body = body.mask(decimal_comma, body.str.replace(".", "", regex=False).str.replace(",", ".", regex=False))
    body = body.mask(~decimal_comma, body.str.replace(",", "", regex=False))
    valid = body.str.fullmatch(r"\d+(?:\.\d*)?|\.\d+")
    number = pd.to_numeric(body.where(valid), errors="coerce").astype("float64")
    return number * scale * np.where(negative, -1.0, 1.0)


def _arrow_float(s: pd.Series) -> pd.Series | None:
    """Plain numeric text cast in one go by pyarrow (None when any cell needs the careful path)."""
    arr = getattr(s.array, "_pa_array", None)
    if arr is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        blank = pc.equal(pc.utf8_length(arr), 0)
        values = pc.cast(pc.if_else(blank, pa.scalar(None, pa.string()), arr), pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return pd.Series(values.to_numpy(zero_copy_only=False), index=s.index, dtype="float64")


def parse_number(s: pd.Series, reading: Reading | None = None) -> Parsed:
    """Numbers and money, whatever the currency sign, separators, brackets or k/m suffix.
    `reading`: how earlier batches of the same file read the column's decimal mark."""
    if s.dtype.kind in "fi":
        values = s.astype("float64")
        return Parsed(values, pd.Series(False, index=s.index))
    values = pd.Series(np.nan, index=s.index, dtype="float64")
    numeric = _kinds(s).isin(_NUMBER_KINDS) if s.dtype == object else pd.Series(False, index=s.index)
    if numeric.any():
        values[numeric] = s[numeric].astype("float64")
    fast = _arrow_float(s) if not numeric.any() else None
    if fast is not None:
        return Parsed(fast, pd.Series(False, index=s.index))
    text = pd.Series(pd.NA, index=s.index, dtype="str")
    if not numeric.all():
        text[~numeric] = to_text(s[~numeric])
    has_text = text.notna()
    if has_text.any():
        t = text[has_text]
        plain = pd.to_numeric(t, errors="coerce")
        hard = plain.isna() | t.str.match(_ONE_GROUP)
        if hard.any():
            plain[hard] = _text_to_number(t[hard], reading)
        values[has_text] = plain.astype("float64")
    return Parsed(values, has_text & values.isna())


# --------------------------------------------------------------------------------------- dates
_NUMERIC_DATE = re.compile(r"^(\d{1,4})[-/.](\d{1,2})[-/.](\d{1,4})(?:[ T].*)?$")
_COMPACT_DATE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TZ_SUFFIX = r"(?i)(?<=:\d\d)\s*(?:z|utc|gmt|(?:utc|gmt)?\s*[+-]\d{1,2}(?::?\d{2})?)\s*$"
_MIN_DAY, _MAX_DAY = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


def _excel_serial(x: pd.Series) -> pd.Series:
    """Excel day numbers (45000 = 2023-03-15) and yyyymmdd integers (20230315) as dates."""
    f = pd.to_numeric(x, errors="coerce").astype("float64")
    serial = (f >= 1) & (f < _MAX_SERIAL)
    compact = (f >= 19000101) & (f <= 29991231) & (f == np.round(f))
    days = pd.to_timedelta(np.floor(f.where(serial)), unit="D")
    out = pd.Series(_EXCEL_EPOCH + days, index=x.index)
    ymd = pd.to_datetime(f.where(compact).astype("Int64").astype("str"), format="%Y%m%d", errors="coerce")
    return out.mask(compact, ymd)


def _year(c: pd.Series) -> pd.Series:
    two_digit = c < 100
    return c.where(~two_digit, np.where(c < _TWO_DIGIT_PIVOT, 2000 + c, 1900 + c))


def _numeric_dates(text: pd.Series, reading: Reading | None = None) -> tuple[pd.Series, str]:
    """Dates written with numbers and separators: ISO, US m/d/Y, day-first d/m/Y, d.m.Y, 2-digit years.

    Day-first or month-first is decided for the whole column: a first number above 12 means
    day-first, a second number above 12 means month-first. When no value settles it, the US
    reading is used and the note says so.
    """
    parts = text.str.extract(_NUMERIC_DATE).astype("float64")
    a, b, c = parts[0], parts[1], parts[2]
    iso = text.str.match(r"^\d{4}")
    other = ~iso & a.notna()
    day_first_hint = bool((a[other] > 12).any())
    month_first_hint = bool((b[other] > 12).any())
    note = ""
    if reading is not None and reading.day_first is not None:
        day_first = reading.day_first
    elif day_first_hint and not month_first_hint:
        day_first = True
    elif month_first_hint and not day_first_hint:
        day_first = False
    else:
        day_first = False
        undecided = other & (a != b)
        if (day_first_hint and month_first_hint) or undecided.any():
            note = ("dates could be read day-first or month-first; read month-first (US, m/d/y) — "
                    "values that do not fit that reading are reported")
    if reading is not None and (day_first_hint or month_first_hint or note):
        reading.day_first = day_first       # settled (or read month-first, as the note says)
    day = np.where(iso, c, np.where(day_first, a, b))
    month = np.where(iso, b, np.where(day_first, b, a))
    year = np.where(iso, a, _year(c))
    frame = pd.DataFrame({"year": year, "month": month, "day": day}, index=text.index)
    ok = frame.notna().all(axis=1) & frame["year"].between(_MIN_DAY.year + 1, _MAX_DAY.year - 1)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if ok.any():
        out[ok] = pd.to_datetime(frame[ok].astype("int64"), errors="coerce")
    return out, note


def _text_dates(text: pd.Series) -> pd.Series:
    """Dates with month names ("Mar 1, 2024", "1-Mar-24"); only a few distinct values reach here."""
    if text.empty:
        return pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    has_letters = text.str.contains(r"[A-Za-z]{3}", regex=True)
    out = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if has_letters.any():
        # The calendar day as written: a time-zone suffix ("+0100", "UTC") is dropped, not converted.
        words = text[has_letters].str.replace(_TZ_SUFFIX, "", regex=True)
        try:
            read = pd.to_datetime(words, format="mixed", errors="coerce", dayfirst=True)
        except ValueError:  # offsets pandas still cannot combine ("Mixed timezones detected")
            read = pd.to_datetime(words, format="mixed", errors="coerce", dayfirst=True, utc=True)
        read = read.dt.tz_localize(None) if read.dt.tz is not None else read
        # A year-less "Jan 8" reads as year 1, outside the calendar-day range: unreadable, not a crash.
        out[has_letters] = read.where(read.between(_MIN_DAY, _MAX_DAY)).astype("datetime64[ns]")
    return out


def _parse_unique_dates(u: pd.Series, reading: Reading | None = None) -> tuple[pd.Series, str]:
    """Read the distinct cells of one date column (typed workbook cells or text)."""
    out = pd.Series(pd.NaT, index=u.index, dtype="datetime64[ns]")
    kinds = _kinds(u) if u.dtype == object else pd.Series(type(None), index=u.index)
    stamps = kinds.isin((dt.datetime, pd.Timestamp, dt.date))
    if u.dtype.kind == "M":
        return pd.Series(u.values, index=u.index).astype("datetime64[ns]"), ""
    if stamps.any():
        out[stamps] = pd.to_datetime(u[stamps].astype("object"), errors="coerce")
    numbers = kinds.isin(_NUMBER_KINDS) if u.dtype == object else pd.Series(u.dtype.kind in "fi",
                                                                             index=u.index)
    if numbers.any():
        out[numbers] = _excel_serial(u[numbers])
    rest = ~stamps & ~numbers
    note = ""
    if rest.any():
        text = to_text(u[rest])
        numeric_text = text.str.fullmatch(r"\d+(?:\.\d+)?").fillna(False)
        if numeric_text.any():
            out[numeric_text[numeric_text].index] = _excel_serial(text[numeric_text])
        words = text[~numeric_text].dropna()
        numeric, note = _numeric_dates(words, reading)
        out[numeric.index] = numeric
        unread = numeric.isna()
        out[unread[unread].index] = _text_dates(words[unread])
    return out.dt.normalize(), note


# "No date" values systems write instead of leaving a date empty: an ERP's "end of time"
# (9999-12-31, 2999-12-31, Oracle's 4712-12-31), zero dates and the spreadsheet day zero.
_END_YEARS = (9999, 2999, 4712)
_NO_DAYS = {(y, 12, 31) for y in _END_YEARS} | {(1900, 1, 1), (1899, 12, 30), (1899, 12, 31), (1, 1, 1)}
_NO_DATE_SERIALS = {0, 2958465, 401768}               # day 0, 9999-12-31, 2999-12-31
_NO_DATE_HINT = r"9999|2999|4712|1900|1899|0000|0001|^\s*0(?:\.0+)?\s*$|2958465|401768"


def _is_no_day(year: float, month: float, day: float) -> bool:
    return year == 9999 or (year, month, day) in _NO_DAYS or (year, month, day) == (0, 0, 0)


def _no_date_marker(u: pd.Series) -> pd.Series:
    """Per distinct cell: does it hold a "no date" value rather than a date?"""
    def one(v: object) -> bool:
        if isinstance(v, (dt.datetime, dt.date)):
            return _is_no_day(v.year, v.month, v.day)
        if isinstance(v, _NUMBER_KINDS) and not isinstance(v, bool):
            return v in _NO_DATE_SERIALS or v in (99991231, 29991231, 47121231)
        text = str(v).strip()
        if re.fullmatch(r"(?:9999|2999|4712)1231|0{8}", text):
            return True
        m = _NUMERIC_DATE.match(text)
        if not m:
            return False
        a, b, c = (int(x) for x in m.groups())
        if len(m.group(1)) == 4 or (len(m.group(1)) <= 2 and len(m.group(3)) <= 2 and a > 31):
            year, rest = a, {b, c}
        else:
            year, rest = c, {a, b}
        month, day = (12, 31) if rest == {12, 31} else (min(rest), max(rest)) if rest else (0, 0)
        return _is_no_day(year, month, day) or (year in (0, 1, 1900) and rest <= {0, 1}) or \
            (year == 1899 and rest in ({12, 30}, {12, 31}))
    out = pd.Series(False, index=u.index)
    maybe = u.astype("str").str.contains(_NO_DATE_HINT, regex=True).fillna(False).to_numpy()
    if maybe.any():
        out[maybe] = u[maybe].map(one).astype(bool)
    return out


def parse_date(s: pd.Series, known: Distinct | None = None, reading: Reading | None = None) -> Parsed:
    """Calendar days (midnight, datetime64[ns]) from ISO, US, day-first, Excel serial and datetime cells.

    A system's "no date" value (9999-12-31, 0000-00-00, 1900-01-01) is read as no date and marked
    in `no_date`, so it is reported as such rather than as an unreadable or out-of-range date.
    Each distinct cell is read once (`known`: the column's distinct values, when the caller has them);
    `reading`: whether earlier batches of the same file read the column day-first.
    """
    if s.dtype.kind == "M":
        values = s.dt.tz_localize(None) if getattr(s.dt, "tz", None) is not None else s
        return Parsed(values.dt.normalize().astype("datetime64[ns]"), pd.Series(False, index=s.index))
    if known is None:
        codes, found = pd.factorize(s, use_na_sentinel=False)
    else:
        codes, found = known.codes, known.uniq
    uniq = pd.Series(np.asarray(found, dtype=object), dtype=object)
    blank_u = is_blank(uniq).to_numpy()         # missing cells are blank
    marker_u = np.zeros(len(uniq), bool)
    marker_u[~blank_u] = _no_date_marker(uniq[~blank_u]).to_numpy()
    read, note = _parse_unique_dates(uniq[~blank_u & ~marker_u], reading)
    read_all = pd.Series(pd.NaT, index=uniq.index, dtype="datetime64[ns]")
    read_all[~blank_u & ~marker_u] = read.astype("datetime64[ns]")
    values = pd.Series(read_all.to_numpy()[codes], index=s.index, dtype="datetime64[ns]")
    no_date = pd.Series(marker_u[codes], index=s.index)
    filled = pd.Series(~blank_u[codes], index=s.index) & ~no_date
    return Parsed(values, filled & values.isna(), note, no_date)


# --------------------------------------------------------------------------------------- other types
_TRUE = ("yes", "y", "true", "t", "1", "x", "✓", "✔", "planned")
_FALSE = ("no", "n", "false", "f", "0", "unplanned", "not planned")


@_per_distinct
def parse_bool(s: pd.Series) -> Parsed:
    """yes/no, true/false, 1/0, y/n and a ticked "x" as a nullable boolean."""
    text = to_text(s).str.lower()
    values = pd.Series(pd.NA, index=s.index, dtype="boolean")
    values[text.isin(_TRUE).fillna(False)] = True
    values[text.isin(_FALSE).fillna(False)] = False
    return Parsed(values, text.notna() & values.isna())


def parse_zip(s: pd.Series) -> Parsed:
    """US ZIP codes as five-digit text: 2138 -> "02138", "02138-1234" -> "02138", 2138.0 -> "02138"."""
    text = to_text(s).str.replace(r"\.0+$", "", regex=True)
    m = text.str.extract(r"^(\d{3,5})(?:-?\d{4})?$", expand=False)
    nine = text.str.fullmatch(r"\d{9}").fillna(False)
    values = m.str.zfill(5).mask(nine, text.str[:5])
    return Parsed(values.astype("str"), text.notna() & values.isna())


@_per_distinct
def parse_text(s: pd.Series) -> Parsed:
    text = to_text(s)
    return Parsed(text, pd.Series(False, index=s.index))


# Raw cells to labels, run once per distinct value of a long text column (each reads one cell alone).
@_per_distinct
def parse_activity_type(s: pd.Series) -> Parsed:
    return Parsed(activity_type(to_text(s)), pd.Series(False, index=s.index))


@_per_distinct
def parse_status(s: pd.Series) -> Parsed:
    return Parsed(normalise_status(to_text(s)), pd.Series(False, index=s.index))


@_per_distinct
def parse_contact_role(s: pd.Series) -> Parsed:
    return contact_role(to_text(s))


# --------------------------------------------------------------------------------------- labels
# First rule that matches wins; a value that is already canonical keeps its name.
_ACTIVITY_RULES: tuple[tuple[str, str], ...] = (
    ("email", r"e-?mail|\bmail\b|newsletter"),
    ("case_support", r"\bcase\b|\bor\b|surgery|surgical|procedure|coverage"),
    ("workshop", r"in-?\s?service|workshop|training|wet ?lab|hands-?on|course"),
    ("presentation", r"presentation|group detail|lunch (?:and|&|n) learn|speaker|symposium|"
                     r"grand rounds|webinar|congress|conference"),
    ("demo", r"demo|evaluation|\beval\b|trial|product test"),
    ("phone", r"phone|\bcall\b|tele|virtual|video|remote|zoom|teams"),
    ("meeting", r"meeting|face.?to.?face|\bf2f\b|detail|visit|in.?person|lunch|sample|"
                r"appointment|\bmeet\b"),
)


def activity_type(text: pd.Series) -> pd.Series:
    """CRM activity / call types mapped to the canonical set; anything unrecognised is "other"."""
    uniq = pd.Series(text.dropna().unique(), dtype="str")
    key = uniq.str.lower().str.strip()
    canon = pd.Series(pd.NA, index=uniq.index, dtype="str")
    snake = key.str.replace(r"[\s-]+", "_", regex=True)
    canon = canon.mask(snake.isin(ACTIVITY_TYPES), snake)
    for name, pattern in _ACTIVITY_RULES:
        hit = canon.isna() & key.str.contains(pattern, regex=True)
        canon = canon.mask(hit, name)
    lookup = pd.Series(canon.fillna("other").values, index=uniq.values)
    return text.map(lookup).astype("str")


_WON = r"^(?:closed ?won|won|close ?won|win|booked|signed|won closed|closed(?: and)? won)$"
_LOST = r"^(?:closed ?lost|lost|close ?lost|dead|closed not won|lost closed|no decision|" \
        r"closed(?: and)? lost|disqualified)$"


def status_from_stage(stage: pd.Series) -> pd.Series:
    """won / lost / open from a CRM stage: "Closed Won", "Won", "closedwon" (HubSpot) -> won."""
    key = stage.str.lower().str.replace(r"[^a-z]+", " ", regex=True).str.strip()
    won = key.str.contains(_WON, regex=True) | key.str.contains(r"\bwon\b", regex=True)
    lost = key.str.contains(_LOST, regex=True) | key.str.contains(r"\blost\b", regex=True)
    out = pd.Series("open", index=stage.index, dtype="str")
    out = out.mask(won.fillna(False), "won").mask(lost.fillna(False) & ~won.fillna(False), "lost")
    return out


def normalise_status(status: pd.Series) -> pd.Series:
    """A given status column read as won / lost / open; values it cannot place become missing."""
    key = status.str.lower().str.replace(r"[^a-z]+", " ", regex=True).str.strip()
    placed = status_from_stage(status)
    known = key.str.contains(r"won|lost|open|win|dead|booked|signed|active|pipeline|in progress",
                             regex=True).fillna(False)
    return placed.where(known)


def name_key(s: pd.Series) -> pd.Series:
    """Spelling-insensitive key: lower case, letters and digits only ("GTX-Pro " -> "gtxpro")."""
    return s.str.lower().str.replace(r"[^0-9a-z]+", "", regex=True)


def canonical_spellings(values: pd.Series, reference: pd.Series | None = None,
                        key: Callable[[pd.Series], pd.Series] = name_key, counted: bool = False) -> dict[str, str]:
    """Map each spelling variant to its canonical spelling ("GTXPro" -> "GTX Pro"). `counted`:
    `values` holds each spelling's count already (spelling -> rows), not the cells themselves.

    Spellings with the same `key` are variants of one name. The canonical spelling is the one in
    `reference` (e.g. the products list the user uploaded) when it has that key, else the most
    frequent of the variants that are neither mangled by an encoding ("JosÃ©") nor written
    "Last, First". Only variants that differ from their canonical spelling are returned.
    """
    counts = values if counted else values.dropna().value_counts()
    counts = counts[counts > 0]         # a categorical counts its categories without rows too
    if counts.empty:
        return {}
    spell = pd.DataFrame({"spelling": counts.index.astype("str"), "n": counts.values})
    spell["key"] = key(spell["spelling"])
    spell["odd"] = looks_mangled(spell["spelling"]) | spell["spelling"].str.contains(",", regex=False)
    spell = spell.sort_values(["key", "odd", "n", "spelling"], ascending=[True, True, False, True])
    canonical = spell.drop_duplicates("key").set_index("key")["spelling"]
    if reference is not None and len(reference.dropna()):
        ref = pd.Series(reference.dropna().astype("str").unique(), dtype="str")
        ref_map = pd.Series(ref.values, index=key(ref).values)
        ref_map = ref_map[~ref_map.index.duplicated()]
        canonical = ref_map.reindex(canonical.index).fillna(canonical)
    spell["canonical"] = spell["key"].map(canonical)
    variants = spell[spell["spelling"] != spell["canonical"]]
    return dict(zip(variants["spelling"], variants["canonical"], strict=True))


_QUARTER_LABEL = re.compile(r"(?i)^(?:(\d{4})\s*[-/ ]?\s*q([1-4])|q([1-4])\s*[-/ ]?\s*(\d{4}))$")
_MONTH_LABEL = re.compile(r"^(?:(\d{4})\s*[-/.]\s*(\d{1,2})|(\d{1,2})\s*[-/.]\s*(\d{4}))$")


@_per_distinct
def parse_period_label(s: pd.Series) -> Parsed:
    """Quota / incentive periods as "YYYY", "YYYY-Qn" or "YYYY-MM" ("Q3 2025", "07/2025", a date cell)."""
    text = to_text(s)
    out = pd.Series(pd.NA, index=s.index, dtype="str")
    year = text.str.fullmatch(r"\d{4}").fillna(False)
    out[year] = text[year]
    q = text.str.extract(_QUARTER_LABEL)
    has_q = q.notna().any(axis=1)
    out[has_q] = q[0].fillna(q[3])[has_q] + "-Q" + q[1].fillna(q[2])[has_q]
    m = text.str.extract(_MONTH_LABEL)
    yy, mm = m[0].fillna(m[3]), m[1].fillna(m[2])
    has_m = yy.notna() & mm.astype("float64").between(1, 12)
    out[has_m] = yy[has_m] + "-" + mm[has_m].str.zfill(2)
    rest = text.notna() & out.isna()
    if rest.any():
        as_date = parse_date(s[rest])
        out[rest] = as_date.values.dt.strftime("%Y-%m")
    return Parsed(out, text.notna() & out.isna())


_ROLE_RULES: tuple[tuple[str, str], ...] = (
    ("admin", r"admin|c-?suite|\bceo\b|\bcfo\b|\bcoo\b|\bcno\b|executive|director|\bvp\b|president|chief"),
    ("buyer", r"buyer|purchas|procure|value analysis|materials|supply|contract|sourcing"),
    ("user", r"user|clinic|surgeon|physician|doctor|nurse|\bmd\b|\brn\b|\bdr\b|technician|therapist|"
             r"cardiologist|specialist"),
)


@_per_distinct
def contact_role(text: pd.Series) -> Parsed:
    """Contact roles as user (clinician) / buyer (purchasing) / admin (C-suite); others unreadable."""
    key = text.str.lower()
    out = pd.Series(pd.NA, index=text.index, dtype="str")
    for name, pattern in _ROLE_RULES:
        out = out.mask(out.isna() & key.str.contains(pattern, regex=True).fillna(False), name)
    return Parsed(out, text.notna() & out.isna())
