"""Errors whose message is written for the person using the app, never shown with a traceback."""


class UserError(Exception):
    """Something the user gave cannot be used; `str(err)` is a plain-words message for them."""
