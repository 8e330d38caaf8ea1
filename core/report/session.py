"""A consultant's session in one file: the uploaded files, column matches, settings and view.

The file is a zip holding `session.json` (format, version, the file list with a SHA-256 per file,
the column overrides, the settings, the UI choices, optional extra sections, and a checksum over
all of it) and the uploaded bytes under `files/`. It is plain data — never pickle — so opening a
session file from someone else cannot run code.

Opening treats the file as hostile: the zip is unpacked within a total size and a compression
ratio, checked from the members' headers and again while reading in chunks (a 1.5 MB "bomb" is
not a session); every field of the manifest is checked for its type and values before anything
uses it; anything off is a SessionError in plain words, never an exception on a page.

The checksum catches accidents (a file cut short, edited by hand), not tampering: anyone can
recompute it. Session files carry client data on laptops, so a passphrase may be given: the zip
is then encrypted and authenticated with Fernet (AES-128-CBC + HMAC-SHA256), its key derived from
the passphrase by scrypt with a random salt stored in the file. Without the passphrase the file
is unreadable; any change to it is detected.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core import periods
from core.dataset import Scope
from core.errors import UserError
from core.schema import TABLES
from core.settings import Settings

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

FORMAT = "goalgap-session"
VERSION = 1
MANIFEST = "session.json"
EXTENSION = ".goalgap"
MAX_SESSION_BYTES = 1 << 30         # unpacked, all members together: above the 400 MB upload limit
MAX_RATIO = 200                     # unpacked ÷ packed; CSV and workbooks pack ~5-20 ×, a bomb ~1000 ×
RATIO_FROM_BYTES = 1 << 20          # members smaller than this may pack better (a short JSON)
MAX_MANIFEST_BYTES = 16 << 20
MAX_FILES = 1000
MAX_TEXT = 1000                     # characters of a name, a label or an override
MAX_ENTRIES = 10_000                # keys of one mapping in the manifest
CHUNK = 1 << 20
ENCRYPTED_MAGIC = b"GOALGAP-SESSION-ENCRYPTED-1\n"
SALT_BYTES = 16
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1     # ~32 MB and ~0.1 s a derivation
_ENTRY = re.compile(r"^files/\d{3,6}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
PERIOD_KINDS = ("month", "quarter", "year", "custom")
ALL_CHOICE = "All"                  # the sidebar's "no filter" choice, as sessions keep it
# The sidebar widgets whose values are a scope, and the Scope field each sets.
SCOPE_KEYS = {"scope_region": "region", "scope_manager": "manager", "scope_territory": "territory_id",
              "scope_rep": "rep_id"}
# What a session saved on the bundled sample team shows (it holds no files of its own).
SAMPLE_WORKBOOK = Path(__file__).resolve().parents[2] / "sample_data" / "goalgap_sample.xlsx"

# Extra sections other features keep in the session (name -> validator). A validator gets the
# section's JSON value and returns it (possibly normalised) or raises ValueError/TypeError with
# what is wrong; sections without a registered validator are not read.
SECTIONS: dict[str, Callable[[Any], Any]] = {}


class SessionError(UserError):
    """A session file that cannot be opened; the message says why in plain words."""


@dataclass(frozen=True)
class Session:
    files: list[tuple[str, bytes]]
    overrides: dict[str, Any] | None
    settings: Settings
    ui_state: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)   # core.people.notes.Notebook.to_dict(), validated


def register_section(name: str, validate: Callable[[Any], Any]) -> None:
    """Let sessions carry section `name`, checked by `validate` when a session is opened."""
    SECTIONS[name] = validate


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


# ------------------------------------------------------------------------------------------ save
def save_session(files: Sequence[tuple[str, bytes]], overrides: dict[str, Any] | None,
                 settings: Settings, ui_state: dict[str, Any], notes: dict[str, Any] | None = None,
                 extra: dict[str, Any] | None = None, passphrase: str | None = None) -> bytes:
    """One file holding everything needed to reopen the analysis exactly as it is now; encrypted
    when a passphrase is given.

    `overrides`, `ui_state` and `extra` must be JSON-serialisable (the period as a label, the
    scope as ids); `notes` is the session's notes and coaching log (core.people.notes.Notebook.to_dict());
    `extra` maps a registered section name to its value.
    """
    entries = [(f"files/{i:03d}", name, data) for i, (name, data) in enumerate(files)]
    body = {
        "format": FORMAT, "version": VERSION,
        "files": [{"name": name, "entry": entry, "size": len(data),
                   "sha256": hashlib.sha256(data).hexdigest()} for entry, name, data in entries],
        "overrides": overrides, "settings": settings.to_dict(), "ui_state": ui_state,
        **({"notes": notes} if notes else {}),
    }
    if extra:
        body["extra"] = extra
    manifest = json.dumps({**body, "checksum": _digest(body)}, sort_keys=True, indent=1)
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0)), manifest,
                   compress_type=zipfile.ZIP_DEFLATED)
        for entry, _, data in entries:
            z.writestr(zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
    return _encrypt(out.getvalue(), passphrase) if passphrase else out.getvalue()


def is_encrypted(blob: bytes) -> bool:
    return blob.startswith(ENCRYPTED_MAGIC)


def _fernet(passphrase: str, salt: bytes) -> Fernet:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    key = Scrypt(salt=salt, length=32, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P).derive(passphrase.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def _encrypt(blob: bytes, passphrase: str) -> bytes:
    salt = os.urandom(SALT_BYTES)
    return ENCRYPTED_MAGIC + salt + _fernet(passphrase, salt).encrypt(blob)


def _decrypt(blob: bytes, passphrase: str | None) -> bytes:
    from cryptography.fernet import InvalidToken

    if not passphrase:
        raise SessionError("This session file is protected by a passphrase: enter it to open the session.")
    salt = blob[len(ENCRYPTED_MAGIC):len(ENCRYPTED_MAGIC) + SALT_BYTES]
    token = blob[len(ENCRYPTED_MAGIC) + SALT_BYTES:]
    try:
        return _fernet(passphrase, salt).decrypt(token)
    except (InvalidToken, ValueError) as err:
        raise SessionError("The passphrase does not open this session file (or the file was changed "
                           "after it was saved). Check the passphrase and try again.") from err


# ------------------------------------------------------------------------------------------ open
def open_session(blob: bytes, passphrase: str | None = None) -> Session:
    """Read a session file; raises SessionError (a UserError) for anything but an intact session
    of a version this program understands (and the right passphrase, when it has one)."""
    if is_encrypted(blob):
        blob = _decrypt(blob, passphrase)
    try:
        with zipfile.ZipFile(BytesIO(blob)) as z:
            _check_sizes(z, len(blob))
            body = _manifest(z)
            files = [(f["name"], _file(z, f)) for f in body["files"]]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, KeyError, TypeError,
            ValueError, RuntimeError, NotImplementedError, OSError) as err:
        raise SessionError("This file is damaged or incomplete (perhaps cut short while copying), "
                           "so the session cannot be opened.") from err
    return Session(files=files, overrides=body["overrides"], settings=body["settings"],
                   ui_state=body["ui_state"], extra=body["extra"], notes=body["notes"])


def _check_sizes(z: zipfile.ZipFile, packed: int) -> None:
    """Refuse, from the members' headers, a zip that unpacks to too much or packs too well."""
    members = z.infolist()
    total = sum(m.file_size for m in members)
    if total > MAX_SESSION_BYTES or any(_too_packed(m.file_size, m.compress_size) for m in members) \
            or _too_packed(total, packed):
        raise SessionError(_TOO_BIG)


def _too_packed(unpacked: int, packed: int) -> bool:
    return unpacked > RATIO_FROM_BYTES and unpacked > MAX_RATIO * max(packed, 1)


_TOO_BIG = (f"This session file unpacks to more than {MAX_SESSION_BYTES >> 30} GB, or far more than "
            f"its size ({MAX_RATIO} times) — it is not a GoalGap session, so it is not opened.")


def _read(z: zipfile.ZipFile, name: str, limit: int) -> bytes:
    """A member's bytes, read in chunks and stopped past `limit` or past what its header declares
    (zipfile also checks the length and CRC at the end)."""
    info = z.getinfo(name)
    if info.file_size > limit:
        raise SessionError(_TOO_BIG)
    parts, size = [], 0
    with z.open(info) as stream:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > min(limit, info.file_size) or _too_packed(size, info.compress_size):
                raise SessionError(_TOO_BIG)
            parts.append(chunk)
    return b"".join(parts)


def _manifest(z: zipfile.ZipFile) -> dict[str, Any]:
    if MANIFEST not in z.namelist():
        raise SessionError("This is not a GoalGap session file (it has no session.json inside).")
    try:
        body = json.loads(_read(z, MANIFEST, MAX_MANIFEST_BYTES))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise SessionError("This is not a GoalGap session file (its session.json cannot be read).") from err
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise SessionError("This is not a GoalGap session file.")
    version = body.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise SessionError("This session file has no valid version number; it cannot be opened.")
    if version > VERSION:
        raise SessionError(f"This session was saved by a newer version of GoalGap (session format "
                           f"{version}); this version opens format {VERSION}. Please update GoalGap.")
    claimed = body.pop("checksum", None)
    if claimed != _digest(body):
        raise SessionError("This session file has been changed since it was saved (its checksum "
                           "does not match), so it is not opened.")
    return _validated(body, set(z.namelist()))


def _notes(section: Any) -> dict[str, Any]:
    """The notes section, checked field by field (core.people.notes.from_dict), as plain data."""
    from core.people.notes import from_dict

    return from_dict(section).to_dict() if section else {}


def _file(z: zipfile.ZipFile, spec: dict[str, Any]) -> bytes:
    data = _read(z, spec["entry"], spec["size"])
    if len(data) != spec["size"] or hashlib.sha256(data).hexdigest() != spec["sha256"]:
        raise SessionError(f"The file '{spec['name']}' inside this session has been changed since "
                           "it was saved, so the session is not opened.")
    return data


# ------------------------------------------------------------------------------------ validation
class _Invalid(ValueError):
    """One field of the manifest is not what a session file holds."""


def _validated(body: dict[str, Any], members: set[str]) -> dict[str, Any]:
    """The manifest's fields, each checked for type and values (SessionError names the part)."""
    checks: list[tuple[str, str, Callable[[Any], Any]]] = [
        ("files", "list of files", lambda v: _files(v, members)),
        ("overrides", "column matches", _overrides),
        ("settings", "settings", _settings),
        ("ui_state", "period and scope", _ui_state),
        ("extra", "extra sections", _extra),
        ("notes", "notes and coaching log", _notes),
    ]
    out = dict(body)
    for key, what, check in checks:
        try:
            out[key] = check(body.get(key))
        except (_Invalid, TypeError, ValueError, AttributeError, KeyError, UserError) as err:
            raise SessionError(f"The {what} in this session file cannot be used ({err}), so the "
                               "session is not opened. Save the session again from GoalGap.") from err
    return out


def _require(condition: bool, why: str) -> None:
    if not condition:
        raise _Invalid(why)


def _text(value: Any, what: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, str) and len(value) <= MAX_TEXT:
        return value
    raise _Invalid(f"{what} is not a short text")


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if isinstance(value, dict) and len(value) <= MAX_ENTRIES:
        return value
    raise _Invalid(f"{what} is not a table of entries")


def _files(value: Any, members: set[str]) -> list[dict[str, Any]]:
    if not (isinstance(value, list) and len(value) <= MAX_FILES):
        raise _Invalid("not a list")
    entries = set()
    for spec in value:
        _require(isinstance(spec, dict), "an entry is not a file")
        _require(bool(_text(spec.get("name"), "a file name")), "a file has no name")
        entry = spec.get("entry")
        _require(isinstance(entry, str) and bool(_ENTRY.match(entry)) and entry in members,
                 f"file '{spec['name']}' has no data inside")
        _require(entry not in entries, f"file '{spec['name']}' is listed twice")
        entries.add(entry)
        size = spec.get("size")
        _require(isinstance(size, int) and not isinstance(size, bool) and 0 <= size <= MAX_SESSION_BYTES,
                 f"file '{spec['name']}' has no valid size")
        _require(isinstance(spec.get("sha256"), str) and bool(_SHA256.match(spec["sha256"])),
                 f"file '{spec['name']}' has no valid checksum")
    return value


def _overrides(value: Any) -> dict[str, Any] | None:
    """None, or {"tables": {source: table or None}, "columns": {source: {column: canonical or None}}}
    naming only tables and columns GoalGap knows."""
    if value is None:
        return None
    _mapping(value, "the column matches")
    _require(set(value) <= {"tables", "columns"}, "unknown entries")
    tables = _mapping(value.get("tables") or {}, "the table choices")
    for source, table in tables.items():
        _text(source, "a source name")
        _require(table is None or table in TABLES, f"'{str(table)[:40]}' is not a GoalGap table")
    columns = _mapping(value.get("columns") or {}, "the column choices")
    known = {c for t in TABLES.values() for c in t.column_names}
    for source, chosen in columns.items():
        _text(source, "a source name")
        for label, canonical in _mapping(chosen, f"the columns of {source[:40]}").items():
            _text(label, "a column name")
            _require(canonical is None or canonical in known, f"'{str(canonical)[:40]}' is not a GoalGap column")
    return {"tables": dict(tables), "columns": {s: dict(c) for s, c in columns.items()}}


def _settings(value: Any) -> Settings:
    return Settings.from_dict(_mapping(value or {}, "the settings"))


def _ui_state(value: Any) -> dict[str, Any]:
    """The sidebar's choices: short texts, numbers, yes/no or nothing, and the period."""
    state = _mapping(value or {}, "the view")
    for key, item in state.items():
        _text(key, "a view setting")
        if key == "period":
            _period(item)
        else:
            _require(item is None or isinstance(item, (bool, int, float))
                     or (isinstance(item, str) and len(item) <= MAX_TEXT), f"'{key[:40]}' is not a plain value")
    return state


def _period(value: Any) -> None:
    _mapping(value, "the period")
    kind = value.get("kind")
    _require(kind in PERIOD_KINDS, "the period kind is unknown")
    label = _text(value.get("label"), "the period label")
    for end in ("start", "end"):     # needed for a custom range; checked whenever present
        _require(isinstance(value.get(end), str) or (value.get(end) is None and kind != "custom"),
                 f"the period has no {end}")
        if value.get(end) is not None:
            date.fromisoformat(value[end])
    if kind != "custom":
        _require(periods.parse_period(str(label)).kind == kind, "the period label does not match its kind")


def _extra(value: Any) -> dict[str, Any]:
    """The registered sections, each checked by its own validator; other sections are not read."""
    sections = _mapping(value or {}, "the extra sections")
    return {name: SECTIONS[name](item) for name, item in sections.items() if name in SECTIONS}


# ---------------------------------------------------------------------------- what it shows
def session_period(session: Session) -> periods.Period | None:
    """The period the session was saved on (None when it names none)."""
    p = session.ui_state.get("period")
    if not p:
        return None
    if p["kind"] == "custom":
        return periods.custom(date.fromisoformat(p["start"]), date.fromisoformat(p["end"]))
    return periods.parse_period(p["label"], session.settings.fiscal_start_month)


def session_scope(session: Session) -> Scope:
    """The sidebar's scope the session was saved with (the whole team when it names none)."""
    chosen = {field: session.ui_state.get(key) for key, field in SCOPE_KEYS.items()}
    return Scope(**{f: v for f, v in chosen.items() if isinstance(v, str) and v and v != ALL_CHOICE})
