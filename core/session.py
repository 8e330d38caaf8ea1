"""A consultant's session in one file: the uploaded files, column matches, settings and view.

The file is a zip holding `session.json` (format, version, the file list with a SHA-256 per file,
the column overrides, the settings, the UI choices and a checksum over all of it) and the
uploaded bytes under `files/`. It is plain data — never pickle — so opening a session file from
someone else cannot run code; any change to it after saving is detected by the checksum.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any, Sequence

from core.errors import UserError
from core.settings import Settings

FORMAT = "goalgap-session"
VERSION = 1
MANIFEST = "session.json"
MAX_SESSION_BYTES = 2 * 1024 ** 3   # refuse to unpack more than this (a zip bomb is not a session)
EXTENSION = ".goalgap"


class SessionError(UserError):
    """A session file that cannot be opened; the message says why in plain words."""


@dataclass(frozen=True)
class Session:
    files: list[tuple[str, bytes]]
    overrides: dict[str, Any] | None
    settings: Settings
    ui_state: dict[str, Any] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)   # core.notes.Notebook.to_dict(), validated


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def save_session(files: Sequence[tuple[str, bytes]], overrides: dict[str, Any] | None,
                 settings: Settings, ui_state: dict[str, Any], notes: dict[str, Any] | None = None) -> bytes:
    """One file holding everything needed to reopen the analysis exactly as it is now.

    `overrides` and `ui_state` must be JSON-serialisable (the period as a label, the scope as ids);
    `notes` is the session's notes and coaching log (core.notes.Notebook.to_dict()).
    """
    entries = [(f"files/{i:03d}", name, data) for i, (name, data) in enumerate(files)]
    body = {
        "format": FORMAT, "version": VERSION,
        "files": [{"name": name, "entry": entry, "size": len(data),
                   "sha256": hashlib.sha256(data).hexdigest()} for entry, name, data in entries],
        "overrides": overrides, "settings": settings.to_dict(), "ui_state": ui_state,
        **({"notes": notes} if notes else {}),
    }
    manifest = json.dumps({**body, "checksum": _digest(body)}, sort_keys=True, indent=1)
    out = BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0)), manifest,
                   compress_type=zipfile.ZIP_DEFLATED)
        for entry, _, data in entries:
            z.writestr(zipfile.ZipInfo(entry, date_time=(1980, 1, 1, 0, 0, 0)), data,
                       compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def open_session(blob: bytes) -> Session:
    """Read a session file; raises SessionError (a UserError) for anything but an intact session
    of a version this program understands."""
    try:
        with zipfile.ZipFile(BytesIO(blob)) as z:
            body = _manifest(z)
            files = [(f["name"], _file(z, f)) for f in body["files"]]
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, TypeError, ValueError, RuntimeError,
            NotImplementedError) as err:
        raise SessionError("This file is damaged or incomplete (perhaps cut short while copying), "
                           "so the session cannot be opened.") from err
    try:
        settings = Settings.from_dict(body["settings"] or {})
    except (TypeError, ValueError, AttributeError) as err:
        raise SessionError("The settings in this session file cannot be read.") from err
    return Session(files=files, overrides=body["overrides"], settings=settings,
                   ui_state=body["ui_state"] or {}, notes=_notes(body.get("notes")))


def _notes(section: Any) -> dict[str, Any]:
    """The notes section, checked field by field (core.notes.from_dict), as plain data."""
    from core.notes import from_dict

    try:
        return from_dict(section).to_dict()
    except UserError as err:
        raise SessionError(f"The notes in this session cannot be read: {err}") from err


def _manifest(z: zipfile.ZipFile) -> dict[str, Any]:
    if MANIFEST not in z.namelist():
        raise SessionError("This is not a GoalGap session file (it has no session.json inside).")
    if sum(i.file_size for i in z.infolist()) > MAX_SESSION_BYTES:
        raise SessionError("This session file unpacks to more than 2 GB; it cannot be opened.")
    body = json.loads(z.read(MANIFEST))
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise SessionError("This is not a GoalGap session file.")
    version = body.get("version")
    if not isinstance(version, int) or version < 1:
        raise SessionError("This session file has no valid version number; it cannot be opened.")
    if version > VERSION:
        raise SessionError(f"This session was saved by a newer version of GoalGap (session format "
                           f"{version}); this version opens format {VERSION}. Please update GoalGap.")
    claimed = body.pop("checksum", None)
    if claimed != _digest(body):
        raise SessionError("This session file has been changed since it was saved (its checksum "
                           "does not match), so it is not opened.")
    return body


def _file(z: zipfile.ZipFile, spec: dict[str, Any]) -> bytes:
    data = z.read(spec["entry"])
    if len(data) != spec["size"] or hashlib.sha256(data).hexdigest() != spec["sha256"]:
        raise SessionError(f"The file '{spec['name']}' inside this session has been changed since "
                           "it was saved, so the session is not opened.")
    return data
